"""Transition-specific Cox models for multi-state data, matching R survival 3.5-3's
multi-state ``coxph(Surv(start, stop, to) ~ x, id = id, istate = from)``.

R fits one stratum per observed transition a -> b with its own coefficient for each
covariate (``x_1:2`` ...): the risk set of a -> b holds the intervals spent in state a,
an event being an interval that ends with entry to b.  The strata share no baseline
hazard and no coefficient, so the joint partial likelihood is the sum of one
counting-process Cox model per transition: :func:`transition_cox` fits those one at a
time (:func:`rtw.survival.cox.fit_cox` with ``start``), which gives R's coefficients,
naive variance (block diagonal), log-likelihoods and score test; the robust variance
is R's ``D'D`` with ``D`` the dfbeta residuals of all transitions summed by id, so its
cross-transition covariances equal R's too.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from rtw.core.stats import p_two_sided, wald_ci
from rtw.survival.cox import CoxResult, fit_cox, score_residuals


def current_state(id_, start, to, initial_state, censored_value) -> np.ndarray:
    """The state occupied during each interval (R's ``istate``): ``initial_state`` for a
    participant's first interval (by ``start``), afterwards the last state entered
    (the latest earlier ``to`` that is not ``censored_value``)."""
    id_ = np.asarray(id_)
    to = np.asarray(to, dtype=object)
    code = pd.factorize(id_)[0]
    order = np.lexsort((np.asarray(start, float), code))
    c, t = code[order], to[order]
    idx = np.arange(c.size)
    head = np.maximum.accumulate(np.where(np.r_[True, c[1:] != c[:-1]], idx, 0))
    valid = t != censored_value
    last = np.maximum.accumulate(np.where(valid, idx, -1))
    prev = np.r_[-1, last[:-1]]                        # last valid row strictly before
    frm = np.where(prev >= head, t[np.maximum(prev, 0)], initial_state)
    out = np.empty(c.size, dtype=object)
    out[order] = frm
    return out


def observed_transitions(frm, to, states, censored_value) -> list[tuple]:
    """Observed transitions (from, to), ordered as R's ``cmap`` columns: by the target
    state, then the origin, in ``states`` order (a move to the same state is none)."""
    pos = {s: i for i, s in enumerate(states)}
    pairs = pd.DataFrame({"f": frm, "t": to})
    pairs = pairs[(pairs.t != censored_value) & (pairs.t != pairs.f)].drop_duplicates()
    unknown = (set(pairs.f) | set(pairs.t)) - set(states)
    if unknown:
        raise ValueError(f"states not in the state list: {sorted(map(str, unknown))}")
    return sorted(zip(pairs.f, pairs.t), key=lambda ft: (pos[ft[1]], pos[ft[0]]))


@dataclass
class TransitionCoxResult:
    """Transition-specific Cox fits: ``table`` (one row per transition and term: from,
    to, transition as R's ``"1:2"``, term, coef, se (robust), naive_se, hr, lower,
    upper, p, n_events, n_intervals), ``fits`` per transition, the joint robust ``var``
    (R's ``fit$var``, columns in table order), ``loglik`` (initial, final) and the
    joint ``lr_test``, ``score_test`` and robust ``wald_test`` ``(stat, df, p)``."""

    table: pd.DataFrame
    fits: dict
    var: np.ndarray
    naive_var: np.ndarray
    loglik: tuple
    lr_test: tuple
    score_test: tuple
    wald_test: tuple
    n: int
    nevent: int
    conf_level: float


def _fit_transition(a, b, frm, to, start, stop, X, id_, ties, names):
    rows = np.flatnonzero(frm == a)
    fit = fit_cox(stop[rows], (to[rows] == b).astype(float), X[rows], cluster=id_[rows],
                  ties=ties, names=names, start=start[rows])
    return rows, fit


def _rows(a, b, label, fit: CoxResult, n_intervals: int, level: float) -> pd.DataFrame:
    se = fit.se
    lo, hi = wald_ci(fit.coef, se, level)
    return pd.DataFrame({"from": a, "to": b, "transition": label, "term": fit.names,
                         "coef": fit.coef, "se": se, "naive_se": np.sqrt(np.diag(fit.naive_var)),
                         "hr": np.exp(fit.coef), "lower": np.exp(lo), "upper": np.exp(hi),
                         "p": p_two_sided(fit.coef / se), "n_events": fit.nevent,
                         "n_intervals": n_intervals})


def _chi(stat: float, df: int) -> tuple:
    return (float(stat), int(df), float(stats.chi2.sf(stat, df)))


def transition_cox(id_, start, stop, to, X, names=None, states=None,
                   censored_value="censored", from_state=None, initial_state=None,
                   ties: str = "efron", conf_level: float = 0.95) -> TransitionCoxResult:
    """Arm (covariate) effects on each transition of a multi-state process.

    = ``coxph(Surv(start, stop, to) ~ X, id = id, istate = from_state, ties = ties)``
    with ``to`` a factor whose first level is the censoring value: per transition the
    coefficients, robust SE (by id) and naive SE, hazard ratios with Wald CIs (robust).

    Parameters
    ----------
    to : array
        State entered at ``stop``, or ``censored_value``.
    X : array (n, p)
        Covariates (e.g. the arm as 0/1), the same model for every transition.
    states : list, optional
        State order (R's state numbering); sorted states when omitted.
    from_state : array, optional
        State during each interval; :func:`current_state` from ``initial_state`` when omitted.
    """
    start, stop = np.asarray(start, float), np.asarray(stop, float)
    to, id_ = np.asarray(to, dtype=object), np.asarray(id_)
    X = np.asarray(X, float).reshape(stop.size, -1)
    p = X.shape[1]
    names = list(names) if names is not None else [f"x{j + 1}" for j in range(p)]
    frm = (current_state(id_, start, to, initial_state, censored_value) if from_state is None
           else np.asarray(from_state, dtype=object))
    if states is None:
        states = sorted(set(frm) | (set(to) - {censored_value}), key=str)
    pos = {s: i + 1 for i, s in enumerate(states)}
    ccode, clev = pd.factorize(id_, sort=True)
    fits, parts, D = {}, [], []
    for a, b in observed_transitions(frm, to, states, censored_value):
        rows, fit = _fit_transition(a, b, frm, to, start, stop, X, id_, ties, names)
        label = f"{pos[a]}:{pos[b]}"
        fits[(a, b)] = fit
        parts.append(_rows(a, b, label, fit, rows.size, conf_level))
        dfb = score_residuals(fit) @ fit.naive_var
        D.append(np.column_stack([np.bincount(ccode[rows], weights=dfb[:, j], minlength=len(clev))
                                  for j in range(p)]))
    return _joint(fits, parts, np.hstack(D), stop.size, conf_level)


def _joint(fits: dict, parts: list, D: np.ndarray, n: int, level: float) -> TransitionCoxResult:
    """The joint model's variance, log-likelihoods and tests from the per-transition fits."""
    V = D.T @ D
    blocks = [f.naive_var for f in fits.values()]
    k = sum(b.shape[0] for b in blocks)
    naive = np.zeros((k, k))
    i = 0
    for b in blocks:
        naive[i:i + b.shape[0], i:i + b.shape[0]] = b
        i += b.shape[0]
    ll0 = sum(f.loglik[0] for f in fits.values())
    ll = sum(f.loglik[1] for f in fits.values())
    beta = np.concatenate([f.coef for f in fits.values()])
    return TransitionCoxResult(
        table=pd.concat(parts, ignore_index=True), fits=fits, var=V, naive_var=naive,
        loglik=(ll0, ll), lr_test=_chi(2 * (ll - ll0), k),
        score_test=_chi(sum(f.score_test[0] for f in fits.values()), k),
        wald_test=_chi(float(beta @ np.linalg.solve(V, beta)), k), n=n,
        nevent=sum(f.nevent for f in fits.values()), conf_level=level)
