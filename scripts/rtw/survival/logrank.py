"""Log-rank test, plain and stratified, as R's ``survival::survdiff`` (rho = 0).

``survdiff(Surv(time, event) ~ group)`` and
``survdiff(Surv(time, event) ~ group + strata(s))``: observed and expected
events per group summed over strata, the (k-1)-df chi-square
``(O-E)' V^- (O-E)`` with the hypergeometric variance
``V = sum d (n - d) / (n - 1) [diag(n_g / n) - (n_g / n)(n_g / n)']``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats


@dataclass
class LogrankResult:
    """Result of :func:`logrank_test`; ``groups`` in sorted order (as R's factor levels)."""

    chisq: float
    df: int
    p_value: float
    groups: list
    observed: np.ndarray
    expected: np.ndarray
    var: np.ndarray
    n: np.ndarray


def logrank_test(time, event, group, strata=None) -> LogrankResult:
    """Log-rank test = ``survdiff(Surv(time, event) ~ group [+ strata(strata)])``.

    Parameters
    ----------
    time, event : arrays
        Follow-up time and 0/1 event indicator.
    group : array
        Group labels (k >= 2 groups; sorted as R sorts factor levels).
    strata : array, optional
        Stratification variable: O, E and V are summed over strata.
    """
    time = np.asarray(time, float)
    event = np.asarray(event).astype(float)
    gcodes, glevels = pd.factorize(np.asarray(group), sort=True)
    k = len(glevels)
    if k < 2:
        raise ValueError("logrank_test: need at least two groups")
    if strata is None:
        scodes = np.zeros(time.size, dtype=np.int64)
    else:
        scodes, _ = pd.factorize(np.asarray(strata), sort=True)
    # distinct (stratum, time) blocks
    order = np.lexsort((time, scodes))
    t, s, g, e = time[order], scodes[order], gcodes[order], event[order]
    newblk = np.ones(t.size, bool)
    newblk[1:] = (t[1:] != t[:-1]) | (s[1:] != s[:-1])
    blk = np.cumsum(newblk) - 1
    nb = blk[-1] + 1
    starts = np.flatnonzero(newblk)
    blk_s = s[starts]
    # per block x group: events and counts
    key = blk * k + g
    d_bg = np.bincount(key, weights=e, minlength=nb * k).reshape(nb, k)
    c_bg = np.bincount(key, minlength=nb * k).reshape(nb, k).astype(float)
    # at risk: reverse cumsum within stratum
    rc = np.cumsum(c_bg[::-1], axis=0)[::-1]
    # index of first block of the next stratum
    s_last = np.r_[np.flatnonzero(blk_s[1:] != blk_s[:-1]) + 1, nb]
    nxt = s_last[np.searchsorted(s_last, np.arange(nb), side="right")]
    rc_ext = np.vstack([rc, np.zeros((1, k))])
    n_bg = rc - rc_ext[nxt]
    n_b = n_bg.sum(1)
    d_b = d_bg.sum(1)
    m = d_b > 0
    n_bg, n_b, d_b, d_bg = n_bg[m], n_b[m], d_b[m], d_bg[m]
    frac = n_bg / n_b[:, None]
    exp_ = (d_b[:, None] * frac).sum(0)
    obs = d_bg.sum(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(n_b > 1, d_b * (n_b - d_b) / (n_b - 1), 0.0)
    V = np.einsum("b,bi,ij->ij", w, frac, np.eye(k)) - np.einsum("b,bi,bj->ij", w, frac, frac)
    oe = obs - exp_
    # R: solve on the first k-1 groups (generalised inverse of V)
    vv = V[:-1, :-1]
    try:
        chisq = float(oe[:-1] @ np.linalg.solve(vv, oe[:-1]))
    except np.linalg.LinAlgError:      # no events (V = 0): no test
        chisq = np.nan
    df = k - 1
    n = np.bincount(gcodes, minlength=k)
    return LogrankResult(chisq, df, float(stats.chi2.sf(chisq, df)), list(glevels),
                         obs, exp_, V, n)
