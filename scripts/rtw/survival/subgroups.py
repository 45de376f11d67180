"""Cox arm-by-subgroup analysis of the first time-to-event outcome (SPEC §4 A14,
analysis ``subgroup_cox``).

:func:`cox_fitter` plugs the Cox model (``survival::coxph``; design without
intercept; log partial likelihood as ``loglik``) into the generic subgroup engine
:func:`rtw.core.subgroups.subgroup_analysis`, so the interaction test is
``anova(coxph(m0), coxph(m1))``.  :func:`subgroup_cox_rows` gives the rows that
:func:`rtw.survival.runner.run_time_to_event` adds to the estimates of the
first ``outcomes.time_to_event`` entry when ``subgroups`` are configured:
cause-specific Cox (event = ``event == event_value``; competing events and
everything else censored; ``survival.ties``, default Efron), adjusted for the
stratification factors and covariates without the subgroup column, and
``practice_effect`` as in the regression runners (fixed practice dummies, or
``coxph(cluster = )`` robust SEs with a model-based LR test).  No baseline-hazard
stratification.  Rows with a missing subgroup value are dropped (count in ``note``).
"""
from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd

from rtw.core import modelframe as mf
from rtw.core.estimates import make_rows
from rtw.core import subgroups as sg
from rtw.survival.cox import fit_cox

log = logging.getLogger(__name__)


def cox_fitter(time: str, event: str, cluster: str | None = None,
               ties: str = "efron") -> sg.Fitter:
    """Fitter for a Cox model = ``coxph(Surv(time, event) ~ X, ties = ties)``; with
    ``cluster`` the covariance is coxph's robust ``cluster = `` variance (the log partial
    likelihood, hence the LR test, is the same either way)."""

    def fit(rows: pd.DataFrame, X: pd.DataFrame) -> sg.ModelFit:
        names = list(X.columns)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            f = fit_cox(rows[time].to_numpy(float), rows[event].to_numpy(float),
                        X.to_numpy(float), cluster=rows[cluster].to_numpy() if cluster else None,
                        ties=ties, names=names)
        notes = []
        if f.infinite is not None and f.infinite.any():
            notes.append("coefficient(s) may be infinite (monotone likelihood): "
                         + ", ".join(np.asarray(names)[f.infinite]))
        return sg.ModelFit(pd.Series(f.coef, index=names),
                           pd.DataFrame(f.var, index=names, columns=names), float(f.loglik[1]),
                           bool(f.converged and not (f.infinite is not None and f.infinite.any())),
                           notes)

    fit.intercept = False
    return fit


def is_subgroup_outcome(config: dict, outcome: dict) -> bool:
    """Whether ``subgroups`` are configured and ``outcome`` is the first
    ``outcomes.time_to_event`` entry (the one ``subgroup_cox`` is about)."""
    tte = config["outcomes"]["time_to_event"]
    return bool(tte) and bool(config["subgroups"]) and tte[0]["name"] == outcome["name"]


def _with_cause_specific_event(df: pd.DataFrame, outcome: dict) -> pd.DataFrame:
    """A copy of ``df`` with ``_sg_time`` (float) and ``_sg_event`` (1.0 = the event,
    0.0 = censored or competing, NaN where the event column is missing)."""
    rows = df.copy()
    time = pd.to_numeric(rows[outcome["time"]], errors="coerce")
    event = pd.to_numeric(rows[outcome["event"]], errors="coerce")
    rows["_sg_time"] = time.astype(float)
    rows["_sg_event"] = np.where(event.isna(), np.nan,
                                 (event == outcome["event_value"]).astype(float))
    return rows


def _model_note(outcome: dict, ties: str) -> str:
    ecol, comp = outcome["event"], outcome["competing_value"]
    return (f"cause-specific Cox, event = {ecol} == {outcome['event_value']}"
            + (f" (competing {ecol} == {comp} censored)" if comp is not None else "")
            + f"; {ties} ties")


def subgroup_cox_rows(df: pd.DataFrame, config: dict, outcome: dict) -> list[dict]:
    """``subgroup_cox`` rows of ``outcome`` (none unless :func:`is_subgroup_outcome`):
    per configured subgroup the HR within each level (``subgroup=<name>:<level>``) and
    the interaction LR test (``interaction=<name>``), at every CI level; a subgroup
    whose models cannot be fitted gives a NaN ``interaction`` row."""
    if not is_subgroup_outcome(config, outcome):
        return []
    tcol, ecol = outcome["time"], outcome["event"]
    if tcol not in df.columns or ecol not in df.columns:
        log.warning("time-to-event columns %s / %s absent: no subgroup_cox", tcol, ecol)
        return []
    # CI levels and practice handling as the regression runners (rtw.models.runner)
    levels = [float(x) for x in config["conf_levels"]]
    fixed, cluster, pnote = mf.practice_handling(df, config)
    ties = str(config["survival"]["ties"])
    rows_in = _with_cause_specific_event(df, outcome)
    adjust = mf.adjustment_columns(config, rows_in)
    if fixed:
        adjust = adjust + [fixed]
    fitter = cox_fitter("_sg_time", "_sg_event", cluster, ties=ties)
    cnote = ("robust SE clustered by " + cluster + " (coxph cluster = " + cluster + ")"
             if cluster else pnote)
    enote = _model_note(outcome, ties)
    rows: list[dict] = []
    arm = rows_in["arm"].astype("string")
    none = [a for a in mf.arm_labels(config)
            if not (rows_in.loc[arm == a, "_sg_event"] == 1).any()]
    for col, sname in sg.subgroup_specs(rows_in, config):
        if none:    # a Cox model needs events in both arms
            rows += make_rows("subgroup_cox", outcome["name"], f"interaction={sname}", np.nan,
                              note=f"not estimable: no events in arm {', '.join(none)}")
            continue
        try:
            res = sg.subgroup_analysis(rows_in, config, col, fitter,
                                       required=["_sg_time", "_sg_event"], adjust=adjust,
                                       intercept=False, events="_sg_event",
                                       extra_columns=[cluster] if cluster else [])
        except sg.FIT_ERRORS as exc:
            log.warning("subgroup_cox %s failed: %s", sname, exc)
            rows += make_rows("subgroup_cox", outcome["name"], f"interaction={sname}", np.nan,
                              note=f"not estimable: {exc}")
            continue
        rows += sg.subgroup_rows("subgroup_cox", outcome["name"], sname, res, levels,
                                 sg.join_notes(enote, cnote, res.notes), ratio="HRs",
                                 test="anova.coxph", cluster=cluster, events=True)
    return rows
