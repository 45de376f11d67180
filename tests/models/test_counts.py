"""Count models (rtw.models.counts) against R: MASS::glm.nb, sandwich, pscl.

Reference values: tests/models/reference/make_reference.R -> expected/counts.csv.
Tolerances: rel 1e-6 where the algorithm is the same (NB/Poisson coefficients,
SEs, theta, log-likelihood, sandwich SEs, exact profile CI); rel 1e-4 against
R's default-tolerance glm.nb and pscl fits (R stops at epsilon 1e-8 / reltol
1.5e-10; here the optimum is refined further); rel 2e-3 against R's
spline-interpolated profile CI (confint); pscl SEs rel 1e-5 (numerical Hessian).
"""
import math

import numpy as np
import pandas as pd
import pytest

from rtw.models import counts
from rtw.core import modelframe as mf
from _regression_ref import CONFIG, data, ref, ref_series, rname

F = "counts.csv"
ADJ = ["condition_group", "days_off_before"]
RH_X = ["lncoins", "idp", "lpi", "fmde", "physlm", "disea", "hlthg", "hlthf", "hlthp"]


def _trial_design(name, practice=None):
    d = data(f"trial_{name}.csv")
    D = mf.build_design(d, CONFIG, outcome="days_off_6m", adjust=ADJ, practice=practice,
                        cluster="practice")
    return d, D


def _rh_design():
    d = data("randhie_sub.csv")
    X = pd.concat([pd.Series(1.0, index=d.index, name="(Intercept)"), d[RH_X]], axis=1)
    return X, d["mdvis"]


def _check(fit_params, se, model, tag="", rtol=1e-6, se_col="se"):
    rb = ref_series(F, model, "coef" + tag)
    rs = ref_series(F, model, se_col + tag)
    for term in fit_params.index:
        assert fit_params[term] == pytest.approx(rb[rname(term)], rel=rtol, abs=1e-10), term
        assert se[term] == pytest.approx(rs[rname(term)], rel=rtol), term


@pytest.mark.parametrize("name", ["small", "large"])
def test_nb_coef_se_theta_loglik_match_R_glm_nb(name):
    """R: fit <- glm.nb(days_off_6m ~ arm + condition_group + days_off_before,
    control = glm.control(epsilon = 1e-13)); coef, sqrt(diag(vcov(fit))), fit$theta,
    fit$SE.theta, logLik(fit), deviance(fit).  rel 1e-6 (observed ~1e-9)."""
    _, D = _trial_design(name)
    f = counts.fit_nb(D.X, D.y)
    assert f.converged and not f.boundary
    se = pd.Series(np.sqrt(np.diag(f.cov)), index=f.params.index)
    _check(f.params, se, f"nb_{name}")
    m = f"nb_{name}"
    assert f.theta == pytest.approx(ref(F, m, "theta")[0], rel=1e-6)
    assert f.se_theta == pytest.approx(ref(F, m, "se_theta")[0], rel=1e-6)
    assert f.loglik == pytest.approx(ref(F, m, "loglik")[0], rel=1e-9)
    assert f.deviance == pytest.approx(ref(F, m, "deviance")[0], rel=1e-7)


@pytest.mark.parametrize("name", ["small", "large"])
def test_nb_matches_R_glm_nb_default_control(name):
    """R: glm.nb(...) with default glm.control(epsilon = 1e-8): rel 1e-4 (R stops early)."""
    _, D = _trial_design(name)
    f = counts.fit_nb(D.X, D.y)
    se = pd.Series(np.sqrt(np.diag(f.cov)), index=f.params.index)
    _check(f.params, se, f"nb_{name}", tag="_default", rtol=1e-4)
    assert f.theta == pytest.approx(ref(F, f"nb_{name}", "theta_default")[0], rel=1e-4)


def test_nb_randhie_matches_R_glm_nb():
    """Public data (statsmodels.datasets.randhie, 2000-row subsample):
    R: glm.nb(mdvis ~ lncoins + idp + lpi + fmde + physlm + disea + hlthg + hlthf + hlthp)."""
    X, y = _rh_design()
    f = counts.fit_nb(X, y)
    se = pd.Series(np.sqrt(np.diag(f.cov)), index=f.params.index)
    _check(f.params, se, "nb_randhie")
    assert f.theta == pytest.approx(ref(F, "nb_randhie", "theta")[0], rel=1e-6)
    assert f.se_theta == pytest.approx(ref(F, "nb_randhie", "se_theta")[0], rel=1e-6)
    assert f.loglik == pytest.approx(ref(F, "nb_randhie", "loglik")[0], rel=1e-9)
    _check(f.params, se, "nb_randhie", tag="_default", rtol=1e-4)


def test_statsmodels_traps_that_rtw_avoids():
    """Documents the two traps (statsmodels issues 3339, 8300): the discrete
    NegativeBinomial's SEs invert the joint (beta, alpha) information and differ from
    glm.nb's (conditional on theta); the GLM NegativeBinomial family silently fixes
    alpha = 1.  rtw's SEs equal R's (rel 1e-6)."""
    import warnings

    import statsmodels.api as sm
    _, D = _trial_design("small")
    f = counts.fit_nb(D.X, D.y)
    r_se = ref_series(F, "nb_small", "se").to_numpy()
    assert np.sqrt(np.diag(f.cov)) == pytest.approx(r_se, rel=1e-6)
    sm_fit = sm.NegativeBinomial(D.y.to_numpy(), D.X.to_numpy()).fit(disp=0, maxiter=200)
    assert sm_fit.params[:-1] == pytest.approx(f.params.to_numpy(), rel=1e-3)
    assert np.max(np.abs(sm_fit.bse[:-1] / r_se - 1)) > 1e-3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = sm.GLM(D.y.to_numpy(), D.X.to_numpy(), family=sm.families.NegativeBinomial()).fit()
    assert np.max(np.abs(g.params - f.params.to_numpy())) > 1e-4


@pytest.mark.parametrize("name", ["small", "large"])
def test_nb_cluster_se_matches_R_vcovCL_default_HC0(name):
    """R: sqrt(diag(sandwich::vcovCL(fit, cluster = ~practice))) -- for a negbin/glm
    object vcovCL's default type is HC0 (HC1 only for class 'lm') with cadjust G/(G-1);
    and vcovCL(..., type = "HC1").  rel 1e-6."""
    _, D = _trial_design(name)
    f = counts.fit_nb(D.X, D.y)
    for typ, q in (("HC0", "se_vcovCL"), ("HC1", "se_vcovCL_HC1")):
        V = f.vcov_cluster(D.cluster, type=typ)
        r = ref_series(F, f"nb_{name}", q)
        for t in f.params.index:
            assert math.sqrt(V.loc[t, t]) == pytest.approx(r[rname(t)], rel=1e-6), (typ, t)


@pytest.mark.parametrize("level", [0.95, 0.8])
def test_nb_profile_ci_matches_R_confint_glm_nb(level):
    """R: confint(fit, "arm", level) (profile.glm, theta fixed; spline-interpolated: rel 2e-3)
    and the exact root of deviance(b) - deviance = qchisq(level, 1) by uniroot (rel 1e-6)."""
    _, D = _trial_design("small")
    f = counts.fit_nb(D.X, D.y)
    lo, hi = counts.profile_ci(f, "arm", level)
    exact = ref(F, "nb_small", f"profile_ci_exact_{level}")
    assert (lo, hi) == pytest.approx(tuple(exact), rel=1e-6)
    spline = ref(F, "nb_small", f"profile_ci_{level}")
    assert (lo, hi) == pytest.approx(tuple(spline), rel=2e-3)


def test_nb_fixed_practice_matches_R_glm_nb_factor_practice():
    """R: glm.nb(days_off_6m ~ arm + condition_group + days_off_before + factor(practice)). rel 1e-6."""
    _, D = _trial_design("small", practice="practice")
    f = counts.fit_nb(D.X, D.y)
    se = pd.Series(np.sqrt(np.diag(f.cov)), index=f.params.index)
    _check(f.params, se, "nb_fixed_practice_small")
    assert f.theta == pytest.approx(ref(F, "nb_fixed_practice_small", "theta")[0], rel=1e-6)


@pytest.mark.parametrize("name", ["small", "large", "randhie"])
def test_poisson_robust_matches_R_glm_poisson_vcovHC_HC0(name):
    """R: fp <- glm(y ~ ..., family = poisson); sqrt(diag(sandwich::vcovHC(fp, type = "HC0")))
    and vcovCL(fp, cluster = ~practice).  rel 1e-6."""
    if name == "randhie":
        X, y = _rh_design()
        cl = None
    else:
        _, D = _trial_design(name)
        X, y, cl = D.X, D.y, D.cluster
    f = counts.fit_poisson(X, y)
    se = pd.Series(np.sqrt(np.diag(f.cov)), index=f.params.index)
    _check(f.params, se, f"poisson_{name}")
    hc0 = f.vcov_hc0()
    r = ref_series(F, f"poisson_{name}", "se_HC0")
    for t in f.params.index:
        assert math.sqrt(hc0.loc[t, t]) == pytest.approx(r[rname(t)], rel=1e-6)
    if cl is not None:
        V = f.vcov_cluster(cl)
        r = ref_series(F, f"poisson_{name}", "se_vcovCL")
        for t in f.params.index:
            assert math.sqrt(V.loc[t, t]) == pytest.approx(r[rname(t)], rel=1e-6)


def _pscl_check(fit, X, model, rtol_coef, rtol_se, tag=""):
    rb = ref_series(F, model, "coef" + tag)
    rs = ref_series(F, model, "se" + tag)
    for t in X.columns:
        key = "count_" + rname(t)
        # against R's default stopping rule, also allow 1e-3 of a standard error
        tol_abs = 1e-3 * rs[key] if tag else 1e-9
        assert fit.params[t] == pytest.approx(rb[key], rel=rtol_coef, abs=tol_abs), t
        assert math.sqrt(fit.cov.loc[t, t]) == pytest.approx(rs[key], rel=rtol_se), t
    assert fit.theta == pytest.approx(ref(F, model, "theta" + tag)[0], rel=rtol_coef * 10)
    assert math.sqrt(fit.cov.loc["log(theta)", "log(theta)"]) == pytest.approx(
        rs["log(theta)"], rel=rtol_se)
    if not fit.boundary:
        assert fit.params["zero_(Intercept)"] == pytest.approx(rb["zero_(Intercept)"],
                                                               rel=rtol_coef * 10)
        assert math.sqrt(fit.cov.loc["zero_(Intercept)", "zero_(Intercept)"]) == pytest.approx(
            rs["zero_(Intercept)"], rel=rtol_se)
    else:  # inflation -> 0: both sides drift to a large negative intercept
        assert fit.params["zero_(Intercept)"] < -10 and rb["zero_(Intercept)"] < -10
    # at the inflation boundary the likelihood still creeps up as the zero intercept -> -inf
    rel_ll = 1e-7 if (tag or fit.boundary) else 1e-9
    assert fit.loglik == pytest.approx(ref(F, model, "loglik" + tag)[0], rel=rel_ll)


@pytest.mark.parametrize("name", ["small", "randhie"])
def test_zinb_matches_R_pscl_zeroinfl(name):
    """R: zeroinfl(y ~ x | 1, dist = "negbin", control = zeroinfl.control(reltol = 1e-14,
    ndeps = rep(1e-5, k))): coef rel 1e-5, SE rel 1e-4 (numerical Hessians on both sides).
    Against pscl defaults (reltol 1.5e-10, ndeps 1e-3): coef rel 1e-4 or 1e-3 SE, SE rel 2e-3."""
    if name == "randhie":
        X, y = _rh_design()
    else:
        _, D = _trial_design(name)
        X, y = D.X, D.y
    f = counts.fit_zinb(X, y)
    assert f.converged
    # the RAND subsample has no excess zeros: inflation at the boundary, flagged
    assert f.boundary == (name == "randhie")
    _pscl_check(f, X, f"zinb_{name}", 1e-5, 1e-4)
    _pscl_check(f, X, f"zinb_{name}", 1e-4, 2e-3, tag="_default")


@pytest.mark.parametrize("name", ["small", "randhie"])
def test_hurdle_nb_matches_R_pscl_hurdle(name):
    """R: hurdle(y ~ x | 1, dist = "negbin", control = hurdle.control(reltol = 1e-14));
    count-part SEs from numDeriv::hessian of the zero-truncated NB log-likelihood.
    coef rel 1e-5, SE rel 1e-4; pscl defaults: coef rel 1e-4, SE rel 2e-3."""
    if name == "randhie":
        X, y = _rh_design()
    else:
        _, D = _trial_design(name)
        X, y = D.X, D.y
    f = counts.fit_hurdle_nb(X, y)
    assert f.converged
    _pscl_check(f, X, f"hurdle_{name}", 1e-5, 1e-4)
    _pscl_check(f, X, f"hurdle_{name}", 1e-4, 2e-3, tag="_default")


def test_nb_theta_boundary_is_flagged_not_silent(caplog):
    """Under-dispersed counts: theta -> infinity (R: theta.ml 'iteration limit reached');
    the fit says so (boundary, note, log) and equals the Poisson fit."""
    rng = np.random.default_rng(3)
    n = 200
    X = pd.DataFrame({"(Intercept)": 1.0, "arm": (np.arange(n) % 2).astype(float)})
    y = pd.Series(rng.binomial(20, 0.5, n).astype(float))   # variance < mean
    with caplog.at_level("WARNING"):
        f = counts.fit_nb(X, y)
    assert f.boundary and not np.isfinite(f.theta)
    assert any("theta -> infinity" in n for n in f.notes)
    assert "theta -> infinity" in caplog.text
    p = counts.fit_poisson(X, y)
    assert f.params.to_numpy() == pytest.approx(p.params.to_numpy(), rel=1e-10)


def test_count_outcome_must_be_nonnegative_integer():
    X = pd.DataFrame({"(Intercept)": [1.0] * 4})
    with pytest.raises(ValueError):
        counts.fit_nb(X, pd.Series([0, 1.5, 2, 3]))


def test_zinb_hurdle_cluster_se_match_R_vcovCL():
    """R: vcovCL(zeroinfl_fit, cluster = practice) (HC0, G/(G-1); bread = vcov(fit) without
    log(theta), estfun without theta): rel 1e-5.  Hurdle: the same sandwich with the
    numDeriv count block (rel 1e-5) and pscl's own vcovCL (optim Hessian, rel 2e-3)."""
    _, D = _trial_design("small")
    z = counts.fit_zinb(D.X, D.y)
    Vz = z.vcov_cluster(D.cluster)
    r = ref_series(F, "zinb_small", "se_vcovCL")
    for t in D.X.columns:
        assert math.sqrt(Vz.loc[t, t]) == pytest.approx(r["count_" + rname(t)], rel=1e-5)
    assert math.sqrt(Vz.loc["zero_(Intercept)", "zero_(Intercept)"]) == pytest.approx(
        r["zero_(Intercept)"], rel=1e-5)
    h = counts.fit_hurdle_nb(D.X, D.y)
    Vh = h.vcov_cluster(D.cluster)
    for q, tol in (("se_vcovCL", 1e-5), ("se_vcovCL_pscl", 2e-3)):
        r = ref_series(F, "hurdle_small", q)
        for t in D.X.columns:
            assert math.sqrt(Vh.loc[t, t]) == pytest.approx(r["count_" + rname(t)], rel=tol)
        assert math.sqrt(Vh.loc["zero_(Intercept)", "zero_(Intercept)"]) == pytest.approx(
            r["zero_(Intercept)"], rel=1e-6)


@pytest.mark.slow
def test_nb_wald_ci_covers_true_irr_at_nominal_rate():
    """400 simulated trials (n = 300, theta 0.8, true IRR 0.8): the 95% Wald CI of the NB IRR
    covers the truth 92-98% of the time (Monte Carlo SE ~1.1%)."""
    rng = np.random.default_rng(20200904)
    hits = 0
    reps = 400
    for _ in range(reps):
        n = 300
        arm = (np.arange(n) % 2).astype(float)
        x = rng.normal(size=n)
        mu = np.exp(np.log(40) + np.log(0.8) * arm + 0.3 * x)
        y = rng.poisson(rng.gamma(0.8, mu / 0.8)).astype(float)
        X = pd.DataFrame({"(Intercept)": 1.0, "arm": arm, "x": x})
        f = counts.fit_nb(X, pd.Series(y))
        b, se = f.params["arm"], math.sqrt(f.cov.loc["arm", "arm"])
        hits += (b - 1.959964 * se <= math.log(0.8) <= b + 1.959964 * se)
    assert 0.92 <= hits / reps <= 0.98
