"""Recurrent-event and multi-state outcomes by arm (SPEC §9): the analyses of one
``outcomes.recurrent`` or ``outcomes.multistate`` entry, as rows of the tidy estimates table.

The long table comes from :func:`rtw.data.longtables.read_long_table` (one row per (start,
stop] interval, joined to the analysis table's arm and model columns).  The models adjust for
the SAP's adjustment set (stratification factors, then covariates:
:func:`rtw.core.modelframe.adjustment_columns`), as ``cox_adjusted`` does; participants missing
an adjustment value are left out (complete cases, counted in ``n``).

Analyses (``analysis`` column; terms as in :mod:`rtw.core.estimates`):

==========================  =====================================  ===============================
analysis                    term                                   estimate
==========================  =====================================  ===============================
``ag_cox``                  ``arm``                                HR, Andersen-Gill, robust SE
``pwp_total``               ``arm``                                HR, PWP total time, robust SE
``pwp_gap``                 ``arm``                                HR, PWP gap time, robust SE
``event_rate``              ``arm=<label>;stat=rate``              events per person-time unit
``rate_nb``                 ``arm``                                rate ratio, glm.nb, offset
``rate_poisson``            ``arm``                                rate ratio, Poisson, HC0 SE
``mcf``                     ``arm=<label>;t=<tau>``                mean number of events by tau
``mcf_difference``          ``t=<tau>``                            difference in the MCF at tau
``state_probability``       ``arm=<label>;state=<s>;t=<t>``        probability of being in s at t
``state_time``              ``arm=<label>;state=<s>``              expected time in s up to tau
``state_time_difference``   ``state=<s>``                          difference in expected time
``transition_cox``          ``from=<a>;to=<b>``                    HR of the arm on a -> b
==========================  =====================================  ===============================

Each engine is validated against R survival 3.5-3 (tests/survival/test_recurrent.py,
test_multistate.py); the functions here only choose the data, the model and the rows.
"""
from __future__ import annotations

import contextlib
import logging
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rtw.core.estimates import make_rows, to_frame
from rtw.core.stats import p_two_sided
from rtw.core.timescale import round_times, singular, summary_times
from rtw.core.modelframe import adjustment_columns, arm_labels, build_design
from rtw.survival.multistate import aalen_johansen, pstate_at, rmean_difference
from rtw.survival.recurrent import (andersen_gill, mcf_difference, mean_cumulative_function,
                                    person_time_counts, pwp, spell_rates)
from rtw.survival.transitions import transition_cox

log = logging.getLogger(__name__)

#: columns of the curves each outcome writes beside its estimates
MCF_COLUMNS = ["arm", "time", "n_risk", "n_event", "n_censor", "mcf", "se", "lower", "upper"]
STATE_COLUMNS = ["arm", "time", "state", "n_risk", "pstate", "std_err", "lower", "upper"]
RISK_COLUMNS = ["arm", "time", "n_risk"]


def _num(x) -> str:
    """A time in a term: integral values without decimals (``t=182``, ``t=6.5``)."""
    x = float(x)
    return str(int(x)) if x.is_integer() else f"{x:g}"


@dataclass(frozen=True)
class LongData:
    """One long outcome ready for its analyses: the intervals of the participants with a
    complete design (``long``), their design ``X`` per interval (arm first, then the
    adjustment columns as dummies), the per-participant design ``Xp`` (index participant id),
    the horizon ``tau`` and the notes shared by the rows."""

    entry: dict
    config: dict
    long: pd.DataFrame
    X: pd.DataFrame
    Xp: pd.DataFrame
    arms: tuple
    tau: float
    adjust: list
    left_out: int

    @property
    def level(self) -> float:
        return float(self.config["conf_levels"][0])

    @property
    def name(self) -> str:
        return self.entry["name"]

    def adjustment(self) -> str:
        return ("adjusted for " + ", ".join(self.adjust)) if self.adjust else "unadjusted"


def prepare_long(long: pd.DataFrame, analysis: pd.DataFrame, config: dict,
                 entry: dict) -> LongData:
    """The complete-case design of a long outcome.

    Parameters
    ----------
    long : DataFrame
        :func:`rtw.data.longtables.read_long_table` output (``participant_id``, ``start``,
        ``stop``, ``event`` or ``state``/``to``, ``arm`` ...).
    analysis : DataFrame
        The analysis table (one row per participant), for the design.
    config : dict
        The validated config (``trial.arms``, ``conf_levels``, adjustment set).
    entry : dict
        The ``outcomes.recurrent`` / ``outcomes.multistate`` item.
    """
    adjust = adjustment_columns(config, analysis)
    design = build_design(analysis, config, outcome=None, adjust=adjust, arm=True,
                          intercept=False)
    Xp = design.X.copy()
    Xp.index = analysis.loc[design.index, "participant_id"].astype(str).to_numpy()
    ids = long["participant_id"].astype(str)
    keep = ids.isin(Xp.index).to_numpy()
    kept = long.loc[keep].reset_index(drop=True)
    X = Xp.loc[kept["participant_id"].astype(str)].reset_index(drop=True)
    tau = entry["tau"]
    if tau is None:
        tau = float(kept["stop"].max()) if len(kept) else float("nan")
    control, intervention = arm_labels(config)
    return LongData(entry=entry, config=config, long=kept, X=X, Xp=Xp,
                    arms=(control, intervention), tau=float(tau), adjust=list(adjust),
                    left_out=int(ids[~keep].nunique()))


@contextlib.contextmanager
def _warnings_to_log(what: str):
    """Warnings of a fit go to the job's log (and so to results/warnings.csv), once each,
    not to the terminal."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for message in dict.fromkeys(str(w.message) for w in caught):
        log.warning("%s: %s", what, message)


def _infinite(fit) -> str:
    """``"; coefficient(s) may be infinite: x"`` for a Cox fit with monotone likelihood in
    an adjustment term (as R's coxph warning), else ``""``."""
    inf = np.asarray(fit.infinite if fit.infinite is not None else [], bool)
    names = [n for n, flag in zip(fit.names, inf) if flag]
    return ("; coefficient(s) may be infinite: " + ", ".join(names)) if names else ""


def _not_estimable(analysis: str, name: str, term: str, reason: str, n: int) -> list[dict]:
    return make_rows(analysis, name, term, np.nan, n=n, note=f"not estimable: {reason}")


def _events_by_arm(d: LongData, event: np.ndarray) -> dict:
    return {a: int(event[d.long["arm"].astype(str).to_numpy() == a].sum()) for a in d.arms}


def _why_not(d: LongData, event: np.ndarray) -> str | None:
    """The reason a model of the arm cannot be fitted, or None."""
    if len(d.long) == 0:
        return "no intervals with complete data"
    for a, k in _events_by_arm(d, event).items():
        if k == 0:
            return f"no events in arm {a}"
    return None


def _cox_rows(analysis: str, d: LongData, fit, note: str, n_id: int, events: int,
              term: str = "arm") -> list[dict]:
    j = fit.names.index("arm")
    beta, se = float(fit.coef[j]), float(fit.se[j])
    return make_rows(analysis, d.name, term, float(np.exp(beta)), std_error=se,
                     conf_levels=d.config["conf_levels"], scale="log", statistic=beta / se,
                     p_value=float(p_two_sided(beta / se)), n=n_id, events=events, note=note)


def recurrent_cox_analyses(d: LongData) -> list[dict]:
    """``ag_cox``, ``pwp_total`` and ``pwp_gap``: the arm's hazard ratio of an event,
    ``coxph(Surv(start, stop, event) ~ arm + adjustment, cluster = id)`` (Andersen-Gill) and
    with ``strata(event number)`` on the total and the gap time scale (Prentice-Williams-
    Peterson), robust SE by participant, Efron ties."""
    lg = d.long
    event = lg["event"].to_numpy(float)
    n_id = int(lg["participant_id"].nunique())
    why = _why_not(d, event)
    models = (("ag_cox", "Andersen-Gill Cox model"),
              ("pwp_total", "Prentice-Williams-Peterson Cox model, total time, strata by event number"),
              ("pwp_gap", "Prentice-Williams-Peterson Cox model, gap time, strata by event number"))
    rows = []
    for analysis, words in models:
        if why:
            rows += _not_estimable(analysis, d.name, "arm", why, n_id)
            continue
        args = (lg["start"].to_numpy(float), lg["stop"].to_numpy(float), event,
                d.X.to_numpy(float), lg["participant_id"].astype(str).to_numpy())
        with _warnings_to_log(f"{d.name} {analysis}"):
            if analysis == "ag_cox":
                fit = andersen_gill(*args, ties="efron", names=list(d.X.columns))
            else:
                fit = pwp(*args, timescale=analysis.split("_")[1], spell=lg["spell"].to_numpy(),
                          ties="efron", names=list(d.X.columns))
        note = f"{words}; robust SE by participant; {d.adjustment()}{_infinite(fit)}"
        rows += _cox_rows(analysis, d, fit, note, n_id, int(event.sum()))
    return rows


def rate_analyses(d: LongData) -> list[dict]:
    """``event_rate`` per arm (events / person-time up to tau) and the rate ratios
    ``rate_nb`` (``MASS::glm.nb(events ~ arm + adjustment + offset(log(person_time)))``) and
    ``rate_poisson`` (Poisson GLM with ``sandwich::vcovHC(type = "HC0")``)."""
    lg = d.long
    counts = person_time_counts(lg["participant_id"].astype(str).to_numpy(), lg["start"],
                                lg["stop"], lg["event"], tau=d.tau)
    arm_of = lg.groupby(lg["participant_id"].astype(str))["arm"].first().astype(str)
    rows = []
    for a in d.arms:
        c = counts[arm_of.reindex(counts.index).to_numpy() == a]
        pt, ev = float(c["person_time"].sum()), int(c["events"].sum())
        rate = ev / pt if pt > 0 else np.nan
        se = np.sqrt(ev) / pt if pt > 0 and ev > 0 else np.nan
        rows += make_rows("event_rate", d.name, f"arm={a};stat=rate", rate, std_error=se,
                          n=len(c), events=ev, note=f"events per {singular(d.entry['time_unit'])} "
                          f"at risk up to {_num(d.tau)} {d.entry['time_unit']} (crude; "
                          f"person-time {pt:.10g}; SE sqrt(events) / person-time)")
    why = _why_not(d, lg["event"].to_numpy(float))
    if why:
        for analysis in ("rate_nb", "rate_poisson"):
            rows += _not_estimable(analysis, d.name, "arm", why, len(counts))
        return rows
    with _warnings_to_log(f"{d.name} rate models"):
        fit = spell_rates(counts, d.Xp, conf_level=d.level)
    for model, analysis, words in (("negbin", "rate_nb", "negative binomial (glm.nb), SE "
                                    "conditional on theta"),
                                   ("poisson_hc0", "rate_poisson", "Poisson, robust SE (HC0)")):
        r = fit.table[(fit.table["model"] == model) & (fit.table["term"] == "arm")].iloc[0]
        rows += make_rows(analysis, d.name, "arm", float(r["rate_ratio"]),
                          std_error=float(r["se"]), conf_levels=d.config["conf_levels"],
                          scale="log", statistic=float(r["coef"] / r["se"]),
                          p_value=float(r["p"]), n=len(counts), events=int(counts["events"].sum()),
                          note=f"rate ratio, {words}, offset log(person-time) up to "
                               f"{_num(d.tau)}; {d.adjustment()}")
    return rows


def mcf_analysis(d: LongData) -> tuple[list[dict], pd.DataFrame]:
    """``mcf``: the mean cumulative function (expected number of events per participant) by
    arm at tau, ``survfit(Surv(start, stop, event) ~ arm, id = id)``'s Nelson-Aalen
    ``cumhaz`` with the robust (Lawless-Nadeau) SE and log CI; ``mcf_difference`` at tau
    (independent arms).  Returns the rows and the curves (one row per arm and time)."""
    lg = d.long
    rows = []
    if len(lg) == 0:
        return _not_estimable("mcf_difference", d.name, f"t={_num(d.tau)}",
                              "no intervals with complete data", 0), \
            pd.DataFrame(columns=MCF_COLUMNS)
    fits = {float(level): mean_cumulative_function(
        lg["start"], lg["stop"], lg["event"], lg["participant_id"].astype(str),
        group=lg["arm"].astype(str), conf_level=float(level), conf_type="log")
        for level in d.config["conf_levels"]}
    for level, res_l in fits.items():
        at = res_l.at(d.tau).set_index("group")
        for a in d.arms:
            if a not in at.index:
                continue
            rows += make_rows("mcf", d.name, f"arm={a};t={_num(d.tau)}", float(at.loc[a, "mcf"]),
                              std_error=float(at.loc[a, "se"]),
                              ci={level: (float(at.loc[a, "lower"]), float(at.loc[a, "upper"]))},
                              n=int(lg.loc[lg["arm"].astype(str) == a, "participant_id"].nunique()),
                              note="mean cumulative function (Nelson-Aalen), robust SE by "
                                   "participant (Lawless-Nadeau), log CI")
    res = fits[d.level]
    rows += _mcf_difference_rows(d, res)
    curves = res.table.rename(columns={"group": "arm"})[MCF_COLUMNS]
    return rows, curves


def _mcf_difference_rows(d: LongData, res) -> list[dict]:
    control, intervention = d.arms
    if not {control, intervention} <= set(res.groups):
        return _not_estimable("mcf_difference", d.name, f"t={_num(d.tau)}",
                              "an arm has no intervals", int(d.long["participant_id"].nunique()))
    diff = mcf_difference(res, d.tau, intervention, control)
    return make_rows("mcf_difference", d.name, f"t={_num(d.tau)}", diff["difference"],
                     std_error=diff["se"], conf_levels=d.config["conf_levels"],
                     statistic=diff["difference"] / diff["se"] if diff["se"] > 0 else np.nan,
                     p_value=diff["p"], n=int(d.long["participant_id"].nunique()),
                     note=f"difference in the mean number of events by {_num(d.tau)} "
                          f"{d.entry['time_unit']}, {intervention} minus {control}; SE from "
                          "the arms' robust SEs")


def at_risk(long: pd.DataFrame, arms, times) -> pd.DataFrame:
    """Participants at risk by arm at each of ``times``: intervals with start < t <= stop
    (survfit's ``n.risk`` at t, as ``summary(fit, times = t)``); at t = 0 those with
    start <= 0 < stop.  Used for the number-at-risk rows under the figures' time axis."""
    start, stop = long["start"].to_numpy(float), long["stop"].to_numpy(float)
    arm = long["arm"].astype(str).to_numpy()
    ids = long["participant_id"].astype(str).to_numpy()
    rows = []
    for a in arms:
        sel = arm == a
        for t in times:
            inside = sel & (((start < t) & (t <= stop)) if t > 0 else ((start <= 0) & (0 < stop)))
            rows.append({"arm": a, "time": float(t), "n_risk": int(np.unique(ids[inside]).size)})
    return pd.DataFrame(rows, columns=RISK_COLUMNS)


def risk_times(entry: dict, tau: float) -> list[float]:
    """The times of the number-at-risk rows: the round times up to tau that the figures label
    (:func:`rtw.core.timescale.round_times`)."""
    return [float(t) for t in round_times(tau, entry["time_unit"]) if t <= tau + 1e-9]


def run_recurrent(long: pd.DataFrame, analysis: pd.DataFrame, config: dict,
                  entry: dict) -> dict:
    """Every analysis of one recurrent-event outcome: ``estimates`` (tidy rows), the MCF
    ``curves`` (:data:`MCF_COLUMNS`) and the numbers ``at_risk`` (:func:`at_risk`)."""
    d = prepare_long(long, analysis, config, entry)
    rows = recurrent_cox_analyses(d) + rate_analyses(d)
    mcf_rows, curves = mcf_analysis(d)
    return {"estimates": to_frame(rows + mcf_rows), "curves": curves,
            "at_risk": at_risk(d.long, d.arms, risk_times(entry, d.tau)), "tau": d.tau}


# --------------------------------------------------------------------------- multi-state
def _state_fit(d: LongData, level: float):
    lg = d.long
    e = d.entry
    return aalen_johansen(lg["start"].to_numpy(float), lg["stop"].to_numpy(float),
                          lg["to"].to_numpy(object), lg["participant_id"].astype(str).to_numpy(),
                          e["initial_state"], e["states"], group=lg["arm"].astype(str).to_numpy(),
                          censored=e["censored_value"], tau=d.tau, conf_level=level,
                          conf_type="log")


def state_times(entry: dict, tau: float) -> list[float]:
    """The times of the state probability rows: config ``times``, else three round times up to
    tau (:func:`rtw.core.timescale.summary_times`)."""
    return [float(t) for t in entry["times"]] or summary_times(tau, entry["time_unit"])


def state_occupation_analyses(d: LongData) -> tuple[list[dict], pd.DataFrame]:
    """``state_probability`` at the chosen times, ``state_time`` (expected time in each state
    up to tau: the ``rmean`` of ``survfit(Surv(start, stop, to) ~ arm, id = id, istate)``)
    and ``state_time_difference`` per state; returns the rows and the curves."""
    rows, curves = [], pd.DataFrame(columns=STATE_COLUMNS)
    if len(d.long) == 0:
        return rows, curves
    times = state_times(d.entry, d.tau)
    for k, level in enumerate(d.config["conf_levels"]):
        fit = _state_fit(d, float(level))
        for a in d.arms:
            if a in fit.groups:
                rows += _state_rows(d, fit.curve(a), a, times, float(level))
        if set(d.arms) <= set(fit.groups):
            rows += _rmean_difference_rows(d, fit, float(level))
        if k == 0:
            curves = _state_curves(fit)
    return rows, curves


def _state_rows(d: LongData, curve, arm: str, times, level: float) -> list[dict]:
    rows = []
    at = pstate_at(curve, times)
    for j, s in enumerate(curve.states):
        for i, t in enumerate(times):
            p = float(at["pstate"][i, j])
            note = "Aalen-Johansen, robust (infinitesimal jackknife) SE, log CI"
            if not np.isfinite(p):
                note = f"not estimable: {_num(t)} is beyond the arm's last follow-up time"
            rows += make_rows("state_probability", d.name, f"arm={arm};state={s};t={_num(t)}", p,
                              std_error=float(at["std_err"][i, j]),
                              ci={level: (float(at["lower"][i, j]), float(at["upper"][i, j]))},
                              n=curve.n_id, note=note)
        rows += make_rows("state_time", d.name, f"arm={arm};state={s}", float(curve.rmean[j]),
                          std_error=float(curve.rmean_se[j]), conf_levels=[level], n=curve.n_id,
                          note=f"expected time in the state up to {_num(d.tau)} "
                               f"{d.entry['time_unit']} (survfit rmean), robust SE")
    return rows


def _rmean_difference_rows(d: LongData, fit, level: float) -> list[dict]:
    control, intervention = d.arms
    diff = rmean_difference(fit.curve(intervention), fit.curve(control), conf_level=level)
    rows = []
    for j, s in enumerate(fit.states):
        se = float(diff.se[j])
        rows += make_rows("state_time_difference", d.name, f"state={s}", float(diff.estimate[j]),
                          std_error=se, ci={level: (float(diff.lower[j]), float(diff.upper[j]))},
                          statistic=float(diff.estimate[j]) / se if se > 0 else np.nan,
                          p_value=float(diff.p_value[j]),
                          n=fit.curve(intervention).n_id + fit.curve(control).n_id,
                          note=f"difference in expected time in the state up to {_num(d.tau)} "
                               f"{d.entry['time_unit']}, {intervention} minus {control}")
    return rows


def _state_curves(fit) -> pd.DataFrame:
    parts = []
    for c in fit.curves:
        T, S = c.time.size, len(c.states)
        time = np.r_[0.0, c.time]
        parts.append(pd.DataFrame({
            "arm": str(c.group), "time": np.repeat(time, S),
            "state": np.tile(np.array(c.states, dtype=object), T + 1),
            "n_risk": np.vstack([c.n_risk[:1], c.n_risk]).ravel() if T else np.zeros(S, int),
            "pstate": np.vstack([c.p0, c.pstate]).ravel(),
            "std_err": np.vstack([c.sp0, c.std_err]).ravel(),
            "lower": np.vstack([c.p0, c.lower]).ravel(),
            "upper": np.vstack([c.p0, c.upper]).ravel()}))
    return pd.concat(parts, ignore_index=True)[STATE_COLUMNS]


def transition_analysis(d: LongData) -> list[dict]:
    """``transition_cox``: the arm's hazard ratio on each observed transition,
    ``coxph(Surv(start, stop, to) ~ arm + adjustment, id = id, istate = state)``, robust SE."""
    lg = d.long
    e = d.entry
    if len(lg) == 0:
        return []
    to = lg["to"].to_numpy(object)
    with _warnings_to_log(f"{d.name} transition_cox"):
        fit = _transition_fit(d, to)
    rows = []
    arms = lg["arm"].astype(str).to_numpy()
    label = d.entry["state_labels"]
    for (a, b), cf in fit.fits.items():
        term = f"from={a};to={b}"
        moving = (lg["state"].to_numpy(object) == a) & (to == b)
        missing = [arm for arm in d.arms if not moving[arms == arm].any()]
        j = cf.names.index("arm")
        if missing or (cf.infinite is not None and bool(np.asarray(cf.infinite)[j])):
            why = (f"no {label.get(str(a), a)} to {label.get(str(b), b)} transitions in arm "
                   f"{missing[0]}") if missing else "the arm's coefficient is infinite"
            rows += _not_estimable("transition_cox", d.name, term, why, cf.n)
            continue
        note = (f"Cox model of the transition, robust SE by participant; {d.adjustment()}"
                f"{_infinite(cf)}")
        rows += _cox_rows("transition_cox", d, cf, note,
                          int(lg.loc[lg["state"] == a, "participant_id"].nunique()),
                          int(moving.sum()), term=term)
    return rows


def _transition_fit(d: LongData, to: np.ndarray):
    lg, e = d.long, d.entry
    return transition_cox(lg["participant_id"].astype(str).to_numpy(), lg["start"].to_numpy(float),
                         lg["stop"].to_numpy(float), to, d.X.to_numpy(float),
                         names=list(d.X.columns), states=list(e["states"]),
                         censored_value=e["censored_value"], from_state=lg["state"].to_numpy(object),
                         conf_level=d.level)


def run_multistate(long: pd.DataFrame, analysis: pd.DataFrame, config: dict,
                   entry: dict) -> dict:
    """Every analysis of one multi-state outcome: ``estimates``, the state occupation
    ``curves`` (:data:`STATE_COLUMNS`) and the numbers ``at_risk`` (:func:`at_risk`)."""
    d = prepare_long(long, analysis, config, entry)
    rows, curves = state_occupation_analyses(d)
    rows += transition_analysis(d)
    return {"estimates": to_frame(rows), "curves": curves,
            "at_risk": at_risk(d.long, d.arms, risk_times(entry, d.tau)), "tau": d.tau}
