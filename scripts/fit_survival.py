"""Entry script (rule survival): every time-to-event analysis of one outcome."""
from rtw.core.entry import run, sap


def main(smk):
    import pandas as pd

    from rtw.core.estimates import write_estimates
    from rtw.core.io import atomic_write_csv
    from rtw.survival.runner import run_time_to_event
    df = pd.read_parquet(smk.input.analysis)
    res = run_time_to_event(df, sap(smk), dict(smk.params.outcome))
    write_estimates(res["estimates"], smk.output.estimates)
    for key in ("km_curves", "km_at_risk", "cif_curves", "zph_residuals", "zph_smooth", "summary"):
        atomic_write_csv(res[key], smk.output[key])


run(main, snakemake)  # noqa: F821
