"""Entry script (rule describe_outcomes): descriptive rows of the estimates table."""
from rtw.core.entry import run, sap


def main(smk):
    import pandas as pd

    from rtw.models.descriptive import describe_outcomes
    from rtw.core.estimates import write_estimates
    df = pd.read_parquet(smk.input.analysis)
    write_estimates(describe_outcomes(df, sap(smk)), smk.output.estimates)


run(main, snakemake)  # noqa: F821
