# Survival stage (SPEC A5-A11): one job per time-to-event outcome.


rule survival:
    input:
        analysis="results/data/analysis.parquet",
        lib=lib("fit_survival"),
    output:
        estimates="results/estimates/survival_{outcome}.csv",
        km_curves="results/tables/survival/{outcome}_km_curves.csv",
        km_at_risk="results/tables/survival/{outcome}_km_at_risk.csv",
        cif_curves="results/tables/survival/{outcome}_cif_curves.csv",
        zph_residuals="results/tables/survival/{outcome}_zph_residuals.csv",
        zph_smooth="results/tables/survival/{outcome}_zph_smooth.csv",
        summary=report(
            "results/tables/survival/{outcome}_summary.csv",
            caption="../report/survival_summary_csv.rst",
            category="Downloads",
            subcategory="Survival summaries by outcome",
            labels={"file": "{outcome}_summary.csv", "format": "CSV"},
        ),
    log:
        "results/logs/survival_{outcome}.log",
    benchmark:
        "results/benchmarks/survival_{outcome}.tsv"
    wildcard_constraints:
        outcome="|".join(TTE) if TTE else "none",
    conda:
        ENV
    params:
        **sap_params("survival"),
        outcome=tte_params,
    script:
        "../../scripts/fit_survival.py"
