# Tables stage: descriptive estimates and the combined tidy estimates table.


rule describe_outcomes:
    input:
        analysis="results/data/analysis.parquet",
        lib=lib("describe_outcomes"),
    output:
        estimates="results/estimates/descriptive.csv",
    log:
        "results/logs/describe_outcomes.log",
    conda:
        ENV
    params:
        **sap_params("describe_outcomes"),
    script:
        "../../scripts/describe_outcomes.py"


rule combine_estimates:
    input:
        parts=estimate_files(),
        lib=lib("combine_estimates"),
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


# Presentation tables (Table 1, primary, secondary, survival summary), each as CSV, Markdown,
# HTML, Word and LaTeX, through rtw.report.tables / rtw.report.writers / rtw.report.fmt; one job for all of them.
rule presentation_tables:
    input:
        analysis="results/data/analysis.parquet",
        estimates="results/tables/estimates.csv",
        lib=lib("make_tables"),
    output:
        **reported("Tables", presentation_tables(), TABLE_FORMATS),
    log:
        "results/logs/presentation_tables.log",
    benchmark:
        "results/benchmarks/presentation_tables.tsv"
    conda:
        ENV
    params:
        **sap_params("presentation_tables"),
        tables_wanted=list(presentation_tables()),
    script:
        "../../scripts/make_tables.py"
