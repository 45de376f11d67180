"""Normal-theory helpers shared by every analysis: the two-sided quantile of a confidence
level, Wald confidence intervals and two-sided p-values.

One home for these conventions, as R writes them:

* quantile: ``qnorm(1 - (1 - level) / 2)`` (``survfit``'s ``conf.int``), or ``qt(..., df)``;
* Wald CI: ``est -/+ q * se``; on the log scale (a ratio: HR, IRR, OR, time ratio)
  ``exp(log(est) -/+ q * se)`` with ``se`` the SE of the log ratio (``summary(coxph)``);
* p-value: ``2 * pnorm(-abs(z))``;
* power of that two-sided test when the effect is ``shift`` SEs from 0:
  ``pnorm(shift - q) + pnorm(-shift - q)``.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import special, stats


def z_quantile(level: float, df: float | None = None) -> float:
    """Two-sided quantile of a confidence ``level``: normal, or Student t with ``df``."""
    p = 1 - (1 - level) / 2
    if df is not None and np.isfinite(df):
        return stats.t.ppf(p, df)
    return _norm_ppf(p)


@lru_cache(maxsize=64)
def _norm_ppf(p: float):
    """``stats.norm.ppf(p)``, remembered (one call per estimate row otherwise: with 1,000
    practice terms the rows cost more than the fit)."""
    return stats.norm.ppf(p)


def p_two_sided(z):
    """Two-sided normal p-value of a Wald statistic ``z`` (scalar or array); NaN stays NaN.
    ``special.ndtr(-|z|)`` is what ``stats.norm.sf(|z|)`` evaluates, without its overhead."""
    return 2 * special.ndtr(-np.abs(z))


def wald_ci(estimate, std_error, level: float, *, log: bool = False, df: float | None = None):
    """Wald ``(low, high)`` at ``level``.

    With ``log=True`` the estimate is a ratio and ``std_error`` the SE of its logarithm:
    ``exp(log(estimate) -/+ q * std_error)`` (NaN for a ratio that is not positive).
    """
    q = z_quantile(level, df)
    if log:
        with np.errstate(divide="ignore", invalid="ignore"):
            lest = np.log(estimate) if np.all(np.asarray(estimate) > 0) else np.nan
        return np.exp(lest - q * std_error), np.exp(lest + q * std_error)
    return estimate - q * std_error, estimate + q * std_error


def wald_cis(estimate, std_error, levels, *, log: bool = False) -> dict:
    """``{level: (low, high)}`` of :func:`wald_ci` at each level, as floats."""
    out = {}
    for lv in levels:
        lo, hi = wald_ci(estimate, std_error, lv, log=log)
        out[lv] = (float(lo), float(hi))
    return out


def wald_power(shift: float, alpha: float = 0.05) -> float:
    """Power of the two-sided level-``alpha`` Wald test when the true effect lies ``shift``
    standard errors from 0: ``pnorm(|shift| - q) + pnorm(-|shift| - q)``, ``q = qnorm(1 - alpha/2)``."""
    q = z_quantile(1 - alpha)
    shift = abs(shift)
    return float(stats.norm.cdf(shift - q) + stats.norm.cdf(-shift - q))
