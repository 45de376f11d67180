"""Entry script (rule combine_estimates): all partial estimates -> results/tables/estimates.csv."""
from rtw.core.entry import run


def main(smk):
    import pandas as pd

    from rtw.core.estimates import read_estimates, sort_estimates, write_estimates
    parts = [read_estimates(p) for p in sorted(smk.input.parts)]
    write_estimates(sort_estimates(pd.concat(parts, ignore_index=True)), smk.output.estimates)


run(main, snakemake)  # noqa: F821
