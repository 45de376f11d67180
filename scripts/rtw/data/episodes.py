"""Work status over time from the fortnightly SMS (SPEC §9): episodes and absence spells.

Pure functions on arrays and DataFrames.  From the participant × fortnight
at-work matrix of :func:`rtw.data.derivation.sms_matrices` (1 at work, 0 off
work, NaN no answer) they derive, per participant,

* **work-status episodes** (:func:`work_status_episodes`): (start, stop]
  intervals in the states ``off_work`` and ``at_work``, each with the state
  entered at ``stop`` (``to``: ``at_work``, ``off_work``, ``left_job`` or
  ``censored``), tiling the participant's follow-up from 0;
* **recurrent absence spells** (:func:`absence_spells`): the at-work intervals,
  each at risk of a new off-work spell (``event`` 1 when one starts at
  ``stop``), numbered by the spell they are at risk of (``spell``: 1 = the
  first new absence after a return; the strata of a Prentice–Williams–Peterson
  model).

Rules (config ``derivation.work_status``)
-----------------------------------------
*Start.*  Everyone is off work at day 0 (off work with a fit note at
randomisation); day 0 counts as an off-work report.

*Reports used.*  Answered SMS scheduled on or before the window end
(``trial.followup_days``) and the withdrawal from follow-up, dated at their
scheduled day (as :func:`rtw.data.derivation.time_to_rtw`).  The data of a
participant who withdrew with data not kept are not used (no rows).

*Gaps* (``bridge_missing_reports`` = k).  A run of at most k missing SMS
between two answered reports is bridged: the state is carried through it (same
state), or changes inside it at the time ``change_time`` gives (different
states).  A longer run ends follow-up at the last answered report before it;
later reports are not used.  ``null`` bridges every gap.

*Last contact.*  Follow-up ends (``to = censored``) at the last answered
report used, hence never after a withdrawal from follow-up or the window end.

*Leaving the job* (``left_job`` absorbing).  The earliest leaving date of a
follow-up questionnaire (:func:`rtw.data.derivation._competing_event_day`)
ends follow-up with ``to = left_job`` when it falls on or before the last
contact, as the competing event of time to first RTW; reports on or after it
are not used (at a tie with an at-work report, leaving the job wins).  After
the last contact it is not known and the participant is censored.

*Returns and relapses* (``relapse_reports`` = r).  An at-work report while off
work is a return.  While at work, r consecutive off-work reports (a bridged
gap does not break the run) make a new absence spell starting at the first of
them; a shorter run followed by an at-work report is read as at work.  A run
still shorter than r at the end of follow-up censors at the last at-work report
before it, unless the participant then leaves the job (the run is a relapse).

*Change time* (``change_time``).  ``report``: a change happens on the day of
the first report in the new state (so the first return is the derived time to
first RTW).  ``midpoint``: halfway between the last report in the old state and
that report.  Leaving the job keeps its own date.

*No follow-up time.*  A participant whose follow-up ends at day 0 (no usable
report, a gap longer than k before the first, leaving the job on day 0) has no
rows: a (start, stop] interval needs stop > start.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

OFF, AT = 0, 1
STATES = ("off_work", "at_work")
LEFT_JOB, CENSORED = "left_job", "censored"
TO_VALUES = (*STATES, LEFT_JOB, CENSORED)
_TO_CODE = {s: i for i, s in enumerate(TO_VALUES)}
WORK_STATUS_COLUMNS = ("participant_id", "start", "stop", "state", "to")
SPELL_COLUMNS = ("participant_id", "spell", "start", "stop", "event")


@dataclass(frozen=True)
class Rules:
    """The rules of config ``derivation.work_status`` (see the module docstring).

    ``bridge``: most consecutive missing reports bridged (None: any);
    ``relapse``: consecutive off-work reports that make a relapse (>= 1);
    ``midpoint``: change at the midpoint between reports (else at the report).
    """
    bridge: int | None
    relapse: int
    midpoint: bool

    @classmethod
    def from_config(cls, block: dict) -> "Rules":
        """From the validated ``derivation.work_status`` block."""
        bridge = block["bridge_missing_reports"]
        return cls(bridge=None if bridge is None else int(bridge),
                   relapse=int(block["relapse_reports"]),
                   midpoint=block["change_time"] == "midpoint")


def usable_reports(work, sms_days, censor_day, window: float, bridge: int | None):
    """Reports used and the last contact, by the gap rule.

    Parameters
    ----------
    work : (n, w) array, 1 at work, 0 off work, NaN no answer
    sms_days : (w,) scheduled days of the SMS
    censor_day : (n,) day of withdrawal from follow-up (inf: none)
    window : end of follow-up
    bridge : most consecutive missing SMS bridged (None: any)

    Returns
    -------
    used : (n, w) bool, the answered reports within follow-up
    last_contact : (n,) day of the last used report (0 if none)
    """
    sms_days = np.asarray(sms_days, float)
    n, w = work.shape
    limit = np.minimum(np.asarray(censor_day, float), window)
    used = np.zeros((n, w), bool)
    prev = np.full(n, -1)          # column of the previous used report (-1: day 0, off work)
    cut = np.zeros(n, bool)        # follow-up ended at a gap longer than the bridge
    for j in range(w):             # column by column: n-vectors, cache-friendly at 10^6
        a = ~np.isnan(work[:, j]) & (sms_days[j] <= limit) & ~cut
        if bridge is not None:
            gap = a & (j - prev - 1 > bridge)
            cut |= gap
            a &= ~gap
        used[:, j] = a
        prev[a] = j
    last_contact = np.where(prev >= 0, sms_days[np.maximum(prev, 0)], 0.0)
    return used, last_contact


@dataclass
class _Walk:
    """State of the column-wise walk over the reports (one entry per participant)."""
    state: np.ndarray       # OFF / AT
    last_same: np.ndarray   # day of the latest report of the current state (0 at start)
    pending: np.ndarray     # off-work reports in a row while at work (unconfirmed relapse)
    pend_first: np.ndarray  # day of the first of them
    pend_prev: np.ndarray   # day of the last at-work report before them


def _walk_reports(work, used, sms_days, rules: Rules):
    """Transitions between off and at work, walking the fortnights in order.

    Returns the transitions as (participant index, time, to code) arrays and the
    walk's final state (for the unconfirmed relapse at the end).
    """
    n, w = work.shape
    zeros = np.zeros(n)
    st = _Walk(np.full(n, OFF), zeros.copy(), np.zeros(n, int), zeros.copy(), zeros.copy())
    who, when, to = [], [], []

    def emit(mask, time, code):
        idx = np.flatnonzero(mask)
        who.append(idx)
        when.append(np.asarray(time, float)[idx] if np.ndim(time) else np.full(len(idx), time))
        to.append(np.full(len(idx), code))

    for j in range(w):
        day = float(sms_days[j])
        at_rep = used[:, j] & (work[:, j] == 1)
        off_rep = used[:, j] & (work[:, j] == 0)
        # off work: an at-work report is a return
        ret = (st.state == OFF) & at_rep
        emit(ret, (st.last_same + day) / 2 if rules.midpoint else day, AT)
        st.last_same[(st.state == OFF) & off_rep] = day
        # at work: an at-work report ends an unconfirmed run; off-work reports build one
        stay = (st.state == AT) & at_rep
        st.pending[stay] = 0
        st.last_same[stay] = day
        run = (st.state == AT) & off_rep
        start = run & (st.pending == 0)
        st.pend_first[start] = day
        st.pend_prev[start] = st.last_same[start]
        st.pending[run] += 1
        relapse = run & (st.pending >= rules.relapse)
        emit(relapse, (st.pend_prev + st.pend_first) / 2 if rules.midpoint else st.pend_first, OFF)
        st.state[ret] = AT
        st.last_same[ret] = day
        st.state[relapse] = OFF
        st.last_same[relapse] = day
        st.pending[relapse] = 0
    return who, when, to, st


def work_status_episodes(work, sms_days, censor_day, left_job_day, window: float,
                         rules: Rules, ids=None) -> pd.DataFrame:
    """Work-status episodes: (start, stop] intervals in off_work / at_work (module docstring).

    Parameters
    ----------
    work : (n, w) array, 1 at work, 0 off work, NaN no answer
        As :func:`rtw.data.derivation.sms_matrices` gives it.
    sms_days : (w,) scheduled days of the SMS
    censor_day : (n,) day of withdrawal from follow-up (inf: none)
    left_job_day : (n,) day of leaving employment (inf: none)
    window : end of follow-up (config ``trial.followup_days``)
    rules : Rules
    ids : (n,) participant ids (default 0..n-1)

    Returns
    -------
    DataFrame
        ``participant_id, start, stop, state, to``, sorted by participant (in the order of
        ``work``) and start; ``to`` is the state entered at ``stop`` or ``censored``, as
        R's multi-state ``Surv(start, stop, to)`` with ``id`` reads it.
    """
    sms_days = np.asarray(sms_days, float)
    order = np.argsort(sms_days, kind="mergesort")     # the walk goes forward in time
    work, sms_days = np.asarray(work, float)[:, order], sms_days[order]
    n = work.shape[0]
    leave = np.asarray(left_job_day, float)
    used, last_contact = usable_reports(work, sms_days, censor_day, window, rules.bridge)
    left = np.isfinite(leave) & (leave <= last_contact)
    used &= ~(left[:, None] & (sms_days[None, :] >= leave[:, None]))
    who, when, to, st = _walk_reports(work, used, sms_days, rules)
    end = np.where(left, leave, last_contact)
    # a run of off-work reports still unconfirmed at the end of follow-up
    open_run = (st.state == AT) & (st.pending > 0)
    late = open_run & left
    who.append(np.flatnonzero(late))
    when.append(((st.pend_prev + st.pend_first) / 2 if rules.midpoint else st.pend_first)[late])
    to.append(np.full(int(late.sum()), OFF))
    end = np.where(open_run & ~left, st.pend_prev, end)
    final = np.where(left, _TO_CODE[LEFT_JOB], _TO_CODE[CENSORED])
    rows = _intervals(np.concatenate(who), np.concatenate(when), np.concatenate(to), end, final, n)
    pid = np.arange(n) if ids is None else np.asarray(ids, dtype=object)
    names = np.array(TO_VALUES, dtype=object)
    return pd.DataFrame({"participant_id": pid[rows[0]], "start": rows[1], "stop": rows[2],
                         "state": names[rows[3]], "to": names[rows[4]]})


def _intervals(who, when, to, end, final, n: int):
    """(participant, start, stop, state code, to code) of the intervals between transitions.

    ``who, when, to``: the transitions (any order); ``end``/``final``: each participant's end
    of follow-up and the code entered there.  Everyone starts off work at 0; an interval of
    zero length (follow-up ending at a transition, or at 0) is not written.
    """
    order = np.lexsort((when, who))
    who, when, to = who[order], when[order].astype(float), to[order].astype(int)
    first = np.r_[True, who[1:] != who[:-1]] if len(who) else np.zeros(0, bool)
    start = np.where(first, 0.0, np.r_[0.0, when[:-1]])
    state = np.where(first, OFF, np.r_[OFF, to[:-1]])
    # the last interval of each participant: from the last transition (or 0) to the end
    last_time = np.zeros(n)
    last_code = np.full(n, OFF)
    if len(who):
        last = np.r_[who[1:] != who[:-1], True]
        last_time[who[last]] = when[last]
        last_code[who[last]] = to[last]
    tail = end > last_time
    tp = np.flatnonzero(tail)
    pid = np.r_[who, tp]
    out = (pid, np.r_[start, last_time[tp]], np.r_[when, end[tp]],
           np.r_[state, last_code[tp]], np.r_[to, final[tp]])
    order = np.lexsort((out[1], pid))
    return tuple(np.asarray(a)[order] for a in out)


def absence_spells(episodes: pd.DataFrame) -> pd.DataFrame:
    """Recurrent absence spells: the at-work intervals of the episodes, at risk of a new spell.

    Parameters
    ----------
    episodes : DataFrame
        :func:`work_status_episodes` (sorted by participant and start).

    Returns
    -------
    DataFrame
        ``participant_id, spell, start, stop, event``: one row per at-work interval;
        ``event`` 1 when a new off-work spell starts at ``stop`` (0: censored, or left the
        job); ``spell`` the number of the new spell it is at risk of (1, 2, ...), the strata
        of a Prentice–Williams–Peterson model (R ``coxph(Surv(start, stop, event) ~ arm +
        strata(spell), cluster = id)``; gap time is ``stop - start``).
    """
    at = episodes[episodes["state"] == STATES[AT]]
    spell = at.groupby("participant_id", sort=False).cumcount().to_numpy() + 1
    return pd.DataFrame({"participant_id": at["participant_id"].to_numpy(),
                         "spell": spell.astype(np.int64),
                         "start": at["start"].to_numpy(float), "stop": at["stop"].to_numpy(float),
                         "event": (at["to"] == STATES[OFF]).to_numpy().astype(np.int64)})


def derive_work_status(tables: dict, config: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Work-status episodes and absence spells from the cleaned tables (rule clean_derive).

    The inputs are read as :func:`rtw.data.derivation.derive_analysis` reads them: the
    used SMS at-work answers (:func:`~rtw.data.derivation.sms_matrices`, dated at their
    scheduled day), the withdrawal censoring and the data not kept
    (``_withdrawal_censoring``), and the day of leaving employment from the used
    questionnaires (``_competing_event_day``).  Participants in participant-id order.

    Parameters
    ----------
    tables : dict of DataFrame
        :func:`rtw.data.cleaning.clean_tables` (baseline, sms, followup, withdrawals).
    config : dict
        The validated config (``trial.followup_days``, ``trial.sms_weeks``,
        ``derivation.work_status``).

    Returns
    -------
    (episodes, spells) : DataFrames
        :func:`work_status_episodes` and :func:`absence_spells`.
    """
    from rtw.data.derivation import _competing_event_day, _withdrawal_censoring, sms_matrices
    trial = config["trial"]
    rules = Rules.from_config(config["derivation"]["work_status"])
    weeks = list(trial["sms_weeks"])
    b = tables["baseline"].sort_values("participant_id", kind="mergesort").reset_index(drop=True)
    pid = pd.Index(b["participant_id"])
    withdrawals = _withdrawal_censoring(tables["withdrawals"], b["randomisation_date"], pid)
    _, work = sms_matrices(tables["sms"], pid, weeks)
    work[withdrawals.data_not_kept] = np.nan
    fu = tables["followup"]
    fu = fu[fu["use"]] if "use" in fu.columns else fu
    fu = fu[~fu["participant_id"].isin(withdrawals.not_kept_ids)]
    leave = _competing_event_day(fu, b, pid)
    episodes = work_status_episodes(work, np.asarray(weeks, float) * 7, withdrawals.censor_day,
                                    leave, float(trial["followup_days"]), rules,
                                    ids=b["participant_id"].astype(str).to_numpy(dtype=object))
    return episodes, absence_spells(episodes)
