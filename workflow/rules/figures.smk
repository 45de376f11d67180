# Figures stage (SPEC §5): publication figures (PNG 300 dpi + PDF) in results/figures/, drawn
# by rtw.report.figures from the curve tables, estimates and analysis dataset only (no estimation).
# Few jobs on purpose (each costs ~2.5 s of imports): one per time-to-event outcome, one for
# the rest. The power curve is drawn by the simulation stage.

for _outcome in TTE:

    rule:
        name:
            f"survival_figures_{_outcome}"
        input:
            km_curves=f"results/tables/survival/{_outcome}_km_curves.csv",
            km_at_risk=f"results/tables/survival/{_outcome}_km_at_risk.csv",
            cif_curves=f"results/tables/survival/{_outcome}_cif_curves.csv",
            zph_residuals=f"results/tables/survival/{_outcome}_zph_residuals.csv",
            zph_smooth=f"results/tables/survival/{_outcome}_zph_smooth.csv",
            estimates=f"results/estimates/survival_{_outcome}.csv",
            lib=lib("make_figures_survival"),
        output:
            **reported("Figures", survival_figures(_outcome), FIG_FORMATS),
        log:
            f"results/logs/survival_figures_{_outcome}.log",
        benchmark:
            f"results/benchmarks/survival_figures_{_outcome}.tsv"
        conda:
            ENV
        params:
            **sap_params("survival_figures"),
            outcome=tte_cfg(_outcome),
        script:
            "../../scripts/make_figures_survival.py"


if trial_figures():

    rule trial_figures:
        input:
            **trial_figure_inputs(),
            lib=lib("make_figures"),
        output:
            **reported("Figures", trial_figures(), FIG_FORMATS),
        log:
            "results/logs/trial_figures.log",
        benchmark:
            "results/benchmarks/trial_figures.tsv"
        conda:
            ENV
        params:
            **sap_params("trial_figures"),
            figures_wanted=list(trial_figures()),
        script:
            "../../scripts/make_figures.py"
