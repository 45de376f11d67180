"""RMST (rtw.survival.rmst) against R ``print(survfit(...), rmean = tau)`` (survival 3.5-3).

R calls (tests/survival/reference/make_reference.R)::

    summary(survfit(Surv(time, event) ~ arm, data = d), rmean = tau)$table[, c("rmean", "se(rmean)")]

with tau = 52 and 40 (rossi), 182 and 100 (trial_ties), 150 (heavy_cens), 10 (tiny).
Tolerance rel 1e-6 (same formula: survival:::survmean; observed ~1e-14).  The SE
is R's, not lifelines' (which is the SD of min(T, tau), lifelines issue 1682).
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from _survival_ref import KM_SPECS, assert_close_R, data, expected
from rtw.survival.km import kaplan_meier
from rtw.survival.rmst import default_tau, rmst, rmst_difference, rmst_from_fit

CASES = [(ds, KM_SPECS[ds][3], None) for ds in KM_SPECS] + [("rossi", 40, "km_tau40"),
                                                              ("trial_ties", 100, "km_tau100")]


@pytest.mark.parametrize("ds,tau,key", CASES)
def test_rmst_and_se_match_R_print_survfit_rmean(ds, tau, key):
    """print(survfit(Surv(t, e) ~ arm), rmean = tau): rmean and se(rmean) per arm."""
    tcol, ecol, gcol, _, _ = KM_SPECS[ds]
    d = data(ds)
    ref = expected(ds)
    if key is None:
        t = ref["km"]["log-log 0.95"]["table"]
        want_m, want_se = t["rmean"], t["se_rmean"]
    else:
        want_m, want_se = ref[key]["rmean"], ref[key]["se"]
    for i, g in enumerate(sorted(d[gcol].unique())):
        m = d[gcol] == g
        r = rmst(d.loc[m, tcol], d.loc[m, ecol], tau)
        assert_close_R(r["rmst"], want_m[i])
        assert_close_R(r["se"], want_se[i])


def test_rmst_tau_before_first_time_and_beyond_last_time():
    """tau before any time: RMST = tau, SE 0; tau after the last time: the last S(t)
    is carried forward (as R)."""
    f = kaplan_meier([5, 6, 7], [1, 0, 1])
    r = rmst_from_fit(f, 3.0)
    assert r["rmst"] == 3.0 and r["se"] == 0.0
    r = rmst_from_fit(f, 10.0)
    # S = 1 on [0,5), 2/3 on [5,7), 0 after 7
    assert r["rmst"] == pytest.approx(5 + 2 * 2 / 3, rel=1e-14)


def test_rmst_difference_wald():
    """Difference of independent arms: se = sqrt(se1^2 + se0^2), two-sided p, Wald CIs."""
    a, b = {"rmst": 50.0, "se": 3.0}, {"rmst": 45.0, "se": 4.0}
    out = rmst_difference(a, b, (0.95, 0.80))
    assert out["estimate"] == 5.0 and out["se"] == 5.0
    assert out["p_value"] == pytest.approx(2 * stats.norm.sf(1.0))
    lo, hi = out["ci"][0.80]
    assert hi - 5.0 == pytest.approx(stats.norm.ppf(0.9) * 5.0)


def test_default_tau_is_smallest_last_follow_up():
    assert default_tau([np.array([1, 9.0]), np.array([2, 7.0])]) == 7.0
