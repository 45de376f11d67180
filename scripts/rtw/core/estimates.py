"""The tidy estimates contract (SPEC §5): one row per estimate and CI level.

Every analysis returns a list of rows built with :func:`make_rows` (or a
DataFrame with :data:`COLUMNS`); the ``combine_estimates`` rule concatenates
them into ``results/tables/estimates.csv`` sorted by :func:`sort_estimates`
so that the file is byte-identical from run to run.

Naming conventions (documented for users in config/README.md):

* ``analysis``: a stable snake_case name of the method, e.g. ``descriptive``,
  ``km_median``, ``km_proportion``, ``logrank``, ``logrank_stratified``,
  ``cox_unadjusted``, ``cox_adjusted``, ``cox_zph``, ``rmst``, ``cif``,
  ``gray_test``, ``fine_gray``, ``weibull_ic``, ``nb_primary``, ``zinb``,
  ``hurdle_nb``, ``poisson_robust``, ``mi_nb``, ``nb_per_protocol``, ``cace``,
  ``tipping_point``, ``ancova``, ``lmm``, ``logistic``, ``gcomp_rd``, ``gcomp_rr``,
  ``subgroup_nb``, ``subgroup_cox``, ``delivery``.
* ``outcome``: the outcome's ``name`` from config (``days_off``, ``first_rtw``...).
* ``population``: ``itt`` | ``pp`` | ``cc`` (complete case) | ``mi``.
* ``term``: ``arm`` for the intervention-vs-control contrast (HR, IRR, OR,
  difference; the control arm is the reference, from config); a covariate's
  column name (``condition_group[mental_health]`` for a level) for other
  coefficients; ``key=value`` pairs joined by ``;`` for per-arm or per-time
  quantities: ``arm=usual_care``, ``arm=usual_care;t=42``,
  ``arm=usual_care;stat=mean``, ``subgroup=sex:female``, ``interaction=sex``,
  ``global`` for a global test.
* Ratios are reported on the ratio scale with ``std_error`` the SE of the log
  ratio (as R's ``summary()``); ``statistic`` is the Wald z (or chi-square,
  named in ``note``) and ``p_value`` two-sided.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from rtw.core.stats import wald_ci

COLUMNS = [
    "analysis", "outcome", "population", "term", "estimate", "std_error",
    "conf_level", "conf_low", "conf_high", "statistic", "p_value", "n",
    "events", "note",
]

#: Sort order used when combining: stable, independent of rule run order.
SORT_KEYS = ["analysis", "outcome", "population", "term", "conf_level"]

#: Significant digits written to CSV (float_format); enough for 1e-9 checks.
FLOAT_FORMAT = "%.10g"


def _nan(x):
    return np.nan if x is None else x


def make_rows(
    analysis: str,
    outcome: str,
    term: str,
    estimate: float,
    *,
    population: str = "itt",
    std_error: float | None = None,
    conf_levels: Sequence[float] | None = None,
    ci: dict | None = None,
    scale: str = "identity",
    statistic: float | None = None,
    p_value: float | None = None,
    n: int | None = None,
    events: int | None = None,
    note: str = "",
    df: float | None = None,
) -> list[dict]:
    """Rows of the tidy table for one estimate, one row per CI level.

    Parameters
    ----------
    estimate, std_error
        On the *reporting* scale.  With ``scale="log"`` the estimate is a ratio
        (HR, IRR, OR) and ``std_error`` is the SE of its logarithm, as R's
        ``summary(coxph)`` ``se(coef)``; Wald CIs are then ``exp(log(est) ± z se)``.
    conf_levels
        Levels for Wald CIs computed here (normal, or t with ``df``).
    ci
        Alternatively, CIs computed by the method itself: ``{level: (low, high)}``
        (e.g. log-log KM intervals, profile likelihood).  Takes precedence.
    """
    rows = []
    levels = list(ci.keys()) if ci else list(conf_levels or [])
    if not levels:
        levels = [np.nan]
    for level in levels:
        low = high = np.nan
        if ci and level in ci:
            low, high = ci[level]
        elif std_error is not None and np.isfinite(std_error) and np.isfinite(level):
            if scale != "log" or (estimate is not None and estimate > 0):
                low, high = wald_ci(estimate, std_error, level, log=scale == "log", df=df)
        rows.append({
            "analysis": analysis, "outcome": outcome, "population": population,
            "term": term, "estimate": _nan(estimate), "std_error": _nan(std_error),
            "conf_level": level, "conf_low": low, "conf_high": high,
            "statistic": _nan(statistic), "p_value": _nan(p_value),
            "n": _nan(n), "events": _nan(events), "note": note or "",
        })
    return rows


def to_frame(rows: Iterable[dict] | pd.DataFrame) -> pd.DataFrame:
    """Rows (or a frame) as a DataFrame with exactly :data:`COLUMNS`."""
    df = pd.DataFrame(list(rows)) if not isinstance(rows, pd.DataFrame) else rows.copy()
    for c in COLUMNS:
        if c not in df.columns:
            df[c] = "" if c == "note" else np.nan
    df = df[COLUMNS]
    df["note"] = df["note"].fillna("").astype(str)
    for c in ["n", "events"]:
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("Int64")
    return df


def sort_estimates(df: pd.DataFrame) -> pd.DataFrame:
    """Deterministic order: by the key columns, keeping within-analysis order stable."""
    df = to_frame(df)
    df = df.assign(_order=np.arange(len(df)))
    df = df.sort_values(["analysis", "outcome", "population", "_order"], kind="mergesort")
    return df.drop(columns="_order").reset_index(drop=True)


def write_estimates(df: pd.DataFrame | Iterable[dict], path) -> None:
    """Write a tidy estimates table (CSV, fixed float format, LF line ends)."""
    from rtw.core.io import atomic_write_csv
    atomic_write_csv(to_frame(df), path, float_format=FLOAT_FORMAT)


def read_estimates(path) -> pd.DataFrame:
    """Read an estimates CSV written by :func:`write_estimates`."""
    df = pd.read_csv(path, keep_default_na=True, na_values=[""])
    return to_frame(df)
