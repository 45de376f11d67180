"""The survival runner (rtw.survival.runner.run_time_to_event): tidy rows, curve tables,
config conventions, and agreement of its numbers with R through the engines.

R values come from tests/survival/reference/expected/ (make_reference.R), e.g.::

    coxph(Surv(rtw_time, rtw) ~ arm, data = tt)                                            # cox_unadjusted
    coxph(Surv(rtw_time, rtw) ~ arm + condition_group + days_off_before, tt, cluster = practice)  # cox_adjusted
    survdiff(Surv(rtw_time, rtw) ~ arm + strata(practice), data = tt)                      # logrank_stratified
    timepoints(cuminc(rtw_time, rtw_event, arm), c(42, 84, 182)); crr(...)                 # cif, fine_gray
"""
from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from _survival_ref import arr, data, expected
from helpers import sap
from rtw.core.timescale import round_times, summary_times
from rtw.core.estimates import COLUMNS
from rtw.survival.runner import (AT_RISK_COLUMNS, CIF_COLUMNS, KM_CURVE_COLUMNS, ZPH_COLUMNS,
                          run_time_to_event)

CONFIG = {
    "trial": {"arms": {"control": "usual_care", "intervention": "vocational_advice"}},
    "conf_levels": [0.95, 0.80],
    "covariates": ["days_off_before"],
    "stratification_factors": ["condition_group"],
    "strata": "practice",
    "cluster": "practice",
    "survival": {"ties": "efron", "km_conf_type": "log-log", "median_rule": "R",
                 "proportions_at_days": [42, 84, 182],
                 "at_risk_days": [0, 28, 56, 84, 112, 140, 168, 182],
                 "cif_days": [42, 84, 182]},
}
CONFIG = sap({**CONFIG, "outcomes": {"time_to_event": [
    {"name": "first_rtw", "label": "Time to first RTW", "time": "rtw_time",
     "event": "rtw_event", "event_value": 1, "competing_value": 2,
     "lower": "rtw_lower", "upper": "rtw_upper", "tau": 182}]}})
OUTCOME = CONFIG["outcomes"]["time_to_event"][0]


@pytest.fixture(scope="module")
def full():
    return run_time_to_event(data("trial_ties"), CONFIG, OUTCOME)


def _row(est, analysis, term, level=0.95):
    r = est[(est.analysis == analysis) & (est.term == term)]
    if level is not None and r.conf_level.notna().any():
        r = r[np.isclose(r.conf_level, level)]
    assert len(r) == 1, (analysis, term, len(r))
    return r.iloc[0]


def test_outputs_have_contract_columns_and_all_analyses(full):
    assert list(full["estimates"].columns) == COLUMNS
    assert list(full["km_curves"].columns) == KM_CURVE_COLUMNS
    assert list(full["km_at_risk"].columns) == AT_RISK_COLUMNS
    assert list(full["cif_curves"].columns) == CIF_COLUMNS
    assert list(full["zph_residuals"].columns) == ZPH_COLUMNS
    got = set(full["estimates"].analysis)
    assert {"km_median", "km_proportion", "logrank", "logrank_stratified", "cox_unadjusted",
            "cox_adjusted", "cox_stratified", "cox_zph", "rmst", "rmst_difference", "cif",
            "gray_test", "fine_gray", "turnbull", "weibull_ic"} <= got
    # one row per CI level for estimates with CIs
    hr = full["estimates"].query("analysis == 'cox_unadjusted' and term == 'arm'")
    assert sorted(hr.conf_level) == [0.8, 0.95]
    assert len(full["summary"])


def test_runner_numbers_equal_R_references(full):
    """HRs, SEs, tests, medians, RMST, CIF, Gray, Fine–Gray, Weibull from the runner
    equal R's stored values (rel 1e-6; Weibull 1e-5)."""
    est = full["estimates"]
    ref = expected("trial_ties")
    r = _row(est, "cox_unadjusted", "arm")
    assert r.estimate == pytest.approx(np.exp(ref["cox_arm_efron"]["coef"]), rel=1e-6)
    assert r.std_error == pytest.approx(ref["cox_arm_efron"]["se"], rel=1e-6)
    r = _row(est, "cox_adjusted", "arm")                   # robust SE by practice
    assert r.estimate == pytest.approx(np.exp(ref["cox_adj_cluster"]["coef"][0]), rel=1e-6)
    assert r.std_error == pytest.approx(ref["cox_adj_cluster"]["se"][0], rel=1e-6)
    r = _row(est, "cox_adjusted", "condition_group[other]")
    assert r.estimate == pytest.approx(np.exp(ref["cox_adj_cluster"]["coef"][2]), rel=1e-6)
    r = _row(est, "cox_stratified", "arm")                 # strata(practice): same coef
    assert r.estimate == pytest.approx(np.exp(ref["cox_adj_strat"]["coef"][0]), rel=1e-6)
    r = _row(est, "logrank_stratified", "arm", None)
    assert r.statistic == pytest.approx(ref["logrank_strat"]["chisq"], rel=1e-6)
    r = _row(est, "logrank", "arm", None)
    assert r.p_value == pytest.approx(ref["logrank"]["p"], rel=1e-6)
    zph = est[(est.analysis == "cox_zph") & est.note.str.contains("model=cox_adjusted;")]
    assert list(zph.term) == ["arm", "condition_group", "days_off_before", "global"]
    np.testing.assert_allclose(zph.statistic, ref["cox_adj_cluster"]["zph"]["chisq"], rtol=1e-6)
    km = ref["km"]["log-log 0.95"]
    r = _row(est, "km_median", "arm=usual_care")
    assert (r.estimate, r.conf_low, r.conf_high) == pytest.approx(
        (km["table"]["median"][0], km["table"]["lcl"][0], km["table"]["ucl"][0]), rel=1e-6)
    r = _row(est, "km_proportion", "arm=vocational_advice;t=84")
    a = km["at_times"]
    i = [k for k, (s, t) in enumerate(zip(a["strata"], a["time"])) if s == "vocational_advice" and t == 84][0]
    assert r.estimate == pytest.approx(1 - a["surv"][i], rel=1e-6)
    assert (r.conf_low, r.conf_high) == pytest.approx((1 - a["upper"][i], 1 - a["lower"][i]), rel=1e-6)
    r = _row(est, "rmst", "arm=usual_care")
    assert (r.estimate, r.std_error) == pytest.approx((km["table"]["rmean"][0], km["table"]["se_rmean"][0]), rel=1e-6)
    r = _row(est, "rmst_difference", "arm")
    assert r.estimate == pytest.approx(km["table"]["rmean"][1] - km["table"]["rmean"][0], rel=1e-6)
    ci = ref["cuminc"]
    r = _row(est, "cif", "arm=usual_care;cause=event;t=84")
    assert r.estimate == pytest.approx(arr(ci["est"])[0][2], rel=1e-6)
    assert r.std_error == pytest.approx(np.sqrt(arr(ci["var"])[0][2]), rel=1e-6)
    r = _row(est, "gray_test", "arm", None)
    assert r.statistic == pytest.approx(ci["stat"][0], rel=1e-6)
    r = _row(est, "fine_gray", "arm")
    assert r.estimate == pytest.approx(np.exp(ref["crr_arm_tight"]["coef"]), rel=1e-6)
    assert r.std_error == pytest.approx(np.sqrt(ref["crr_arm_tight"]["var"][0][0]), rel=1e-6)
    w = ref["weibull_arm"]
    r = _row(est, "weibull_ic", "arm")
    assert r.estimate == pytest.approx(np.exp(-w["coef"][1] / w["scale"]), rel=1e-5)
    r = _row(est, "weibull_ic", "arm;measure=time_ratio")
    assert r.estimate == pytest.approx(np.exp(w["coef"][1]), rel=1e-5)


def test_reference_arm_comes_from_config_and_swapping_inverts_hr(full):
    """Edge case (reference arm): swap trial.arms -> HR becomes 1/HR, CI limits swap and
    invert, RMST difference changes sign; same p-values."""
    cfg = copy.deepcopy(CONFIG)
    cfg["trial"]["arms"] = {"control": "vocational_advice", "intervention": "usual_care"}
    sw = run_time_to_event(data("trial_ties"), cfg, OUTCOME)["estimates"]
    est = full["estimates"]
    for analysis in ("cox_unadjusted", "cox_adjusted", "cox_stratified", "fine_gray", "weibull_ic"):
        a, b = _row(est, analysis, "arm"), _row(sw, analysis, "arm")
        assert b.estimate == pytest.approx(1 / a.estimate, rel=1e-8)
        assert b.conf_low == pytest.approx(1 / a.conf_high, rel=1e-8)
        assert b.p_value == pytest.approx(a.p_value, rel=1e-6)
    a, b = _row(est, "rmst_difference", "arm"), _row(sw, "rmst_difference", "arm")
    assert b.estimate == pytest.approx(-a.estimate, rel=1e-12)


def test_km_conf_type_and_ties_come_from_config():
    """Edge cases: survival.km_conf_type = log gives R's conf.type = "log" limits;
    survival.ties = breslow gives R's breslow coefficient."""
    cfg = copy.deepcopy(CONFIG)
    cfg["survival"]["km_conf_type"] = "log"
    cfg["survival"]["ties"] = "breslow"
    est = run_time_to_event(data("trial_ties"), cfg, OUTCOME)["estimates"]
    ref = expected("trial_ties")
    a = ref["km"]["log 0.95"]["at_times"]
    i = [k for k, (s, t) in enumerate(zip(a["strata"], a["time"])) if s == "usual_care" and t == 42][0]
    r = _row(est, "km_proportion", "arm=usual_care;t=42")
    assert (r.conf_low, r.conf_high) == pytest.approx((1 - a["upper"][i], 1 - a["lower"][i]), rel=1e-6)
    r = _row(est, "cox_unadjusted", "arm")
    assert np.log(r.estimate) == pytest.approx(ref["cox_arm_breslow"]["coef"], rel=1e-6)
    cfg["survival"]["km_conf_type"] = "logit"
    with pytest.raises(ValueError, match="km_conf_type"):
        run_time_to_event(data("trial_ties"), cfg, OUTCOME)


def test_median_not_reached_is_missing_with_flag_not_an_error():
    d = data("heavy_cens")
    cfg = sap({"trial": {"arms": {"control": "control", "intervention": "treated"}},
               "conf_levels": [0.95], "survival": {"proportions_at_days": [50, 400]},
               "outcomes": {"time_to_event": [{"name": "t", "time": "time", "event": "event"}]}})
    out = run_time_to_event(d, cfg, cfg["outcomes"]["time_to_event"][0])
    med = out["estimates"].query("analysis == 'km_median'")
    assert med.estimate.isna().all()
    assert med.note.str.startswith("not reached").all()
    ref = expected("heavy_cens")["km"]["log-log 0.95"]["table"]
    assert med.conf_low.iloc[1] == pytest.approx(ref["lcl"][1], rel=1e-6)   # 190.14
    beyond = out["estimates"].query("analysis == 'km_proportion' and term.str.endswith('t=400')")
    assert beyond.estimate.isna().all() and beyond.note.str.contains("beyond").all()


def test_minimal_bring_your_own_table_without_optional_roles():
    """No strata, cluster, covariates, competing value or interval bounds: runs, and
    the optional analyses are simply absent."""
    d = data("rossi")[["week", "arrest", "arm"]]
    cfg = sap({"trial": {"arms": {"control": "none", "intervention": "aid"}},
               "outcomes": {"time_to_event": [{"name": "rearrest", "time": "week",
                                                "event": "arrest"}]}})
    out = run_time_to_event(d, cfg, cfg["outcomes"]["time_to_event"][0])
    got = set(out["estimates"].analysis)
    assert {"km_median", "logrank", "cox_unadjusted", "cox_zph", "rmst", "rmst_difference"} <= got
    assert not got & {"logrank_stratified", "cox_adjusted", "cox_stratified", "cif", "gray_test",
                      "fine_gray", "turnbull", "weibull_ic"}
    assert out["cif_curves"].empty
    # no survival grids configured: round times of the unit up to the last follow-up (issue 11)
    horizon = float(d["week"].max())
    assert sorted(out["km_at_risk"]["time"].unique()) == round_times(horizon, "days")
    props = {t.split(";t=")[1] for t in out["estimates"].query("analysis == 'km_proportion'").term}
    assert sorted(props, key=float) == [f"{t:g}" for t in summary_times(horizon, "days")]
    r = _row(out["estimates"], "cox_unadjusted", "arm")
    assert np.log(r.estimate) == pytest.approx(-expected("rossi")["cox_fin_efron"]["coef"] * -1, rel=1e-6)
    # tau defaults to the smallest of the arms' last follow-up times
    assert "tau=52" in _row(out["estimates"], "rmst", "arm=aid").note


def test_curve_tables_are_complete_and_sorted(full):
    km = full["km_curves"]
    for (arm, lv), g in km.groupby(["arm", "conf_level"], sort=False):
        assert g.time.iloc[0] == 0 and g.surv.iloc[0] == 1
        assert g.time.is_monotonic_increasing
    assert list(dict.fromkeys(km.arm)) == ["usual_care", "vocational_advice"]
    assert list(dict.fromkeys(km.conf_level)) == [0.95, 0.80]
    ar = full["km_at_risk"]
    d = data("trial_ties")
    want = (d.loc[d.arm == "usual_care", "rtw_time"] >= 56).sum()
    assert ar.query("arm == 'usual_care' and time == 56").n_risk.iloc[0] == want
    cif = full["cif_curves"]
    assert set(cif.cause) == {"event", "competing"}
    z = full["zph_residuals"]
    assert set(z.model) == {"cox_unadjusted", "cox_adjusted", "cox_stratified"}


def test_runner_is_deterministic(full):
    again = run_time_to_event(data("trial_ties"), CONFIG, OUTCOME)
    for k in full:
        pd.testing.assert_frame_equal(full[k], again[k])


def test_rows_with_missing_time_are_left_out_and_bad_arm_label_errors():
    d = data("trial_ties")
    d.loc[:4, "rtw_time"] = np.nan
    out = run_time_to_event(d, CONFIG, OUTCOME)["estimates"]
    assert _row(out, "cox_unadjusted", "arm").n == len(d) - 5
    d.loc[7, "arm"] = "placebo"
    with pytest.raises(ValueError, match="placebo"):
        run_time_to_event(d, CONFIG, OUTCOME)


def test_zph_residuals_drawn_are_a_seeded_subsample_and_the_smooth_uses_every_residual():
    """Issue 13 (figures at scale): beyond figures.schoenfeld_points events a model's residuals
    are a seeded subsample (same rows for every coefficient, the same on a rerun); the
    plot.cox.zph smooth and band (zph_smooth) are fitted to all of them; one residual column
    per coefficient (a 3-level factor gives two)."""
    cfg = {**CONFIG, "figures": {**CONFIG["figures"], "schoenfeld_points": 15}}
    out = run_time_to_event(data("trial_ties"), cfg, OUTCOME)
    z, sm = out["zph_residuals"], out["zph_smooth"]
    full = run_time_to_event(data("trial_ties"), CONFIG, OUTCOME)
    for (model, term), g in z.groupby(["model", "term"], sort=False):
        assert len(g) == 15
        s = sm[(sm.model == model) & (sm.term == term)]
        assert len(s) == 40 and s["n_residuals"].iloc[0] > 15
        f = full["zph_smooth"]
        pd.testing.assert_frame_equal(
            s.reset_index(drop=True),
            f[(f.model == model) & (f.term == term)].reset_index(drop=True))
        allrows = full["zph_residuals"]
        allrows = allrows[(allrows.model == model) & (allrows.term == term)]
        assert len(allrows) == s["n_residuals"].iloc[0]
    again = run_time_to_event(data("trial_ties"), cfg, OUTCOME)["zph_residuals"]
    pd.testing.assert_frame_equal(z, again)
    terms = list(dict.fromkeys(z[z.model == "cox_adjusted"].term))
    groups = sorted(data("trial_ties")["condition_group"].dropna().unique())
    assert [t for t in terms if t.startswith("condition_group[")] == [
        f"condition_group[{g}]" for g in groups[1:]]
