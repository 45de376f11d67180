"""Entry script (rule presentation_tables): Table 1, primary outcome, secondary outcomes and
survival summary tables, each as CSV, Markdown, HTML, Word (.docx) and LaTeX."""
from rtw.core.entry import run, sap


def main(smk):
    from pathlib import Path

    import pandas as pd

    from rtw.report import tables, writers
    from rtw.report.text import table_texts
    from rtw.core.estimates import read_estimates

    cfg = sap(smk)
    out = dict(smk.output.items())
    est = read_estimates(smk.input.estimates)
    df = pd.read_parquet(smk.input.analysis)
    build = {
        "table1": lambda: tables.table1(df, cfg),
        "primary": lambda: tables.primary_table(est, df, cfg),
        "secondary": lambda: tables.secondary_table(est, cfg, df),
        "survival": lambda: tables.survival_table(est, cfg),
    }
    texts = table_texts(cfg)
    for key in smk.params.tables_wanted:
        writers.write_table(build[key](), Path(out[f"{key}_csv"]).with_suffix(""),
                            title=texts[key]["title"], footnote=texts[key]["footnote"],
                            page_size=cfg["tables"]["page_size"])


run(main, snakemake)  # noqa: F821
