"""Cox models of many replicates at once (power simulation): one discrete covariate.

:func:`fit_cox_batch` fits ``coxph(Surv(time, event) ~ x, ties = "efron")`` (or Breslow)
to each of R replicates of n rows, with ``x`` taking a few values (e.g. arm 0/1), as
:func:`rtw.survival.cox.fit_cox` fits one: Newton-Raphson from 0 with coxph's step
halving and its stopping rule ``|1 - loglik_old / loglik| <= eps`` (1e-9), at most
``max_iter`` (20) iterations, model-based variance = the inverse information at the
final coefficient.  The iterations are array operations over the replicates, with a
per-replicate convergence mask.

With one covariate of L values, the partial likelihood depends on the data only through,
at each distinct event time, the number at risk and the number of events at each value:
``S_m = sum_l n_l v_l^m exp(beta v_l)`` and ``D_m = sum_l d_l v_l^m exp(beta v_l)``;
Efron's ``k``-th death of a tie of ``d`` has denominator ``S_0 - (k/d) D_0`` (Breslow:
``S_0``).  These counts are made once per batch (ranks of the times within each
replicate); each Newton step then costs O(events), not O(n), per replicate.

Replicates whose path could differ from the single fit's -- a log-likelihood comparison
within rounding of coxph's criterion or of a step-halving decision, a zero information,
no convergence, a coefficient drifting to infinity (coxph's check; the value then depends
on rounding) -- are flagged ``single`` for :func:`rtw.survival.cox.fit_cox` alone.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rtw.core.stats import p_two_sided

#: Most distinct covariate values the batch handles.
MAX_LEVELS = 16
#: coxph's criterion (or a halving comparison) this close to its threshold, relative, goes
#: to the single fit.
CRIT_BAND = 1e-3


@dataclass
class _RiskSets:
    """One row per distinct event time of each replicate: its replicate ``tr``, the numbers
    at risk ``n`` (E, L) and of events ``d`` (E, L) at each covariate value ``v`` (L,); one
    Efron entry per event (its event time ``et``, fraction ``ef = k/d``); the sum of x over
    the events of each replicate ``xsum`` (R,)."""
    tr: np.ndarray
    n: np.ndarray
    d: np.ndarray
    v: np.ndarray
    et: np.ndarray
    ef: np.ndarray
    xsum: np.ndarray


def _risk_sets(time, event, x, ties: str) -> _RiskSets:
    """Ranks of the times within each replicate, numbers at risk and events by rank and
    covariate value (reverse cumulative sums), kept at the ranks with events; Efron entries."""
    R, n = time.shape
    v = np.unique(x)
    if len(v) > MAX_LEVELS:
        raise ValueError(f"fit_cox_batch: the covariate takes {len(v)} values "
                         f"(at most {MAX_LEVELS})")
    lev = np.searchsorted(v, x)
    L = len(v)
    order = np.argsort(time, axis=1, kind="stable")
    ts = np.take_along_axis(time, order, axis=1)
    rank_sorted = np.concatenate([np.zeros((R, 1), np.int64),
                                  np.cumsum(ts[:, 1:] != ts[:, :-1], axis=1)], axis=1)
    rank = np.empty_like(rank_sorted)
    np.put_along_axis(rank, order, rank_sorted, axis=1)
    idx = ((np.arange(R)[:, None] * n + rank) * L + lev).ravel()
    at = np.bincount(idx, minlength=R * n * L).reshape(R, n, L).astype(float)
    d = np.bincount(idx, weights=event.ravel(), minlength=R * n * L).reshape(R * n, L)
    risk = np.cumsum(at[:, ::-1], axis=1)[:, ::-1].reshape(R * n, L)
    dt = d.sum(axis=1)
    keep = np.flatnonzero(dt > 0)
    dk = dt[keep].astype(np.int64)
    et = np.repeat(np.arange(keep.size), dk)
    k = np.arange(et.size) - np.repeat(np.cumsum(dk) - dk, dk)
    ef = k / np.repeat(dk, dk).astype(float) if ties == "efron" else np.zeros(et.size)
    xsum = np.bincount(keep // n, weights=d[keep] @ v, minlength=R)
    return _RiskSets(keep // n, risk[keep], d[keep], v, et, ef, xsum)


def _evaluate(rs: _RiskSets, beta: np.ndarray):
    """Log partial likelihood, score and information (R,) at ``beta`` (R,)."""
    R = len(beta)
    e = np.exp(beta[rs.tr, None] * rs.v[None, :])               # (E, L)
    S = [(rs.n * e * rs.v ** m).sum(axis=1) for m in range(3)]
    D = [(rs.d * e * rs.v ** m).sum(axis=1) for m in range(3)]
    t, f = rs.et, rs.ef
    den = S[0][t] - f * D[0][t]
    a1 = (S[1][t] - f * D[1][t]) / den
    a2 = (S[2][t] - f * D[2][t]) / den
    er = rs.tr[t]
    ll = beta * rs.xsum - np.bincount(er, weights=np.log(den), minlength=R)
    U = rs.xsum - np.bincount(er, weights=a1, minlength=R)
    info = np.bincount(er, weights=a2 - a1 * a1, minlength=R)
    return ll, U, info


@dataclass
class CoxBatch:
    """Result of :func:`fit_cox_batch`: ``coef``, ``var`` (model-based), ``std_error``,
    ``p_value`` (Wald), ``converged`` and ``single`` (left to the single fit; NaN) per
    replicate."""
    coef: np.ndarray
    var: np.ndarray
    std_error: np.ndarray
    p_value: np.ndarray
    converged: np.ndarray
    single: np.ndarray


def _newton(rs: _RiskSets, R: int, eps: float, max_iter: int):
    """coxph's ``coxfit6`` Newton-Raphson with step halving per replicate (as
    :func:`rtw.survival.cox._newton_raphson`).  Returns ``(beta, info, converged, single)``;
    an infinite coefficient (coxph.fit's ``|U / I| > eps`` and ``> sqrt(eps) |beta|``) is
    ``single``."""
    beta = np.zeros(R)
    ll_old, U, info = _evaluate(rs, beta)
    single = ~(info > 0) | ~np.isfinite(info)
    newbeta = beta + np.where(single, 0.0, U / np.where(single, 1.0, info))
    halving = np.zeros(R, bool)
    conv = np.zeros(R, bool)
    fin_info, fin_U = info.copy(), U.copy()
    work = np.flatnonzero(~single)
    for it in range(1, max_iter + 1):
        if not len(work):
            break
        ll, U, info = (a[work] for a in _evaluate(rs, newbeta))
        fin_info[work], fin_U[work] = info, U
        with np.errstate(divide="ignore", invalid="ignore"):
            c = np.abs(1 - ll_old[work] / ll) / eps
        near = np.abs(c - 1) < CRIT_BAND
        tie = np.abs(ll - ll_old[work]) <= 1e-12 * np.abs(ll)
        done = ~halving[work] & (c <= 1)
        single[work] |= (~halving[work] & near) | (~done & tie) | ~np.isfinite(ll) | (info <= 0)
        conv[work] = done
        go = ~done & ~single[work] & (it < max_iter)
        down = go & (ll < ll_old[work])
        up = go & ~down
        w_d, w_u = work[down], work[up]
        newbeta[w_d] = (newbeta[w_d] + beta[w_d]) / 2
        halving[w_d], halving[w_u] = True, False
        ll_old[w_u], beta[w_u] = ll[up], newbeta[w_u]
        newbeta[w_u] = newbeta[w_u] + U[up] / info[up]
        work = work[go]
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.abs(fin_U / fin_info)        # coxph.fit's check for an infinite coefficient
    single |= ~conv | ((step > eps) & (step > np.sqrt(eps) * np.abs(newbeta)))
    return newbeta, fin_info, conv, single


def fit_cox_batch(time, event, x, ties: str = "efron", eps: float = 1e-9,
                  max_iter: int = 20) -> CoxBatch:
    """``coxph(Surv(time, event) ~ x, ties = ties)`` of each of R replicates, as
    :func:`rtw.survival.cox.fit_cox` fits one.

    Parameters
    ----------
    time, event, x : (R, n) arrays (event 1 = event, 0 = censored; ``x`` with at most
        :data:`MAX_LEVELS` distinct values, e.g. arm 0/1).
    ties : "efron" (coxph's default) or "breslow".
    eps, max_iter : ``coxph.control``'s ``eps`` and ``iter.max``.

    Returns
    -------
    CoxBatch (the model-based variance ``1 / I(beta)``, Wald p).
    """
    if ties not in ("efron", "breslow"):
        raise ValueError("ties must be 'efron' or 'breslow'")
    time, event, x = (np.asarray(a, float) for a in (time, event, x))
    if np.isnan(time).any() or np.isnan(x).any():
        raise ValueError("fit_cox_batch: missing values")
    rs = _risk_sets(time, event, x, ties)
    beta, info, conv, single = _newton(rs, time.shape[0], eps, max_iter)
    with np.errstate(divide="ignore", invalid="ignore"):
        var = np.where(single, np.nan, 1.0 / info)
        coef = np.where(single, np.nan, beta)
        se = np.sqrt(var)
        p = p_two_sided(coef / se)
    return CoxBatch(coef, var, se, p, conv & ~single, single)
