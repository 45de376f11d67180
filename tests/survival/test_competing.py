"""Competing risks (rtw.survival.competing) against R ``cmprsk`` 2.2-11 (stored values).

R calls (tests/survival/reference/make_reference.R)::

    ci <- cuminc(ftime, fstatus, group); timepoints(ci, times); ci$Tests
    cuminc(ftime, fstatus, group, strata = s)$Tests
    crr(ftime, fstatus, cov1 = X)                       # failcode 1 and 2
    crr(ftime, fstatus, cov1 = X, gtol = 1e-12, maxiter = 50)

Tolerances: cuminc estimates and variances, Gray's statistic rel 1e-6 (same
algorithm as the Fortran ``cinc`` / ``crstm``; observed ~1e-13).  crr: rel 1e-6
against crr run to full convergence (gtol 1e-12; observed ~1e-15); against crr's
default gtol = 1e-6, which stops its Newton iterations early, rel 1e-5 (observed
up to 4e-6 on coefficients).
"""
from __future__ import annotations

import numpy as np
import pytest

from _survival_ref import arr, assert_close_R, data, expected
from rtw.survival.competing import cif_confint, cuminc, cuminc_curve, fine_gray, gray_test

CI_CASES = [("trial_ties", "rtw_time", "rtw_event", "arm"), ("competing", "time", "status", "arm")]


@pytest.mark.parametrize("ds,t,s,g", CI_CASES)
def test_cuminc_estimates_and_variances_match_R_cuminc_timepoints(ds, t, s, g):
    """timepoints(cuminc(t, s, g), times): est and var for every group x cause (rel 1e-6)."""
    d = data(ds)
    r = expected(ds)["cuminc"]
    cc = cuminc(d[t], d[s], d[g])
    for k, nm in enumerate(r["names"]):
        grp, cause = nm.rsplit(" ", 1)
        est, var = cc[(grp, int(cause))].at(r["times"])
        assert_close_R(est, arr(r["est"])[k])
        assert_close_R(var, arr(r["var"])[k], atol=1e-15)


@pytest.mark.parametrize("ds,t,s,g", CI_CASES)
def test_gray_test_matches_R_cuminc_Tests(ds, t, s, g):
    """cuminc(...)$Tests: Gray's statistic and p for each cause, rho = 0 (rel 1e-6)."""
    d = data(ds)
    r = expected(ds)["cuminc"]
    for k, cause in enumerate(r["causes"]):
        res = gray_test(d[t], d[s], d[g], cause=int(cause))
        assert_close_R(res.stat, r["stat"][k])
        assert_close_R(res.p_value, r["pv"][k])
        assert res.df == 1


def test_stratified_gray_test_matches_R_cuminc_strata():
    """cuminc(time, status, arm, strata = ifelse(x > 0, "hi", "lo"))$Tests (rel 1e-6)."""
    d = data("competing")
    r = expected("competing")["gray_strat"]
    s = np.where(d.x > 0, "hi", "lo")
    for k, cause in enumerate(r["causes"]):
        assert_close_R(gray_test(d.time, d.status, d.arm, cause=int(cause), strata=s).stat,
                       r["stat"][k])


def _crr_cases():
    tt = data("trial_ties")
    arm = (tt.arm == "vocational_advice").astype(float).to_numpy()
    cp = data("competing")
    Xc = np.column_stack([(cp.arm == "B").astype(float), cp.x])
    return {
        "ties_arm": (tt.rtw_time, tt.rtw_event, arm[:, None], 1, "trial_ties", "crr_arm"),
        "ties_arm_tight": (tt.rtw_time, tt.rtw_event, arm[:, None], 1, "trial_ties", "crr_arm_tight"),
        "ties_arm_days": (tt.rtw_time, tt.rtw_event, np.column_stack([arm, tt.days_off_before]), 1,
                          "trial_ties", "crr_arm_days"),
        "competing_cause1_tight": (cp.time, cp.status, Xc, 1, "competing", "crr_cause1_tight"),
        "competing_cause2_tight": (cp.time, cp.status, Xc, 2, "competing", "crr_cause2_tight"),
        "competing_cause1_default": (cp.time, cp.status, Xc, 1, "competing", "crr_cause1"),
        "competing_cause2_default": (cp.time, cp.status, Xc, 2, "competing", "crr_cause2"),
    }


@pytest.mark.parametrize("case", list(_crr_cases()))
def test_fine_gray_coef_and_sandwich_var_match_R_crr(case):
    """crr(ftime, fstatus, cov1 = X, failcode = c): coef and var (crr's sandwich with
    the censoring term); rel 1e-6, or 1e-5 against crr's default gtol (see module)."""
    t, s, X, cause, ds, key = _crr_cases()[case]
    r = expected(ds)[key]
    fg = fine_gray(np.asarray(t, float), np.asarray(s), X, cause=cause)
    rtol = 1e-5 if case.endswith("default") else 1e-6
    assert fg.converged
    assert_close_R(fg.coef, r["coef"], rtol=rtol)
    assert_close_R(fg.var, np.array(r["var"], float).reshape(fg.var.shape), rtol=rtol)
    if "loglik" in r:
        assert_close_R(fg.loglik, r["loglik"], rtol=1e-9 if "default" not in case else 1e-8)


def test_timepoints_after_last_follow_up_are_nan_and_before_first_event_zero():
    """timepoints(): NA after the group's largest time; 0 before the first event."""
    cur = cuminc_curve([2, 3, 5, 8], [1, 2, 0, 1], cause=1)
    est, var = cur.at([1, 2, 4, 8, 9])
    assert list(est[:4]) == pytest.approx([0, 0.25, 0.25, 0.75]) and np.isnan(est[4])
    assert var[0] == 0 and np.isnan(var[4])


def test_cif_ci_is_log_minus_log_and_inside_unit_interval():
    est = np.array([0.0, 0.2, 0.9])
    var = np.array([0.0, 0.002, 0.001])
    lo, hi = cif_confint(est, var, 0.95)
    assert lo[0] == 0 and hi[0] == 0
    assert np.all((lo[1:] < est[1:]) & (est[1:] < hi[1:]) & (hi[1:] < 1) & (lo[1:] > 0))
    z = 1.959963984540054
    k = z * np.sqrt(var[1]) / (est[1] * np.log(est[1]))
    assert lo[1] == pytest.approx(est[1] ** np.exp(-k)) and hi[1] == pytest.approx(est[1] ** np.exp(k))


def test_gray_test_with_rho_1_matches_R_cuminc_rho():
    """cuminc(time, status, arm, rho = 1)$Tests: the weight (1 - F(t-))^rho (rel 1e-6)."""
    d = data("competing")
    r = expected("competing")["gray_rho1"]
    for k, cause in enumerate(r["causes"]):
        assert_close_R(gray_test(d.time, d.status, d.arm, cause=int(cause), rho=1.0).stat,
                       r["stat"][k])
