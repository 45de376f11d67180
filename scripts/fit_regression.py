"""Entry script (rule regression): one group of regression analyses (runners named in params)."""
from rtw.core.entry import run, sap


def main(smk):
    import pandas as pd

    from rtw.models import runner as regression
    from rtw.core.estimates import to_frame, write_estimates
    df = pd.read_parquet(smk.input.analysis)
    cfg = sap(smk)
    parts = [getattr(regression, name)(df, cfg) for name in smk.params.runners]
    write_estimates(to_frame(pd.concat(parts, ignore_index=True)), smk.output.estimates)


run(main, snakemake)  # noqa: F821
