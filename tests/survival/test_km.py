"""Kaplan–Meier (rtw.survival.km) against R ``survival::survfit`` 3.5-3 (stored values).

R calls (tests/survival/reference/make_reference.R, ``km_ref``)::

    f <- survfit(Surv(time, event) ~ group, conf.type = ct, conf.int = lev)
    summary(f, rmean = tau)$table;  quantile(f, 0.5);  summary(f, times = t, extend = FALSE)

Tolerance rel 1e-6 throughout (same algorithm: product limit, Greenwood,
survfit_confint); observed agreement is ~1e-14.
"""
from __future__ import annotations

import numpy as np
import pytest

from _survival_ref import KM_SPECS, arr, assert_close_R, data, expected
from rtw.survival.km import (kaplan_meier, km_at, km_confint, km_curve_table, km_median,
                    number_at_risk, proportion_returned)

CASES = [(ds, key) for ds in KM_SPECS for key in expected(ds)["km"]]


def _fits(ds):
    tcol, ecol, gcol, _, _ = KM_SPECS[ds]
    d = data(ds)
    return {g: kaplan_meier(d.loc[d[gcol] == g, tcol], d.loc[d[gcol] == g, ecol])
            for g in sorted(d[gcol].unique())}


@pytest.mark.parametrize("ds,key", CASES)
def test_km_curve_and_greenwood_ci_match_R_survfit(ds, key):
    """survfit(Surv(t, e) ~ arm, conf.type=ct, conf.int=lev): time, n.risk, n.event,
    n.censor, surv, std.err, lower, upper per stratum (rel 1e-6)."""
    r = expected(ds)["km"][key]
    c = r["curve"]
    strata = np.array(c["strata"])
    for g, f in _fits(ds).items():
        m = strata == g
        assert_close_R(f.time, arr(c["time"])[m])
        assert_close_R(f.n_risk, arr(c["n_risk"])[m])
        assert_close_R(f.n_event, arr(c["n_event"])[m])
        assert_close_R(f.n_censor, arr(c["n_censor"])[m])
        assert_close_R(f.surv, arr(c["surv"])[m])
        assert_close_R(f.std_err, arr(c["std_err"])[m])
        lo, hi = km_confint(f.surv, f.std_err, r["conf_level"], r["conf_type"])
        assert_close_R(lo, arr(c["lower"])[m])
        assert_close_R(hi, arr(c["upper"])[m])


@pytest.mark.parametrize("ds,key", CASES)
def test_km_median_and_ci_match_R_print_survfit(ds, key):
    """summary(survfit(...))$table[, c("median", "0.95LCL", "0.95UCL")] (print.survfit's
    rule); NA (not reached) must be NaN here (rel 1e-6)."""
    r = expected(ds)["km"][key]
    t = r["table"]
    for i, (g, f) in enumerate(_fits(ds).items()):
        assert t["strata"][i] == g
        med = km_median(f, r["conf_level"], r["conf_type"])
        assert_close_R([med["median"], med["lower"], med["upper"]],
                       [t["median"][i], t["lcl"][i], t["ucl"][i]])
        assert med["reached"] == (t["median"][i] is not None)


@pytest.mark.parametrize("ds,key", CASES)
def test_km_at_times_match_R_summary_survfit_times(ds, key):
    """summary(f, times = t, extend = FALSE): surv, std.err (of S), lower, upper, n.risk;
    times after the last follow-up are NaN here (R drops them) (rel 1e-6)."""
    r = expected(ds)["km"][key]
    a = r["at_times"]
    times = KM_SPECS[ds][4]
    strata = np.array(a["strata"])
    for g, f in _fits(ds).items():
        m = strata == g
        k = int(m.sum())
        out = km_at(f, times, r["conf_level"], r["conf_type"])
        assert np.all(np.isnan(out["surv"][k:]))           # beyond follow-up
        assert_close_R(arr(a["time"])[m], np.asarray(times, float)[:k])
        assert_close_R(out["surv"][:k], arr(a["surv"])[m])
        assert_close_R(out["std_err"][:k], arr(a["std_err"])[m])
        assert_close_R(out["lower"][:k], arr(a["lower"])[m])
        assert_close_R(out["upper"][:k], arr(a["upper"])[m])
        assert_close_R(out["n_risk"][:k], arr(a["n_risk"])[m])


def test_median_on_flat_stretch_at_exactly_half_is_midpoint_as_R():
    """Edge case (config survival.median_rule = R): control arm of tiny.csv has
    S(t) = 0.5 exactly on [5, 8); R's print.survfit gives (5 + 8) / 2 = 6.5, not 5."""
    f = _fits("tiny")["control"]
    assert f.surv_at(5.0) == pytest.approx(0.5, abs=0)
    med = km_median(f, 0.95, "log-log")
    assert med["median"] == 6.5
    assert expected("tiny")["km"]["log-log 0.95"]["table"]["median"][0] == 6.5


def test_median_not_reached_is_nan_with_flag():
    """heavy_cens.csv: S(t) never <= 0.5 -> R prints NA; here NaN and reached=False."""
    for g, f in _fits("heavy_cens").items():
        med = km_median(f)
        assert np.isnan(med["median"]) and med["reached"] is False


def test_conf_type_edge_cases_follow_R_survfit_confint():
    """Edge case per KM CI transform: at S = 1 log-log is NA in R (NaN here) while log
    gives [S e^{-z se}, 1]; plain is clipped to [0, 1]; the three differ elsewhere."""
    s = np.array([1.0, 0.9, 0.02, 0.0])
    se = np.array([0.0, 0.05, 1.2, np.inf])
    ll = km_confint(s, se, 0.95, "log-log")
    lg = km_confint(s, se, 0.95, "log")
    pl = km_confint(s, se, 0.95, "plain")
    assert np.isnan(ll[0][0]) and np.isnan(ll[1][0])
    assert lg[0][0] == 1.0 and lg[1][0] == 1.0
    assert lg[1][2] <= 1.0 and pl[0][2] == 0.0          # plain lower clipped at 0
    assert np.isnan(lg[0][3]) and np.isnan(ll[0][3])     # S = 0: NA in R for log, log-log
    assert not np.isclose(ll[0][1], lg[0][1]) and not np.isclose(lg[0][1], pl[0][1])
    with pytest.raises(ValueError):
        km_confint(s, se, 0.95, "arcsine")


def test_number_at_risk_and_curve_table_time_zero_row():
    """km_at_risk counts time >= t (as the table under R's plot); the curve table
    starts with a time-0 row with S = 1 and CI [1, 1]."""
    d = data("trial_ties")
    m = d["arm"] == "usual_care"
    f = kaplan_meier(d.loc[m, "rtw_time"], d.loc[m, "rtw"])
    days = [0, 14, 15, 182, 200]
    want = [(d.loc[m, "rtw_time"] >= t).sum() for t in days]
    assert list(number_at_risk(d.loc[m, "rtw_time"], days)) == want
    tab = km_curve_table(f, 0.95, "log-log")
    assert tab["time"][0] == 0 and tab["surv"][0] == 1 and tab["lower"][0] == 1
    assert tab["n_risk"][0] == m.sum()
    pr = proportion_returned(f, [42], 0.95, "log-log")
    assert pr["estimate"][0] == pytest.approx(1 - float(f.surv_at(42)), abs=1e-15)
