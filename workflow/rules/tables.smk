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


# The estimands (ICH E9(R1)) of the analyses the run made (rtw.report.estimands).
rule estimands_table:
    input:
        estimates="results/tables/estimates.csv",
        lib=lib("make_table_estimands"),
    output:
        csv="results/tables/estimands.csv",
        md="results/tables/estimands.md",
        html=report(
            "results/tables/estimands.html",
            caption="../report/estimands.rst",
            category="Tables",
            subcategory="Estimands",
        ),
        docx="results/tables/estimands.docx",
        tex="results/tables/estimands.tex",
    log:
        "results/logs/estimands_table.log",
    conda:
        ENV
    params:
        **sap_params("estimands_table"),
    script:
        "../../scripts/make_table_estimands.py"
