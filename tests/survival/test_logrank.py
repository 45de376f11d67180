"""Log-rank tests (rtw.survival.logrank) against R ``survival::survdiff`` 3.5-3 (stored values).

R calls (tests/survival/reference/make_reference.R)::

    survdiff(Surv(week, arrest) ~ fin, data = rossi)
    survdiff(Surv(week, arrest) ~ fin + strata(wexp), data = rossi)
    survdiff(Surv(rtw_time, rtw) ~ arm + strata(practice), data = trial_ties)   # 10 strata, ties

Tolerance rel 1e-6 (same algorithm); observed ~1e-15.
"""
from __future__ import annotations

import numpy as np
import pytest

from _survival_ref import assert_close_R, data, expected
from rtw.survival.logrank import logrank_test

CASES = [
    ("rossi", "logrank", "week", "arrest", "fin", None),
    ("rossi", "logrank_strat", "week", "arrest", "fin", "wexp"),
    ("trial_ties", "logrank", "rtw_time", "rtw", "arm", None),
    ("trial_ties", "logrank_strat", "rtw_time", "rtw", "arm", "practice"),
    ("heavy_cens", "logrank", "time", "event", "arm", None),
    ("tiny", "logrank", "time", "event", "arm", None),
]


@pytest.mark.parametrize("ds,key,t,e,g,s", CASES)
def test_logrank_matches_R_survdiff(ds, key, t, e, g, s):
    """survdiff(Surv(t, e) ~ g [+ strata(s)]): chisq, df, p, observed, expected and
    variance matrix (rel 1e-6)."""
    d = data(ds)
    r = expected(ds)[key]
    res = logrank_test(d[t], d[e], d[g], strata=None if s is None else d[s])
    assert_close_R(res.chisq, r["chisq"])
    assert res.df == r["df"]
    assert_close_R(res.p_value, r["p"])
    assert_close_R(res.observed, r["obs"])
    assert_close_R(res.expected, r["exp"])
    assert_close_R(res.var, np.array(r["var"], float), atol=1e-10)


def test_stratified_differs_from_plain_and_is_sum_over_strata():
    """The stratified statistic sums O-E and V over strata (not the same as plain)."""
    d = data("trial_ties")
    plain = logrank_test(d.rtw_time, d.rtw, d.arm)
    strat = logrank_test(d.rtw_time, d.rtw, d.arm, strata=d.practice)
    oe = np.zeros(2)
    v = 0.0
    for p in sorted(d.practice.unique()):
        m = d.practice == p
        r = logrank_test(d.rtw_time[m], d.rtw[m], d.arm[m])
        oe += r.observed - r.expected
        v += r.var[0, 0]
    assert strat.chisq == pytest.approx(oe[0] ** 2 / v, rel=1e-12)
    assert abs(strat.chisq - plain.chisq) > 1e-3


def test_group_order_does_not_change_statistic():
    """Relabelling the groups leaves the chi-square unchanged."""
    d = data("rossi")
    a = logrank_test(d.week, d.arrest, d.fin)
    b = logrank_test(d.week, d.arrest, np.where(d.fin == 1, "z", "a"))
    assert a.chisq == pytest.approx(b.chisq, rel=1e-12)
