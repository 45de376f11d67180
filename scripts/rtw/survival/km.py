"""Kaplan–Meier estimation as R's ``survival::survfit`` (survival 3.5-3).

Everything here is vectorised numpy.  Conventions follow R:

* ``std_err`` of a :class:`KMFit` is survfit's ``std.err``: the Greenwood standard
  error of the cumulative hazard, i.e. of ``log S(t)``
  (``sqrt(cumsum(d / (n (n - d))))``); :func:`km_at` reports the SE of ``S(t)``
  itself, as ``summary.survfit`` does.
* Pointwise confidence intervals use ``conf.type`` ``"log-log"``, ``"log"`` or
  ``"plain"`` exactly as survival's internal ``survfit_confint`` (bounds are NaN
  where R gives NA: log-log at S = 0 or 1, log at S = 0).
* The median and its CI follow ``print.survfit`` / ``summary(fit)$table``: the
  first time with S(t) <= 0.5 (within sqrt(machine eps)); if S(t) equals 0.5 on a
  flat stretch, the mid-point between the start of that stretch and the next time
  the curve drops below it; the CI from where the lower / upper bands first drop
  to <= 0.5 by the same rule.  Not reached -> NaN with ``reached = False``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rtw.core.stats import z_quantile

CONF_TYPES = ("log-log", "log", "plain")
_TOL = np.sqrt(np.finfo(float).eps)


@dataclass
class KMFit:
    """A Kaplan–Meier curve at every distinct observed time (events and censorings).

    Attributes mirror survfit: ``time``, ``n_risk``, ``n_event``, ``n_censor``,
    ``surv`` and ``std_err`` (SE of log S, survfit's ``std.err``).
    """

    time: np.ndarray
    n_risk: np.ndarray
    n_event: np.ndarray
    n_censor: np.ndarray
    surv: np.ndarray
    std_err: np.ndarray
    n: int

    @property
    def events(self) -> int:
        return int(self.n_event.sum())

    def surv_at(self, t) -> np.ndarray:
        """S(t), right-continuous step function (1 before the first time)."""
        idx = np.searchsorted(self.time, np.asarray(t, float), side="right") - 1
        return np.where(idx >= 0, self.surv[np.maximum(idx, 0)], 1.0)

    def surv_before(self, t) -> np.ndarray:
        """S(t-), the left limit."""
        idx = np.searchsorted(self.time, np.asarray(t, float), side="left") - 1
        return np.where(idx >= 0, self.surv[np.maximum(idx, 0)], 1.0)


def _z(conf_level: float) -> float:
    return float(z_quantile(conf_level))


def kaplan_meier(time, event) -> KMFit:
    """Kaplan–Meier estimate with Greenwood variance, as ``survfit(Surv(time, event) ~ 1)``.

    Parameters
    ----------
    time : array of float
        Follow-up times.
    event : array of {0, 1} or bool
        1 = event, 0 = right-censored.

    Returns
    -------
    KMFit
        One entry per distinct time (R's ``survfit`` ``time`` vector, censored
        times included).
    """
    time = np.asarray(time, float)
    event = np.asarray(event).astype(bool)
    if time.size == 0:
        raise ValueError("kaplan_meier: no observations")
    if np.isnan(time).any():
        raise ValueError("kaplan_meier: missing times")
    ut, inv = np.unique(time, return_inverse=True)
    n_event = np.bincount(inv, weights=event, minlength=ut.size)
    n_total = np.bincount(inv, minlength=ut.size).astype(float)
    n_censor = n_total - n_event
    n_risk = np.cumsum(n_total[::-1])[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(1.0 - n_event / n_risk)
        term = np.where(n_event > 0, n_event / (n_risk * (n_risk - n_event)), 0.0)
    std_err = np.sqrt(np.cumsum(term))
    return KMFit(ut, n_risk, n_event, n_censor, surv, std_err, int(time.size))


def km_confint(surv, std_err, conf_level: float = 0.95, conf_type: str = "log-log"):
    """Pointwise CI for S(t) as survival's ``survfit_confint`` (``logse = TRUE``).

    Parameters
    ----------
    surv, std_err
        S(t) and the SE of log S(t) (survfit's ``std.err``).
    conf_type
        ``"log-log"`` (``exp(-exp(log(-log S) -/+ z se / log S))``),
        ``"log"`` (``S exp(-/+ z se)``, upper capped at 1) or ``"plain"``
        (``S -/+ z se S`` clipped to [0, 1]).

    Returns
    -------
    (lower, upper) arrays; NaN where R returns NA.
    """
    p = np.asarray(surv, float)
    se = np.asarray(std_err, float)
    z = _z(conf_level)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if conf_type == "plain":
            se2 = se * p * z
            return np.maximum(p - se2, 0.0), np.minimum(p + se2, 1.0)
        if conf_type == "log":
            xx = np.where(p == 0, np.nan, p)
            se2 = z * se
            return np.exp(np.log(xx) - se2), np.minimum(np.exp(np.log(xx) + se2), 1.0)
        if conf_type == "log-log":
            xx = np.where((p == 0) | (p == 1), np.nan, p)
            se2 = z * se / np.log(xx)
            lower = np.exp(-np.exp(np.log(-np.log(xx)) - se2))
            upper = np.exp(-np.exp(np.log(-np.log(xx)) + se2))
            return lower, upper
    raise ValueError(f"conf_type must be one of {CONF_TYPES}, got {conf_type!r}")


def _minmin(y, x) -> float:
    """survival:::survmean's ``minmin``: R's median rule on a step curve y(x)."""
    y = np.asarray(y, float)
    x = np.asarray(x, float)
    keep = ~np.isnan(y) & (y < 0.5 + _TOL)
    if not keep.any():
        return np.nan
    x, y = x[keep], y[keep]
    if abs(y[0] - 0.5) < _TOL and (y < y[0]).any():
        return 0.5 * (x[0] + x[np.argmax(y < y[0])])
    return float(x[0])


def km_median(fit: KMFit, conf_level: float = 0.95, conf_type: str = "log-log") -> dict:
    """Median survival time with CI, as ``summary(survfit(...))$table`` / ``print.survfit``.

    Returns
    -------
    dict with ``median``, ``lower``, ``upper`` (NaN when not reached) and
    ``reached`` (bool).  Matches R's ``median``, ``0.95LCL``, ``0.95UCL``.
    """
    lower, upper = km_confint(fit.surv, fit.std_err, conf_level, conf_type)
    med = _minmin(fit.surv, fit.time)
    return {"median": med, "lower": _minmin(lower, fit.time), "upper": _minmin(upper, fit.time),
            "reached": bool(np.isfinite(med))}


def km_at(fit: KMFit, times, conf_level: float = 0.95, conf_type: str = "log-log") -> dict:
    """S(t) at given times with SE and CI, as ``summary(fit, times = t, extend = FALSE)``.

    Times after the last observed time are not estimable: NaN (R drops them).
    ``std_err`` here is the SE of S(t) (``summary.survfit``'s ``std.err``).
    """
    times = np.asarray(times, float)
    idx = np.searchsorted(fit.time, times, side="right") - 1
    ok = times <= fit.time[-1]
    s = np.where(idx >= 0, fit.surv[np.maximum(idx, 0)], 1.0)
    se_log = np.where(idx >= 0, fit.std_err[np.maximum(idx, 0)], 0.0)
    lo, hi = km_confint(s, se_log, conf_level, conf_type)
    # R: before the first time, S = 1 with std.err 0 and CI [1, 1] (no NA there).
    before = idx < 0
    lo = np.where(before, 1.0, lo)
    hi = np.where(before, 1.0, hi)
    nan = np.where(ok, 1.0, np.nan)
    with np.errstate(invalid="ignore"):
        se_s = np.where(np.isfinite(se_log), s * se_log, np.nan)   # S = 0: NA in R
    return {"time": times, "n_risk": number_at_risk_fit(fit, times), "surv": s * nan,
            "std_err": se_s * nan, "lower": lo * nan, "upper": hi * nan}


def number_at_risk_fit(fit: KMFit, times) -> np.ndarray:
    """Number at risk at each time t (observations with time >= t)."""
    times = np.asarray(times, float)
    idx = np.searchsorted(fit.time, times, side="left")
    nr = np.append(fit.n_risk, 0.0)
    return nr[idx].astype(int)


def number_at_risk(time, times) -> np.ndarray:
    """Number with follow-up time >= t, for each t (the table under a KM plot)."""
    t = np.sort(np.asarray(time, float))
    return (t.size - np.searchsorted(t, np.asarray(times, float), side="left")).astype(int)


def km_curve_table(fit: KMFit, conf_level: float = 0.95, conf_type: str = "log-log",
                   include_zero: bool = True) -> dict:
    """Columns for the ``km_curves`` table: one row per distinct time (plus time 0).

    ``std_err`` is the SE of S(t) (Greenwood), bounds as :func:`km_confint`.
    The added time-0 row has S = 1 and CI [1, 1].
    """
    lo, hi = km_confint(fit.surv, fit.std_err, conf_level, conf_type)
    with np.errstate(invalid="ignore"):
        se_s = np.where(np.isfinite(fit.std_err), fit.surv * fit.std_err, np.nan)
    cols = {"time": fit.time, "n_risk": fit.n_risk, "n_event": fit.n_event,
            "n_censor": fit.n_censor, "surv": fit.surv, "std_err": se_s,
            "lower": lo, "upper": hi}
    if include_zero and (fit.time[0] > 0):
        z = {"time": 0.0, "n_risk": float(fit.n), "n_event": 0.0, "n_censor": 0.0,
             "surv": 1.0, "std_err": 0.0, "lower": 1.0, "upper": 1.0}
        cols = {k: np.concatenate([[z[k]], np.asarray(v, float)]) for k, v in cols.items()}
    return cols


def proportion_returned(fit: KMFit, times, conf_level: float = 0.95,
                        conf_type: str = "log-log") -> dict:
    """Cumulative proportion with the event by t, 1 - S(t), with CI (1 - upper, 1 - lower)."""
    a = km_at(fit, times, conf_level, conf_type)
    return {"time": a["time"], "estimate": 1 - a["surv"], "std_err": a["std_err"],
            "lower": 1 - a["upper"], "upper": 1 - a["lower"], "n_risk": a["n_risk"]}
