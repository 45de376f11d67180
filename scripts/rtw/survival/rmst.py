"""Restricted mean survival time (RMST) as R's ``print(survfit(...), rmean = tau)``.

The RMST up to tau is the area under the Kaplan–Meier curve on [0, tau]; its
standard error is survival's ``survmean`` formula (not lifelines', which is the
SD of min(T, tau), see lifelines issue 1682)::

    hh = d / (n (n - d))  (0 when n == d),   rectangles_i = (t_i - t_{i-1}) S(t_{i-1})
    var = sum_i (area from t_i to tau)^2 hh_i

The between-arm difference uses independent arms: se = sqrt(se1^2 + se0^2),
Wald z and two-sided p.
"""
from __future__ import annotations

import numpy as np

from rtw.survival.km import KMFit, kaplan_meier
from rtw.core.stats import p_two_sided, wald_ci


def rmst_from_fit(fit: KMFit, tau: float) -> dict:
    """RMST and its SE up to ``tau`` from a KM fit = ``summary(fit, rmean = tau)$table``.

    Returns
    -------
    dict with ``rmst`` and ``se`` (R's ``rmean`` and ``se(rmean)``), ``tau``.
    """
    time, surv = fit.time, fit.surv
    nr, ne = fit.n_risk, fit.n_event
    with np.errstate(divide="ignore", invalid="ignore"):
        hh = np.where(nr - ne == 0, 0.0, ne / (nr * (nr - ne)))
    keep = time <= tau
    if not keep.any():
        temptime = np.array([tau])
        tempsurv = np.array([1.0])
        hh = np.array([0.0])
    else:
        temptime = np.r_[time[keep], tau]
        tempsurv = np.r_[surv[keep], surv[keep][-1]]
        hh = np.r_[hh[keep], 0.0]
    delta = np.diff(np.r_[0.0, temptime])
    rect = delta * np.r_[1.0, tempsurv[:-1]]
    varmean = float(np.sum(np.cumsum(rect[1:][::-1]) ** 2 * hh[::-1][1:]))
    return {"rmst": float(rect.sum()), "se": float(np.sqrt(varmean)), "tau": float(tau)}


def rmst(time, event, tau: float) -> dict:
    """RMST of one group up to ``tau`` (see :func:`rmst_from_fit`)."""
    return rmst_from_fit(kaplan_meier(time, event), tau)


def rmst_difference(r1: dict, r0: dict, conf_levels=(0.95,)) -> dict:
    """Difference ``r1 - r0`` of two independent RMSTs with Wald CIs and p."""
    est = r1["rmst"] - r0["rmst"]
    se = float(np.hypot(r1["se"], r0["se"]))
    z = est / se if se > 0 else np.nan
    ci = {lv: wald_ci(est, se, lv) for lv in conf_levels}
    return {"estimate": est, "se": se, "z": z,
            "p_value": float(p_two_sided(z)) if np.isfinite(z) else np.nan, "ci": ci}


def default_tau(times_by_arm) -> float:
    """tau when not configured: the smallest of the arms' largest follow-up times
    (the last time at which every arm still has someone observed)."""
    return float(min(np.max(t) for t in times_by_arm))
