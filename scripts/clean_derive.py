"""Entry script (rule clean_derive): raw exports -> cleaned tables, queries, analysis dataset,
work-status episodes and absence spells."""
from rtw.core.entry import run, sap


def main(smk):
    import logging
    from pathlib import Path

    from rtw.data.analysis_schema import (check_config_columns, load_analysis_schema,
                                          validate_analysis)
    from rtw.data.blinding import blind_frame, blind_labels
    from rtw.data.cleaning import clean_tables
    from rtw.data.coltypes import check_column_types
    from rtw.data.derivation import consort_counts, derive_analysis
    from rtw.data.episodes import derive_work_status
    from rtw.data.longtables import load_long_schema, validate_derived
    from rtw.core.io import atomic_write_csv, atomic_write_parquet

    cfg = sap(smk)
    tables, queries = clean_tables(smk.params.raw_dir, cfg, smk.params.schemas)
    analysis = derive_analysis(tables, cfg)
    # before anything is written: a failure leaves no output
    table = str(smk.output.analysis)
    validate_analysis(analysis, load_analysis_schema(smk.input.analysis_schema), cfg, table=table,
                      derived=True)
    check_config_columns(cfg, analysis.columns, table)
    check_column_types(analysis, cfg, table, ids=analysis["participant_id"].to_numpy(dtype=object))
    episodes, spells = derive_work_status(tables, cfg)
    long_tables = {"work_status": episodes, "absence_spells": spells}
    for name, df in long_tables.items():
        schema = Path(getattr(smk.input, f"{name}_schema"))
        validate_derived(df, load_long_schema(name, schema.parent), cfg,
                         table=str(getattr(smk.output, name)),
                         schema_name=f"workflow/schemas/{schema.name}")
    consort = consort_counts(tables, analysis, cfg)
    if cfg["blinded"]:
        mapping = blind_labels(cfg)
        analysis = blind_frame(analysis, mapping)
        consort = blind_frame(consort, {**mapping, "all": "all"})
        tables["baseline"] = blind_frame(tables["baseline"], mapping)
    log = logging.getLogger("rtw.clean_derive")
    log.info("%d participants, %d data queries", len(analysis), len(queries))
    clean_dir = Path(smk.output.clean)
    clean_dir.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        atomic_write_parquet(df, clean_dir / f"{name}.parquet")
    atomic_write_parquet(analysis, smk.output.analysis)
    atomic_write_csv(analysis, smk.output.analysis_csv)
    atomic_write_csv(queries, smk.output.queries)
    atomic_write_csv(consort, smk.output.consort)
    for name, df in long_tables.items():
        atomic_write_parquet(df, getattr(smk.output, name))
        atomic_write_csv(df, getattr(smk.output, f"{name}_csv"))


run(main, snakemake)  # noqa: F821
