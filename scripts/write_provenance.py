"""Entry script (rule provenance): results/provenance.json."""
from rtw.core.entry import run


def main(smk):
    from rtw.ops.provenance import build, write
    rec = build(list(smk.input.inputs), list(smk.input.outputs), smk.params.config,
                smk.params.repo, seeds=dict(smk.params.seeds))
    write(rec, smk.output[0])


run(main, snakemake)  # noqa: F821
