# Regression stage (SPEC A3, A4, A12-A15): one job per group of analyses.

REGRESSION_JOBS = {
    "primary": "run_primary",
    "sensitivity": "run_sensitivity",
    "continuous": "run_secondary_continuous",
    "binary": "run_secondary_binary",
    "subgroups": "run_subgroups",
    "delivery": "run_delivery",
}


rule regression:
    input:
        analysis="results/data/analysis.parquet",
        lib=lib("regression"),
    output:
        estimates="results/estimates/{group}.csv",
    params:
        config=ACFG,
        runner=lambda w: REGRESSION_JOBS[w.group],
    wildcard_constraints:
        group="|".join(REGRESSION_JOBS),
    log:
        "results/logs/regression_{group}.log",
    benchmark:
        "results/benchmarks/regression_{group}.tsv"
    conda:
        ENV
    script:
        "../../scripts/fit_regression.py"
