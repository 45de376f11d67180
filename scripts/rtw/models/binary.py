"""Secondary binary outcomes: logistic regression and g-computation (SPEC §4 A13).

* :func:`fit_logistic` -- ``glm(y ~ ..., family = binomial)`` by IRLS with R's
  convergence rule (``glm.control(epsilon = 1e-8, maxit = 25)``, run here to
  1e-12); ``cov`` = ``vcov(glm_fit)``.  Separation is detected by a linear
  program (``detect_separation``: is there a direction beta with
  (2y-1) x'beta >= 0 for every row and > 0 for some -- the criterion of
  Konis' ``detectseparation``/``safeBinaryRegression``); the fit is then not
  reported as a number (the MLE does not exist).
* :func:`standardise` -- marginal risks under "everyone intervention" and
  "everyone control" by standardisation (g-computation) over the analysed
  sample, risk difference and risk ratio, with variance by the stacked
  estimating equations (M-estimation sandwich) of the logistic scores and the
  two standardised means -- the variance ``stdReg::stdGlm`` uses (model
  scores' sandwich plus the sampling of the covariate distribution, no
  small-sample correction).  RR CIs on the log scale (delta method).
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, special

log = logging.getLogger(__name__)


@dataclass
class LogitFit:
    params: pd.Series
    cov: pd.DataFrame
    X: np.ndarray
    y: np.ndarray
    p: np.ndarray
    converged: bool
    separation: bool
    iterations: int
    notes: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.y)


def detect_separation(X, y) -> bool:
    """True if the data are completely or quasi-completely separated (LP criterion)."""
    Xa = np.asarray(X, float)
    s = 2 * np.asarray(y, float) - 1
    A = s[:, None] * Xa                     # want A beta >= 0, sum(A beta) > 0
    k = Xa.shape[1]
    res = optimize.linprog(-A.sum(axis=0), A_ub=-A, b_ub=np.zeros(len(s)),
                           bounds=[(-1, 1)] * k, method="highs")
    return bool(res.status == 0 and -res.fun > 1e-7 * max(1.0, np.abs(A).sum() / len(s)))


def fit_logistic(X: pd.DataFrame, y, maxit: int = 100, tol: float = 1e-12) -> LogitFit:
    """Logistic regression (= R ``glm(family = binomial)``), with separation and convergence checks."""
    Xa = X.to_numpy(float)
    ya = np.asarray(y, float)
    names = list(X.columns)
    if not np.all(np.isin(ya, [0.0, 1.0])):
        raise ValueError("binary outcome must be coded 0/1")
    notes = []
    sep = detect_separation(Xa, ya)
    if sep:
        notes.append("separation: an outcome level is perfectly predicted by the covariates "
                     "(the MLE does not exist; no estimate reported)")
    mu = (ya + 0.5) / 2                       # binomial()$initialize with weights 1
    eta = np.log(mu / (1 - mu))
    dev_old = np.inf
    beta = np.zeros(Xa.shape[1])
    converged = False
    it = 0
    for it in range(1, maxit + 1):
        w = mu * (1 - mu)
        z = eta + (ya - mu) / w
        sw = np.sqrt(w)
        beta, *_ = np.linalg.lstsq(Xa * sw[:, None], z * sw, rcond=None)
        eta = Xa @ beta
        mu = special.expit(eta)
        mu = np.clip(mu, 1e-300, 1 - 1e-16)
        dev = -2 * np.sum(ya * np.log(mu) + (1 - ya) * np.log1p(-mu))
        if abs(dev - dev_old) / (abs(dev) + 0.1) < tol:
            converged = True
            break
        dev_old = dev
    if not converged:
        notes.append("logistic IRLS did not converge")
    eps = 10 * np.finfo(float).eps
    if np.any(mu > 1 - eps) or np.any(mu < eps):
        notes.append("fitted probabilities numerically 0 or 1 occurred")
    w = mu * (1 - mu)
    try:
        cov = np.linalg.inv(Xa.T @ (w[:, None] * Xa))
    except np.linalg.LinAlgError:
        cov = np.full((len(names), len(names)), np.nan)
        notes.append("information matrix singular")
    for n_ in notes:
        log.warning("logistic: %s", n_)
    return LogitFit(pd.Series(beta, index=names), pd.DataFrame(cov, index=names, columns=names),
                    Xa, ya, mu, converged, sep, it, notes)


@dataclass
class Standardised:
    p1: float
    p0: float
    cov: np.ndarray          # covariance of (p1, p0)
    rd: float
    se_rd: float
    rr: float
    se_log_rr: float


def standardise(fit: LogitFit, arm_column: str = "arm") -> Standardised:
    """G-computation of the marginal risks and their stacked-sandwich covariance.

    p1 = mean_i expit(x_i(arm=1)' beta), p0 likewise with arm = 0 (all analysed
    rows).  Estimating functions psi_i = (s_i(beta), p1_i - p1, p0_i - p0);
    covariance A^-1 B A^-T / n with A = -E[d psi / d theta], B = E[psi psi'].
    """
    j = list(fit.params.index).index(arm_column)
    X1 = fit.X.copy()
    X1[:, j] = 1.0
    X0 = fit.X.copy()
    X0[:, j] = 0.0
    b = fit.params.to_numpy()
    pr1 = special.expit(X1 @ b)
    pr0 = special.expit(X0 @ b)
    p1, p0 = pr1.mean(), pr0.mean()
    n, k = fit.X.shape
    scores = (fit.y - fit.p)[:, None] * fit.X
    psi = np.column_stack([scores, pr1 - p1, pr0 - p0])
    A = np.zeros((k + 2, k + 2))
    A[:k, :k] = (fit.X * (fit.p * (1 - fit.p))[:, None]).T @ fit.X / n
    A[k, :k] = -((pr1 * (1 - pr1))[:, None] * X1).mean(axis=0)
    A[k + 1, :k] = -((pr0 * (1 - pr0))[:, None] * X0).mean(axis=0)
    A[k, k] = A[k + 1, k + 1] = 1.0
    B = psi.T @ psi / n
    Ainv = np.linalg.inv(A)
    V = Ainv @ B @ Ainv.T / n
    C = V[k:, k:]
    rd = p1 - p0
    se_rd = math.sqrt(C[0, 0] + C[1, 1] - 2 * C[0, 1])
    g = np.array([1 / p1, -1 / p0])
    se_lrr = math.sqrt(g @ C @ g)
    return Standardised(p1, p0, C, rd, se_rd, p1 / p0, se_lrr)
