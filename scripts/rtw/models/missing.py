"""Multiple imputation of the missing primary outcome, Rubin's rules, tipping point (SPEC §4 A4).

Imputation model (decision, documented in config/README.md)
-----------------------------------------------------------
The primary outcome is the only incomplete variable in the primary model (the
covariates -- arm, stratification factors, baseline days off, practice -- are
complete by design).  With a single incomplete variable and complete
predictors, chained equations (``mice``) reduce to one conditional model and
one iteration is exact: further iterations redraw from the same model, so
``regression.mi.iterations`` has no effect and is only logged.

The conditional model is the analysis model itself: a negative binomial
regression on the same design (congenial with the NB analysis).  For each of
the ``m`` imputations we draw the parameters from their approximate posterior
-- beta ~ N(beta_hat, vcov conditional on theta), log(theta) ~ N(log
theta_hat, (SE(theta)/theta_hat)^2) -- and then each missing outcome from
NB(mu*, theta*) (a gamma-Poisson draw), capped at the window length
(``outcomes.count.exposure_days``) as the derivation caps observed values.
This is ``mice``'s "norm" approach (Bayesian linear regression draw) carried
over to the NB model; predictive mean matching would need no model but is not
congenial with a count analysis of a skewed, zero-heavy outcome with n = 130.

Pooling: Rubin's rules on the log IRR with the Barnard-Rubin (1999) small
sample degrees of freedom, exactly as ``mice::pool`` / ``mice::pool.scalar``
(``rule = "rubin1987"``; lambda floored at 1e-4, dfcom = the complete-data
residual df n - k as ``df.residual(glm.nb_fit)``).

Tipping point: the same draws (same seed, so common random numbers across the
grid) with ``delta`` days added to the intervention arm's imputed values
(truncated to [0, cap]); for each delta the pooled IRR, and the delta at which
the conclusion at the first configured CI level changes.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

log = logging.getLogger(__name__)


@dataclass
class Pooled:
    """Rubin's rules result, fields named as ``mice::pool.scalar``."""
    m: int
    qbar: float
    ubar: float
    b: float
    t: float
    df: float
    r: float          # relative increase in variance due to nonresponse (riv)
    lambda_: float    # proportion of variance due to nonresponse
    fmi: float

    @property
    def se(self) -> float:
        return math.sqrt(self.t)

    def ci(self, level: float) -> tuple[float, float]:
        q = stats.t.ppf(0.5 + level / 2, self.df)
        return self.qbar - q * self.se, self.qbar + q * self.se

    @property
    def p_value(self) -> float:
        return float(2 * stats.t.sf(abs(self.qbar / self.se), self.df))


def barnard_rubin(m: int, b: float, t: float, dfcom: float = np.inf) -> float:
    """Barnard-Rubin df, as ``mice:::barnard.rubin`` (lambda floored at 1e-4)."""
    lam = max((1 + 1 / m) * b / t, 1e-4)
    dfold = (m - 1) / lam ** 2
    if not np.isfinite(dfcom):
        return dfold
    dfobs = (dfcom + 1) / (dfcom + 3) * dfcom * (1 - lam)
    return dfold * dfobs / (dfold + dfobs)


def pool_rubin(Q, U, dfcom: float = np.inf) -> Pooled:
    """Pool per-imputation estimates ``Q`` and variances ``U`` (= ``mice::pool.scalar(Q, U, n, k)``
    with ``dfcom = n - k``).

    qbar = mean(Q); ubar = mean(U); b = var(Q) (n-1 denominator);
    t = ubar + (1 + 1/m) b; df Barnard-Rubin; r = (1 + 1/m) b / ubar;
    fmi = (r + 2/(df + 3)) / (r + 1).
    """
    Q = np.asarray(Q, float)
    U = np.asarray(U, float)
    m = len(Q)
    if m < 2:
        raise ValueError("Rubin's rules need m >= 2 imputations")
    qbar = float(Q.mean())
    ubar = float(U.mean())
    b = float(Q.var(ddof=1))
    t = ubar + (1 + 1 / m) * b
    df = barnard_rubin(m, b, t, dfcom)
    r = (1 + 1 / m) * b / ubar
    lam = (1 + 1 / m) * b / t
    fmi = (r + 2 / (df + 3)) / (r + 1)
    return Pooled(m, qbar, ubar, b, t, float(df), float(r), float(lam), float(fmi))


def impute_nb(X: pd.DataFrame, y: pd.Series, m: int, seed: int, cap: float | None = None,
              fit=None, offset=None) -> tuple[np.ndarray, list[np.ndarray], object]:
    """Draw ``m`` sets of NB imputations for the missing entries of ``y``.

    Parameters
    ----------
    X : complete design (intercept included) for all rows, observed and missing.
    y : outcome with NaN where missing.
    m, seed : number of imputations and the seed of ``numpy.random.default_rng``.
    cap : upper limit of the outcome (draws above are set to ``cap``).
    fit : optional NB fit on the observed rows (else fitted here).
    offset : optional log-exposure offset for all rows.

    Returns
    -------
    (missing_mask, list of m arrays of imputed values for the missing rows, fit)
    """
    from rtw.models.counts import fit_nb
    miss = y.isna().to_numpy()
    obs = ~miss
    off = np.zeros(len(y)) if offset is None else np.asarray(offset, float)
    if fit is None:
        fit = fit_nb(X.loc[obs], y.loc[obs], offset=off[obs])
    rng = np.random.default_rng(seed)
    Xm = X.loc[miss].to_numpy(float)
    draws = []
    beta_hat = fit.params.to_numpy()
    L = np.linalg.cholesky(fit.cov.to_numpy() + 1e-300 * np.eye(len(beta_hat)))
    for _ in range(m):
        beta = beta_hat + L @ rng.standard_normal(len(beta_hat))
        if np.isfinite(fit.theta) and np.isfinite(fit.se_theta):
            theta = math.exp(math.log(fit.theta) + fit.se_theta / fit.theta * rng.standard_normal())
        else:
            theta = np.inf
        mu = np.exp(Xm @ beta + off[miss])
        lam = rng.gamma(theta, mu / theta) if np.isfinite(theta) else mu
        ystar = rng.poisson(lam).astype(float)
        if cap is not None:
            ystar = np.minimum(ystar, cap)
        draws.append(ystar)
    return miss, draws, fit


def mi_analyse(X: pd.DataFrame, y: pd.Series, analyse, m: int, seed: int,
               cap: float | None = None, deltas=(0,), delta_rows: np.ndarray | None = None,
               term: str = "arm", iterations: int | None = None, offset=None):
    """Impute, analyse each completed dataset, pool per delta.

    Parameters
    ----------
    analyse : callable(X, y_completed) -> (estimate on log scale, variance, dfcom, notes)
    deltas : shifts added to imputed values of rows flagged by ``delta_rows``
        (the intervention arm's missing rows); ``(0,)`` is plain MI.
    Returns
    -------
    dict delta -> (Pooled, notes)
    """
    if iterations is not None and iterations != 1:
        log.info("MI: one incomplete variable with complete predictors; chained equations "
                 "converge in one iteration (iterations=%s has no effect)", iterations)
    miss, draws, _ = impute_nb(X, y, m, seed, cap, offset=offset)
    if not miss.any():
        log.warning("MI requested but the outcome has no missing values")
    out = {}
    dmask = np.zeros(miss.sum(), bool) if delta_rows is None else np.asarray(delta_rows)[miss]
    for delta in [d for d in deltas if d == 0] + [d for d in deltas if d != 0]:
        if delta and not dmask.any() and 0 in out:
            # no missing outcome is shifted: identical to delta = 0
            P, nts = out[0]
            out[delta] = (P, sorted(set(nts) | {"no missing outcomes to shift: same as delta = 0"}))
            continue
        Q, U, notes = [], [], set()
        dfcom = np.inf
        for ystar in draws:
            yy = y.to_numpy(float).copy()
            yi = ystar.copy()
            if delta:
                yi[dmask] = yi[dmask] + delta
                yi = np.clip(yi, 0, cap if cap is not None else np.inf)
            yy[miss] = np.round(yi)
            est, var, dfcom, nts = analyse(X, pd.Series(yy, index=y.index))
            Q.append(est)
            U.append(var)
            notes.update(nts)
        out[delta] = (pool_rubin(Q, U, dfcom), sorted(notes))
    return out


def tipping_delta(results: dict, level: float, null: float = 0.0):
    """Deltas at which the conclusion at ``level`` changes.

    The reference conclusion is that at delta = 0 (or the grid value closest
    to 0).  Moving away from it in each direction, the first delta whose CI
    (log scale) includes/excludes ``null`` differently from the reference is
    the tipping point.  Returns ``{"increase": delta or None, "decrease": delta or None,
    "reference_significant": bool}``.
    """
    ds = sorted(results)
    ref = min(ds, key=lambda d: (abs(d), d))

    def sig(d):
        lo, hi = results[d][0].ci(level)
        return not (lo <= null <= hi)

    s0 = sig(ref)
    up = next((d for d in ds if d > ref and sig(d) != s0), None)
    down = next((d for d in reversed(ds) if d < ref and sig(d) != s0), None)
    return {"increase": up, "decrease": down, "reference_significant": s0, "reference": ref}
