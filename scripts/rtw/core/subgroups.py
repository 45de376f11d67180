"""Arm-by-subgroup interaction tests and effects within subgroups (SPEC §4 A14), generic in
the model.

A *fitter* takes the analysed rows and a design matrix and returns a :class:`ModelFit`
(coefficients, covariance, log-likelihood): ``rtw.models.subgroups.nb_fitter`` plugs in the
primary NB model (``MASS::glm.nb``) for ``subgroup_nb``, ``rtw.survival.subgroups.cox_fitter``
the Cox model (``survival::coxph``) for ``subgroup_cox``.  This module knows neither model,
so the survival rule does not depend on the count engines nor the regression rule on Cox.

The helpers both subgroup runners share live here too: :func:`subgroup_specs`
(configured subgroups present in the table), :func:`subgroup_rows` (the
estimates rows of one result), :func:`join_notes`, :func:`as_list` and
:data:`FIT_ERRORS` (the errors reported as a NaN row instead of stopping a run).

Rows with a missing subgroup value are dropped (complete case for the subgroup);
their number is given in the notes.

For a subgroup column with L levels (first sorted level the reference):

* main-effects model: arm + adjustment + subgroup dummies;
* interaction model: + ``arm:col[level]`` for the L-1 non-reference levels;
* **interaction test: likelihood ratio** 2 (logLik1 - logLik0) on L-1 df, each
  model with its own ML theta -- ``anova(glm.nb(m0), glm.nb(m1))``
  (``MASS:::anova.negbin``); the joint Wald chi-square of the interaction
  coefficients (using the fitter's covariance) is given in the note;
* effect within level l: exp(b_arm + b_arm:l) with the SE of the sum from the
  interaction model's covariance (the fitter decides model-based or
  cluster-robust).
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from rtw.core import modelframe as mf
from rtw.core.estimates import make_rows
from rtw.core.stats import p_two_sided

log = logging.getLogger(__name__)


@dataclass
class ModelFit:
    """What the subgroup engine needs from any model."""
    params: pd.Series
    cov: pd.DataFrame
    loglik: float
    converged: bool = True
    notes: list[str] = field(default_factory=list)


Fitter = Callable[[pd.DataFrame, pd.DataFrame], ModelFit]

#: Errors of a model fit that are reported (NaN row, reason in ``note``), not raised.
FIT_ERRORS = (ValueError, np.linalg.LinAlgError, RuntimeError, FloatingPointError,
              ZeroDivisionError, KeyError)


def as_list(x) -> list[dict]:
    """A config entry given as nothing, one mapping or a list of mappings, as a list."""
    if x is None:
        return []
    if isinstance(x, dict):
        return [x]
    return list(x)


def join_notes(*notes) -> str:
    """Notes (strings or lists of strings; empty ones skipped) joined by "; ", each once,
    in first-seen order."""
    out = []
    for n in notes:
        if isinstance(n, (list, tuple, set)):
            out.extend(str(x) for x in n if x)
        elif n:
            out.append(str(n))
    seen = []
    for n in out:
        if n not in seen:
            seen.append(n)
    return "; ".join(seen)


@dataclass
class SubgroupResult:
    column: str
    levels: list
    lr_stat: float
    lr_df: int
    lr_p: float
    wald_stat: float
    wald_p: float
    ratio_of_ratios: float | None   # log scale: the interaction coefficient (1 df only)
    ratio_se: float | None
    effects: pd.DataFrame          # level, estimate (log), se, n, events
    notes: list[str]


def subgroup_analysis(df: pd.DataFrame, config: dict, column: str, fitter: Fitter, *,
                      required: Sequence[str], adjust: Sequence[str] = (),
                      intercept: bool = True, events: str | None = None,
                      extra_columns: Sequence[str] = ()) -> SubgroupResult:
    """Interaction LR test and within-subgroup arm effects for one subgroup column.

    Parameters
    ----------
    required : outcome columns that must be non-missing (count; or time + event).
    adjust : adjustment columns (the subgroup column itself is dropped from them).
    intercept : whether the design has an intercept (False for Cox).
    events : column counted as events per level (None: not counted).
    extra_columns : columns of the rows that the fitter needs (cluster, strata).
    """
    if column not in df.columns:
        raise ValueError(f"subgroup column '{column}' not in the analysis table")
    data, n_missing = _complete_rows(df, column, list(required) + list(extra_columns))
    adj = [c for c in adjust if c != column]
    lv = mf.levels(data[column].astype(object))
    notes = []
    if n_missing:
        notes.append(f"{n_missing} row(s) with missing {column} excluded")
    if len(lv) < 2:
        raise ValueError(f"subgroup '{column}' has fewer than two levels in the analysed rows")
    sub = mf.dummies(data[column].astype(object), column, lv)
    arm = mf.arm_indicator(data, config)
    inter = sub.mul(arm, axis=0)
    inter.columns = [f"arm:{c}" for c in sub.columns]
    D0 = mf.build_design(data, config, outcome=None, adjust=adj, intercept=intercept, extra=sub)
    D1 = mf.build_design(data, config, outcome=None, adjust=adj, intercept=intercept,
                         extra=pd.concat([sub, inter], axis=1))
    if not D0.index.equals(D1.index):
        raise RuntimeError("designs differ in rows")
    rows = data.loc[D1.index]
    f0 = fitter(rows, D0.X)
    f1 = fitter(rows, D1.X)
    for f in (f0, f1):
        notes.extend(f.notes)
        if not f.converged:
            notes.append("a subgroup model did not converge or is at a boundary")
    icols = [c for c in D1.X.columns if c.startswith("arm:")]
    lr = 2 * (f1.loglik - f0.loglik)
    dfl = len(icols)
    lr_p = float(stats.chi2.sf(lr, dfl)) if dfl else np.nan
    bi = f1.params[icols].to_numpy()
    Vi = f1.cov.loc[icols, icols].to_numpy()
    wald, wald_p = _joint_wald(bi, Vi, dfl)
    eff = _level_effects(f1, rows, column, lv, events)
    return SubgroupResult(column, lv, float(lr), dfl, lr_p, wald, wald_p,
                          float(bi[0]) if dfl == 1 else None,
                          float(np.sqrt(Vi[0, 0])) if dfl == 1 else None, pd.DataFrame(eff),
                          sorted(set(notes)))


def _complete_rows(df: pd.DataFrame, column: str, needed: Sequence[str]):
    """Rows with every ``needed`` column and the subgroup ``column`` present, and the number
    of rows left out only because ``column`` is missing."""
    keep = pd.Series(True, index=df.index)
    for c in needed:
        keep &= df[c].notna()
    n_missing = int((keep & df[column].isna()).sum())
    keep &= df[column].notna()
    return df.loc[keep], n_missing


def _joint_wald(bi, Vi, dfl: int) -> tuple[float, float]:
    """Joint Wald chi-square b' V^-1 b of the interaction coefficients on ``dfl`` df and its
    p-value (NaN when V is singular)."""
    try:
        wald = float(bi @ np.linalg.solve(Vi, bi))
        wald_p = float(stats.chi2.sf(wald, dfl))
    except np.linalg.LinAlgError:
        wald, wald_p = np.nan, np.nan
    return wald, wald_p


def _level_effects(f1: ModelFit, rows: pd.DataFrame, column: str, lv: list,
                   events: str | None) -> list[dict]:
    """Arm effect within each level: b_arm + b_arm:level (log scale) with the SE of the sum
    from the interaction model's covariance, rows and events in the level."""
    eff = []
    for level in lv:
        w = {"arm": 1.0}
        name = f"arm:{column}[{level}]"
        if name in f1.params.index:
            w[name] = 1.0
        c = pd.Series(0.0, index=f1.params.index)
        for k_, v in w.items():
            c[k_] = v
        est = float(c @ f1.params)
        se = float(math.sqrt(c.to_numpy() @ f1.cov.to_numpy() @ c.to_numpy()))
        in_level = rows[column].astype(object) == level
        eff.append({"level": level, "estimate": est, "se": se, "n": int(in_level.sum()),
                    "events": int(rows.loc[in_level, events].astype(float).sum())
                    if events else None})
    return eff


def subgroup_specs(df: pd.DataFrame, config: dict):
    """(column, name) of each configured ``subgroups`` entry whose column is in ``df``
    (an absent column is skipped with a warning)."""
    for sub in config["subgroups"]:
        col, sname = sub["column"], sub["name"]
        if col not in df.columns:
            log.warning("subgroup column %s absent: skipped", col)
            continue
        yield col, sname


def level_text(level) -> str:
    """A subgroup level as the estimates name it, whatever the column's dtype: an integral
    number is its digits (``0`` and ``0.0`` both ``"0"``), anything else its text."""
    if isinstance(level, (int, float, np.integer, np.floating)) and not isinstance(level, bool) \
            and float(level).is_integer():
        return str(int(level))
    return str(level)


def subgroup_rows(analysis, outcome, sname, res: SubgroupResult, levels, base, *, ratio,
                  test, cluster, events=False) -> list[dict]:
    """Rows of one subgroup result: ``subgroup=<name>:<level>`` effects (exp scale, Wald
    CIs) and the ``interaction=<name>`` LR test."""
    rows = []
    for _, e in res.effects.iterrows():
        z = e["estimate"] / e["se"]
        rows += make_rows(analysis, outcome, f"subgroup={sname}:{level_text(e['level'])}",
                          math.exp(e["estimate"]), std_error=e["se"], conf_levels=levels,
                          scale="log", statistic=z,
                          p_value=float(p_two_sided(z)), n=int(e["n"]),
                          events=int(e["events"]) if events else None, note=base)
    rr = math.exp(res.ratio_of_ratios) if res.ratio_of_ratios is not None else np.nan
    rows += make_rows(analysis, outcome, f"interaction={sname}", rr,
                      std_error=res.ratio_se, scale="log",
                      conf_levels=levels if res.ratio_se is not None else None,
                      statistic=res.lr_stat, p_value=res.lr_p,
                      n=int(res.effects["n"].sum()),
                      events=int(res.effects["events"].sum()) if events else None,
                      note=join_notes(f"likelihood-ratio chi-square, df = {res.lr_df} "
                                      f"({test}); Wald chi-square = {res.wald_stat:.4g}, "
                                      f"p = {res.wald_p:.4g}"
                                      + (f"; estimate = ratio of {ratio} with Wald CI"
                                         if res.lr_df == 1 else ""),
                                      "LR test model-based" if cluster else "", base))
    return rows
