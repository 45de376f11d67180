"""Entry script (rule trial_figures): CONSORT diagram, forest plots (primary with sensitivity
analyses; subgroups) and the distribution of the count outcome (PNG + PDF); only those in
``params.figures_wanted``."""
from rtw.core.entry import run, sap


def main(smk):
    from pathlib import Path

    import pandas as pd

    from rtw.report import figures, style
    from rtw.core.estimates import read_estimates

    cfg = sap(smk)
    out = dict(smk.output.items())
    wanted = list(smk.params.figures_wanted)
    est = read_estimates(smk.input.estimates)
    df = pd.read_parquet(smk.input.analysis)
    count = cfg["outcomes"]["count"] or {"better": None}
    tte = cfg["outcomes"]["time_to_event"]
    draw = {
        "consort": lambda: figures.consort_diagram(
            pd.read_csv(smk.input.consort, dtype={"arm": str, "reason": str, "stage": str}), cfg),
        "forest_primary": lambda: figures.forest_plot(
            figures.forest_rows_primary(est, cfg), cfg, measure="IRR",
            favours=figures.favours_labels(cfg, count["better"])),
        "forest_subgroups": lambda: figures.forest_plot(
            figures.forest_rows_subgroups(est, cfg), cfg, measure="IRR",
            favours=figures.favours_labels(cfg, count["better"])),
        "forest_subgroups_tte": lambda: figures.forest_plot(
            figures.forest_rows_subgroups(est, cfg, analysis="subgroup_cox",
                                          outcome=cfg["outcomes"]["time_to_event"][0]["name"],
                                          overall_analysis="cox_adjusted"),
            cfg, measure="HR", favours=figures.favours_labels(cfg, tte[0]["better"] if tte else None)),
        "count_distribution": lambda: figures.days_off_distribution(df, cfg),
    }
    for key in wanted:
        fig, _ = draw[key]()
        style.save_figure(fig, Path(out[f"{key}_png"]).with_suffix(""))


run(main, snakemake)  # noqa: F821
