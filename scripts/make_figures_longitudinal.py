"""Entry script (rules recurrent_figures and multistate_figures): the mean cumulative function
of a recurrent-event outcome, or the stacked state occupation of a multi-state outcome
(PNG + PDF)."""
from rtw.core.entry import run, sap


def main(smk):
    from pathlib import Path

    import pandas as pd

    from rtw.report import longitudinal, style

    cfg, kind = sap(smk), smk.params.kind
    curves = pd.read_csv(smk.input.curves, dtype={"arm": str, "state": str})
    name = smk.params.outcome["name"]
    if kind == "recurrent":
        at_risk = pd.read_csv(smk.input.at_risk, dtype={"arm": str})
        fig, _ = longitudinal.mcf_plot(curves, at_risk, cfg, name)
    else:
        fig, _ = longitudinal.state_plot(curves, cfg, name)
    style.save_figure(fig, Path(smk.output.png).with_suffix(""))


run(main, snakemake)  # noqa: F821
