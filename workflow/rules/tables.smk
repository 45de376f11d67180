# Tables stage: descriptive estimates and the combined tidy estimates table.


rule describe_outcomes:
    input:
        analysis="results/data/analysis.parquet",
        lib=lib("descriptive"),
    output:
        estimates="results/estimates/descriptive.csv",
    params:
        config=ACFG,
    log:
        "results/logs/describe_outcomes.log",
    conda:
        ENV
    script:
        "../../scripts/describe_outcomes.py"


rule combine_estimates:
    input:
        parts=estimate_files(),
        lib=lib(),
    output:
        estimates=report(
            "results/tables/estimates.csv",
            caption="../report/estimates.rst",
            category="Tables",
        ),
    log:
        "results/logs/combine_estimates.log",
    conda:
        ENV
    script:
        "../../scripts/combine_estimates.py"
