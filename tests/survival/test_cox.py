"""The vectorised Cox engine (rtw.survival.cox) against R ``survival::coxph`` / ``cox.zph`` 3.5-3.

R calls (tests/survival/reference/make_reference.R, ``cox_ref``), e.g.::

    coxph(Surv(week, arrest) ~ fin, data = rossi)                                  # Efron
    coxph(Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio, data = rossi, ties = "breslow")
    coxph(Surv(week, arrest) ~ fin + age + prio + strata(wexp), data = rossi)
    coxph(Surv(rtw_time, rtw) ~ arm + condition_group + days_off_before, data = tt, cluster = practice)
    coxph(Surv(rtw_time, rtw) ~ arm + days_off_before + strata(condition_group), data = tt, cluster = practice)
    cox.zph(fit, transform = "km")

Compared: coef, var (robust and naive), loglik, LR / Wald / score tests, iterations,
cox.zph chi-squares per term and global, its transformed times and scaled
Schoenfeld residuals.  Tolerance rel 1e-6 (same Newton–Raphson and convergence
rule; observed agreement ~1e-13).
"""
from __future__ import annotations

import time

import numpy as np
import pytest

from _survival_ref import arr, assert_close_R, data, expected
from rtw.survival.cox import cox_zph, fit_cox, score_residuals

ROSSI_ALL = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]


def _tt_design(cols):
    d = data("trial_ties")
    d["arm_v"] = (d.arm == "vocational_advice").astype(float)
    # R factor(condition_group): levels sorted, first (mental_health) is the reference
    d["cg_musculoskeletal"] = (d.condition_group == "musculoskeletal").astype(float)
    d["cg_other"] = (d.condition_group == "other").astype(float)
    return d, d[cols].to_numpy(float)


TT_ADJ = ["arm_v", "cg_musculoskeletal", "cg_other", "days_off_before"]
TT_TERMS = {"arm": [0], "condition_group": [1, 2], "days_off_before": [3]}

CASES = {
    # id: (dataset, reference key, columns, kwargs, terms)
    "rossi_fin_efron": ("rossi", "cox_fin_efron", ["fin"], {}, None),
    "rossi_fin_breslow": ("rossi", "cox_fin_breslow", ["fin"], {"ties": "breslow"}, None),
    "rossi_full_efron": ("rossi", "cox_full_efron", ROSSI_ALL, {}, None),
    "rossi_full_breslow": ("rossi", "cox_full_breslow", ROSSI_ALL, {"ties": "breslow"}, None),
    "rossi_strata_wexp": ("rossi", "cox_strat_wexp", ["fin", "age", "prio"], {"strata": "wexp"}, None),
    "rossi_cluster": ("rossi", "cox_cluster", ["fin", "age", "prio"], {"cluster": "cl"}, None),
    "ties_arm_efron": ("trial_ties", "cox_arm_efron", ["arm_v"], {}, None),
    "ties_arm_breslow": ("trial_ties", "cox_arm_breslow", ["arm_v"], {"ties": "breslow"}, None),
    "ties_adjusted_efron": ("trial_ties", "cox_adj_efron", TT_ADJ, {}, TT_TERMS),
    "ties_adjusted_strata_practice": ("trial_ties", "cox_adj_strat", TT_ADJ, {"strata": "practice"}, TT_TERMS),
    "ties_adjusted_cluster_practice": ("trial_ties", "cox_adj_cluster", TT_ADJ, {"cluster": "practice"}, TT_TERMS),
    "ties_strata_and_cluster": ("trial_ties", "cox_adj_strat_cluster", ["arm_v", "days_off_before"],
                                {"strata": "condition_group", "cluster": "practice"}, None),
    "ties_cluster_breslow": ("trial_ties", "cox_arm_cluster_breslow", ["arm_v", "days_off_before"],
                             {"cluster": "practice", "ties": "breslow"}, None),
    "heavy_censoring": ("heavy_cens", "cox", ["treated", "age"], {}, None),
    "tiny_n12": ("tiny", "cox", ["treated"], {}, None),
}


def _fit(case):
    ds, key, cols, kw, terms = CASES[case]
    if ds == "trial_ties":
        d, X = _tt_design(cols)
        t, e = d.rtw_time, d.rtw
    else:
        d = data(ds)
        if ds == "rossi":
            d["cl"] = d["id"] % 25
            t, e = d.week, d.arrest
        else:
            d["treated"] = (d.arm == "treated").astype(float)
            t, e = d.time, d.event
        X = d[cols].to_numpy(float)
    kw = dict(kw)
    for k in ("strata", "cluster"):
        if k in kw:
            kw[k] = d[kw[k]].to_numpy()
    return fit_cox(t, e, X, names=cols, terms=terms, **kw), expected(ds)[key]


@pytest.mark.parametrize("case", list(CASES))
def test_cox_coef_var_loglik_tests_match_R_coxph(case):
    """coxph(...): coef, var (robust when clustered, with naive.var), loglik (null and
    final), LR, Wald and score tests, n, nevent, iterations (rel 1e-6)."""
    fit, r = _fit(case)
    assert_close_R(fit.coef, r["coef"])
    assert_close_R(fit.var, np.array(r["var"], float).reshape(fit.var.shape))
    assert_close_R(fit.se, r["se"])
    assert_close_R(fit.loglik, r["loglik"])
    assert_close_R(fit.lr_test[0], r["lr_test"][0])
    assert_close_R(fit.wald_test[0], r["wald_test"])
    assert_close_R(fit.score_test[0], r["score_test"][0])
    assert_close_R(fit.score_test[2], r["score_test"][2])
    assert fit.n == r["n"] and fit.nevent == r["nevent"]
    assert fit.iter == r["iter"] and fit.converged
    if "naive_var" in r:
        assert fit.robust
        assert_close_R(fit.naive_var, np.array(r["naive_var"], float).reshape(fit.var.shape))
    else:
        assert not fit.robust


ZPH_CASES = [c for c in CASES if "zph" in expected(CASES[c][0])[CASES[c][1]]]


@pytest.mark.parametrize("case", ZPH_CASES)
def test_cox_zph_km_matches_R_cox_zph(case):
    """cox.zph(fit, transform = "km"): chisq, df, p per term (multi-column factors
    jointly) and GLOBAL; $x (transformed time), $time and $y (scaled Schoenfeld
    residuals, multi-column terms combined as R does) (rel 1e-6)."""
    fit, r = _fit(case)
    z = cox_zph(fit, "km")
    rz = r["zph"]
    assert list(z.table.term) == [*fit.terms, "GLOBAL"]
    assert len(z.table) == len(rz["terms"]) and rz["terms"][-1] == "GLOBAL"
    assert_close_R(z.table.chisq, rz["chisq"])
    assert list(z.table.df) == rz["df"]
    assert_close_R(z.table.p, rz["p"])
    assert_close_R(z.residuals.time, rz["time"])
    assert_close_R(z.residuals.transformed_time, rz["x"], atol=1e-12)
    y = arr(rz["y"]).reshape(len(rz["time"]), -1)
    assert_close_R(z.residuals[list(fit.terms)].to_numpy(), y, atol=1e-10)


def test_efron_and_breslow_differ_with_ties_and_agree_without():
    """Edge case (config survival.ties): on the 14-day grid Efron != Breslow (R's
    values for each are matched above); with no tied event times they coincide."""
    fe, re_ = _fit("ties_arm_efron")
    fb, rb = _fit("ties_arm_breslow")
    assert abs(fe.coef[0] - fb.coef[0]) > 1e-3
    assert re_["method"] == "efron" and rb["method"] == "breslow"
    rng = np.random.default_rng(3)
    n = 400
    x = rng.normal(size=(n, 2))
    t = rng.exponential(np.exp(-0.5 * x[:, 0]))
    e = (rng.random(n) < 0.7).astype(float)
    a = fit_cox(t, e, x, ties="efron")
    b = fit_cox(t, e, x, ties="breslow")
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-12)
    np.testing.assert_allclose(a.var, b.var, rtol=1e-12)
    with pytest.raises(ValueError):
        fit_cox(t, e, x, ties="exact")


def test_score_residuals_sum_to_score_and_row_order_is_preserved():
    """Score residuals (coxph residuals(type = "score")) sum to the score (~0 at the
    MLE); permuting the rows permutes them and leaves the fit unchanged."""
    d, X = _tt_design(TT_ADJ)
    f = fit_cox(d.rtw_time, d.rtw, X, strata=d.practice.to_numpy())
    res = score_residuals(f)
    np.testing.assert_allclose(res.sum(0), 0, atol=1e-8)
    perm = np.random.default_rng(1).permutation(len(d))
    g = fit_cox(d.rtw_time.to_numpy()[perm], d.rtw.to_numpy()[perm], X[perm],
                strata=d.practice.to_numpy()[perm])
    np.testing.assert_allclose(g.coef, f.coef, rtol=1e-10)
    np.testing.assert_allclose(score_residuals(g), res[perm], atol=1e-10)


def test_swapping_reference_arm_inverts_hr():
    """Coding the arm the other way round gives HR -> 1/HR with the same SE."""
    d, X = _tt_design(["arm_v"])
    a = fit_cox(d.rtw_time, d.rtw, X)
    b = fit_cox(d.rtw_time, d.rtw, 1 - X)
    assert b.coef[0] == pytest.approx(-a.coef[0], rel=1e-10)
    assert b.se[0] == pytest.approx(a.se[0], rel=1e-10)


def test_engine_is_vectorised_at_scale():
    """2 x 10^5 rows, 100 strata, tied 14-day grid: well under a second or two
    (no per-row or per-stratum Python loops); robust SE runs at the same scale."""
    rng = np.random.default_rng(7)
    n = 200_000
    X = np.column_stack([rng.integers(0, 2, n), rng.normal(size=n)])
    t = np.ceil(rng.exponential(60 * np.exp(-(0.2 * X[:, 0] + 0.3 * X[:, 1]))) / 14) * 14
    e = (rng.random(n) < 0.8).astype(float)
    s = rng.integers(0, 100, n)
    t0 = time.perf_counter()
    f = fit_cox(t, e, X, strata=s, cluster=s)
    assert time.perf_counter() - t0 < 5.0
    assert f.converged
    np.testing.assert_allclose(f.coef, [0.2, 0.3], atol=0.03)


def test_monotone_likelihood_is_flagged_as_infinite_like_R():
    """No events in one group: coxph warns "coefficient may be infinite"; so do we
    (flag ``infinite``), and the runner reports the HR as not estimable."""
    d, X = _tt_design(["arm_v"])
    e = np.where(X[:, 0] == 0, 0, d.rtw)
    with pytest.warns(RuntimeWarning, match="infinite"):
        f = fit_cox(d.rtw_time, e, X)
    assert f.infinite[0]
    g, _ = _fit("ties_adjusted_efron")
    assert not g.infinite.any()
