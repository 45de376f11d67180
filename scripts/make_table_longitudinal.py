"""Entry script (rule longitudinal_table): the table of the recurrent-event and multi-state
outcomes (state occupation, expected time in each state, transition HRs, event rates, mean
number of events, Andersen-Gill / PWP HRs) as CSV, Markdown, HTML, Word and LaTeX."""
from rtw.core.entry import run, sap


def main(smk):
    from pathlib import Path

    from rtw.core.estimates import read_estimates
    from rtw.report import writers
    from rtw.report.longitudinal import longitudinal_table, longitudinal_texts

    cfg = sap(smk)
    texts = longitudinal_texts(cfg)
    writers.write_table(longitudinal_table(read_estimates(smk.input.estimates), cfg),
                        Path(smk.output.csv).with_suffix(""), title=texts["title"],
                        footnote=texts["footnote"], page_size=cfg["tables"]["page_size"])


run(main, snakemake)  # noqa: F821
