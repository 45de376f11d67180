"""Recurrent-event analyses on (start, stop] long tables, matching R (survival 3.5-3, MASS, sandwich).

One row per at-risk interval of a participant: ``id, start, stop, event`` (event = 1
when the interval ends with a new event, e.g. a new sickness-absence spell).  Gaps
between a participant's intervals (time off work, not at risk) are allowed.

* :func:`andersen_gill` -- ``coxph(Surv(start, stop, event) ~ X, cluster = id)``:
  the counting-process Cox model with cluster-robust SE by participant;
* :func:`pwp` -- Prentice–Williams–Peterson: ``coxph(Surv(start, stop, event) ~ X +
  strata(enum), cluster = id)`` (total time) or ``coxph(Surv(stop - start, event) ~ X +
  strata(enum), cluster = id)`` (gap time), ``enum`` the spell number
  (:func:`spell_number`);
* :func:`spell_rates` -- events per person-time: ``MASS::glm.nb(n ~ X +
  offset(log(time)))`` (model-based SE) and ``glm(n ~ X + offset(log(time)), family =
  poisson)`` with ``sandwich::vcovHC(fit, type = "HC0")``;
* :func:`mean_cumulative_function` -- the mean cumulative function by group: the
  Nelson–Aalen estimator ``sum d(t) / Y(t)`` over (start, stop] risk sets, with the
  robust (Lawless–Nadeau) variance = ``survfit(Surv(start, stop, event) ~ arm, id =
  id)``'s ``cumhaz`` and ``std.chaz`` (the infinitesimal-jackknife variance summed by
  id, survfit's default when ``id`` is given); :func:`mcf_difference` the between-group
  difference at ``tau`` with a normal CI (independent groups).

The Cox fits are :func:`rtw.survival.cox.fit_cox` with ``start``; the count models are
:mod:`rtw.models.counts`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rtw.core.stats import p_two_sided, wald_ci, z_quantile
from rtw.models.counts import GLMFit, fit_nb, fit_poisson
from rtw.survival.cox import CoxResult, fit_cox


def _long_arrays(start, stop, event, id_):
    """Float start/stop, 0/1 event and the id array, equal lengths, no missing values."""
    start = np.asarray(start, float)
    stop = np.asarray(stop, float)
    event = np.asarray(event).astype(float)
    id_ = np.asarray(id_)
    if not (start.size == stop.size == event.size == id_.size):
        raise ValueError("start, stop, event and id lengths differ")
    if np.isnan(start).any() or np.isnan(stop).any() or pd.isna(id_).any():
        raise ValueError("missing start, stop or id values")
    if (stop <= start).any():
        raise ValueError(f"stop must be > start ({int((stop <= start).sum())} row(s))")
    if not np.isin(event, (0.0, 1.0)).all():
        raise ValueError("event must be 0/1")
    return start, stop, event, id_


def spell_number(id_, start, event) -> np.ndarray:
    """Spell number of each interval: 1 + the number of the participant's earlier events
    (R's ``enum`` of ``bladder2``), rows ordered by ``start`` within ``id``.

    Returns an int array in the input row order.
    """
    id_ = np.asarray(id_)
    start = np.asarray(start, float)
    event = np.asarray(event).astype(np.int64)
    code = pd.factorize(id_)[0]
    order = np.lexsort((start, code))
    ev = event[order]
    c = code[order]
    cs = np.cumsum(ev) - ev                          # events strictly before, overall
    first = np.r_[True, c[1:] != c[:-1]]
    base = np.maximum.accumulate(np.where(first, cs, 0))
    out = np.empty(id_.size, np.int64)
    out[order] = cs - base + 1
    return out


def andersen_gill(start, stop, event, X, id_, strata=None, ties: str = "efron",
                  names=None) -> CoxResult:
    """Andersen–Gill Cox model with cluster-robust SE by participant.

    = ``coxph(Surv(start, stop, event) ~ X + strata(strata), cluster = id, ties = ties)``:
    coef, robust ``var`` (naive in ``naive_var``), loglik, LR / robust Wald / score and
    robust score tests, as :func:`rtw.survival.cox.fit_cox`.
    """
    start, stop, event, id_ = _long_arrays(start, stop, event, id_)
    return fit_cox(stop, event, X, strata=strata, cluster=id_, ties=ties, names=names,
                   start=start)


def pwp(start, stop, event, X, id_, timescale: str = "total", spell=None,
        max_spell: int | None = None, ties: str = "efron", names=None) -> CoxResult:
    """Prentice–Williams–Peterson model: strata by spell number, robust SE by participant.

    ``timescale="total"``: ``coxph(Surv(start, stop, event) ~ X + strata(enum), cluster = id)``;
    ``"gap"``: ``coxph(Surv(stop - start, event) ~ X + strata(enum), cluster = id)``.

    Parameters
    ----------
    spell : array, optional
        Spell number per row (R's ``enum``); :func:`spell_number` when omitted.
    max_spell : int, optional
        Pool spells ``>= max_spell`` into one stratum (``strata(pmin(enum, max_spell))``).
    """
    if timescale not in ("total", "gap"):
        raise ValueError("timescale must be 'total' or 'gap'")
    start, stop, event, id_ = _long_arrays(start, stop, event, id_)
    enum = spell_number(id_, start, event) if spell is None else np.asarray(spell, np.int64)
    if max_spell is not None:
        enum = np.minimum(enum, int(max_spell))
    if timescale == "total":
        return fit_cox(stop, event, X, strata=enum, cluster=id_, ties=ties, names=names,
                       start=start)
    return fit_cox(stop - start, event, X, strata=enum, cluster=id_, ties=ties, names=names)


# --------------------------------------------------------------------------- #
# Event rates (negative binomial and Poisson with a person-time offset)
# --------------------------------------------------------------------------- #
def person_time_counts(id_, start, stop, event, tau: float | None = None) -> pd.DataFrame:
    """Per participant: the number of events and the time at risk (sum of ``stop - start``),
    with intervals cut at ``tau`` when given (events after ``tau`` not counted).

    Returns a DataFrame indexed by id (sorted) with columns ``events``, ``person_time``;
    participants with no time at risk before ``tau`` are left out.
    """
    start, stop, event, id_ = _long_arrays(start, stop, event, id_)
    if tau is not None:
        keep = start < tau
        start, stop, event, id_ = start[keep], stop[keep], event[keep], id_[keep]
        event = np.where(stop <= tau, event, 0.0)
        stop = np.minimum(stop, tau)
    code, levels = pd.factorize(id_, sort=True)
    G = len(levels)
    return pd.DataFrame({"events": np.bincount(code, weights=event, minlength=G).astype(np.int64),
                         "person_time": np.bincount(code, weights=stop - start, minlength=G)},
                        index=pd.Index(levels, name="id"))


@dataclass
class RateFit:
    """Spell-rate models: ``table`` (model, term, coef, se, rate_ratio, lower, upper, p),
    the fits (``nb``: glm.nb, ``poisson``: Poisson GLM whose ``se`` in the table is HC0)
    and the per-participant ``counts``."""

    table: pd.DataFrame
    nb: GLMFit
    poisson: GLMFit
    counts: pd.DataFrame
    conf_level: float


def _rate_rows(model: str, coef: pd.Series, se: np.ndarray, level: float) -> pd.DataFrame:
    lo, hi = wald_ci(coef.to_numpy(), se, level)
    z = coef.to_numpy() / se
    return pd.DataFrame({"model": model, "term": coef.index, "coef": coef.to_numpy(), "se": se,
                         "rate_ratio": np.exp(coef.to_numpy()), "lower": np.exp(lo),
                         "upper": np.exp(hi), "p": p_two_sided(z)})


def spell_rates(counts: pd.DataFrame, X: pd.DataFrame, conf_level: float = 0.95) -> RateFit:
    """Rate of events per person-time by negative binomial and Poisson regression.

    ``MASS::glm.nb(events ~ X + offset(log(person_time)))`` (SE conditional on theta,
    as ``summary``) and ``glm(..., family = poisson)`` with ``sandwich::vcovHC(fit, type =
    "HC0")``; Wald CIs of the rate ratios ``exp(coef -/+ q se)``.

    Parameters
    ----------
    counts : DataFrame
        :func:`person_time_counts` (index id; ``events``, ``person_time`` > 0).
    X : DataFrame
        Per-participant covariates (no intercept; factors as dummies), indexed by id;
        reindexed to ``counts`` (an id of ``counts`` missing from ``X`` is an error).
    """
    missing = counts.index.difference(X.index)
    if len(missing):
        raise ValueError(f"spell_rates: {len(missing)} id(s) without covariates, e.g. {missing[0]!r}")
    if (counts["person_time"] <= 0).any():
        raise ValueError("spell_rates: person_time must be > 0")
    Xd = X.loc[counts.index].astype(float)
    Xd.insert(0, "(Intercept)", 1.0)
    y = counts["events"].to_numpy()
    off = np.log(counts["person_time"].to_numpy(float))
    nb = fit_nb(Xd, y, offset=off)
    po = fit_poisson(Xd, y, offset=off)
    table = pd.concat([
        _rate_rows("negbin", nb.params, np.sqrt(np.diag(nb.cov.to_numpy())), conf_level),
        _rate_rows("poisson_hc0", po.params, np.sqrt(np.diag(po.vcov_hc0().to_numpy())), conf_level),
    ], ignore_index=True)
    return RateFit(table=table, nb=nb, poisson=po, counts=counts, conf_level=conf_level)


# --------------------------------------------------------------------------- #
# Mean cumulative function (Nelson–Aalen with the robust variance by id)
# --------------------------------------------------------------------------- #
def _interval_sum(lo: np.ndarray, hi: np.ndarray, w: np.ndarray, m: int) -> np.ndarray:
    """``out[k] = sum of w over rows with lo <= k < hi`` for k = 0..m-1 (difference
    array and cumulative sum)."""
    keep = hi > lo
    acc = np.bincount(lo[keep], weights=w[keep], minlength=m + 1)
    acc -= np.bincount(hi[keep], weights=w[keep], minlength=m + 1)
    return np.cumsum(acc)[:m]


def _robust_mcf_variance(T, C, Y, start, stop, event, code) -> np.ndarray:
    """survfit's infinitesimal-jackknife variance of the Nelson–Aalen estimate summed by
    id (Lawless–Nadeau), at each time of ``T``, without an ids x times matrix.

    A row's influence on H(t) is ``sum_{t_j <= t} [dN_i(t_j) - Y_i(t_j) dN(t_j) / Y(t_j)] /
    Y(t_j)``.  Summed over an id's rows (ordered by start) it equals ``K_m - C(t)`` while
    the id is at risk in its m-th interval (s_m < t < e_m; C = cumsum(dN / Y^2)) and the
    constant ``L_m`` from e_m up to the next entry; both are cumulative sums over the id's
    rows, and the sum of squares over ids at each t is collected by difference arrays.
    """
    m = T.size
    order = np.lexsort((start, code))
    s, e, d, c = start[order], stop[order], event[order], code[order]
    js = np.searchsorted(T, s, side="right")           # first grid time > s
    je = np.searchsorted(T, e, side="left")            # index of e in T
    Cs = np.where(js > 0, C[np.maximum(js - 1, 0)], 0.0)
    inc = Cs - C[je] + d / Y[je]
    cs = np.cumsum(inc)
    first = np.r_[True, c[1:] != c[:-1]]
    head = np.maximum.accumulate(np.where(first, np.arange(c.size), 0))
    L = cs - (cs - inc)[head]                          # cumulative sum within id
    K = L - inc + Cs
    last = np.r_[c[1:] != c[:-1], True]
    s_next = np.r_[s[1:], np.inf]
    hi2 = np.where(last, m, np.searchsorted(T, s_next, side="right"))
    q0 = _interval_sum(js, je, np.ones_like(K), m)
    q1 = _interval_sum(js, je, K, m)
    q2 = _interval_sum(js, je, K * K, m)
    post = _interval_sum(je, hi2, L * L, m)
    return np.maximum(q2 - 2 * C * q1 + C * C * q0 + post, 0.0)


def _mcf_one(start, stop, event, code) -> pd.DataFrame:
    """Nelson–Aalen MCF of one group at its distinct stop times (survfit's rows)."""
    T, tidx = np.unique(stop, return_inverse=True)
    n = stop.size
    Y = (n - np.searchsorted(np.sort(stop), T, side="left")
         - (n - np.searchsorted(np.sort(start), T, side="left"))).astype(float)
    d = np.bincount(tidx, weights=event, minlength=T.size)
    cens = np.bincount(tidx, weights=1 - event, minlength=T.size)
    H = np.cumsum(d / Y)
    C = np.cumsum(d / (Y * Y))
    var = _robust_mcf_variance(T, C, Y, start, stop, event, code)
    return pd.DataFrame({"time": T, "n_risk": Y.astype(np.int64), "n_event": d.astype(np.int64),
                         "n_censor": cens.astype(np.int64), "mcf": H, "se": np.sqrt(var)})


def _mcf_ci(mcf, se, level: float, conf_type: str):
    """Pointwise CI: ``"log"`` = ``mcf * exp(-/+ q se / mcf)`` (0 where the MCF is 0),
    ``"plain"`` = ``mcf -/+ q se``."""
    q = z_quantile(level)
    if conf_type == "plain":
        return mcf - q * se, mcf + q * se
    if conf_type != "log":
        raise ValueError("conf_type must be 'log' or 'plain'")
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(mcf > 0, np.exp(q * se / np.where(mcf > 0, mcf, 1.0)), 1.0)
    return mcf / f, mcf * f


@dataclass
class MCFResult:
    """Mean cumulative function by group: ``table`` (group, time, n_risk, n_event,
    n_censor, mcf, se, lower, upper), one row per distinct stop time of each group."""

    table: pd.DataFrame
    groups: list
    conf_level: float
    conf_type: str

    def at(self, tau: float) -> pd.DataFrame:
        """MCF, SE and CI per group at ``tau`` (the step function's value: the last time
        <= tau; 0 before the first), as ``summary(survfit, times = tau)``."""
        rows = []
        for g in self.groups:
            tb = self.table[self.table["group"] == g]
            k = np.searchsorted(tb["time"].to_numpy(), tau, side="right") - 1
            mcf, se = (0.0, 0.0) if k < 0 else (tb["mcf"].iloc[k], tb["se"].iloc[k])
            lo, hi = _mcf_ci(np.array([mcf]), np.array([se]), self.conf_level, self.conf_type)
            rows.append({"group": g, "tau": tau, "mcf": mcf, "se": se,
                         "lower": float(lo[0]), "upper": float(hi[0])})
        return pd.DataFrame(rows)


def mean_cumulative_function(start, stop, event, id_, group=None, conf_level: float = 0.95,
                             conf_type: str = "log") -> MCFResult:
    """Mean cumulative function (expected number of events per participant by t) by group.

    = ``survfit(Surv(start, stop, event) ~ group, id = id)``: ``cumhaz`` (Nelson–Aalen,
    ``ctype = 1``) and ``std.chaz`` (robust: infinitesimal jackknife summed by id, i.e.
    the Lawless–Nadeau variance of the MCF), ``n.risk``, ``n.event``, ``n.censor`` at
    each distinct stop time.  Pointwise CIs on the log scale (``conf_type="log"``) or
    plain.  Groups in sorted order (R's factor levels).
    """
    start, stop, event, id_ = _long_arrays(start, stop, event, id_)
    code = pd.factorize(id_)[0]
    gcode, glev = pd.factorize(np.zeros(stop.size) if group is None else np.asarray(group),
                               sort=True)
    parts = []
    for k, g in enumerate(glev):
        sel = gcode == k
        t = _mcf_one(start[sel], stop[sel], event[sel], code[sel])
        t.insert(0, "group", g)
        parts.append(t)
    table = pd.concat(parts, ignore_index=True)
    table["lower"], table["upper"] = _mcf_ci(table["mcf"].to_numpy(), table["se"].to_numpy(),
                                             conf_level, conf_type)
    return MCFResult(table=table, groups=list(glev), conf_level=conf_level, conf_type=conf_type)


def mcf_difference(res: MCFResult, tau: float, group, reference,
                   conf_level: float | None = None) -> dict:
    """Difference in the MCF at ``tau``, ``group`` minus ``reference``: SE
    ``sqrt(se1^2 + se0^2)`` (independent groups), normal CI and two-sided p."""
    level = res.conf_level if conf_level is None else conf_level
    at = res.at(tau).set_index("group")
    d = float(at.loc[group, "mcf"] - at.loc[reference, "mcf"])
    se = float(np.hypot(at.loc[group, "se"], at.loc[reference, "se"]))
    lo, hi = wald_ci(d, se, level)
    return {"tau": tau, "difference": d, "se": se, "lower": float(lo), "upper": float(hi),
            "p": float(p_two_sided(d / se)) if se > 0 else np.nan, "conf_level": level}
