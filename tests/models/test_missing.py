"""Multiple imputation and Rubin's rules (rtw.models.missing) against R mice.

Pooling is compared exactly (rel 1e-10) with ``mice::pool`` / ``mice::pool.scalar``
on the per-imputation estimates Q and variances U stored by make_reference.R
(mice pmm imputations, glm.nb per imputation).  The imputations themselves
differ between implementations (rtw draws from the NB model, mice uses pmm),
so the MI estimate is compared loosely: within 0.25 of the pooled SE on the
log IRR scale.
"""

import numpy as np
import pytest

from rtw.models import counts, missing
from rtw.core import modelframe as mf
from _regression_ref import CONFIG, data, ref

F = "missing.csv"
ADJ = ["condition_group", "days_off_before"]


def test_rubin_pooling_matches_R_mice_pool():
    """R: pl <- pool(with(imp, glm.nb(days_off_6m ~ arm + condition_group + days_off_before)));
    pl$pooled[arm, c(estimate, ubar, b, t, dfcom, df, riv, lambda, fmi)] and
    summary(pl, conf.int = TRUE)  (Barnard-Rubin df).  rel 1e-10."""
    Q = ref(F, "mi_per_imputation", "Q")
    U = ref(F, "mi_per_imputation", "U")
    dfcom = ref(F, "mi_per_imputation", "dfcom")[0]
    p = missing.pool_rubin(Q, U, dfcom)
    r = lambda q: ref(F, "mice_pool", q)[0]
    assert p.m == 20
    assert p.qbar == pytest.approx(r("estimate"), rel=1e-12)
    assert p.ubar == pytest.approx(r("ubar"), rel=1e-12)
    assert p.b == pytest.approx(r("b"), rel=1e-10)
    assert p.t == pytest.approx(r("t"), rel=1e-12)
    assert p.df == pytest.approx(r("df"), rel=1e-10)
    assert p.r == pytest.approx(r("riv"), rel=1e-10)
    assert p.lambda_ == pytest.approx(r("lambda"), rel=1e-10)
    assert p.fmi == pytest.approx(r("fmi"), rel=1e-10)
    assert p.ci(0.95) == pytest.approx(tuple(ref(F, "mice_pool", "conf_0.95")), rel=1e-10)


def test_rubin_pooling_matches_R_mice_pool_scalar():
    """R: pool.scalar(Q, U, n = 125, k = 5)  (dfcom = n - k = 120).  rel 1e-10."""
    Q = ref(F, "mi_per_imputation", "Q")
    U = ref(F, "mi_per_imputation", "U")
    p = missing.pool_rubin(Q, U, dfcom=120)
    r = lambda q: ref(F, "mice_pool_scalar", q)[0]
    assert (p.qbar, p.ubar, p.b, p.t) == pytest.approx((r("qbar"), r("ubar"), r("b"), r("t")), rel=1e-10)
    assert p.df == pytest.approx(r("df"), rel=1e-10)
    assert p.r == pytest.approx(r("r"), rel=1e-10)
    assert p.fmi == pytest.approx(r("fmi"), rel=1e-10)


def test_barnard_rubin_edge_cases_match_mice_formula():
    """mice:::barnard.rubin: dfcom = Inf gives the old (m-1)/lambda^2; lambda floored at 1e-4."""
    assert missing.barnard_rubin(5, 0.1, 0.5, np.inf) == pytest.approx(4 / (1.2 * 0.1 / 0.5) ** 2)
    # b = 0: lambda floored at 1e-4 -> df close to the complete-data df
    df = missing.barnard_rubin(5, 0.0, 0.5, 100)
    dfold = 4 / 1e-8
    dfobs = 101 / 103 * 100 * (1 - 1e-4)
    assert df == pytest.approx(dfold * dfobs / (dfold + dfobs))
    with pytest.raises(ValueError):
        missing.pool_rubin([0.1], [0.2])


def _design():
    d = data("trial_small.csv")
    D = mf.build_design(d, CONFIG, outcome=None, adjust=ADJ)
    return d, D, d.loc[D.index, "days_off_6m"]


def _analyse(X, y):
    f = counts.fit_nb(X, y)
    return float(f.params["arm"]), float(f.cov.loc["arm", "arm"]), f.df_resid, f.notes


def test_mi_estimate_close_to_R_mice_pmm_estimate():
    """R: mice(m = 20, method = "pmm") + glm.nb + pool: loose agreement of the pooled log IRR
    (different imputation models): |difference| < 0.25 pooled SE."""
    _, D, y = _design()
    res = missing.mi_analyse(D.X, y, _analyse, m=20, seed=20200904, cap=182)
    p = res[0][0]
    r = ref(F, "mice_pool", "estimate")[0]
    assert abs(p.qbar - r) < 0.25 * p.se
    assert p.df < 125 and p.fmi > 0


def test_nb_imputations_reproducible_capped_integer():
    _, D, y = _design()
    m1, d1, _ = missing.impute_nb(D.X, y, m=5, seed=1, cap=182)
    m2, d2, _ = missing.impute_nb(D.X, y, m=5, seed=1, cap=182)
    assert m1.sum() == y.isna().sum() == 5
    for a, b in zip(d1, d2):
        assert np.array_equal(a, b)
        assert np.all(a >= 0) and np.all(a <= 182) and np.all(a == np.round(a))
    _, d3, _ = missing.impute_nb(D.X, y, m=5, seed=2, cap=182)
    assert not all(np.array_equal(a, b) for a, b in zip(d1, d3))


def test_tipping_point_shift_moves_estimate_monotonically():
    """Adding days to the intervention arm's imputed outcomes raises the pooled IRR."""
    d, D, y = _design()
    arm_int = (d.loc[D.index, "arm"] == "vocational_advice").to_numpy()
    res = missing.mi_analyse(D.X, y, _analyse, m=5, seed=3, cap=182, deltas=[-50, 0, 50, 150],
                             delta_rows=arm_int)
    q = [res[dl][0].qbar for dl in (-50, 0, 50, 150)]
    assert q == sorted(q)


def _fake(qbars, se=0.1):
    out = {}
    for d, q in qbars.items():
        P = missing.Pooled(10, q, se ** 2, 0.0, se ** 2, 1e6, 0.0, 0.0, 0.0)
        out[d] = (P, [])
    return out


def test_tipping_delta_finds_first_change_in_each_direction():
    # log IRR -0.4 at 0 (CI excludes 0), crosses at +20, never in the negative direction
    res = _fake({-20: -0.5, -10: -0.45, 0: -0.4, 10: -0.25, 20: -0.1, 30: 0.0})
    tp = missing.tipping_delta(res, 0.95)
    assert tp["reference"] == 0 and tp["reference_significant"]
    assert tp["increase"] == 20 and tp["decrease"] is None
    # reference not in the grid: the delta closest to 0
    tp = missing.tipping_delta(_fake({-10: -0.1, 5: -0.05, 15: -0.3}), 0.95)
    assert tp["reference"] == 5 and not tp["reference_significant"] and tp["increase"] == 15
