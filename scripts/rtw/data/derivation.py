"""Derivations from cleaned tables to the analysis dataset (SPEC §3).

One row per randomised participant; every derived value keeps the participant
id, and the rules (with their config thresholds) are documented here and in the
report.  The SMS schedule is read as a participant × fortnight matrix, so the
rules are vectorised and run on 10^6 participants.

Rules
-----
*Status times.*  An SMS's answer is dated at its scheduled day (``week × 7``
days after randomisation), not at the reply date, so late replies do not
shift event times and no time exceeds the window.

*Days off over 6 months* (``derivation.days_off``), rule
``prorate_then_questionnaire``: if every fortnight has a valid days-off reply,
their sum (``sms_complete``); else if at least ``min_share_answered`` of the
fortnights have one, the sum scaled by fortnights / answered and rounded to the
nearest day, halves up (``sms_prorated``); else the 6-month questionnaire's
days off (``questionnaire``); else missing.  Capped at ``cap_days``.  Rules
``sms_complete_only`` and ``questionnaire_only`` use one source only.  Data of a
participant who withdrew fully with data not kept are not used (outcomes
missing; the participant stays in ITT as randomised).

*Time to first RTW.*  The first answered SMS reporting being at work: event at
its day, interval (day of the last answered SMS before it, or 0; that day].
Otherwise right-censored at the earliest of the last answered SMS day, the
withdrawal from follow-up, and the window end; the interval is then
(censoring day, ∞).  Leaving employment (follow-up ``left_job_date``) before
the first at-work report is the competing event (code 2) at its day.

*Sustained RTW.*  The first of ``sustained_rtw_reports`` consecutive fortnights
all answered "at work"; dated at the first of them.  Censoring and competing
event as above.  ``srtw_26w`` is 1 if sustained RTW by the window end, 0 if
observed without it through the last fortnight at which it could start (or
left employment), else missing.

*At work at 6 months.*  The 6-month questionnaire's answer, else the last
scheduled SMS's, else missing.

*Populations.*  ``pop_itt``: everyone randomised, as randomised.  ``pop_pp``:
control participants, and intervention participants with at least one VSW
contact.  Complete case per outcome is ``outcome.notna()`` at analysis time.

*CONSORT 2010 counts* (:func:`consort_counts`): each screening row in one
enrolment box (not responded, not eligible, declined, other, randomised);
received the allocated intervention = engaged (intervention arm) or no
intervention contact (control arm); lost to follow-up = primary outcome missing
without a withdrawal; analysed = the primary outcome (config: the count outcome,
else the first time-to-event outcome) observed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rtw.core.io import InputError

SCORES = ("eq5d_index", "work_ability", "rtw_self_efficacy", "presenteeism")


def _round_half_up(x):
    return np.floor(np.asarray(x, float) + 0.5)


def sms_matrices(sms: pd.DataFrame, pid_index: pd.Index, weeks) -> tuple[np.ndarray, np.ndarray]:
    """Participant × fortnight matrices of days off (NaN = no valid reply) and at work (1/0/NaN)."""
    weeks = list(weeks)
    n, w = len(pid_index), len(weeks)
    days = np.full((n, w), np.nan)
    work = np.full((n, w), np.nan)
    s = sms[sms["use"]] if "use" in sms.columns else sms
    i = pid_index.get_indexer(s["participant_id"])
    j = pd.Index(weeks).get_indexer(s["week"])
    ok = (i >= 0) & (j >= 0)
    days[i[ok], j[ok]] = s["days_off"].to_numpy(float)[ok]
    aw = s["at_work"].map({"yes": 1.0, "no": 0.0}).to_numpy(float)
    work[i[ok], j[ok]] = aw[ok]
    return days, work


def days_off_6m(days: np.ndarray, questionnaire: np.ndarray, rule: str,
                min_share: float, cap: float) -> tuple[np.ndarray, np.ndarray]:
    """Primary outcome per the config rule; returns (value, source label)."""
    nw = days.shape[1]
    answered = (~np.isnan(days)).sum(axis=1)
    total = np.nansum(days, axis=1)
    complete = answered == nw
    prorate = (answered > 0) & (answered / nw >= min_share) & ~complete
    val = np.full(len(days), np.nan)
    src = np.full(len(days), "missing", dtype=object)
    if rule in ("prorate_then_questionnaire", "sms_complete_only"):
        val[complete] = total[complete]
        src[complete] = "sms_complete"
    if rule == "prorate_then_questionnaire":
        val[prorate] = _round_half_up(total[prorate] * nw / answered[prorate])
        src[prorate] = "sms_prorated"
    if rule in ("prorate_then_questionnaire", "questionnaire_only"):
        use_q = np.isnan(val) & ~np.isnan(questionnaire)
        val[use_q] = questionnaire[use_q]
        src[use_q] = "questionnaire"
    if rule not in ("prorate_then_questionnaire", "sms_complete_only", "questionnaire_only"):
        raise ValueError(f"unknown derivation.days_off.rule {rule!r}")
    return np.minimum(val, cap), src


def time_to_rtw(work: np.ndarray, sms_days: np.ndarray, censor_limit: np.ndarray,
                competing_day: np.ndarray, window: float, run_length: int = 1) -> dict:
    """First (``run_length=1``) or sustained RTW from the at-work matrix.

    Parameters
    ----------
    work : (n, w) array of 1 (at work), 0 (off), NaN (no answer)
    sms_days : (w,) scheduled days of the SMS
    censor_limit : (n,) day of withdrawal from follow-up (inf if none)
    competing_day : (n,) day of leaving employment (inf if none)
    window : end of follow-up
    run_length : consecutive fortnights at work that define the event

    Returns
    -------
    dict of arrays: time, event (0/1/2), lower, upper (NaN = ∞)
    """
    n_weeks = work.shape[1]
    sms_days = np.asarray(sms_days, float)
    valid_time = sms_days[None, :] <= np.minimum(censor_limit, window)[:, None]
    at = (work == 1) & valid_time
    run = at.copy()
    for k in range(1, run_length):
        nxt = np.zeros_like(at)
        nxt[:, :-k] = at[:, k:]
        run &= nxt
    has = run.any(axis=1)
    first = np.where(has, run.argmax(axis=1), -1)
    ev_day = np.where(has, sms_days[np.maximum(first, 0)], np.inf)
    answered = ~np.isnan(work) & valid_time
    # last answered day before the event (interval lower bound), 0 if none
    col = np.arange(n_weeks)[None, :]
    before = answered & (col < first[:, None])
    last_before = np.where(before.any(axis=1), sms_days[(before * (col + 1)).max(axis=1) - 1], 0.0)
    last_any = np.where(answered.any(axis=1), sms_days[(answered * (col + 1)).max(axis=1) - 1], 0.0)
    if run_length > 1:
        # for a sustained event the run must be confirmed: censor at the last
        # day from which a confirmed run could have started
        last_any = np.where(answered.any(axis=1), last_any, 0.0)
    cens = np.minimum(np.minimum(last_any, censor_limit), window)
    comp = np.where(competing_day < ev_day, competing_day, np.inf)
    comp = np.where(comp <= np.minimum(np.maximum(cens, np.where(has, ev_day, cens)), window), comp, np.inf)
    event = np.where(np.isfinite(comp), 2, np.where(has, 1, 0))
    time = np.where(event == 2, comp, np.where(event == 1, ev_day, cens))
    lower = np.where(event == 1, last_before, time)
    upper = np.where(event == 1, ev_day, np.nan)
    return {"time": time, "event": event.astype(int), "lower": lower, "upper": upper}


def derive_analysis(tables: dict, config: dict) -> pd.DataFrame:
    """Build the analysis dataset (one row per randomised participant, sorted by id).

    The derivation steps, in the order of the columns: baseline characteristics
    (:func:`_baseline_columns`), withdrawals and censoring
    (:func:`_withdrawal_censoring`), SMS answered, questionnaire scores
    (:func:`_score_columns`), leaving employment (:func:`_competing_event_day`),
    days off (:func:`_days_off_columns`), first RTW with its interval
    (:func:`_first_rtw_columns`), sustained RTW (:func:`_sustained_rtw_columns`),
    at work at 6 months (:func:`_at_work_6m`), engagement and populations
    (:func:`_engagement_columns`, :func:`_population_columns`).  The rules are
    in the module docstring and in each step's.
    """
    trial = config["trial"]
    der = config["derivation"]
    window = float(trial["followup_days"])
    weeks = list(trial["sms_weeks"])
    sms_days = np.asarray(weeks, float) * 7
    b = tables["baseline"].sort_values("participant_id", kind="mergesort").reset_index(drop=True)
    pid = pd.Index(b["participant_id"])
    out = _baseline_columns(b, float(der["prior_absence_cut_days"]))
    withdrawals = _withdrawal_censoring(tables["withdrawals"], b["randomisation_date"], pid)
    out["withdrawn"] = withdrawals.withdrawn
    out["withdrawal_level"] = withdrawals.level
    days, work = sms_matrices(tables["sms"], pid, weeks)
    days[withdrawals.data_not_kept] = np.nan
    work[withdrawals.data_not_kept] = np.nan
    out["n_sms_answered"] = (~np.isnan(days) | ~np.isnan(work)).sum(axis=1)
    fu = tables["followup"]
    fu = fu[fu["use"]] if "use" in fu.columns else fu
    fu = fu[~fu["participant_id"].isin(withdrawals.not_kept_ids)]
    scores, q_days, q_work = _score_columns(fu, trial["timepoints"], pid)
    left_job_day = _competing_event_day(fu, b, pid)
    columns = [scores,
               {"left_job": np.isfinite(left_job_day)},
               _days_off_columns(days, q_days, der["days_off"]),
               _first_rtw_columns(work, sms_days, withdrawals.censor_day, left_job_day, window),
               _sustained_rtw_columns(work, sms_days, withdrawals.censor_day, left_job_day, window,
                                      int(der["sustained_rtw_reports"])),
               {"at_work_6m": _at_work_6m(q_work, work)},
               _engagement_columns(tables["intervention"], pid)]
    for step in columns:
        for name, values in step.items():
            out[name] = values
    for name, values in _population_columns(out, trial["arms"]["control"]).items():
        out[name] = values
    return out


def _baseline_columns(b: pd.DataFrame, cut: float) -> pd.DataFrame:
    """Identity, baseline characteristics and baseline scores (``<score>_bl``).

    ``prior_absence_group``: ``<=cut days`` / ``>cut days`` off before
    randomisation (config ``derivation.prior_absence_cut_days``), missing if unknown.
    """
    r0 = b["randomisation_date"]
    out = pd.DataFrame({
        "participant_id": b["participant_id"].astype(str),
        "arm": b["arm"].astype(str),
        "practice": b["practice"].astype(str),
        "randomisation_date": r0.dt.strftime("%Y-%m-%d"),
        "condition_group": b["condition_group"].astype(str),
        "age": b["age"], "sex": b["sex"], "job_type": b["job_type"],
        "days_off_before": b["days_off_before"],
    })
    out["prior_absence_group"] = np.where(b["days_off_before"].isna(), None,
                                          np.where(b["days_off_before"] <= cut, f"<={cut:g} days",
                                                   f">{cut:g} days"))
    out["weekly_hours"] = b["weekly_hours"]
    for s in SCORES[:3]:
        out[f"{s}_bl"] = b[s]
    return out


@dataclass(frozen=True)
class Withdrawals:
    """Withdrawal status of each participant (arrays in analysis-row order).

    ``censor_day``: day of withdrawal from follow-up (``inf`` if none);
    ``data_not_kept``: withdrew fully with data not kept (``not_kept_ids`` their
    ids); ``withdrawn``: any withdrawal; ``level``: its level (None if none).
    """
    censor_day: np.ndarray
    data_not_kept: np.ndarray
    not_kept_ids: pd.Index
    withdrawn: np.ndarray
    level: np.ndarray


def _withdrawal_censoring(withdrawals: pd.DataFrame, rand_date: pd.Series, pid: pd.Index) -> Withdrawals:
    """Censoring by withdrawal: the earliest withdrawal of each participant counts.

    A withdrawal from follow-up (level ``followup`` or ``full``) censors the
    SMS-based times at its day after randomisation.  The data of a participant
    who withdrew fully with data not kept are not used (outcomes missing; the
    participant stays in ITT as randomised).
    """
    n = len(pid)
    w = withdrawals.sort_values(["participant_id", "withdrawal_date"], kind="mergesort")
    w = w.drop_duplicates("participant_id", keep="first").set_index("participant_id")
    wd_day = (w["withdrawal_date"] - pd.Series(rand_date.to_numpy(), index=pid).reindex(w.index)).dt.days
    fu_level = w["level"].isin(["followup", "full"])
    censor_day = np.full(n, np.inf)
    censor_day[pid.get_indexer(w.index[fu_level])] = wd_day[fu_level].to_numpy(float)
    not_kept = np.zeros(n, bool)
    nk = w.index[(w["level"] == "full") & (w["data_kept"] == "no")]
    not_kept[pid.get_indexer(nk)] = True
    return Withdrawals(censor_day=censor_day, data_not_kept=not_kept, not_kept_ids=nk,
                       withdrawn=pid.isin(w.index),
                       level=pd.Series(w["level"]).reindex(pid).to_numpy())


def _score_columns(fu: pd.DataFrame, timepoints, pid: pd.Index) -> tuple[dict, np.ndarray, np.ndarray]:
    """Questionnaire scores, wide (``<score>_<timepoint>``), from the used questionnaires.

    Also returns the 6-month questionnaire's days off and at-work answer (1/0),
    NaN when not returned (or no ``6m`` timepoint).
    """
    columns = {}
    for tp in timepoints:
        f = fu[fu["timepoint"] == tp].set_index("participant_id").reindex(pid)
        for s in SCORES:
            columns[f"{s}_{tp}"] = f[s].to_numpy(float)
        if tp == "6m":
            q_days = f["days_off_6m"].to_numpy(float)
            q_work = f["at_work"].map({"yes": 1.0, "no": 0.0}).to_numpy(float)
    if "6m" not in timepoints:
        q_days = np.full(len(pid), np.nan)
        q_work = np.full(len(pid), np.nan)
    return columns, q_days, q_work


def _competing_event_day(fu: pd.DataFrame, b: pd.DataFrame, pid: pd.Index) -> np.ndarray:
    """Day of leaving employment (the competing event; ``inf`` if none).

    The earliest ``left_job_date`` of a questionnaire answering ``left_job``,
    in days after randomisation (at least 0).
    """
    lj = fu[fu["employment_status"] == "left_job"].copy()
    lj["day"] = (lj["left_job_date"]
                 - lj["participant_id"].map(dict(zip(b["participant_id"], b["randomisation_date"])))).dt.days
    lj_day = lj.groupby("participant_id")["day"].min().reindex(pid).to_numpy(float)
    return np.where(np.isnan(lj_day), np.inf, np.maximum(lj_day, 0))


def _days_off_columns(days: np.ndarray, q_days: np.ndarray, rule: dict) -> dict:
    """Days off over 6 months (primary) and its source, by config ``derivation.days_off``.

    Rule ``prorate_then_questionnaire`` (default): the SMS sum if every
    fortnight is answered; else, with at least ``min_share_answered`` answered,
    the sum prorated (halves up); else the 6-month questionnaire; capped at
    ``cap_days`` (the follow-up window unless set).  See :func:`days_off_6m`.
    """
    val, src = days_off_6m(days, q_days, rule["rule"], float(rule["min_share_answered"]),
                           float(rule["cap_days"]))
    return {"days_off_6m": val, "days_off_source": src}


def _first_rtw_columns(work, sms_days, censor_day, left_job_day, window: float) -> dict:
    """Time to first RTW with its interval (``rtw_time``, ``rtw_event``, ``rtw_lower``, ``rtw_upper``).

    The first answered SMS reporting being at work: event at its day, interval
    (last answered SMS day before it, or 0; that day].  Otherwise censored at
    the earliest of the last answered SMS day, withdrawal from follow-up and
    the window end, interval (censoring day, ∞).  Leaving employment before
    the first at-work report is the competing event (code 2) at its day.
    """
    first = time_to_rtw(work, sms_days, censor_day, left_job_day, window, 1)
    return {"rtw_time": first["time"], "rtw_event": first["event"],
            "rtw_lower": first["lower"], "rtw_upper": first["upper"]}


def _sustained_rtw_columns(work, sms_days, censor_day, left_job_day, window: float,
                           k: int) -> dict:
    """Sustained RTW (``srtw_time``, ``srtw_event``, ``srtw_26w``).

    The first of ``k`` (``derivation.sustained_rtw_reports``) consecutive
    fortnights all answered "at work", dated at the first of them; censoring
    and competing event as for first RTW.  ``srtw_26w``: 1 if sustained RTW by
    the window end, 0 if observed without it through the last fortnight at
    which it could start (or left employment), else missing.
    """
    sust = time_to_rtw(work, sms_days, censor_day, left_job_day, window, k)
    last_start = sms_days[len(sms_days) - k] if k <= len(sms_days) else np.inf
    return {"srtw_time": sust["time"], "srtw_event": sust["event"],
            "srtw_26w": np.where(sust["event"] == 1, 1.0,
                                 np.where((sust["event"] == 2) | (sust["time"] >= last_start), 0.0,
                                          np.nan))}


def _at_work_6m(q_work: np.ndarray, work: np.ndarray) -> np.ndarray:
    """At work at 6 months: the 6-month questionnaire's answer, else the last scheduled SMS's."""
    return np.where(~np.isnan(q_work), q_work, work[:, -1])


def _engagement_columns(contacts: pd.DataFrame, pid: pd.Index) -> dict:
    """Number of VSW contacts and their total minutes (0 without contacts)."""
    g = contacts.groupby("participant_id")
    return {"n_contacts": g.size().reindex(pid).fillna(0).astype(int).to_numpy(),
            "contact_minutes": g["minutes"].sum(min_count=1).reindex(pid).fillna(0).to_numpy(float)}


def _population_columns(out: pd.DataFrame, control: str) -> dict:
    """Populations: ``engaged`` (at least one VSW contact); ``pop_itt`` everyone randomised, as
    randomised; ``pop_pp`` control participants and engaged intervention participants."""
    engaged = out["n_contacts"] >= 1
    return {"engaged": engaged, "pop_itt": True, "pop_pp": (out["arm"] == control) | engaged}


#: Stages of ``consort.csv`` in CONSORT 2010 order (``stage_order`` is the position, from 1).
CONSORT_STAGES = ("invited", "not_responded", "assessed", "excluded", "not_eligible", "declined",
                  "other_excluded", "randomised", "not_screened", "allocated", "received",
                  "not_received", "lost_to_follow_up", "discontinued", "analysed",
                  "excluded_from_analysis")


def _column(df: pd.DataFrame, name: str) -> pd.Series:
    """Column ``name`` of ``df``, or all missing when the export has no such (optional) column."""
    return df[name] if name in df.columns else pd.Series(None, index=df.index, dtype=object)


def consort_counts(tables: dict, analysis: pd.DataFrame, config: dict) -> pd.DataFrame:
    """CONSORT 2010 flow counts, one row per number of the diagram.

    Enrolment comes from the screening export (:func:`_screening_flow`), the
    arms from the analysis dataset (:func:`_arm_flow`); each stage's total is a
    row with an empty ``reason``, its breakdown rows carry the reason code (from
    the data: ineligibility reasons, withdrawal levels; or a code of this
    function, see :func:`_arm_flow`).  The counts add up by construction:
    invited = not responded + assessed; assessed + not screened = excluded +
    randomised; excluded = not eligible + declined + other; randomised = the
    sum of allocated; per arm allocated = received + not received = analysed +
    excluded from analysis.  :func:`rtw.report.consort.reconcile` checks it.

    Parameters
    ----------
    tables : dict of pandas.DataFrame
        The cleaned exports (``screening``; optional columns may be absent).
    analysis : pandas.DataFrame
        The analysis dataset (``arm``, ``withdrawn``, ``withdrawal_level``,
        ``engaged`` and the primary outcome's columns).
    config : mapping
        ``trial.arms`` and ``outcomes`` (the primary outcome:
        :func:`primary_outcome_columns`).

    Returns
    -------
    pandas.DataFrame
        Columns ``stage_order, stage, arm, n, reason`` (arm ``all`` for
        enrolment), stages from :data:`CONSORT_STAGES`.
    """
    arms = [config["trial"]["arms"]["control"], config["trial"]["arms"]["intervention"]]
    rows = [("all", stage, n, reason)
            for stage, n, reason in _screening_flow(tables["screening"], len(analysis))]
    observed = analysis[primary_outcome_columns(config)].notna().all(axis=1)
    for arm in arms:
        sub = analysis["arm"] == arm
        rows += [(arm, stage, n, reason) for stage, n, reason in
                 _arm_flow(analysis[sub], observed[sub], arm == arms[0])]
    df = pd.DataFrame([{"stage": stage, "arm": arm, "n": int(n), "reason": reason}
                       for arm, stage, n, reason in rows], columns=["stage", "arm", "n", "reason"])
    order = {k: i + 1 for i, k in enumerate(CONSORT_STAGES)}
    df.insert(0, "stage_order", df["stage"].map(order))
    return df.sort_values("stage_order", kind="mergesort").reset_index(drop=True)


def primary_outcome_columns(config: dict) -> list:
    """Columns that make a participant "analysed for the primary outcome" (all non-missing).

    The count outcome's ``value``; else the first time-to-event outcome's
    ``time`` and ``event``; else the first continuous, then binary outcome's
    ``value``.  Raises :class:`~rtw.core.io.InputError` when no outcome is configured.
    """
    oc = config["outcomes"]
    if oc["count"]:
        return [oc["count"]["value"]]
    tte = oc["time_to_event"]
    if tte:
        return [tte[0]["time"], tte[0]["event"]]
    for kind in ("continuous", "binary"):
        if oc[kind]:
            return [oc[kind][0]["value"]]
    raise InputError("no outcome configured: CONSORT cannot count who was analysed",
                     expected="an outcome under config outcomes")


def _reason_rows(stage: str, reasons: pd.Series) -> list:
    """``(stage, total, "")`` then ``(stage, n, reason)`` per reason present, sorted by reason."""
    counts = reasons.dropna().astype(str).value_counts().sort_index()
    return [(stage, len(reasons), "")] + [(stage, n, r) for r, n in counts.items()]


def _screening_flow(s: pd.DataFrame, n_randomised: int) -> list:
    """Enrolment rows ``(stage, n, reason)`` from the screening export: every invited row
    falls in exactly one of not responded, not eligible, declined, other, randomised.

    Randomised rows (``randomised == yes``) count as assessed whatever else they say.
    Of the other responders: ``eligible == no`` is not eligible (by
    ``ineligible_reason``, ``not recorded`` when empty), then ``consented == no`` is
    declined, the rest are other reasons (``eligibility_not_recorded``,
    ``consent_not_recorded``, ``consented_not_randomised``).  ``invited`` and
    ``not_responded`` are given when the export lists invitations (a non-responder or
    an invitation date).  ``randomised`` is the analysis dataset's count; participants
    of the baseline export missing from screening (a data query) are ``not_screened``.
    """
    rand = s["randomised"] == "yes"
    assessed = (s["responded"] == "yes") | rand
    eligible, consented = _column(s, "eligible"), _column(s, "consented")
    open_ = assessed & ~rand
    inel = open_ & (eligible == "no")
    declined = open_ & ~inel & (consented == "no")
    other = open_ & ~inel & ~declined
    other_reason = np.where(eligible != "yes", "eligibility_not_recorded",
                            np.where(consented == "yes", "consented_not_randomised",
                                     "consent_not_recorded"))
    rows = []
    if (~assessed).any() or _column(s, "invitation_date").notna().any():
        rows += [("invited", len(s), ""), ("not_responded", int((~assessed).sum()), "")]
    rows += [("assessed", int(assessed.sum()), ""),
             ("excluded", int((inel | declined | other).sum()), "")]
    rows += _reason_rows("not_eligible",
                         _column(s, "ineligible_reason")[inel].fillna("not recorded"))
    rows += [("declined", int(declined.sum()), "")]
    rows += _reason_rows("other_excluded", pd.Series(other_reason, index=s.index)[other])
    rows += [("randomised", n_randomised, "")]
    if n_randomised != int(rand.sum()):
        rows += [("not_screened", n_randomised - int(rand.sum()), "")]
    return rows


def _arm_flow(sub: pd.DataFrame, observed: pd.Series, control: bool) -> list:
    """One arm's rows ``(stage, n, reason)``: allocation, follow-up and analysis.

    *Received the allocated intervention*: in the intervention arm, engaged
    (``engaged``: at least one intervention contact); not received by reason: the
    withdrawal level (``withdrew_<level>``) or ``no_contact_recorded``.  In the
    control arm everyone, except participants with intervention contacts
    (``received_intervention_contacts``).  *Lost to follow-up*: primary outcome
    missing, never withdrawn.  *Discontinued intervention / withdrew*: every
    withdrawal, by level (the earliest).  *Analysed*: primary outcome observed
    (``observed``); excluded from analysis by reason ``missing_outcome_lost`` (never
    withdrew) or ``missing_outcome_withdrawn``.
    """
    engaged = sub["engaged"].astype(bool)
    withdrawn = sub["withdrawn"].astype(bool)
    level = sub["withdrawal_level"].astype(object)
    if control:
        got = ~engaged
        why = pd.Series("received_intervention_contacts", index=sub.index)
    else:
        got = engaged
        why = ("withdrew_" + level.where(withdrawn, "").astype(str)).where(
            withdrawn, "no_contact_recorded")
    missing = ~observed
    excl_why = pd.Series(np.where(withdrawn, "missing_outcome_withdrawn", "missing_outcome_lost"),
                         index=sub.index)
    return ([("allocated", len(sub), ""), ("received", int(got.sum()), "")]
            + _reason_rows("not_received", why[~got])
            + [("lost_to_follow_up", int((missing & ~withdrawn).sum()), "")]
            + _reason_rows("discontinued", level[withdrawn].fillna("not recorded"))
            + [("analysed", int(observed.sum()), "")]
            + _reason_rows("excluded_from_analysis", excl_why[missing]))
