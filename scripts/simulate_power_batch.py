"""Entry script (rule power_batch): one batch of power-simulation replicates at one grid point."""
import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")   # one core per job: the replicates are the parallelism

from rtw.core.entry import run  # noqa: E402


def main(smk):
    from rtw.core.io import atomic_write_csv
    from rtw.ops.power import run_batch
    sim = dict(smk.params.sim)
    start, stop = smk.params.replicates
    df = run_batch(sim, dict(smk.params.synthetic), dict(smk.params.analysis),
                   dict(smk.params.point), int(start), int(stop))
    atomic_write_csv(df, smk.output[0], float_format="%.17g")


run(main, snakemake)  # noqa: F821
