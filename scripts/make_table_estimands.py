"""Entry script (rule estimands_table): the estimands (ICH E9(R1)) of the analyses the run
made, as CSV, Markdown, HTML, Word and LaTeX (rtw.report.estimands)."""
from rtw.core.entry import run, sap


def main(smk):
    from pathlib import Path

    from rtw.core.config import normalise
    from rtw.core.estimates import read_estimates
    from rtw.report import writers
    from rtw.report.estimands import estimands_table

    cfg = normalise(sap(smk))
    writers.write_table(estimands_table(read_estimates(smk.input.estimates), cfg),
                        Path(smk.output.csv).with_suffix(""),
                        title="Estimands of the analyses (ICH E9(R1))",
                        footnote="Strategies for intercurrent events as in the ICH E9(R1) addendum; "
                                 "set in config (estimands).")


run(main, snakemake)  # noqa: F821
