"""Figures and table of recurrent-event and multi-state outcomes (rtw.report.longitudinal), drawn
from the runner's outputs on the reference long tables of the synthetic trial."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import default_config, sap
from rtw.data.longtables import read_long_table
from rtw.report.longitudinal import longitudinal_table, mcf_plot, state_plot
from rtw.survival.longitudinal import run_multistate, run_recurrent

DATA = Path(__file__).resolve().parents[1] / "survival" / "reference" / "data"


@pytest.fixture(scope="module")
def runs():
    cfg = default_config()
    analysis = pd.read_csv(DATA / "longitudinal_analysis.csv", dtype={"participant_id": str})
    out = {"cfg": cfg}
    for kind, run, table in (("recurrent", run_recurrent, "absence_spells"),
                             ("multistate", run_multistate, "work_status")):
        entry = dict(cfg["outcomes"][kind][0])
        long = read_long_table(entry, kind, analysis, cfg, path=DATA / f"longitudinal_{table}.csv")
        out[kind] = run(long, analysis, cfg, entry)
    return out


def test_mcf_plot_draws_at_risk_only_under_labelled_ticks(runs):
    import matplotlib.pyplot as plt
    cfg = runs["cfg"]
    res = runs["recurrent"]
    fig, drawn = mcf_plot(res["curves"], res["at_risk"], cfg, "absence_spells")
    ax = fig.axes[0]
    labelled = [t for t, lab in zip(ax.get_xticks(), [x.get_text() for x in ax.get_xticklabels()])
                if lab]
    assert sorted(set(drawn["at_risk"]["time"])) == pytest.approx(sorted(labelled))
    # the numbers drawn are the runner's counts at those times
    merged = drawn["at_risk"].merge(res["at_risk"], on=["arm", "time"], suffixes=("", "_run"))
    assert (merged["n_risk"] == merged["n_risk_run"]).all() and len(merged) == len(drawn["at_risk"])
    # the curve drawn is the MCF: last step of each arm = the mcf row at tau
    est = res["estimates"]
    for arm, c in drawn["curves"].groupby("arm"):
        row = est[(est["analysis"] == "mcf") & (est["term"] == f"arm={arm};t=182")].iloc[0]
        assert c["y"].iloc[-1] == pytest.approx(row["estimate"], rel=1e-12)
    plt.close(fig)


def test_state_plot_stacks_to_one_in_config_state_order(runs):
    import matplotlib.pyplot as plt
    cfg = runs["cfg"]
    fig, drawn = state_plot(runs["multistate"]["curves"], cfg, "work_status")
    bands = drawn["bands"]
    for arm, b in bands.groupby("arm"):
        last = b[b["state"] == "left_job"]
        assert np.allclose(last["top"], 1.0)
        assert list(dict.fromkeys(b["state"])) == ["off_work", "at_work", "left_job"]
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert set(labels) == {"Off work", "At work", "Left job"}   # config state_labels
    plt.close(fig)


def test_table_shows_every_estimate_and_the_reason_of_what_is_not_estimable(runs):
    cfg = runs["cfg"]
    est = pd.concat([runs["recurrent"]["estimates"], runs["multistate"]["estimates"]])
    tab = longitudinal_table(est, cfg)
    # issue 11 item 4: ratios and differences in their own columns
    assert list(tab.columns) == ["", "Usual care", "Vocational advice", "Ratio (95% CI)",
                                 "Difference (95% CI)", "p"]
    text = tab.to_string()
    assert "not estimable: no Off work to Left job transitions in arm usual_care" in text
    ag = tab[tab[""].str.contains("Andersen-Gill")].iloc[0]
    row = est[(est["analysis"] == "ag_cox") & np.isclose(est["conf_level"], 0.95)].iloc[0]
    assert ag["Ratio (95% CI)"].startswith(f"{row['estimate']:.2f} (")
    assert ag["Difference (95% CI)"] == ""
    d = tab[tab[""].str.contains("mean number per participant")].iloc[0]
    assert d["Ratio (95% CI)"] == "" and d["Difference (95% CI)"] != ""
    assert tab.iloc[0, 0] == "Work status" and "New sickness absence spells" in set(tab[""])


def test_table_words_follow_the_config_of_another_trial():
    """Months, arms 0/1, other state names: nothing of WAVE's words in the table."""
    cfg = sap({"trial": {"arms": {"control": 0, "intervention": 1},
                         "arm_names": {0: "Placebo", 1: "Drug"}},
               "outcomes": {"multistate": [{"name": "disease", "label": "Disease status",
                                            "table": "x.csv", "states": ["active", "remission"],
                                            "time_unit": "months", "tau": 24}]}})
    est = pd.DataFrame([
        {"analysis": "state_time", "outcome": "disease", "term": f"arm={a};state={s}",
         "estimate": 10.0 + i, "conf_level": 0.95, "conf_low": 9.0, "conf_high": 12.0,
         "p_value": np.nan, "note": ""}
        for i, a in enumerate(["0", "1"]) for s in ("active", "remission")])
    tab = longitudinal_table(est, cfg)
    assert list(tab.columns)[1:3] == ["Placebo", "Drug"]
    text = tab.to_string().lower()
    assert "up to 24 months" in text
    for word in ("work", "days", "absence"):
        assert word not in text
