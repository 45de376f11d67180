"""Entry script (rule data_tables): the data queries and, from raw exports, the CONSORT counts
as tables for the report (HTML and CSV)."""
from rtw.core.entry import run, sap


def main(smk):
    from pathlib import Path

    import pandas as pd

    from rtw.report import data_tables, writers

    cfg = sap(smk)
    out = dict(smk.output.items())
    queries = pd.read_csv(smk.input.queries, dtype=str, keep_default_na=False)
    writers.write_table(data_tables.queries_table(queries), Path(out["queries"]).with_suffix(""),
                        title="Data queries",
                        footnote="Every value cleaning or the import could not take as it was, "
                                 "with the action taken; row as a spreadsheet shows it.",
                        formats=("html", "csv"))
    if "consort" in out:
        consort = pd.read_csv(smk.input.consort, dtype={"arm": str, "reason": str, "stage": str})
        writers.write_table(data_tables.consort_table(consort, cfg),
                            Path(out["consort"]).with_suffix(""),
                            title="CONSORT 2010 flow: participants at each stage",
                            footnote="The counts of the CONSORT flow diagram.",
                            formats=("html", "csv"))


run(main, snakemake)  # noqa: F821
