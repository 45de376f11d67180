"""Entry script (rule import_table): a bring-your-own analysis table -> analysis dataset."""
from rtw.core.entry import run, sap


def main(smk):
    import logging

    from rtw.data.analysis_schema import load_analysis_schema, validate_analysis
    from rtw.data.blinding import blind_frame, blind_labels
    from rtw.data.cleaning import Queries
    from rtw.data.importer import import_analysis_table
    from rtw.core.io import atomic_write_csv, atomic_write_parquet

    cfg = sap(smk)
    queries = Queries()
    df = import_analysis_table(smk.input.table, cfg, queries)
    # before anything is written: a failure leaves no output (the importer has checked that
    # the columns the config names exist)
    validate_analysis(df, load_analysis_schema(smk.input.analysis_schema), cfg,
                      table=str(smk.input.table), derived=False)
    if cfg["blinded"]:
        df = blind_frame(df, blind_labels(cfg))
    q = queries.frame()
    logging.getLogger("rtw.import_table").info("%d participants, %d data queries", len(df), len(q))
    atomic_write_parquet(df, smk.output.analysis)
    atomic_write_csv(df, smk.output.analysis_csv)
    atomic_write_csv(q, smk.output.queries)


run(main, snakemake)  # noqa: F821
