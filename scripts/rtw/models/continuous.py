"""Secondary continuous outcomes: ANCOVA and a linear mixed model (SPEC §4 A12).

* :func:`fit_ols` -- ordinary least squares = R ``lm``; model-based covariance
  ``vcov(lm_fit)``, or cluster-robust ``sandwich::vcovCL(lm_fit, cluster =
  ~practice)`` with its ``lm`` defaults (type HC1: meat x G/(G-1) x
  (n-1)/(n-k)); CIs and p-values t-based with the residual df, as
  ``confint(lm_fit)`` / ``lmtest::coeftest``.
* :func:`fit_lmm` -- linear mixed model fitted by REML with a random intercept
  per participant (and per practice, participants nested in practices), =
  ``lme4::lmer(y ~ arm * time + baseline + covs + (1 | participant_id)
  [+ (1 | practice)], REML = TRUE)``: fixed effects and their covariance
  (X' V^-1 X)^-1 at the REML variance components, as ``vcov(lmer_fit)``.
  REML profiled over sigma^2 and optimised over the relative SDs with bounds
  at 0 (lme4's parametrisation; statsmodels ``MixedLM`` agrees with lmer when
  the variance components are interior but not reliably at the boundary, which
  is common here).  A fit is *singular* when a random-effect SD relative to
  the residual SD is below 1e-4 (lme4's ``isSingular(tol = 1e-4)``); it is
  then reported with a note, as lmer does, not dropped.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rtw.core.modelframe import cluster_sandwich

log = logging.getLogger(__name__)

SINGULAR_TOL = 1e-4


@dataclass
class OLSFit:
    params: pd.Series
    cov: pd.DataFrame
    resid: np.ndarray
    X: np.ndarray
    sigma: float
    n: int
    k: int
    notes: list[str] = field(default_factory=list)

    @property
    def df_resid(self) -> int:
        return self.n - self.k

    def vcov_cluster(self, cluster, type: str = "HC1", cadjust: bool = True) -> pd.DataFrame:
        """``sandwich::vcovCL(lm_fit, cluster = cluster)``; for class ``lm`` the default type is HC1."""
        V = cluster_sandwich(self.resid[:, None] * self.X, np.linalg.inv(self.X.T @ self.X),
                             cluster, cadjust=cadjust,
                             hc1=(self.n, self.k) if type == "HC1" else None)
        return pd.DataFrame(V, index=self.params.index, columns=self.params.index)


def fit_ols(X: pd.DataFrame, y) -> OLSFit:
    """OLS (= R ``lm``); ``cov`` = ``vcov(lm_fit)`` = sigma^2 (X'X)^-1, sigma^2 = RSS/(n-k)."""
    Xa = X.to_numpy(float)
    ya = np.asarray(y, float)
    n, k = Xa.shape
    if n <= k:
        raise ValueError(f"ANCOVA: {n} complete observations for {k} parameters")
    beta, *_ = np.linalg.lstsq(Xa, ya, rcond=None)
    e = ya - Xa @ beta
    s2 = e @ e / (n - k)
    cov = s2 * np.linalg.inv(Xa.T @ Xa)
    names = list(X.columns)
    return OLSFit(pd.Series(beta, index=names), pd.DataFrame(cov, index=names, columns=names),
                  e, Xa, math.sqrt(s2), n, k)


@dataclass
class LMMFit:
    params: pd.Series
    cov: pd.DataFrame
    sigma2: float
    var_participant: float
    var_practice: float | None
    n_obs: int
    n_groups: int
    reml_loglik: float
    converged: bool
    singular: bool
    notes: list[str] = field(default_factory=list)


def _reml_parts(gam, Xa, ya, prac_of_part, inner_codes, single):
    """X'H^-1 X, X'H^-1 y, y'H^-1 y and log|H| for H = I + g_i Z_i Z_i' + g_p Z_p Z_p'.

    Participants (inner) are nested in practices (outer); the inverse is
    closed-form by two Woodbury steps on participant and practice sums, so a
    criterion evaluation is O(N p^2) without any dense N x N algebra.
    """
    gi = gam[0]
    G = inner_codes.max() + 1
    nj = np.bincount(inner_codes, minlength=G).astype(float)
    SX = np.zeros((G, Xa.shape[1]))
    np.add.at(SX, inner_codes, Xa)
    Sy = np.bincount(inner_codes, weights=ya, minlength=G)
    c = gi / (1 + gi * nj)
    XtHX = Xa.T @ Xa - SX.T @ (c[:, None] * SX)
    XtHy = Xa.T @ ya - SX.T @ (c * Sy)
    ytHy = ya @ ya - np.sum(c * Sy ** 2)
    logdetH = float(np.sum(np.log1p(gi * nj)))
    if not single:
        gp = gam[1]
        w = 1 / (1 + gi * nj)
        P = prac_of_part.max() + 1
        A = np.zeros((P, Xa.shape[1]))
        np.add.at(A, prac_of_part, w[:, None] * SX)
        ay = np.bincount(prac_of_part, weights=w * Sy, minlength=P)
        sg = np.bincount(prac_of_part, weights=w * nj, minlength=P)
        d = gp / (1 + gp * sg)
        XtHX = XtHX - A.T @ (d[:, None] * A)
        XtHy = XtHy - A.T @ (d * ay)
        ytHy = ytHy - np.sum(d * ay ** 2)
        logdetH += float(np.sum(np.log1p(gp * sg)))
    return XtHX, XtHy, ytHy, logdetH


def _reml_crit(theta, Xa, ya, outer, inner_codes, single):
    """-2 REML log-likelihood, sigma^2 profiled out (lme4's REML criterion)."""
    N, p = Xa.shape
    gam = np.asarray(theta, float) ** 2
    XtHX, XtHy, ytHy, logdetH = _reml_parts(gam, Xa, ya, outer, inner_codes, single)
    Lx = np.linalg.cholesky(XtHX)
    beta = np.linalg.solve(XtHX, XtHy)
    rss = ytHy - XtHy @ beta
    s2 = rss / (N - p)
    return ((N - p) * (1 + math.log(2 * math.pi * s2)) + logdetH
            + 2 * float(np.sum(np.log(np.diag(Lx)))))


def fit_lmm(X: pd.DataFrame, y, participant, practice=None) -> LMMFit:
    """REML linear mixed model with random intercepts (= ``lme4::lmer(..., REML = TRUE)``).

    The REML criterion is profiled over sigma^2 and minimised over the
    relative standard deviations theta = tau / sigma >= 0 (lme4's
    parametrisation, bounded at 0 so that a boundary fit is *exactly*
    singular, as lmer), by L-BFGS-B from several starts.  statsmodels'
    ``MixedLM`` was tried first: it agrees with lmer when the variance
    components are interior, but fails or stops away from the optimum when a
    component is at 0 (singular fits are common here: practice variance ~ 0).

    Parameters
    ----------
    X : fixed-effects design (intercept included), one row per observation.
    y : response.
    participant : participant id per row (random intercept).
    practice : optional practice per row (random intercept; participants nested).
    """
    ya = np.asarray(y, float)
    Xa = X.to_numpy(float)
    N, p = Xa.shape
    part = np.asarray(participant).astype(str)
    inner_codes = pd.factorize(part)[0]
    single = practice is None
    outer, k = _practice_of_participant(inner_codes, practice)
    if N <= p:
        raise ValueError("mixed model: too few observations")
    notes: list[str] = []
    args = (Xa, ya, outer, inner_codes, single)
    best = _reml_minimise(args, k)
    theta = _zero_stalled_components(np.clip(best.x, 0, None), args, k)
    converged = _reml_converged(theta, best, args, k)
    if not converged:
        notes.append(f"REML optimisation did not converge: {best.message}")
    gam = theta ** 2
    XtHX, XtHy, ytHy, _ = _reml_parts(gam, *args)
    beta = np.linalg.solve(XtHX, XtHy)
    s2 = (ytHy - XtHy @ beta) / (N - p)
    cov = s2 * np.linalg.inv(XtHX)
    singular = bool(np.any(theta < SINGULAR_TOL))
    if singular:
        which = ["participant", "practice"][: k]
        zero = [w for w, t in zip(which, theta) if t < SINGULAR_TOL]
        notes.append("singular fit: random-intercept variance of " + ", ".join(zero)
                     + " estimated at 0 (boundary; lme4 isSingular)")
    names = list(X.columns)
    for n_ in notes:
        log.warning("LMM: %s", n_)
    return LMMFit(pd.Series(beta, index=names), pd.DataFrame(cov, index=names, columns=names),
                  float(s2), float(gam[0] * s2), None if single else float(gam[1] * s2),
                  N, int(inner_codes.max() + 1), -0.5 * _reml_crit(theta, *args), converged,
                  singular, notes)


def _practice_of_participant(inner_codes, practice):
    """The practice code of each participant (None without practices) and the number of
    variance components k (1: participant; 2: participant and practice).

    Raises ValueError when a participant appears in more than one practice (not nested).
    """
    if practice is None:
        return None, 1
    pc = pd.factorize(np.asarray(practice).astype(str))[0]
    G = inner_codes.max() + 1
    outer = np.full(G, -1)
    outer[inner_codes] = pc
    in_two_practices = np.zeros(G, bool)
    for j, g in zip(inner_codes, pc):
        if outer[j] != g:
            in_two_practices[j] = True
    if in_two_practices.any():
        raise ValueError("mixed model: a participant appears in more than one practice")
    return outer, 2


def _reml_minimise(args, k: int):
    """The best of L-BFGS-B minimisations of the REML criterion over theta >= 0 from the
    starts theta = 1 and theta = 0.1 (a later start wins only if better by more than 1e-12)."""
    from scipy import optimize

    best = None
    starts = [np.full(k, 1.0), np.full(k, 0.1)]
    for st in starts:
        res = optimize.minimize(_reml_crit, st, args=args, method="L-BFGS-B",
                                bounds=[(0.0, None)] * k,
                                options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 2000})
        if best is None or res.fun < best.fun - 1e-12:
            best = res
    return best


def _zero_stalled_components(theta, args, k: int):
    """theta with small components (below 0.05) set to 0 where that is not worse.

    The criterion depends on theta^2, so its gradient vanishes near 0 and the optimiser
    can stall at a small positive theta when the optimum is on the boundary.  For each
    small component, refit with it fixed at 0; keep that if the criterion is not worse.
    """
    from scipy import optimize

    for j in range(k):
        if 0 < theta[j] < 0.05:
            t0 = theta.copy()
            t0[j] = 0.0
            free = [i for i in range(k) if i != j and t0[i] > 0]
            if free:
                def sub(v, t0=t0, free=free):
                    theta_try = t0.copy()
                    theta_try[free] = v
                    return _reml_crit(theta_try, *args)
                r2 = optimize.minimize(sub, t0[free], method="L-BFGS-B",
                                       bounds=[(0.0, None)] * len(free),
                                       options={"ftol": 1e-15, "gtol": 1e-10})
                t0[free] = r2.x
            if _reml_crit(t0, *args) <= _reml_crit(theta, *args) + 1e-10:
                theta = t0
    return theta


def _reml_converged(theta, best, args, k: int) -> bool:
    """Convergence: the optimiser's success flag, or a projected numerical gradient below 1e-3.

    L-BFGS-B may stop with ABNORMAL_TERMINATION_IN_LNSRCH at the optimum (flat criterion
    at ftol 1e-15); judge convergence by the projected numerical gradient instead.
    """
    grad = np.zeros(k)
    for j in range(k):
        h = 1e-6 * max(1.0, theta[j])
        tp = theta.copy()
        tp[j] += h
        tm = theta.copy()
        tm[j] = max(theta[j] - h, 0.0)
        grad[j] = (_reml_crit(tp, *args) - _reml_crit(tm, *args)) / (tp[j] - tm[j])
    proj = np.where((theta <= 0) & (grad > 0), 0.0, grad)
    return bool(best.success or np.max(np.abs(proj)) < 1e-3)


def contrast(params: pd.Series, cov: pd.DataFrame, weights: dict) -> tuple[float, float]:
    """Estimate and SE of a linear combination sum(w * beta)."""
    c = pd.Series(0.0, index=params.index)
    for k, w in weights.items():
        c[k] = w
    est = float(c @ params)
    se = float(math.sqrt(c @ cov.to_numpy() @ c))
    return est, se
