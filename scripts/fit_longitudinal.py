"""Entry script (rules recurrent and multistate): every analysis of one recurrent-event or
multi-state outcome, from its long table joined to the analysis table."""
from rtw.core.entry import run, sap


def main(smk):
    import pandas as pd

    from rtw.core.estimates import write_estimates
    from rtw.core.io import atomic_write_csv
    from rtw.data.longtables import read_long_table
    from rtw.survival.longitudinal import run_multistate, run_recurrent

    cfg = sap(smk)
    kind, entry = smk.params.kind, dict(smk.params.outcome)
    analysis = pd.read_parquet(smk.input.analysis)
    long = read_long_table(entry, kind, analysis, cfg, path=smk.input.table)
    res = (run_recurrent if kind == "recurrent" else run_multistate)(long, analysis, cfg, entry)
    write_estimates(res["estimates"], smk.output.estimates)
    atomic_write_csv(res["curves"], smk.output.curves)
    atomic_write_csv(res["at_risk"], smk.output.at_risk)


run(main, snakemake)  # noqa: F821
