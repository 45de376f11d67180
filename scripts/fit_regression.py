"""Entry script (rule regression): one group of regression analyses (runner named in params)."""
from rtw.entry import run


def main(smk):
    import pandas as pd

    from rtw import regression
    from rtw.estimates import write_estimates
    df = pd.read_parquet(smk.input.analysis)
    runner = getattr(regression, smk.params.runner)
    write_estimates(runner(df, smk.params.config), smk.output.estimates)


run(main, snakemake)  # noqa: F821
