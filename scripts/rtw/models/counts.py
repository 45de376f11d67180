"""Count-outcome models for the primary outcome (SPEC §4 A3, A4).

* :func:`fit_nb` -- negative binomial GLM with log link and theta by maximum
  likelihood, matching R ``MASS::glm.nb``: IRLS for the coefficients at fixed
  theta alternating with the ML estimate of theta (``MASS::theta.ml``) until
  both are stable.  Standard errors are those of ``summary(glm.nb(...))``:
  the expected (Fisher) information of the coefficients *conditional on
  theta*, dispersion 1.  (statsmodels' discrete ``NegativeBinomial`` inverts
  the joint information of (beta, alpha) instead, which differs from glm.nb by
  up to 0.16%; its ``GLM`` family keeps ``alpha`` fixed at 1 unless told --
  statsmodels issues 3339 and 8300.  Here alpha = 1/theta is profiled.)
* :meth:`GLMFit.vcov_cluster` -- ``sandwich::vcovCL(fit, cluster = ~practice)``
  with its defaults for a ``glm``/``negbin`` object: ``type = "HC0"`` (HC1 is
  only the default for class ``lm``) and ``cadjust = TRUE``, i.e. the meat
  multiplied by G/(G-1).  :meth:`GLMFit.vcov_hc0` is ``sandwich::vcovHC(fit,
  type = "HC0")``.
* :func:`fit_poisson` -- ``glm(family = poisson)``.
* :func:`fit_zinb` -- ``pscl::zeroinfl(y ~ x | 1, dist = "negbin")`` and
  :func:`fit_hurdle_nb` -- ``pscl::hurdle(y ~ x | 1, dist = "negbin")``
  (binomial logit zero hurdle).  Both by maximum likelihood with the
  covariance the inverse of the observed information over all parameters
  including log(theta), as pscl.
* :func:`profile_ci` -- likelihood-ratio (profile) CI of one coefficient with
  theta fixed, as ``confint(glm.nb_fit)`` (``profile.glm``), but solved exactly
  (R interpolates the profile by a spline, so R differs in the 4th-5th digit).
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import linalg, optimize, special, stats

from rtw.core.modelframe import cluster_sandwich
from rtw.core.stats import p_two_sided

log = logging.getLogger(__name__)

#: theta above this is treated as the Poisson boundary (theta -> infinity).
THETA_MAX = 1e6


# --------------------------------------------------------------------------- #
# Result object
# --------------------------------------------------------------------------- #
@dataclass
class GLMFit:
    """A fitted GLM (Poisson or NB with fixed/profiled theta).

    ``cov`` is the model-based covariance as ``vcov()`` in R; ``vcov_cluster``
    and ``vcov_hc0`` give the sandwich alternatives.
    """
    family: str
    params: pd.Series
    cov: pd.DataFrame
    X: np.ndarray
    y: np.ndarray
    mu: np.ndarray
    offset: np.ndarray
    loglik: float
    deviance: float
    theta: float = np.inf
    se_theta: float = np.nan
    converged: bool = True
    boundary: bool = False
    iterations: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.y)

    @property
    def k(self) -> int:
        return self.X.shape[1]

    @property
    def df_resid(self) -> int:
        return self.n - self.k

    def _var(self, mu):
        return mu if not np.isfinite(self.theta) else mu + mu ** 2 / self.theta

    def scores(self) -> np.ndarray:
        """Per-observation scores (``sandwich::estfun.glm``): working residual x working weight x X."""
        w = self.mu ** 2 / self._var(self.mu)          # working weight, log link
        wres = (self.y - self.mu) / self.mu            # working residual
        return (wres * w)[:, None] * self.X

    def _bread(self) -> np.ndarray:
        return self.cov.to_numpy()                     # (X'WX)^-1, dispersion 1

    def vcov_hc0(self) -> pd.DataFrame:
        """``sandwich::vcovHC(fit, type = "HC0")``."""
        s = self.scores()
        B = self._bread()
        V = B @ (s.T @ s) @ B
        return pd.DataFrame(V, index=self.params.index, columns=self.params.index)

    def vcov_cluster(self, cluster, type: str = "HC0", cadjust: bool = True) -> pd.DataFrame:
        """``sandwich::vcovCL(fit, cluster = cluster, type = type, cadjust = cadjust)``.

        The defaults are vcovCL's for a ``glm``/``negbin`` object (HC0 with the
        G/(G-1) cluster adjustment).  ``type="HC1"`` also multiplies by (n-1)/(n-k).
        """
        if type not in ("HC0", "HC1"):
            raise ValueError("type must be HC0 or HC1")
        V = cluster_sandwich(self.scores(), self._bread(), cluster, cadjust=cadjust,
                             hc1=(self.n, self.k) if type == "HC1" else None)
        return pd.DataFrame(V, index=self.params.index, columns=self.params.index)


# --------------------------------------------------------------------------- #
# IRLS and theta
# --------------------------------------------------------------------------- #
def _nb_loglik(y, mu, theta):
    """Full NB log-likelihood as MASS (``loglik`` inside glm.nb); Poisson if theta is inf."""
    if not np.isfinite(theta):
        return float(np.sum(stats.poisson.logpmf(y, mu)))
    return float(np.sum(special.gammaln(theta + y) - special.gammaln(theta)
                        - special.gammaln(y + 1) + theta * np.log(theta)
                        + y * np.log(mu + (y == 0)) - (theta + y) * np.log(theta + mu)))


def _deviance(y, mu, theta):
    with np.errstate(divide="ignore", invalid="ignore"):
        ylog = np.where(y > 0, y * np.log(np.where(y > 0, y, 1) / mu), 0.0)
        if not np.isfinite(theta):
            return float(2 * np.sum(ylog - (y - mu)))
        return float(2 * np.sum(ylog - (y + theta) * np.log((y + theta) / (mu + theta))))


def irls(X, y, offset=None, theta=np.inf, start_eta=None, tol=1e-12, maxit=100):
    """IRLS for a log-link Poisson (theta=inf) or NB(theta) GLM, as R ``glm.fit``.

    Convergence: |dev - dev_old| / (|dev| + 0.1) < tol (R's criterion; R's
    default tol is 1e-8, here tighter so that the solution is the MLE to
    machine precision).  Returns (beta, mu, deviance, converged, iterations).
    """
    X = np.asarray(X, float)
    y = np.asarray(y, float)
    off = np.zeros(len(y)) if offset is None else np.asarray(offset, float)
    if start_eta is None:
        eta = np.log(y + 0.1)  # poisson()$initialize: mustart = y + 0.1
    else:
        eta = np.asarray(start_eta, float)
    mu = np.exp(eta)
    dev_old = _deviance(y, mu, theta)
    beta = np.zeros(X.shape[1])
    converged = False
    it = 0
    for it in range(1, maxit + 1):
        var = mu if not np.isfinite(theta) else mu + mu ** 2 / theta
        w = mu ** 2 / var
        z = (eta - off) + (y - mu) / mu
        beta_new = _wls_step(X, w, z, beta)
        eta_new = X @ beta_new + off
        mu_new = np.exp(np.clip(eta_new, -700, 700))
        dev = _deviance(y, mu_new, theta)
        # step halving if deviance is not finite (as glm.fit)
        halv = 0
        while not np.isfinite(dev) and halv < 30:
            beta_new = (beta_new + beta) / 2
            eta_new = X @ beta_new + off
            mu_new = np.exp(eta_new)
            dev = _deviance(y, mu_new, theta)
            halv += 1
        beta, eta, mu = beta_new, eta_new, mu_new
        if abs(dev - dev_old) / (abs(dev) + 0.1) < tol:
            converged = True
            break
        dev_old = dev
    return beta, mu, dev, converged, it


def _wls_step(X, w, z, beta):
    """Weighted least squares of the working response ``z`` on ``X`` (weights ``w``).

    Solved in increment form, ``beta + (X'WX)^-1 X'W (z - X beta)``, by a Cholesky
    factorisation of the k x k matrix X'WX: O(n k^2) with no n x k temporaries
    beyond one, and as accurate as a QR solve at convergence because the error of
    the normal equations scales with the (vanishing) increment.  A rank-deficient
    X falls back to the minimum-norm SVD solution (``lstsq``), as before.
    """
    Xw = X * w[:, None]
    XtWX = Xw.T @ X
    try:
        c = linalg.cho_factor(XtWX, check_finite=False)
        d = np.abs(np.diag(c[0]))
        if d.min() <= 1e-7 * d.max():
            raise np.linalg.LinAlgError("near-singular X'WX")
        return beta + linalg.cho_solve(c, Xw.T @ (z - X @ beta), check_finite=False)
    except (np.linalg.LinAlgError, linalg.LinAlgError):
        sw = np.sqrt(w)
        return np.linalg.lstsq(X * sw[:, None], z * sw, rcond=None)[0]


def _ydist(y):
    """Distinct values of the counts and their frequencies.

    Sums over observations of a function of y alone (digamma(theta + y),
    trigamma(theta + y), gammaln) need it only at the distinct values, weighted
    by their frequencies: O(distinct) special-function calls instead of O(n)
    (a count outcome capped at 182 days has at most 183 values at any n).
    """
    y = np.asarray(y, float)
    if y.size and y.min() >= 0 and y.max() <= 1e7:
        yi = y.astype(np.int64)
        if np.array_equal(yi, y):
            cnt = np.bincount(yi)
            vals = np.flatnonzero(cnt)
            return vals.astype(float), cnt[vals].astype(float)
    vals, cnt = np.unique(y, return_counts=True)
    return vals, cnt.astype(float)


def _theta_score(theta, y, mu, yd=None):
    vals, cnt = _ydist(y) if yd is None else yd
    n = y.size
    return float(np.dot(cnt, special.digamma(theta + vals)) - n * special.digamma(theta)
                 + n * (math.log(theta) + 1) - np.sum(np.log(theta + mu))
                 - np.sum((y + theta) / (mu + theta)))


def _theta_info(theta, y, mu, yd=None):
    vals, cnt = _ydist(y) if yd is None else yd
    n = y.size
    return float(-np.dot(cnt, special.polygamma(1, theta + vals)) + n * special.polygamma(1, theta)
                 - n / theta + np.sum(2 / (mu + theta) - (y + theta) / (mu + theta) ** 2))


def theta_ml(y, mu, theta_max: float = THETA_MAX,
             start: float | None = None) -> tuple[float, float, bool]:
    """ML estimate of theta given the means, as ``MASS::theta.ml``.

    Solves the score equation exactly (bracketing root search on log theta)
    instead of theta.ml's Newton iterations; the root is the same.  Returns
    ``(theta, se_theta, boundary)``; ``boundary`` is True when the likelihood
    still increases at ``theta_max`` (no over-dispersion: theta -> infinity,
    where theta.ml warns "iteration limit reached").
    """
    y = np.asarray(y, float)
    mu = np.asarray(mu, float)
    yd = _ydist(y)
    if start is not None and np.isfinite(start) and 1e-6 < start < theta_max / 10:
        # Newton on log(theta) from a warm start (the previous alternation's theta);
        # falls back to the bracketing search below if it does not settle quickly.
        lt = math.log(start)
        for _ in range(30):
            th = math.exp(lt)
            sc = _theta_score(th, y, mu, yd)
            info = _theta_info(th, y, mu, yd)
            # d score / d log theta = -info * theta
            if not np.isfinite(info) or info <= 0:
                break
            step = sc / (info * th)
            step = max(min(step, 2.0), -2.0)
            lt += step
            if abs(step) < 1e-13:
                th = math.exp(lt)
                info = _theta_info(th, y, mu, yd)
                return th, (math.sqrt(1 / info) if info > 0 else np.nan), False
    f = lambda lt: _theta_score(math.exp(lt), y, mu, yd)
    lo, hi = math.log(1e-8), math.log(theta_max)
    if f(hi) > 0:
        return theta_max, np.nan, True
    if f(lo) < 0:
        return 1e-8, np.nan, True
    lt = optimize.brentq(f, lo, hi, xtol=1e-14, rtol=4 * np.finfo(float).eps, maxiter=500)
    th = math.exp(lt)
    info = _theta_info(th, y, mu, yd)
    se = math.sqrt(1 / info) if info > 0 else np.nan
    return th, se, False


def theta_ml_se_R(y, mu, limit: int = 25) -> float:
    """``attr(MASS::theta.ml(y, mu, limit = 25), "SE")`` reproduced exactly.

    theta.ml runs Newton steps from the moment estimate n / sum((y/mu - 1)^2)
    until |step| <= eps = .Machine$double.eps^0.25 and returns
    sqrt(1 / info) with the information evaluated at the *last-but-one*
    iterate (before the final step).  glm.nb's ``SE.theta`` is this value;
    it differs from the information at the ML theta by up to ~1e-5 relative.
    """
    y = np.asarray(y, float)
    mu = np.asarray(mu, float)
    eps = np.finfo(float).eps ** 0.25
    yd = _ydist(y)
    t0 = len(y) / np.sum((y / mu - 1) ** 2)
    it, delta, info = 0, 1.0, np.nan
    while True:
        it += 1
        if not (it < limit and abs(delta) > eps):
            break
        t0 = abs(t0)
        info = _theta_info(t0, y, mu, yd)
        delta = _theta_score(t0, y, mu, yd) / info
        t0 = t0 + delta
    return math.sqrt(1 / info) if info > 0 else np.nan


def _as_arrays(X, y, offset):
    names = list(X.columns) if isinstance(X, pd.DataFrame) else [f"x{j}" for j in range(np.shape(X)[1])]
    Xa = np.asarray(X, float)
    ya = np.asarray(y, float)
    off = np.zeros(len(ya)) if offset is None else np.asarray(offset, float)
    if np.any(ya < 0) or np.any(np.abs(ya - np.round(ya)) > 1e-8):
        raise ValueError("count outcome must be non-negative integers")
    return names, Xa, ya, off


def _fisher_cov(X, mu, theta, names):
    var = mu if not np.isfinite(theta) else mu + mu ** 2 / theta
    w = mu ** 2 / var
    XtWX = X.T @ (w[:, None] * X)
    cov = np.linalg.inv(XtWX)
    return pd.DataFrame(cov, index=names, columns=names)


def fit_poisson(X, y, offset=None) -> GLMFit:
    """Poisson GLM, log link (R ``glm(y ~ ..., family = poisson)``)."""
    names, Xa, ya, off = _as_arrays(X, y, offset)
    beta, mu, dev, conv, it = irls(Xa, ya, off)
    notes = [] if conv else ["Poisson IRLS did not converge"]
    for n_ in notes:
        log.warning(n_)
    return GLMFit("poisson", pd.Series(beta, index=names), _fisher_cov(Xa, mu, np.inf, names),
                  Xa, ya, mu, off, _nb_loglik(ya, mu, np.inf), dev, converged=conv,
                  iterations=it, notes=notes)


def fit_nb_fixed(X, y, theta, offset=None, start_eta=None) -> GLMFit:
    """NB GLM at a fixed theta (R ``glm(y ~ ..., family = MASS::negative.binomial(theta))``)."""
    names, Xa, ya, off = _as_arrays(X, y, offset)
    beta, mu, dev, conv, it = irls(Xa, ya, off, theta=theta, start_eta=start_eta)
    return GLMFit("negbin", pd.Series(beta, index=names), _fisher_cov(Xa, mu, theta, names),
                  Xa, ya, mu, off, _nb_loglik(ya, mu, theta), dev, theta=theta,
                  converged=conv, iterations=it)


def fit_nb(X, y, offset=None, maxit: int = 100, tol: float = 1e-12,
           theta_max: float = THETA_MAX) -> GLMFit:
    """Negative binomial regression, log link, theta by ML (= ``MASS::glm.nb``).

    Follows glm.nb: a Poisson fit gives the starting means; then IRLS at the
    current theta alternates with ``theta_ml`` on the current means until the
    log-likelihood and theta are stable (``tol`` tighter than glm.nb's 1e-8
    so that the result is the joint MLE; R's default-tolerance answer agrees
    to about 1e-7 relative).  A final IRLS at the final theta makes the
    coefficients and theta mutually consistent.

    Parameters
    ----------
    X : DataFrame or array, design matrix including the intercept column.
    y : counts.
    offset : optional offset on the log scale (e.g. log exposure).

    Returns
    -------
    GLMFit with ``family='negbin'``, ``theta``, ``se_theta`` (= glm.nb's
    ``SE.theta``), ``loglik`` (= ``logLik(fit)``), ``deviance``,
    model-based ``cov`` (= ``vcov(fit)``, conditional on theta), ``boundary``
    True when theta -> infinity (the fit is then the Poisson fit).
    """
    names, Xa, ya, off = _as_arrays(X, y, offset)
    notes: list[str] = []
    beta, mu, dev, conv, it_total = irls(Xa, ya, off)
    if not conv:
        notes.append("starting Poisson fit did not converge")
    th, se_th, boundary = theta_ml(ya, mu, theta_max)
    ll = _nb_loglik(ya, mu, th)
    converged = False
    for it in range(1, maxit + 1):
        beta, mu, dev, conv, k = irls(Xa, ya, off, theta=th, start_eta=np.log(mu))
        it_total += k
        if not conv:
            notes.append(f"IRLS did not converge at alternation {it}")
        th_old, ll_old = th, ll
        th, se_th, boundary = theta_ml(ya, mu, theta_max, start=th)
        ll = _nb_loglik(ya, mu, th)
        if boundary:
            break
        if abs(ll - ll_old) <= tol * (abs(ll) + 0.1) and abs(th - th_old) <= 1e-10 * th:
            converged = True
            break
    if boundary:
        notes.append(f"theta -> infinity (no over-dispersion; theta > {theta_max:g}): "
                     "NB at the Poisson boundary")
        converged = True
        beta, mu, dev, conv, _ = irls(Xa, ya, off, theta=np.inf)
        th_use = np.inf
    else:
        mu_prev = mu
        beta, mu, dev, conv, _ = irls(Xa, ya, off, theta=th, start_eta=np.log(mu))
        th_use = th
        # glm.nb's SE.theta: theta.ml's Newton information on the previous means
        se_r = theta_ml_se_R(ya, mu_prev, limit=25)
        if np.isfinite(se_r):
            se_th = se_r
        if not converged:
            notes.append("alternation limit reached (theta/coefficients not converged)")
    if not conv:
        converged = False
    fit = GLMFit("negbin", pd.Series(beta, index=names), _fisher_cov(Xa, mu, th_use, names),
                 Xa, ya, mu, off, _nb_loglik(ya, mu, th_use), _deviance(ya, mu, th_use),
                 theta=th_use if not boundary else np.inf, se_theta=se_th,
                 converged=converged, boundary=boundary, iterations=it_total, notes=notes)
    for n_ in notes:
        log.warning("glm.nb-type fit: %s", n_)
    return fit


def profile_ci(fit: GLMFit, term: str, level: float = 0.95) -> tuple[float, float]:
    """Profile-likelihood CI of one coefficient with theta fixed (log scale).

    As ``confint(glm.nb_fit, term, level)`` (R >= 4.4 ``confint.glm`` via
    ``profile.glm``, signed root deviance with dispersion 1, theta held at its
    estimate), but each limit is the exact root of
    ``deviance(b) - deviance = qchisq(level, 1)`` rather than R's spline
    interpolation of the profile.
    """
    j = list(fit.params.index).index(term)
    b0 = fit.params.iloc[j]
    se = math.sqrt(fit.cov.iloc[j, j])
    crit = stats.chi2.ppf(level, 1)
    Xo = np.delete(fit.X, j, axis=1)
    xj = fit.X[:, j]
    dev0 = fit.deviance

    def excess(b):
        _, mu, dev, _, _ = irls(Xo, fit.y, fit.offset + b * xj, theta=fit.theta,
                                start_eta=np.log(fit.mu))
        return dev - dev0 - crit

    out = []
    for sgn in (-1, 1):
        step = se
        hi = b0 + sgn * step
        for _ in range(60):
            if excess(hi) > 0:
                break
            step *= 2
            hi = b0 + sgn * step
        out.append(optimize.brentq(excess, b0, hi, xtol=1e-12) if sgn > 0
                   else optimize.brentq(excess, hi, b0, xtol=1e-12))
    return out[0], out[1]


# --------------------------------------------------------------------------- #
# Zero-inflated and hurdle NB (pscl)
# --------------------------------------------------------------------------- #
@dataclass
class MLFit:
    """A model fitted by direct maximum likelihood (pscl-type)."""
    model: str
    params: pd.Series           # count coefficients, zero coefficients, log(theta)
    cov: pd.DataFrame           # inverse observed information (all parameters)
    loglik: float
    n: int
    converged: bool
    boundary: bool = False
    notes: list[str] = field(default_factory=list)

    scores: np.ndarray | None = None   # per-observation scores of the coefficients (no theta)

    @property
    def theta(self) -> float:
        return math.exp(self.params["log(theta)"])

    @property
    def coef_names(self) -> list[str]:
        return [c for c in self.params.index if c != "log(theta)"]

    def vcov_cluster(self, cluster, cadjust: bool = True) -> pd.DataFrame:
        """``sandwich::vcovCL(fit, cluster = cluster)`` for a pscl ``zeroinfl``/``hurdle`` fit.

        As sandwich does for these classes: bread = the coefficient block of the
        model covariance (``vcov(fit)``, which excludes log(theta)) x n, meat from
        the coefficient scores only (``estfun`` has no theta column), type HC0 with
        the G/(G-1) cluster adjustment.
        """
        names = self.coef_names
        V = cluster_sandwich(self.scores, self.cov.loc[names, names].to_numpy(), cluster,
                             cadjust=cadjust)
        return pd.DataFrame(V, index=names, columns=names)


def _nb_parts(y, eta, lt):
    th = np.exp(lt)
    mu = np.exp(eta)
    lnb = (special.gammaln(y + th) - special.gammaln(th) - special.gammaln(y + 1)
           + th * lt + y * eta - (y + th) * np.log(th + mu))
    d_eta = th * (y - mu) / (th + mu)
    d_lt = th * (special.digamma(y + th) - special.digamma(th) + lt + 1
                 - np.log(th + mu) - (y + th) / (th + mu))
    logp0 = th * (lt - np.log(th + mu))
    dp0_eta = -th * mu / (th + mu)
    dp0_lt = th * (lt - np.log(th + mu) + mu / (th + mu))
    return lnb, d_eta, d_lt, logp0, dp0_eta, dp0_lt


@np.errstate(over="ignore", invalid="ignore", divide="ignore")
def _zinb_nll(par, y, X, Z, kx, kz, obs=False):
    b, g, lt = par[:kx], par[kx:kx + kz], par[-1]
    eta = X @ b
    zeta = Z @ g
    lnb, d_eta, d_lt, logp0, dp0_eta, dp0_lt = _nb_parts(y, eta, lt)
    log_phi = -np.logaddexp(0, -zeta)
    log_1mphi = -np.logaddexp(0, zeta)
    phi = np.exp(log_phi)
    y0 = y == 0
    ll0 = np.logaddexp(log_phi, log_1mphi + logp0)
    ll = np.where(y0, ll0, log_1mphi + lnb)
    # gradient
    a = np.exp(log_1mphi + logp0 - ll0)           # (1-phi) p0 / D
    g_eta = np.where(y0, a * dp0_eta, d_eta)
    g_lt = np.where(y0, a * dp0_lt, d_lt)
    p0 = np.exp(logp0)
    g_zeta = np.where(y0, np.exp(log_phi + log_1mphi - ll0) * (1 - p0), -phi)
    if obs:
        return np.column_stack([g_eta[:, None] * X, g_zeta[:, None] * Z])
    grad = np.r_[X.T @ g_eta, Z.T @ g_zeta, g_lt.sum()]
    return -float(ll.sum()), -grad


@np.errstate(over="ignore", invalid="ignore", divide="ignore")
def _trunc_nb_nll(par, y, X, obs=False):
    b, lt = par[:-1], par[-1]
    eta = X @ b
    lnb, d_eta, d_lt, logp0, dp0_eta, dp0_lt = _nb_parts(y, eta, lt)
    log1m = np.log(-np.expm1(logp0))
    ll = lnb - log1m
    r = np.exp(logp0 - log1m)                      # p0 / (1 - p0)
    g_eta = d_eta + r * dp0_eta
    g_lt = d_lt + r * dp0_lt
    if obs:
        return g_eta[:, None] * X
    return -float(ll.sum()), -np.r_[X.T @ g_eta, g_lt.sum()]


def _num_hessian(fun, par, *args, rel=1e-5):
    """Central differences of the analytic gradient (symmetrised)."""
    k = len(par)
    H = np.zeros((k, k))
    for j in range(k):
        h = rel * max(1.0, abs(par[j]))
        e = np.zeros(k)
        e[j] = h
        H[:, j] = (fun(par + e, *args)[1] - fun(par - e, *args)[1]) / (2 * h)
    return (H + H.T) / 2


def _ml(fun, start, args, names, model, n, theta_index=-1):
    notes = []
    res = optimize.minimize(fun, start, args=args, jac=True, method="BFGS",
                            options={"gtol": 1e-9, "maxiter": 10000})
    par = res.x
    # Newton polish on the numerical Hessian of the analytic gradient
    for _ in range(50):
        f, g = fun(par, *args)
        if np.max(np.abs(g)) < 1e-9:
            break
        H = _num_hessian(fun, par, *args)
        try:
            step = np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            break
        t = 1.0
        while t > 1e-8 and fun(par - t * step, *args)[0] > f + 1e-12:
            t /= 2
        par = par - t * step
    f, g = fun(par, *args)
    converged = bool(np.max(np.abs(g)) < 1e-6)
    if not converged:
        notes.append(f"{model}: maximum likelihood did not converge (max |gradient| {np.max(np.abs(g)):.2g})")
    H = _num_hessian(fun, par, *args)
    try:
        cov = np.linalg.inv(H)
        if np.any(np.diag(cov) < 0):
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        cov = np.full_like(H, np.nan)
        notes.append(f"{model}: information matrix singular; no standard errors")
    boundary = bool(par[theta_index] > math.log(THETA_MAX) - 1)
    if boundary:
        notes.append(f"{model}: theta -> infinity (no over-dispersion in the count part)")
    for n_ in notes:
        log.warning(n_)
    return MLFit(model, pd.Series(par, index=names), pd.DataFrame(cov, index=names, columns=names),
                 -f, n, converged, boundary, notes)


def fit_zinb(X, y, Z=None) -> MLFit:
    """Zero-inflated NB (= ``pscl::zeroinfl(y ~ x | z, dist = "negbin")``, logit inflation).

    ``Z`` defaults to an intercept only (``y ~ x | 1``).  Parameter names:
    count coefficients as the columns of X, zero coefficients prefixed
    ``zero_``, and ``log(theta)``.  Covariance: inverse Hessian of the
    log-likelihood over all parameters (pscl's ``vcov``), here with a
    central-difference Hessian of the analytic gradient.
    """
    names, Xa, ya, _ = _as_arrays(X, y, None)
    n = len(ya)
    Za = np.ones((n, 1)) if Z is None else np.asarray(Z, float)
    znames = ["zero_(Intercept)"] if Z is None else ["zero_" + str(c) for c in getattr(Z, "columns", range(Za.shape[1]))]
    # starting values as pscl: Poisson count model, binomial zero model, theta = 1
    b0, *_ = irls(Xa, ya)
    p_zero = max(min(np.mean(ya == 0), 0.99), 0.01)
    g0 = np.zeros(Za.shape[1])
    g0[0] = math.log(p_zero / (1 - p_zero)) - 1.0
    start = np.r_[b0, g0, 0.0]
    fit = _ml(_zinb_nll, start, (ya, Xa, Za, Xa.shape[1], Za.shape[1]),
              names + znames + ["log(theta)"], "zinb", n)
    fit.scores = _zinb_nll(fit.params.to_numpy(), ya, Xa, Za, Xa.shape[1], Za.shape[1], obs=True)
    if Z is None and fit.params["zero_(Intercept)"] < -10:
        msg = ("zinb: zero-inflation probability -> 0 (boundary; no excess zeros beyond the NB): "
               "zero-part estimate and SE are not meaningful, count part equals the NB")
        fit.notes.append(msg)
        fit.boundary = True
        log.warning(msg)
    return fit


def fit_hurdle_nb(X, y) -> MLFit:
    """Hurdle NB (= ``pscl::hurdle(y ~ x | 1, dist = "negbin")``).

    Zero hurdle: binomial logit, intercept only (closed form, with SE from
    the binomial information).  Count part: zero-truncated NB by ML, with
    covariance the inverse observed information of (beta, log theta), as
    pscl.  Returns the count part with the zero-hurdle intercept appended as
    ``zero_(Intercept)`` (its covariance with the count part is 0, the two
    parts being separable).
    """
    names, Xa, ya, _ = _as_arrays(X, y, None)
    pos = ya > 0
    n = len(ya)
    b0, *_ = irls(Xa[pos], ya[pos])
    fit = _ml(_trunc_nb_nll, np.r_[b0, 0.0], (ya[pos], Xa[pos]), names + ["log(theta)"],
              "hurdle_nb", n)
    p = pos.mean()
    g = math.log(p / (1 - p))
    se_g = math.sqrt(1 / (n * p * (1 - p)))
    ll_zero = float(np.sum(np.where(pos, math.log(p), math.log(1 - p))))
    params = pd.concat([fit.params, pd.Series({"zero_(Intercept)": g})])
    cov = fit.cov.reindex(index=params.index, columns=params.index).fillna(0.0)
    cov.loc["zero_(Intercept)", "zero_(Intercept)"] = se_g ** 2
    sc = np.zeros((n, Xa.shape[1] + 1))
    sc[pos, :Xa.shape[1]] = _trunc_nb_nll(fit.params.to_numpy(), ya[pos], Xa[pos], obs=True)
    sc[:, -1] = pos.astype(float) - p                 # binomial logit score of the hurdle
    order = names + ["zero_(Intercept)"]
    params = params[order + ["log(theta)"]]
    cov = cov.loc[params.index, params.index]
    return MLFit("hurdle_nb", params, cov, fit.loglik + ll_zero, n, fit.converged,
                 fit.boundary, fit.notes, scores=sc)


def wald(params: pd.Series, cov: pd.DataFrame, term: str) -> dict:
    """Wald estimate, SE, z and two-sided p of one coefficient (log scale)."""
    b = float(params[term])
    se = float(math.sqrt(cov.loc[term, term])) if np.isfinite(cov.loc[term, term]) else np.nan
    z = b / se if se and np.isfinite(se) else np.nan
    p = p_two_sided(z) if np.isfinite(z) else np.nan
    return {"coef": b, "se": se, "z": z, "p": p}
