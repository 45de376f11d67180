"""Entry script (rules survival_figures_<outcome>): Kaplan-Meier, cumulative incidence and
Schoenfeld residual figures of one time-to-event outcome (PNG + PDF)."""
from rtw.core.entry import run, sap


def _stem(path):
    from pathlib import Path
    return Path(path).with_suffix("")


def main(smk):
    import pandas as pd

    from rtw.report import figures, style
    from rtw.core.estimates import read_estimates

    cfg, outcome = sap(smk), smk.params.outcome["name"]
    out = dict(smk.output.items())

    curves = pd.read_csv(smk.input.km_curves, dtype={"arm": str})
    at_risk = pd.read_csv(smk.input.km_at_risk, dtype={"arm": str})
    estimates = read_estimates(smk.input.estimates)
    fig, _ = figures.km_plot(curves, at_risk, cfg, outcome, estimates=estimates)
    style.save_figure(fig, _stem(out["km_png"]))

    if "cif_png" in out:
        cif = pd.read_csv(smk.input.cif_curves, dtype={"arm": str})
        fig, _ = figures.cif_plot(cif, cfg, outcome, at_risk=at_risk)
        style.save_figure(fig, _stem(out["cif_png"]))

    resid = pd.read_csv(smk.input.zph_residuals, dtype={"term": str, "model": str})
    models = list(dict.fromkeys(resid["model"])) if "model" in resid else []
    wanted = cfg["figures"]["schoenfeld_model"]
    model = wanted if wanted in models else None
    smooth = pd.read_csv(smk.input.zph_smooth, dtype={"term": str, "model": str})
    fig, _ = figures.schoenfeld_plot(resid, estimates, cfg, outcome,
                                     model=model or wanted, zph_smooth=smooth)
    style.save_figure(fig, _stem(out["schoenfeld_png"]))


run(main, snakemake)  # noqa: F821
