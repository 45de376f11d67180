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


# --------------------------------------------------------------------------- #
# zero part with the count part's regressors (regression.zero_part: same)
# --------------------------------------------------------------------------- #
FZ = "counts_zero_part.csv"


def _zname(term):
    """Python parameter name -> pscl's (``count_``/``zero_`` prefixed R names)."""
    if term == "log(theta)":
        return term
    if term.startswith("zero_"):
        return "zero_" + rname(term[len("zero_"):])
    return "count_" + rname(term)


def _zp_compare(fit, model, quantity, rtol, values=None, atol_se=None):
    r = ref_series(FZ, model, quantity)
    vals = fit.params if values is None else values
    for t in vals.index:
        key = _zname(t)
        if key not in r:
            continue
        atol = 0.0 if atol_se is None else atol_se * ref_series(FZ, model, "se_default")[key]
        assert vals[t] == pytest.approx(r[key], rel=rtol, abs=atol), (model, quantity, t)


def _se(fit, cov=None):
    cov = fit.cov if cov is None else cov
    return pd.Series(np.sqrt(np.diag(cov)), index=cov.index)


@pytest.mark.parametrize("name", ["small", "large"])
def test_zinb_same_zero_part_matches_R_zeroinfl(name):
    """R (make_reference_zero_part.R): zeroinfl(y ~ x | x, dist = "negbin",
    control = zeroinfl.control(reltol = 1e-14, ndeps = rep(1e-5, k))): coef and theta rel 1e-5,
    logLik rel 1e-9; SEs rel 1e-5 against numDeriv::hessian of the ZINB log-likelihood, rel 1e-4
    against pscl's optim Hessian; vcovCL(fit, cluster = practice) rel 1e-5 (numDeriv bread) and
    1e-4 (pscl's).  pscl defaults: coef rel 1e-4 or 1e-3 SE, SE rel 2e-3."""
    _, D = _trial_design(name)
    f = counts.fit_zinb(D.X, D.y, Z=D.X)
    m = f"zinb_same_{name}"
    assert f.converged and not f.boundary
    assert [c for c in f.params.index if c.startswith("zero_")] == ["zero_" + c for c in D.X.columns]
    _zp_compare(f, m, "coef", 1e-5)
    assert f.theta == pytest.approx(ref(FZ, m, "theta")[0], rel=1e-5)
    assert f.loglik == pytest.approx(ref(FZ, m, "loglik")[0], rel=1e-9)
    _zp_compare(f, m, "se_numderiv", 1e-5, values=_se(f))
    _zp_compare(f, m, "se", 1e-4, values=_se(f))
    V = f.vcov_cluster(D.cluster)
    _zp_compare(f, m, "se_vcovCL_numderiv", 1e-5, values=_se(f, V))
    _zp_compare(f, m, "se_vcovCL", 1e-4, values=_se(f, V))
    _zp_compare(f, m, "coef_default", 1e-4, atol_se=1e-3)
    _zp_compare(f, m, "se_default", 2e-3, values=_se(f))


@pytest.mark.parametrize("name", ["small", "large"])
def test_hurdle_same_zero_part_matches_R_hurdle(name):
    """R: hurdle(y ~ x | x, dist = "negbin", control = hurdle.control(reltol = 1e-14)):
    coef and theta rel 1e-5, logLik rel 1e-9; count-part SEs rel 1e-5 against numDeriv of the
    zero-truncated NB; the zero hurdle equals glm(I(y > 0) ~ x, binomial) (coef and SE rel 1e-8);
    pscl's own SEs (optim Hessian, ndeps 1e-3) rel 2e-3."""
    _, D = _trial_design(name)
    f = counts.fit_hurdle_nb(D.X, D.y, Z=D.X)
    m = f"hurdle_same_{name}"
    assert f.converged
    _zp_compare(f, m, "coef", 1e-5)
    _zp_compare(f, m, "coef_glm", 1e-8)
    assert f.theta == pytest.approx(ref(FZ, m, "theta")[0], rel=1e-5)
    assert f.loglik == pytest.approx(ref(FZ, m, "loglik")[0], rel=1e-9)
    se = _se(f)
    _zp_compare(f, m, "se", 1e-5, values=se[[c for c in se.index if not c.startswith("zero_")]])
    _zp_compare(f, m, "se", 1e-8, values=se[[c for c in se.index if c.startswith("zero_")]])
    _zp_compare(f, m, "se_pscl", 2e-3, values=se)
    _zp_compare(f, m, "coef_default", 1e-4, atol_se=1e-3)
    # separable parts: no covariance between the zero hurdle and the count part
    zc = [c for c in f.params.index if c.startswith("zero_")]
    assert np.all(f.cov.loc[zc, list(D.X.columns) + ["log(theta)"]].to_numpy() == 0)


def test_zinb_hurdle_intercept_zero_part_equals_explicit_intercept_Z():
    """Z = None is pscl's y ~ x | 1: the same fit as an explicit intercept column."""
    _, D = _trial_design("small")
    one = pd.DataFrame({"(Intercept)": 1.0}, index=D.X.index)
    for fn in (counts.fit_zinb, counts.fit_hurdle_nb):
        a, b = fn(D.X, D.y), fn(D.X, D.y, Z=one)
        assert a.params.to_numpy() == pytest.approx(b.params.to_numpy(), rel=1e-9, abs=1e-12)
        assert a.cov.to_numpy() == pytest.approx(b.cov.to_numpy(), rel=1e-7, abs=1e-14)


# --------------------------------------------------------------------------- #
# convergence at scale: Newton with the analytic Hessian
# --------------------------------------------------------------------------- #
def _big_counts(n, seed=11):
    rng = np.random.default_rng(seed)
    arm = (np.arange(n) % 2).astype(float)
    age = np.round(rng.normal(44, 11, n))
    sex = rng.integers(0, 2, n).astype(float)
    bl = np.round(rng.gamma(2.0, 25.0, n)).clip(15, 180)
    mu = np.exp(np.log(38) + np.log(0.85) * arm + 0.006 * (bl - 50) + 0.005 * (age - 44))
    y = np.minimum(rng.poisson(rng.gamma(0.8, mu / 0.8)), 182).astype(float)
    y[rng.random(n) < 0.10] = 0.0
    X = pd.DataFrame({"(Intercept)": 1.0, "arm": arm, "age": age, "sex": sex,
                      "days_off_before": bl})
    return X, pd.Series(y)


def _assert_at_maximum(f):
    """Converged, the gradient in the notes, and Newton's step from the estimates negligible
    against the SEs (the estimates are the maximum, not a point near it)."""
    assert f.converged, f.notes
    assert any("max |gradient|" in s and "converged" in s for s in f.notes)
    assert f.max_abs_gradient < 1e-6 * f.n
    assert f.max_abs_gradient == pytest.approx(np.max(np.abs(f.gradient)))
    se = np.sqrt(np.diag(f.cov.to_numpy()))
    assert np.all(np.isfinite(se))
    assert np.all(np.abs(f.cov.to_numpy() @ f.gradient) <= 1e-6 * se)


@pytest.mark.parametrize("zero_part", ["intercept", "same"])
def test_zinb_hurdle_converge_at_n_100000(zero_part):
    """n = 10^5 (10% excess zeros): ZINB and hurdle NB reach the maximum (Newton decrement
    < 1e-12, as at n = 130), the notes give max |gradient|, and the one-step Newton correction
    from the returned estimates (cov x gradient) is below 1e-6 SE."""
    X, y = _big_counts(100_000)
    Z = X if zero_part == "same" else None
    for fn in (counts.fit_zinb, counts.fit_hurdle_nb):
        f = fn(X, y, Z=Z)
        _assert_at_maximum(f)
        assert f.iterations <= 20


@pytest.mark.slow
def test_zinb_hurdle_converge_at_n_1000000():
    """n = 10^6 (the registry scale of issue 13): both models, both zero parts, converged."""
    X, y = _big_counts(1_000_000)
    for Z in (None, X):
        for fn in (counts.fit_zinb, counts.fit_hurdle_nb):
            _assert_at_maximum(fn(X, y, Z=Z))


def test_zinb_hurdle_analytic_hessian_equals_numerical():
    """The analytic Hessians (ZINB with Z = 1 and Z = X; zero-truncated NB) equal central
    differences of the analytic gradient (rel 1e-7), and the gradients equal central differences
    of the log-likelihood, at a point away from the maximum."""
    _, D = _trial_design("small")
    Xa, ya = D.X.to_numpy(float), D.y.to_numpy(float)
    rng = np.random.default_rng(0)
    cases = []
    for Z in (np.ones((len(ya), 1)), Xa):
        par = np.r_[3.0, rng.normal(0, 0.1, Xa.shape[1] - 1), rng.normal(0, 0.3, Z.shape[1]), 0.2]
        cases.append((counts._zinb_eval, par, (counts._YTable(ya), Xa, Z)))
    pos = ya > 0
    cases.append((counts._trunc_nb_eval, np.r_[3.0, 0.1, -0.1, 0.05, 0.01, 0.3],
                  (counts._YTable(ya[pos]), Xa[pos])))
    for fun, par, args in cases:
        f, g, H = fun(par, *args)
        k = len(par)
        Hn, gn = np.zeros((k, k)), np.zeros(k)
        for j in range(k):
            e = np.zeros(k)
            e[j] = 1e-6 * max(1.0, abs(par[j]))
            Hn[:, j] = (fun(par + e, *args)[1] - fun(par - e, *args)[1]) / (2 * e[j])
            gn[j] = (fun(par + e, *args)[0] - fun(par - e, *args)[0]) / (2 * e[j])
        assert np.max(np.abs(H - Hn)) <= 1e-7 * np.max(np.abs(H))
        assert np.max(np.abs(g - gn)) <= 1e-7 * np.max(np.abs(g))


# --------------------------------------------------------------------------- #
# fixed practice effects by the block structure of X'WX
# --------------------------------------------------------------------------- #
def _practice_data(n=3000, G=60, seed=5):
    rng = np.random.default_rng(seed)
    prac = np.array([f"GP{g:03d}" for g in rng.integers(0, G, n)])
    arm = (np.arange(n) % 2).astype(float)
    age = rng.normal(44, 11, n)
    u = rng.normal(0, 0.3, G)
    mu = np.exp(3 + np.log(0.85) * arm + 0.01 * (age - 44)
                + u[np.array([int(p[2:]) for p in prac])])
    y = rng.poisson(rng.gamma(0.8, mu / 0.8)).astype(float)
    X = pd.DataFrame({"(Intercept)": 1.0, "arm": arm, "age": age,
                      "cond[b]": (rng.random(n) < 0.3).astype(float)})
    dummies = pd.get_dummies(pd.Series(prac), dtype=float).iloc[:, 1:]
    dummies.columns = [f"practice[{c}]" for c in dummies.columns]
    return X, pd.concat([X, dummies], axis=1), pd.Series(y), prac


def test_onehot_blocks_finds_the_practice_dummies():
    """The block is the practice dummies (not arm, not cond[b], not the intercept), and
    Blocks reproduces X, X beta, X'r and X'WX."""
    X, XD, y, prac = _practice_data()
    Xa = XD.to_numpy()
    b = counts.onehot_blocks(Xa)
    assert [XD.columns[j] for j in b.bidx] == [c for c in XD.columns if c.startswith("practice[")]
    assert list(b.didx) == [0, 1, 2, 3]
    assert np.array_equal(b.dense_matrix(), Xa)
    rng = np.random.default_rng(1)
    beta, r, w = rng.normal(size=Xa.shape[1]), rng.normal(size=len(y)), rng.random(len(y))
    assert b.dot(beta) == pytest.approx(Xa @ beta, rel=1e-12, abs=1e-12)
    assert b.tdot(r) == pytest.approx(Xa.T @ r, rel=1e-12, abs=1e-10)
    inv = counts._block_inverse(b, w)
    assert inv == pytest.approx(np.linalg.inv(Xa.T @ (w[:, None] * Xa)), rel=1e-8, abs=1e-12)
    assert counts.onehot_blocks(X.to_numpy()) is None          # 4 columns < MIN_BLOCK


def test_nb_fixed_practice_block_solve_equals_dense_solve():
    """60 practices: fit_nb through the block structure (found in X, or given as codes with
    ``fixed=``) equals the dense solve (min_block beyond k): coefficients abs 1e-9, SEs rel 1e-9,
    theta and log-likelihood rel 1e-10; Poisson likewise."""
    X, XD, y, prac = _practice_data()
    dense = counts.fit_nb(XD, y, min_block=10 ** 9)
    assert dense.blocks is None
    found = counts.fit_nb(XD, y)
    coded = counts.fit_nb(X, y, fixed=prac, fixed_name="practice")
    assert found.blocks is not None and coded.X is None
    assert list(coded.params.index) == list(XD.columns)
    for f in (found, coded):
        assert f.params.to_numpy() == pytest.approx(dense.params.to_numpy(), abs=1e-9)
        assert np.sqrt(np.diag(f.cov)) == pytest.approx(np.sqrt(np.diag(dense.cov)), rel=1e-9)
        assert f.theta == pytest.approx(dense.theta, rel=1e-10)
        assert f.loglik == pytest.approx(dense.loglik, rel=1e-10)
    assert coded.vcov_hc0().to_numpy() == pytest.approx(dense.vcov_hc0().to_numpy(),
                                                        rel=1e-7, abs=1e-14)
    pd_, pc = counts.fit_poisson(XD, y), counts.fit_poisson(X, y, fixed=prac, fixed_name="practice")
    assert pc.params.to_numpy() == pytest.approx(pd_.params.to_numpy(), abs=1e-9)
    assert pc.cov.to_numpy() == pytest.approx(pd_.cov.to_numpy(), rel=1e-8, abs=1e-14)


def test_nb_fixed_practice_block_solve_matches_R_glm_nb_factor_practice():
    """The block solve (forced on the 9 practice dummies with min_block = 2, and with the
    practice codes given as ``fixed``) against R glm.nb(... + factor(practice)): rel 1e-6."""
    d, D = _trial_design("small", practice="practice")
    f = counts.fit_nb(D.X, D.y, min_block=2)
    assert f.blocks is not None and f.blocks.G == 9
    _check(f.params, _se(f), "nb_fixed_practice_small")
    assert f.theta == pytest.approx(ref(F, "nb_fixed_practice_small", "theta")[0], rel=1e-6)
    Xc = D.X[[c for c in D.X.columns if not c.startswith("practice[")]]
    g = counts.fit_nb(Xc, D.y, fixed=d.loc[D.index, "practice"], fixed_name="practice")
    _check(g.params, _se(g), "nb_fixed_practice_small")


def test_zinb_hurdle_converge_near_the_poisson_limit():
    """Nearly Poisson counts (theta ~ 190, a flat log-likelihood in log theta, where the
    Newton decrement meets the rounding floor before 1e-12): both fits converge in a few
    iterations (not the iteration limit) and are flagged converged with max |gradient|."""
    rng = np.random.default_rng(3)
    n = 5000
    arm = (np.arange(n) % 2).astype(float)
    y = rng.poisson(np.exp(2 + 0.2 * arm)).astype(float)
    y[rng.random(n) < 0.2] = 0
    X = pd.DataFrame({"(Intercept)": 1.0, "arm": arm})
    for fn in (counts.fit_zinb, counts.fit_hurdle_nb):
        f = fn(X, pd.Series(y))
        _assert_at_maximum(f)
        assert f.iterations <= 50 and not f.boundary
        assert f.params["arm"] == pytest.approx(0.2, abs=0.05)
