"""Complier average causal effect by instrumental variables (SPEC §4 A4).

Two-stage least squares with randomisation as the instrument for treatment
received (engagement: at least one VSW contact), outcome the primary days off,
i.e. the CACE as a difference in mean days off among compliers:

    ``AER::ivreg(y ~ engaged + covs | arm + covs)``

with heteroskedasticity-robust standard errors
``sandwich::vcovHC(fit, type = "HC0")`` and t-based CIs and p-values with the
residual df n - k (``lmtest::coeftest(fit, vcov. = vcovHC(fit, type = "HC0"))``).
HC0 is chosen because the outcome is a skewed, over-dispersed count whose
variance differs by arm and engagement; the model-based 2SLS variance assumes
homoskedasticity.  (Cluster-robust, ``vcovCL(fit, cluster = ~practice)`` with
its ``ivreg`` default HC0 + G/(G-1), is used when ``practice_effect:
cluster_robust``.)
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rtw.core.modelframe import cluster_sandwich

log = logging.getLogger(__name__)


@dataclass
class IVFit:
    params: pd.Series
    cov_model: pd.DataFrame
    cov_hc0: pd.DataFrame
    resid: np.ndarray
    Xhat: np.ndarray
    n: int
    k: int
    first_stage: pd.Series
    first_stage_F: float
    notes: list[str] = field(default_factory=list)

    @property
    def df_resid(self) -> int:
        return self.n - self.k

    def vcov_cluster(self, cluster, cadjust: bool = True) -> pd.DataFrame:
        """``sandwich::vcovCL(ivreg_fit, cluster = cluster)`` (HC0, G/(G-1))."""
        V = cluster_sandwich(self.resid[:, None] * self.Xhat,
                             np.linalg.inv(self.Xhat.T @ self.Xhat), cluster, cadjust=cadjust)
        return pd.DataFrame(V, index=self.params.index, columns=self.params.index)


def fit_iv(y, X: pd.DataFrame, Z: pd.DataFrame, endog: str = "arm") -> IVFit:
    """2SLS (``AER::ivreg``): regressors ``X``, instruments ``Z`` (both with intercept).

    ``endog`` is the column of ``X`` that is instrumented (treatment received);
    the other columns of ``X`` must also be columns of ``Z`` (exogenous); the
    remaining columns of ``Z`` are the excluded instruments.  ``X`` and ``Z``
    may use the same name for the endogenous and the instrument column (the
    runner calls both ``arm`` so that the CACE row has term ``arm``).

    ``cov_model`` = ``vcov(ivreg_fit)`` (sigma^2 (Xhat'Xhat)^-1, sigma^2 = RSS/(n-k)
    with structural residuals); ``cov_hc0`` = ``vcovHC(ivreg_fit, type = "HC0")``.
    ``first_stage`` holds the first-stage coefficients of ``endog`` on ``Z`` (for a
    binary treatment and instrument, the ``arm`` coefficient is the compliance
    difference); ``first_stage_F`` the F statistic of the excluded instruments.
    """
    ya = np.asarray(y, float)
    Xa = X.to_numpy(float)
    Za = Z.to_numpy(float)
    n, k = Xa.shape
    PZ_X = Za @ np.linalg.lstsq(Za, Xa, rcond=None)[0]
    B = np.linalg.inv(PZ_X.T @ PZ_X)
    beta = B @ PZ_X.T @ ya
    e = ya - Xa @ beta
    sigma2 = e @ e / (n - k)
    meat = (PZ_X * (e ** 2)[:, None]).T @ PZ_X
    names = list(X.columns)
    exog = [c for c in X.columns if c != endog]
    missing_exog = [c for c in exog if c not in Z.columns]
    if missing_exog:
        raise ValueError(f"exogenous regressors {missing_exog} must also be instruments")
    excl = [c for c in Z.columns if c not in exog]
    if not excl:
        raise ValueError("no excluded instrument")
    notes = []
    d = X[endog].to_numpy(float)
    g, *_ = np.linalg.lstsq(Za, d, rcond=None)
    fs = pd.Series(g, index=Z.columns)
    rss_f = float(np.sum((d - Za @ g) ** 2))
    Zr = Z[exog].to_numpy(float)
    gr, *_ = np.linalg.lstsq(Zr, d, rcond=None)
    rss_r = float(np.sum((d - Zr @ gr) ** 2))
    q = len(excl)
    F = ((rss_r - rss_f) / q) / (rss_f / (n - Za.shape[1])) if rss_f > 0 else np.inf
    if F < 10:
        notes.append(f"weak instrument: first-stage F = {F:.2f} < 10")
        log.warning("IV: weak instrument (first-stage F = %.2f)", F)
    return IVFit(pd.Series(beta, index=names),
                 pd.DataFrame(sigma2 * B, index=names, columns=names),
                 pd.DataFrame(B @ meat @ B, index=names, columns=names),
                 e, PZ_X, n, k, fs, float(F), notes)
