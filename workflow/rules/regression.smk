# Regression stage (SPEC A3, A4, A12-A15): one job per group of analyses
# (groups and their runners: REGRESSION_GROUPS in common.smk).


rule regression:
    input:
        analysis="results/data/analysis.parquet",
        lib=lib("fit_regression"),
    output:
        estimates="results/estimates/regression_{group}.csv",
    log:
        "results/logs/regression_{group}.log",
    benchmark:
        "results/benchmarks/regression_{group}.tsv"
    wildcard_constraints:
        group="|".join(REGRESSION_GROUPS) or "none",
    conda:
        ENV
    params:
        **sap_params("regression"),
        runners=lambda w: REGRESSION_GROUPS[w.group],
    script:
        "../../scripts/fit_regression.py"
