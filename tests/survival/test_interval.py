"""Interval-censored analyses (rtw.survival.interval) against R ``survival`` 3.5-3 (stored values).

R calls (tests/survival/reference/make_reference.R)::

    survfit(Surv(lower, upper, type = "interval2") ~ arm)       # Turnbull NPMLE
    survreg(Surv(lo, upper, type = "interval2") ~ arm [+ days_off_before], dist = "weibull")

Tolerances and why:

* Turnbull: R's ``survfitTurnbull`` stops its EM when S changes by < 5e-5 between
  iterations (with Aitken acceleration); EM converges linearly, so R's curve can be
  ~1e-3 from the NPMLE where intervals overlap.  We run EM to 1e-10 and check (i)
  agreement with R at the interval end points to 1e-4 on the regular 14-day grid
  (observed 4e-11) and 1e-3 on the irregular data (observed 6e-4), (ii) the NPMLE's
  own optimality (Kuhn-Tucker) conditions to 1e-6, and (iii) that our
  log-likelihood is at least R's.  Inside a Turnbull interval the NPMLE is not
  identified (R puts the mass at the mid-point, we at the right end): not compared.
* Weibull: rel 1e-5 for coefficients, log(scale) and loglik (different optimisers,
  both converged; observed ~1e-9), rel 1e-5 for the covariance (observed 6e-8;
  ours is a finite difference of the analytic gradient, R's analytic).
"""
from __future__ import annotations

import numpy as np
import pytest

from _survival_ref import arr, assert_close_R, data, expected
from rtw.survival.interval import turnbull, weibull_ic


def _identified(fit, times):
    t = np.asarray(times, float)
    inside = (t[:, None] > fit.left[None, :]) & (t[:, None] < fit.right[None, :])
    return ~inside.any(axis=1)


@pytest.mark.parametrize("ds,lo,up,atol", [("trial_ties", "rtw_lower", "rtw_upper", 1e-4),
                                          ("interval_irregular", "lower", "upper", 1e-3)])
def test_turnbull_matches_R_survfit_interval2_at_interval_end_points(ds, lo, up, atol):
    """survfit(Surv(l, u, type = "interval2") ~ arm): S(t) at end points (see module)."""
    d = data(ds)
    r = expected(ds)["turnbull"]
    strata = np.array(r["strata"])
    for arm in sorted(d.arm.unique()):
        m = d.arm == arm
        f = turnbull(d.loc[m, lo], d.loc[m, up])
        assert f.converged
        times = arr(r["time"])[strata == arm]
        ok = _identified(f, times)
        assert ok.sum() >= 5
        np.testing.assert_allclose(f.surv_at(times[ok]), arr(r["surv"])[strata == arm][ok],
                                   atol=atol, rtol=0)


def _loglik(fit, lower, upper):
    L = np.nan_to_num(np.asarray(lower, float), nan=0.0)
    U = np.nan_to_num(np.asarray(upper, float), nan=np.inf)
    a = (fit.left[None, :] >= L[:, None]) & (fit.right[None, :] <= U[:, None])
    return float(np.log(a @ fit.mass).sum()), a


def test_turnbull_satisfies_npmle_optimality_and_beats_R_likelihood():
    """Kuhn–Tucker: d_j = sum_i a_ij / (a_i . p) <= n with equality where p_j > 0;
    log-likelihood >= that of R's (less converged) solution."""
    d = data("interval_irregular")
    r = expected("interval_irregular")["turnbull"]
    strata = np.array(r["strata"])
    for arm in sorted(d.arm.unique()):
        m = d.arm == arm
        f = turnbull(d.loc[m, "lower"], d.loc[m, "upper"])
        ll, a = _loglik(f, d.loc[m, "lower"], d.loc[m, "upper"])
        dj = (a / (a @ f.mass)[:, None]).sum(0)
        n = m.sum()
        assert np.all(dj <= n * (1 + 1e-6))
        np.testing.assert_allclose(dj[f.mass > 1e-8], n, rtol=1e-6)
        # R's masses on our intervals, from its S(t) at the interval end points
        times = arr(r["time"])[strata == arm]
        surv = arr(r["surv"])[strata == arm]
        s_at = dict(zip(times, surv))
        assert all(x in s_at for x in f.left) and all(x in s_at for x in f.right[np.isfinite(f.right)])
        Sl = np.array([s_at[x] for x in f.left])
        Sr = np.array([s_at[x] if np.isfinite(x) else 0.0 for x in f.right])
        pr = np.clip(Sl - Sr, 1e-300, None)
        ll_r = float(np.log(a @ pr).sum())
        assert ll >= ll_r - 1e-9


def test_turnbull_reduces_to_kaplan_meier_for_exact_and_right_censored_data():
    """With exact times (lower == upper) and right-censoring the NPMLE is the KM."""
    from rtw.survival.km import kaplan_meier
    t = np.array([2, 3, 3, 5, 7, 8, 10, 12.0])
    e = np.array([1, 1, 0, 1, 0, 1, 1, 0])
    f = turnbull(t, np.where(e == 1, t, np.nan))
    km = kaplan_meier(t, e)
    np.testing.assert_allclose(f.surv_at(t), km.surv_at(t), atol=1e-8)


WEIBULL_CASES = {
    "ties_arm": ("trial_ties", "weibull_arm", "rtw_lower", "rtw_upper", ["arm"]),
    "ties_arm_days": ("trial_ties", "weibull_arm_days", "rtw_lower", "rtw_upper", ["arm", "days_off_before"]),
    "irregular_arm": ("interval_irregular", "weibull", "lower", "upper", ["arm"]),
}


def _weibull(case):
    ds, key, lo, up, cols = WEIBULL_CASES[case]
    d = data(ds)
    d["arm"] = (d.arm.isin(["vocational_advice", "treated"])).astype(float)
    return weibull_ic(d[lo], d[up], d[cols].to_numpy(float), names=cols), expected(ds)[key]


@pytest.mark.parametrize("case", list(WEIBULL_CASES))
def test_weibull_ic_matches_R_survreg_interval2(case):
    """survreg(Surv(l, u, type = "interval2") ~ X, dist = "weibull"): coef, log(scale),
    vcov on (coef, Log(scale)), loglik (rel 1e-5, see module)."""
    w, r = _weibull(case)
    assert w.converged
    assert_close_R(w.coef, r["coef"], rtol=1e-5)
    assert_close_R(w.log_scale, r["log_scale"], rtol=1e-5)
    assert_close_R(w.var, np.array(r["var"], float), rtol=1e-5, atol=1e-12)
    assert_close_R(w.loglik, r["loglik"][1], rtol=1e-8)


def test_weibull_hazard_ratio_and_time_ratio_delta_method_from_R_values():
    """HR = exp(-b/scale), time ratio = exp(b); delta-method SE of -b/scale from R's
    vcov: g = (-1/scale, b/scale) on (b, log scale) (rel 1e-5)."""
    w, r = _weibull("ties_arm")
    b, s = r["coef"][1], r["scale"]
    V = np.array(r["var"], float)[np.ix_([1, 2], [1, 2])]
    g = np.array([-1 / s, b / s])
    hr, se = w.hazard_ratio("arm")
    assert_close_R(hr, np.exp(-b / s), rtol=1e-5)
    assert_close_R(se, np.sqrt(g @ V @ g), rtol=1e-5)
    tr, se_tr = w.time_ratio("arm")
    assert_close_R(tr, np.exp(b), rtol=1e-5)
    assert_close_R(se_tr, np.sqrt(V[0, 0]), rtol=1e-5)


def test_weibull_ic_drops_rows_without_information_like_R_survreg():
    """survreg(Surv(c(NA,10,20,NA,5,30,NA), c(NA,15,NA,8,12,NA,40), type="interval2") ~ x):
    the (NA, NA) row is omitted (n = 6); coefficients and vcov match (rel 1e-5)."""
    r = expected("interval_irregular")["weibull_na_row"]
    lo = [np.nan, 10, 20, np.nan, 5, 30, 0.0]          # 0 lower = left-censored
    up = [np.nan, 15, np.nan, 8, 12, np.nan, 40]
    w = weibull_ic(lo, up, np.array([0, 1, 0, 1, 0, 1, 1.0]))
    assert w.n == r["n_used"]
    assert_close_R(w.coef, r["coef"], rtol=1e-5)
    assert_close_R(w.log_scale, r["log_scale"], rtol=1e-5)
    assert_close_R(w.var, np.array(r["var"], float), rtol=1e-5)
