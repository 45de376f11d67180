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
            category="Downloads",
            subcategory="All estimates",
            labels={"file": "estimates.csv", "format": "CSV"},
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
        **reported_tables(presentation_tables(), TABLE_FORMATS),
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
        html=report(
            "results/tables/estimands.html",
            caption="../report/estimands.rst",
            category="Tables",
            subcategory="Estimands",
        ),
        csv=downloadable("results/tables/estimands.csv", "Estimands"),
        md=downloadable("results/tables/estimands.md", "Estimands"),
        docx=downloadable("results/tables/estimands.docx", "Estimands"),
        tex=downloadable("results/tables/estimands.tex", "Estimands"),
    log:
        "results/logs/estimands_table.log",
    conda:
        ENV
    params:
        **sap_params("estimands_table"),
    script:
        "../../scripts/make_table_estimands.py"


# The data queries and the CONSORT counts as tables for the report: HTML under Tables, CSV under
# Downloads (written here, from the analysis config, so the report shows no job of the data
# step and, in blinded mode, no true arm label).
rule data_tables:
    input:
        **{k: f"results/data/{k}.csv" for k in data_tables()},
        lib=lib("make_data_tables"),
    output:
        **{
            k: report(f"{stem}.html", caption=cap, category="Tables", subcategory=sub)
            for k, (stem, cap, sub) in data_tables().items()
        },
        **{
            f"{k}_csv": downloadable(f"{stem}.csv", sub)
            for k, (stem, cap, sub) in data_tables().items()
        },
    log:
        "results/logs/data_tables.log",
    conda:
        ENV
    params:
        **sap_params("data_tables"),
    script:
        "../../scripts/make_data_tables.py"
