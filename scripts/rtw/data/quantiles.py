"""Negative binomial quantiles, the values of ``scipy.stats.nbinom.ppf``, faster when many
values share their parameters.

The generator's days off are NB quantiles of the copula's uniforms
(:func:`rtw.data.generator.days_off_model`); ``scipy.stats.nbinom.ppf`` (Boost's
root-finding on the incomplete beta function, about 1.4 microseconds a value) is most of
a power-simulation replicate's generation.  When the values have few distinct
``(size, prob)`` pairs (a model without prognostic covariates: one mean per arm),
:func:`nbinom_ppf` tabulates the CDF of each pair once (``scipy.stats.nbinom.cdf`` at
0, 1, 2, ... until it passes the largest q of the pair) and finds each quantile by
binary search: the smallest k with ``cdf(k) >= q``, scipy's definition, from scipy's
own CDF values.  Otherwise, and for a q within rounding of a CDF value or above
1 - 1e-10 (where the CDF is flat in double precision and Boost's root-finding works on
the upper tail), it is ``scipy.stats.nbinom.ppf``.
tests/data/test_quantiles.py compares the two on millions of values.
"""
from __future__ import annotations

import numpy as np
from scipy import stats

#: Use the tables when there are at least this many values per distinct parameter pair.
VALUES_PER_TABLE = 64
#: q this close to a CDF value (or above 1 - 1e-10, where the CDF is flat in double
#: precision and scipy uses the upper tail) is left to scipy.
TIE = 1e-12


def _table_quantiles(q, size: float, prob: float) -> np.ndarray:
    """Quantiles of ``q`` (0 < q < 1) for one ``(size, prob)`` by a CDF table; NaN where
    q is within rounding of a CDF value (scipy's root-finding decides those)."""
    top = q.max()
    K = 64
    while True:
        F = stats.nbinom.cdf(np.arange(K), size, prob)
        if F[-1] >= top or K > 1 << 22:
            break
        K *= 4
    k = np.searchsorted(F, q, side="left")
    inside = k < K
    kk = np.minimum(k, K - 1)
    at = F[kk]
    before = np.where(kk > 0, F[np.maximum(kk - 1, 0)], 0.0)
    clear = inside & (at - q > TIE) & (q - before > TIE)
    return np.where(clear, k, np.nan)


def _groups(size, prob):
    """Distinct ``(size, prob)`` pairs and each value's pair index."""
    if size.size and np.all(size == size[0]):
        pr, inv = np.unique(prob, return_inverse=True)
        return np.c_[np.full(pr.size, size[0]), pr], inv
    return np.unique(np.c_[size, prob], axis=0, return_inverse=True)


def nbinom_ppf(q, size, prob) -> np.ndarray:
    """``scipy.stats.nbinom.ppf(q, size, prob)`` (float array, broadcast shapes).

    Parameters
    ----------
    q : probabilities; size : NB size (theta); prob : success probability
        ``size / (size + mean)``.
    """
    q, size, prob = np.broadcast_arrays(*(np.asarray(a, float) for a in (q, size, prob)))
    shape = q.shape
    q, size, prob = q.ravel(), size.ravel(), prob.ravel()
    out = np.full(q.size, np.nan)
    where = np.flatnonzero((q > 0) & (q < 1 - 1e-10) & np.isfinite(size) & np.isfinite(prob))
    if where.size:
        pairs, inv = _groups(size[where], prob[where])
        if len(pairs) * VALUES_PER_TABLE <= where.size:
            order = np.argsort(inv, kind="stable")
            bounds = np.searchsorted(inv[order], np.arange(len(pairs) + 1))
            for g, (sz, pr) in enumerate(pairs):
                rows = where[order[bounds[g]:bounds[g + 1]]]
                out[rows] = _table_quantiles(q[rows], sz, pr)
    rest = np.isnan(out)
    if rest.any():
        out[rest] = stats.nbinom.ppf(q[rest], size[rest], prob[rest])
    return out.reshape(shape)
