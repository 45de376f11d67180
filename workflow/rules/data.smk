# Data stage: synthetic trial -> raw exports -> cleaned tables -> analysis dataset.

if SOURCE == "synthetic":

    rule simulate_trial:
        input:
            lib=lib("simulate_trial"),
        output:
            **{t: f"{RAW_DIR}/{t}.{RAW_FMT}" for t in RAW_TABLES},
        log:
            "results/logs/simulate_trial.log",
        conda:
            ENV
        params:
            synthetic=CFG["synthetic"],
            seed=CFG["seed"],
            arms=CFG["trial"]["arms"],
            followup_days=CFG["trial"]["followup_days"],
            sms_weeks=CFG["trial"]["sms_weeks"],
            sms_period_days=CFG["trial"]["sms_period_days"],
        script:
            "../../scripts/simulate_trial.py"


if SOURCE in ("synthetic", "raw"):

    rule clean_derive:
        input:
            **raw_inputs(),
            analysis_schema=os.path.relpath(f"{SCHEMAS}/analysis.schema.yaml"),
            work_status_schema=os.path.relpath(f"{SCHEMAS}/work_status.schema.yaml"),
            absence_spells_schema=os.path.relpath(
                f"{SCHEMAS}/absence_spells.schema.yaml"
            ),
            lib=lib("clean_derive"),
        output:
            analysis="results/data/analysis.parquet",
            analysis_csv="results/data/analysis.csv",
            queries="results/data/queries.csv",
            consort="results/data/consort.csv",
            clean=directory("results/data/clean"),
            work_status="results/data/work_status.parquet",
            work_status_csv="results/data/work_status.csv",
            absence_spells="results/data/absence_spells.parquet",
            absence_spells_csv="results/data/absence_spells.csv",
        log:
            "results/logs/clean_derive.log",
        conda:
            ENV
        params:
            **sap_params("clean_derive", CFG),
            raw_dir=lambda w, input: os.path.dirname(input.baseline),
            schemas=SCHEMAS,
        script:
            "../../scripts/clean_derive.py"

else:

    rule import_table:
        input:
            table=CFG["data"]["table"],
            analysis_schema=os.path.relpath(f"{SCHEMAS}/analysis.schema.yaml"),
            lib=lib("import_table"),
        output:
            analysis="results/data/analysis.parquet",
            analysis_csv="results/data/analysis.csv",
            queries="results/data/queries.csv",
        log:
            "results/logs/import_table.log",
        conda:
            ENV
        params:
            **sap_params("import_table", CFG),
        script:
            "../../scripts/import_table.py"
