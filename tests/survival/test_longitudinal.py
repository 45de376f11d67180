"""The runner of recurrent-event and multi-state outcomes (rtw.survival.longitudinal) against R,
on the long tables the pipeline derives from the bundled synthetic trial.

R calls (tests/survival/reference/longitudinal.R; CI reads expected/longitudinal.csv), with the
SAP's adjustment set (arm + condition_group + days_off_before)::

    coxph(Surv(start, stop, event) ~ arm + ..., cluster = id)                 # ag_cox
    coxph(Surv(start, stop, event) ~ arm + ... + strata(spell), cluster = id) # pwp_total
    coxph(Surv(stop - start, event) ~ arm + ... + strata(spell), cluster = id)# pwp_gap
    glm.nb(events ~ arm + ... + offset(log(person_time)));  Poisson + vcovHC(type = "HC0")
    summary(survfit(Surv(start, stop, event) ~ arm, id = id, robust = TRUE), times = 182)  # mcf
    summary(survfit(Surv(start, stop, to) ~ arm, id = id, istate = state), times = ...)
    summary(survfit(..., influence = TRUE), rmean = 182)$table                 # state_time
    coxph(Surv(start, stop, to) ~ arm + ..., id = id, istate = state)          # transition_cox

Tolerances (relative unless said): Cox HRs, robust SEs, CIs and p 1e-6; Poisson rate ratio
1e-6; the NB rate ratio 2e-4, its SE 1e-3 (the spells show no over-dispersion: theta runs to
the boundary, where R's glm.nb and the project's fit stop at different large thetas, so both
are the Poisson fit to ~1e-4); MCF, state probabilities, expected times and their SEs and CIs
1e-6 (abs 1e-10 for zeros).  A transition R can only fit with an infinite coefficient
("beta may be infinite": off work -> left job, no such transition in the control arm) is a
"not estimable" row here.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rtw.data.longtables import read_long_table
from rtw.survival.longitudinal import at_risk, run_multistate, run_recurrent
from helpers import default_config

REF = Path(__file__).resolve().parent / "reference"
DATA = REF / "data"


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    cfg = default_config()
    analysis = pd.read_csv(DATA / "longitudinal_analysis.csv", dtype={"participant_id": str})
    out = {}
    for kind, run, table in (("recurrent", run_recurrent, "absence_spells"),
                             ("multistate", run_multistate, "work_status")):
        entry = dict(cfg["outcomes"][kind][0])
        long = read_long_table(entry, kind, analysis, cfg,
                               path=DATA / f"longitudinal_{table}.csv")
        out[kind] = run(long, analysis, cfg, entry)
        out[kind + "_long"] = long
    est = pd.concat([out["recurrent"]["estimates"], out["multistate"]["estimates"]])
    keep = np.isclose(est["conf_level"], 0.95) | est["conf_level"].isna()  # not estimable: NaN
    out["est"] = est[keep].set_index(["analysis", "term"])
    return out


def _expected() -> pd.DataFrame:
    return pd.read_csv(REF / "expected" / "longitudinal.csv").set_index(["analysis", "term"])


TOL = {"rate_nb": {"estimate": 2e-4, "std_error": 1e-3, "conf_low": 1e-3, "conf_high": 1e-3,
                   "p_value": 1e-3}}


def _compare(results, analysis):
    exp = _expected().loc[analysis]
    got = results["est"].loc[analysis]
    assert sorted(got.index) == sorted(exp.index)
    for term, row in exp.iterrows():
        for col in ("estimate", "std_error", "conf_low", "conf_high", "p_value"):
            want = row[col]
            if pd.isna(want):
                continue
            rel = TOL.get(analysis, {}).get(col, 1e-6)
            assert got.loc[term, col] == pytest.approx(want, rel=rel, abs=1e-10), (analysis, term, col)


@pytest.mark.parametrize("analysis", ["ag_cox", "pwp_total", "pwp_gap"])
def test_recurrent_cox_hr_matches_R_coxph_cluster(results, analysis):
    _compare(results, analysis)


@pytest.mark.parametrize("analysis", ["rate_nb", "rate_poisson"])
def test_rate_ratio_matches_R_glm_nb_and_poisson_hc0(results, analysis):
    _compare(results, analysis)


@pytest.mark.parametrize("analysis", ["mcf", "mcf_difference"])
def test_mcf_at_tau_matches_R_survfit_cumhaz(results, analysis):
    _compare(results, analysis)


@pytest.mark.parametrize("analysis", ["state_probability", "state_time"])
def test_state_occupation_matches_R_multistate_survfit(results, analysis):
    _compare(results, analysis)


def test_transition_hr_matches_R_multistate_coxph(results):
    exp = _expected().loc["transition_cox"]
    got = results["est"].loc["transition_cox"]
    for term in ("from=at_work;to=off_work", "from=off_work;to=at_work"):
        for col in ("estimate", "std_error", "conf_low", "conf_high", "p_value"):
            assert got.loc[term, col] == pytest.approx(exp.loc[term, col], rel=1e-6), (term, col)
    # R: "beta may be infinite" (no off work -> left job in the control arm)
    assert exp.loc["from=off_work;to=left_job", "estimate"] > 1e6
    row = got.loc["from=off_work;to=left_job"]
    assert np.isnan(row["estimate"])
    assert row["note"] == "not estimable: no Off work to Left job transitions in arm usual_care"


def test_state_time_difference_is_the_difference_of_the_arms(results):
    got = results["est"]
    for s in ("off_work", "at_work", "left_job"):
        d = got.loc[("state_time_difference", f"state={s}")]
        a1 = got.loc[("state_time", f"arm=vocational_advice;state={s}")]
        a0 = got.loc[("state_time", f"arm=usual_care;state={s}")]
        assert d["estimate"] == pytest.approx(a1["estimate"] - a0["estimate"], abs=1e-10)
        assert d["std_error"] == pytest.approx(np.hypot(a1["std_error"], a0["std_error"]), rel=1e-12)


def test_state_curves_sum_to_one_and_start_in_the_initial_state(results):
    cur = results["multistate"]["curves"]
    tot = cur.groupby(["arm", "time"])["pstate"].sum()
    assert np.allclose(tot.to_numpy(), 1.0)
    first = cur[cur["time"] == 0].set_index(["arm", "state"])["pstate"]
    assert (first.xs("off_work", level="state") == 1).all()


def test_at_risk_counts_intervals_open_at_each_time():
    long = pd.DataFrame({"participant_id": ["a", "a", "b", "c"], "arm": ["x", "x", "x", "y"],
                         "start": [0.0, 10.0, 5.0, 0.0], "stop": [4.0, 20.0, 10.0, 30.0]})
    got = at_risk(long, ["x", "y"], [0, 5, 10, 20, 25])
    x = got[got["arm"] == "x"].set_index("time")["n_risk"].to_dict()
    # t=0: a (0,4] and c; t=5: b enters at 5 (start < t false); t=10: b's stop and a's start
    assert x == {0.0: 1, 5.0: 0, 10.0: 1, 20.0: 1, 25.0: 0}
    y = got[got["arm"] == "y"].set_index("time")["n_risk"].to_dict()
    assert y == {0.0: 1, 5.0: 1, 10.0: 1, 20.0: 1, 25.0: 1}


def test_an_arm_without_events_gives_not_estimable_rows_not_fits(results):
    cfg = default_config()
    analysis = pd.read_csv(DATA / "longitudinal_analysis.csv", dtype={"participant_id": str})
    long = results["recurrent_long"].copy()
    long.loc[long["arm"] == "usual_care", "event"] = 0
    est = run_recurrent(long, analysis, cfg, dict(cfg["outcomes"]["recurrent"][0]))["estimates"]
    for analysis_name in ("ag_cox", "pwp_total", "pwp_gap", "rate_nb", "rate_poisson"):
        rows = est[est["analysis"] == analysis_name]
        assert rows["estimate"].isna().all()
        assert (rows["note"] == "not estimable: no events in arm usual_care").all()
