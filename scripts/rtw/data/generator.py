"""Synthetic WAVE-like trials with known true effects (SPEC §2.3).

:func:`simulate_trial` writes the raw exports of SPEC §2.1 (screening, baseline,
sms, followup, intervention, withdrawals) as DataFrames, from a seed and the
``synthetic:`` block of the config.  Everything is vectorised over
participants (numpy), so 10^6 randomised participants take seconds.

Data-generating model
---------------------
* **Days off over 6 months** ``D``: zero-inflated negative binomial.  With
  probability ``zero_inflation`` a participant is back at work at once
  (``D = 0``); otherwise ``D ~ NB(mean = mu_i, size = nb_theta)`` with
  ``log mu_i = log(nb_mean) + log(true_irr) * intervention + lp_i``, where the
  prognostic score ``lp_i`` (health condition group, log prior absence,
  practice) has mean zero in the population.  ``D`` is capped at the follow-up
  window ``W`` (config ``trial.followup_days``).  ``true_irr`` is therefore the
  ratio of the *uncapped* means; the cap pulls the realised ratio of means
  slightly towards 1.
* **Latent time to RTW** ``T``: Weibull proportional hazards with hazard ratio
  ``true_rtw_hr`` for the intervention, linked to ``D`` by a Gaussian copula
  (correlation ``copula_rho``) so that long absences go with late returns.
  The first return happens at ``min(T, D)`` when ``D`` < ``W`` (days off beyond
  the first spell are placed as a relapse after it); when ``D`` = ``W`` the
  participant never returns in the window.  The observed first RTW is only
  seen at the fortnightly SMS, so the estimable HR is close to, not exactly,
  ``true_rtw_hr``.
* **Leaving employment** (competing event) at an exponential time whose
  probability of falling inside the window is ``leave_job_rate``; it counts only
  if it comes before the first return, after which the participant is off work
  (not employed) to the end of the window.
* Secondary scores: baseline score + common change + ``secondary_differences``
  for the intervention + noise, at 6 weeks and 6 months.

The defaults (``workflow/schemas/config.schema.yaml``, the one home of the
``synthetic:`` defaults) reproduce WAVE's published shape: 7,955 invited, 130
randomised (64/66), 10 practices, 125 with the primary outcome, days off mean
(SD) about 42.7 (57.7) with usual care and 37.9 (48.8) with vocational advice.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from rtw.data.quantiles import nbinom_ppf

TABLES = ("screening", "baseline", "sms", "followup", "intervention", "withdrawals")

CONDITION_GROUPS = np.array(["musculoskeletal", "mental_health", "other"])
INELIGIBLE_REASONS = np.array([
    "off work less than 2 weeks", "off work more than 6 months",
    "not employed", "other reason"])


@dataclass(frozen=True)
class Params:
    """Generator parameters: the config's ``synthetic:`` block, every key given.

    Field names are the keys of the block; their meanings, ranges and defaults are in
    ``workflow/schemas/config.schema.yaml`` (the one home of the defaults).  Build it with
    :func:`params_from_config` from a validated block (``rtw.core.config.load``), or, outside
    the workflow, from ``rtw.core.validation.with_defaults("synthetic", overrides)``.
    """
    n_invited: int
    n_randomised: int
    n_practices: int
    allocation: tuple | None
    allocation_ratio: tuple
    n_primary_missing: int | None
    primary_missing_rate: float
    response_rate: float
    eligible_rate: float
    consent_rate: float
    recruitment_start: str
    recruitment_days: int
    true_irr: float
    nb_mean: float
    nb_theta: float
    zero_inflation: float
    true_rtw_hr: float
    weibull_shape: float
    weibull_median_days: float
    copula_rho: float
    relapse_gap_days: int
    condition_effects: tuple          # log-mean effects: msk, mental health, other
    prior_absence_effect: float       # per SD of log prior absence
    practice_sd: float
    secondary_differences: dict
    sms_reply_rate: float
    questionnaire_return: dict
    withdrawal_rate: float
    leave_job_rate: float
    contacts_mean: float
    contacts_max: int
    engagement_rate: float
    mess: dict


def params_from_config(block: dict) -> Params:
    """Build :class:`Params` from a complete ``synthetic:`` block.

    Raises
    ------
    ValueError
        On an unknown key, or a missing one (the block did not go through the schema:
        give ``rtw.core.validation.with_defaults("synthetic", block)``).
    """
    block = dict(block)
    fields = set(Params.__dataclass_fields__)
    unknown = sorted(set(block) - fields)
    if unknown:
        raise ValueError(f"config synthetic: unknown key(s) {unknown}; known: {sorted(fields)}")
    missing = sorted(fields - set(block))
    if missing:
        raise ValueError(f"config synthetic: missing key(s) {missing}; build the block with "
                         "rtw.core.validation.with_defaults('synthetic', block) (the schema's "
                         "defaults) or take it from rtw.core.config.load")
    for key in ("allocation", "allocation_ratio", "condition_effects"):
        if block[key] is not None:
            block[key] = tuple(block[key])
    return Params(**block)


def _iso(dates: np.ndarray) -> np.ndarray:
    """datetime64[D] array -> ISO strings (NaT -> None), via a lookup table of the
    few hundred distinct days (O(n), about 50x faster than datetime_as_string)."""
    dates = np.asarray(dates, dtype="datetime64[D]")
    nat = np.isnat(dates)
    out = np.full(dates.shape, None, dtype=object)
    if (~nat).any():
        d = dates[~nat].astype(np.int64)
        lo, hi = int(d.min()), int(d.max())
        table = np.datetime_as_string(np.arange(lo, hi + 1).astype("datetime64[D]"), unit="D").astype(object)
        out[~nat] = table[d - lo]
    return out


def _ids(prefix: str, n: int, width: int = 7) -> np.ndarray:
    """Ids ``prefix0000001`` ... as an object array (vectorised numpy string ops)."""
    num = np.arange(1, n + 1).astype(np.dtypes.StringDType())
    return np.strings.add(prefix, np.strings.zfill(num, width)).astype(object)


def _int_text(x: np.ndarray) -> np.ndarray:
    """Small non-negative integers -> text, via a lookup table."""
    x = np.asarray(x, dtype=np.int64)
    table = np.array([str(i) for i in range(int(x.max(initial=0)) + 1)], dtype=object)
    return table[x]


def _allocate(rng, p: Params) -> np.ndarray:
    """Arm index per randomised participant (0 control, 1 intervention), exact counts."""
    n = p.n_randomised
    if p.allocation is not None:
        n0, n1 = (int(x) for x in p.allocation)
        if n0 + n1 != n:
            raise ValueError(f"synthetic.allocation {p.allocation} does not add up to n_randomised {n}")
    else:
        r0, r1 = p.allocation_ratio
        n0 = int(round(n * r0 / (r0 + r1)))
        n1 = n - n0
    arm = np.r_[np.zeros(n0, dtype=np.int8), np.ones(n1, dtype=np.int8)]
    rng.shuffle(arm)
    return arm


# --------------------------------------------------------------------------- #
# the participant and outcome model (shared by simulate_trial and simulate_primary)
# --------------------------------------------------------------------------- #
#: Population shares of the health condition groups (order of :data:`CONDITION_GROUPS`).
CONDITION_SHARES = (0.45, 0.40, 0.15)


def draw_condition_group(rng, n: int) -> np.ndarray:
    """Health condition group of ``n`` participants (index into :data:`CONDITION_GROUPS`)."""
    return rng.choice(3, n, p=CONDITION_SHARES)


def draw_days_off_before(rng, n: int) -> np.ndarray:
    """Days off work before randomisation of ``n`` participants (15 + gamma, at most 182)."""
    return np.clip(np.round(15 + rng.gamma(1.5, 30, n)), 15, 182).astype(int)


def days_off_model(p: Params, arm, cond, prior, practice_i, prac_eff, z1, z2, structural_zero,
                   window_days: int) -> dict:
    """Latent days off and first-return time of each participant (no random draws here).

    The deterministic part of the generator's outcome model, given its random
    inputs (arm 0/1, condition group index, prior days off, practice index,
    practice effects, the copula normals ``z1``/``z2`` and the structural-zero
    flags).  :func:`latent_outcomes` calls it for both :func:`simulate_trial` and
    :func:`simulate_primary`,
    so the power simulation uses exactly the generator's days-off model.

    Returns a dict with ``lp`` (prognostic score), ``mu`` (uncapped NB mean),
    ``D`` (capped days off), ``T`` (latent Weibull RTW day), ``S1`` (first
    spell length, inf if no return), ``relapse_len`` and ``relapse_start``.
    """
    ce = np.asarray(p.condition_effects, float)
    ce = ce - np.dot(CONDITION_SHARES, ce)                  # population mean zero
    logp = np.log(prior)
    z_prior = (logp - 3.9) / 0.6                          # ~ standardised for the gamma above
    lp = ce[cond] + p.prior_absence_effect * z_prior + prac_eff[practice_i] \
        - 0.5 * (p.practice_sd ** 2 + p.prior_absence_effect ** 2 * 0.0)
    mu = p.nb_mean * np.exp(np.log(p.true_irr) * arm + lp)
    u1 = special.ndtr(z1)
    # NB quantile at u1 (comonotone with z1); scipy nbinom: n=size, p=size/(size+mu).
    # rtw.data.quantiles gives scipy's values from one CDF table per distinct mean (the power
    # simulation's arm-only means: ~10x faster), and calls scipy otherwise
    D = nbinom_ppf(u1, p.nb_theta, p.nb_theta / (p.nb_theta + mu))
    D = np.where(structural_zero, 0, np.minimum(D, window_days)).astype(np.int64)
    # latent Weibull PH time: S(t) = exp(-(t/scale)^k * HR^arm * exp(-lp))
    k = p.weibull_shape
    scale = p.weibull_median_days / np.log(2) ** (1 / k)
    u2 = special.ndtr(z2)
    cumhaz = -np.log1p(-np.clip(u2, 1e-12, 1 - 1e-12))   # larger u2 -> later return
    T = scale * (cumhaz / (p.true_rtw_hr ** arm * np.exp(-lp))) ** (1 / k)
    T = np.maximum(np.ceil(T), 0)
    returned = D < window_days
    S1 = np.where(returned, np.minimum(T, D), np.inf)     # first spell length (first RTW day)
    S1 = np.where(structural_zero, 0, S1)
    relapse_len = np.where(returned, D - np.minimum(S1, D), 0)
    relapse_start = np.minimum(S1 + p.relapse_gap_days, window_days - relapse_len)
    return {"lp": lp, "mu": mu, "D": D, "T": T, "S1": S1, "relapse_len": relapse_len,
            "relapse_start": relapse_start}


def leave_job_times(rng, p: Params, n: int, window_days: int) -> np.ndarray:
    """Day of leaving employment (exponential; P(within window) = ``leave_job_rate``)."""
    if p.leave_job_rate <= 0:
        return np.full(n, np.inf)
    leave_rate = -np.log1p(-p.leave_job_rate) / window_days
    return np.ceil(rng.exponential(1 / leave_rate, n))


def leave_job(S1, relapse_len, L, window_days: int):
    """Competing event: leaving employment before the first return.

    Returns ``(left_job, S1, relapse_len, D_true)``: after leaving, the
    participant is off work (not employed) to the end of the window, so the
    true days off ``D_true`` are the window.
    """
    left_job = (L < S1) & (L < window_days) & (L > 0)
    S1 = np.where(left_job, np.inf, S1)
    relapse_len = np.where(left_job, 0, relapse_len)
    # off intervals: [0, S1), [relapse_start, relapse_start + relapse_len)
    D_true = np.where(left_job, window_days, np.minimum(S1, window_days) + relapse_len).astype(int)
    return left_job, S1, relapse_len, D_true


@dataclass(frozen=True)
class LatentOutcomes:
    """Each participant's true course over the follow-up window (one array entry per participant).

    Days count from randomisation.  Drawn once by :func:`latent_outcomes`, the
    one outcome model of :func:`simulate_trial` and :func:`simulate_primary`.

    Attributes
    ----------
    first_return_day : float array
        Day of the first return to work (``inf``: no return in the window, or
        left employment first).
    relapse_start_day, relapse_days : arrays
        Start and length of the off-work spell after the first return (length 0: none).
    leave_job_day : float array
        Day of leaving employment (``inf`` when ``leave_job_rate`` is 0); it
        counts only when ``left_job``.
    left_job : bool array
        Left employment before the first return (the competing event).
    true_days_off : int array
        True days off work in the window (the whole window after leaving employment).
    """
    first_return_day: np.ndarray
    relapse_start_day: np.ndarray
    relapse_days: np.ndarray
    leave_job_day: np.ndarray
    left_job: np.ndarray
    true_days_off: np.ndarray


def latent_outcomes(rng, p: Params, arm, condition_group, days_off_before, practice,
                    window_days: int) -> LatentOutcomes:
    """Draw each participant's latent outcomes: days off, first return, leaving the job.

    The random draws, in this order (both generator paths depend on it): the
    practice effects, the two normals of the Gaussian copula (days off, time to
    RTW), the structural zeros of the zero inflation, then the days of leaving
    employment (:func:`leave_job_times`).  The model itself is
    :func:`days_off_model` and :func:`leave_job`.

    Parameters
    ----------
    rng : numpy.random.Generator
    p : Params
    arm : int array (0 control, 1 intervention)
    condition_group : int array (index into :data:`CONDITION_GROUPS`)
    days_off_before : int array
    practice : int array (practice index, < ``p.n_practices``)
    window_days : follow-up window
    """
    n = len(arm)
    practice_effects = rng.normal(0, p.practice_sd, p.n_practices)
    z_days_off = rng.standard_normal(n)
    z_rtw = p.copula_rho * z_days_off + np.sqrt(1 - p.copula_rho ** 2) * rng.standard_normal(n)
    structural_zero = rng.random(n) < p.zero_inflation
    model = days_off_model(p, arm, condition_group, days_off_before, practice, practice_effects,
                           z_days_off, z_rtw, structural_zero, window_days)
    leave_day = leave_job_times(rng, p, n, window_days)
    left_job, first_return, relapse_days, true_days_off = leave_job(
        model["S1"], model["relapse_len"], leave_day, window_days)
    return LatentOutcomes(first_return_day=first_return, relapse_start_day=model["relapse_start"],
                          relapse_days=relapse_days, leave_job_day=leave_day, left_job=left_job,
                          true_days_off=true_days_off)


def _first_spell_end(latent: LatentOutcomes, window_days: int) -> np.ndarray:
    """Day the first off-work spell ends, at most the window (the window after leaving the job)."""
    return np.where(latent.left_job, window_days, np.minimum(latent.first_return_day, window_days))


def _at_work(day, first_spell_end, relapse_start, relapse_end):
    """True on the days (broadcast) outside the first off-work spell and the relapse spell."""
    in_relapse = (day >= relapse_start) & (day < relapse_end)
    return ~((day < first_spell_end) | in_relapse)


def _overlap_days(start, end, period_start, period_end) -> np.ndarray:
    """Days of each participant's spell [start, end) inside each period (period_start, period_end]."""
    start = start[:, None]
    end = end[:, None]
    return np.clip(np.minimum(end, period_end) - np.maximum(start, period_start), 0, None)


# --------------------------------------------------------------------------- #
# the raw tables of simulate_trial, one function each (called in draw order)
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class Participants:
    """The randomised participants (one array entry each, in id order).

    ``practice`` indexes the practice labels, ``arm`` is 0 (control) / 1
    (intervention), ``condition_group`` indexes :data:`CONDITION_GROUPS`;
    ``eq5d_index``, ``work_ability``, ``rtw_self_efficacy`` are the baseline scores.
    """
    participant_id: np.ndarray
    practice: np.ndarray
    arm: np.ndarray
    randomisation_date: np.ndarray
    condition_group: np.ndarray
    days_off_before: np.ndarray
    eq5d_index: np.ndarray
    work_ability: np.ndarray
    rtw_self_efficacy: np.ndarray


@dataclass(frozen=True)
class Dropout:
    """Loss to follow-up and withdrawals of the randomised participants.

    ``lost``: primary outcome lost (no SMS replies or questionnaires);
    ``followup_stop_day``: day of withdrawal from follow-up (``inf``: none);
    ``intervention_stop_day``: day of any withdrawal (``inf``: none).
    """
    lost: np.ndarray
    followup_stop_day: np.ndarray
    intervention_stop_day: np.ndarray


def _screening_table(rng, p: Params, participant_ids, practices, start):
    """Raw table ``screening`` (the CONSORT flow of every invited person).

    Returns the table, and the practice index and invitation day of each
    randomised participant.
    """
    n, n_invited = len(participant_ids), p.n_invited
    practice = rng.integers(0, p.n_practices, n_invited)
    invitation_day = rng.integers(0, p.recruitment_days, n_invited)
    randomised_rows = np.sort(rng.choice(n_invited, n, replace=False))
    # every practice recruits at least one participant when possible
    if n >= p.n_practices:
        practice[randomised_rows[: p.n_practices]] = rng.permutation(p.n_practices)
    randomised = np.zeros(n_invited, bool)
    randomised[randomised_rows] = True
    # stage reached by the others: no response, ineligible or declined
    responded = randomised | (rng.random(n_invited) < p.response_rate)
    eligible = randomised | (responded & (rng.random(n_invited) < p.eligible_rate))
    consented = randomised.copy()
    reason = np.where(responded & ~eligible,
                      INELIGIBLE_REASONS[rng.integers(0, len(INELIGIBLE_REASONS), n_invited)], None)
    screening_pid = np.full(n_invited, None, dtype=object)
    screening_pid[randomised_rows] = participant_ids
    yn = np.array(["no", "yes"], dtype=object)
    screening = pd.DataFrame({
        "screening_id": _ids("S", n_invited),
        "practice": practices[practice],
        "invitation_date": _iso(start + invitation_day.astype("timedelta64[D]")),
        "responded": yn[responded.astype(int)],
        "eligible": np.where(responded, yn[eligible.astype(int)], None),
        "ineligible_reason": reason,
        "consented": np.where(eligible, yn[consented.astype(int)], None),
        "randomised": yn[randomised.astype(int)],
        "participant_id": screening_pid,
    })
    return screening, practice[randomised_rows], invitation_day[randomised_rows]


def _baseline_table(rng, p: Params, participant_ids, practice, invitation_day, start, practices,
                    arms) -> tuple[pd.DataFrame, Participants]:
    """Raw table ``baseline`` (allocation, characteristics, baseline scores) and the participants."""
    n = len(participant_ids)
    arm = _allocate(rng, p)
    randomisation_date = start + (invitation_day + rng.integers(7, 29, n)).astype("timedelta64[D]")
    condition_group = draw_condition_group(rng, n)
    age = np.clip(np.round(rng.normal(45, 11, n)), 18, 67).astype(int)
    sex = np.where(rng.random(n) < 0.6, "female", "male")
    job = np.where(rng.random(n) < 0.4, "manual", "non_manual")
    days_off_before = draw_days_off_before(rng, n)
    hours = np.clip(np.round(rng.normal(35, 8, n)), 8, 60).astype(int)
    eq5d_index = np.round(np.clip(rng.normal(0.55, 0.22, n), -0.594, 1.0), 3)
    work_ability = np.clip(np.round(rng.normal(4.0, 2.2, n)), 0, 10).astype(int)
    rtw_self_efficacy = np.round(np.clip(rng.normal(3.8, 0.9, n), 1, 6), 1)
    baseline = pd.DataFrame({
        "participant_id": participant_ids, "practice": practices[practice],
        "randomisation_date": _iso(randomisation_date),
        "arm": np.array(arms, dtype=object)[arm],
        "condition_group": CONDITION_GROUPS[condition_group], "age": age, "sex": sex,
        "job_type": job, "days_off_before": days_off_before, "weekly_hours": hours,
        "eq5d_index": eq5d_index, "work_ability": work_ability,
        "rtw_self_efficacy": rtw_self_efficacy,
    })
    people = Participants(participant_id=participant_ids, practice=practice, arm=arm,
                          randomisation_date=randomisation_date, condition_group=condition_group,
                          days_off_before=days_off_before, eq5d_index=eq5d_index,
                          work_ability=work_ability, rtw_self_efficacy=rtw_self_efficacy)
    return baseline, people


def _draw_lost(rng, p: Params, n: int) -> np.ndarray:
    """Participants whose primary outcome is lost (``n_primary_missing`` or a binomial count)."""
    if p.n_primary_missing is not None:
        n_lost = min(int(p.n_primary_missing), n)
    else:
        n_lost = int(rng.binomial(n, p.primary_missing_rate))
    lost = np.zeros(n, bool)
    lost[rng.choice(n, n_lost, replace=False)] = True
    return lost


def _withdrawals_table(rng, p: Params, people: Participants) -> tuple[pd.DataFrame, Dropout]:
    """Raw table ``withdrawals``, and who is lost or withdrawn when (:class:`Dropout`)."""
    n = len(people.arm)
    lost = _draw_lost(rng, p, n)
    n_withdrawn = int(rng.binomial(n, p.withdrawal_rate))
    withdrawn = rng.choice(n, n_withdrawn, replace=False)
    level = rng.choice(np.array(["intervention", "followup", "full"]), n_withdrawn, p=[0.3, 0.4, 0.3])
    # only intervention-arm participants can withdraw from the intervention alone
    control_from_intervention = (people.arm[withdrawn] == 0) & (level == "intervention")
    level[control_from_intervention] = rng.choice(np.array(["followup", "full"]),
                                                  int(control_from_intervention.sum()))
    # participants lost to follow-up withdraw early; others late enough to keep the primary
    withdrawal_day = np.where(lost[withdrawn], rng.integers(5, 40, n_withdrawn),
                              rng.integers(113, 176, n_withdrawn))
    followup_stop_day = np.full(n, np.inf)
    from_followup = np.isin(level, ["followup", "full"])
    followup_stop_day[withdrawn[from_followup]] = withdrawal_day[from_followup]
    intervention_stop_day = np.full(n, np.inf)
    intervention_stop_day[withdrawn] = withdrawal_day
    withdrawals = pd.DataFrame({
        "participant_id": people.participant_id[withdrawn],
        "withdrawal_date": _iso(people.randomisation_date[withdrawn]
                                + withdrawal_day.astype("timedelta64[D]")),
        "level": level,
        # only participants lost to follow-up withdraw with their data not kept
        "data_kept": np.where((level == "full") & lost[withdrawn] & (rng.random(n_withdrawn) < 0.5),
                              "no", "yes"),
    }).sort_values("participant_id", kind="mergesort").reset_index(drop=True)
    return withdrawals, Dropout(lost=lost, followup_stop_day=followup_stop_day,
                                intervention_stop_day=intervention_stop_day)


def _sms_replies(rng, reply_rate: float, dropout: Dropout, sms_day) -> tuple[np.ndarray, np.ndarray]:
    """Which SMS are sent and which answered (two n x weeks bool matrices).

    No SMS after withdrawal from follow-up; the lost never reply; everyone else
    answers at least half the SMS plus one (the earliest unanswered SMS are
    answered instead), which keeps the primary outcome derivable.
    """
    n, n_weeks = len(dropout.lost), len(sms_day)
    propensity = rng.beta(8 * reply_rate, 8 * (1 - reply_rate), n)
    sent = sms_day[None, :] < dropout.followup_stop_day[:, None]
    replied = sent & (rng.random((n, n_weeks)) < propensity[:, None]) & ~dropout.lost[:, None]
    min_replies = int(np.ceil(0.5 * n_weeks)) + 1
    short = np.maximum(min_replies - replied.sum(axis=1), 0) * ~dropout.lost
    replied |= sent & ~replied & (np.cumsum(sent & ~replied, axis=1) <= short[:, None])
    return sent, replied


def _sms_truth(latent: LatentOutcomes, sms_day, period_days: int,
               window_days: int) -> tuple[np.ndarray, np.ndarray]:
    """True answers to each SMS (n x weeks): days off in the period (lo, hi] before it, and
    "at work now" (on the SMS day, not in an off spell, not left the job)."""
    period_start, period_end = sms_day[None, :] - period_days, sms_day[None, :]
    relapse_end = latent.relapse_start_day + latent.relapse_days
    days_off = (_overlap_days(np.zeros(len(latent.left_job)), _first_spell_end(latent, window_days),
                              period_start, period_end)
                + _overlap_days(latent.relapse_start_day, relapse_end, period_start, period_end))
    # status end of the first spell: never back (left job, or off all window) -> inf,
    # so an SMS on the last day of the window is not read as a return
    status_end = np.where(latent.left_job | ~np.isfinite(latent.first_return_day), np.inf,
                          latent.first_return_day)
    at_work = _at_work(sms_day[None, :], status_end[:, None], latent.relapse_start_day[:, None],
                       relapse_end[:, None])
    return days_off.astype(int), at_work


def _reply_delays(rng, late_rate: float, shape) -> np.ndarray:
    """Days from sending an SMS to its reply (mess: a few replies 8-20 days late)."""
    delay = np.where(rng.random(shape) < 0.7, 0, rng.integers(1, 4, shape))
    late = rng.random(shape) < late_rate
    return np.where(late, rng.integers(8, 21, shape), delay)


def _days_off_text(rng, mess: dict, days_off, replied) -> np.ndarray:
    """Days off as texted back (mess: some free text, some uninterpretable; None if no reply)."""
    m = len(days_off)
    text = _int_text(days_off)
    free_text = replied & (rng.random(m) < mess["sms_free_text"])
    text[free_text & (days_off == 0)] = "none"
    some = free_text & (days_off > 0)
    text[some] = (_int_text(days_off[some]) + np.where(days_off[some] == 1, " day", " days").astype(object))
    uninterpretable = replied & (rng.random(m) < mess["sms_uninterpretable"])
    text[uninterpretable] = "not sure"
    text[~replied] = None
    return text


def _sms_table(rng, p: Params, people: Participants, latent: LatentOutcomes, dropout: Dropout,
               mess: dict, sms_weeks, period_days: int, window_days: int):
    """Raw table ``sms`` (one row per SMS sent), and the n x weeks bool matrix of answered SMS."""
    weeks = np.asarray(sms_weeks)
    sms_day = weeks * 7                                   # SMS day after randomisation
    sent, replied = _sms_replies(rng, p.sms_reply_rate, dropout, sms_day)
    days_off, at_work = _sms_truth(latent, sms_day, period_days, window_days)
    delay = _reply_delays(rng, mess["sms_late"], replied.shape)
    rows_p, rows_w = np.nonzero(sent)
    sent_date = people.randomisation_date[rows_p] + sms_day[rows_w].astype("timedelta64[D]")
    reply = replied[rows_p, rows_w]
    reply_date = np.where(reply, sent_date + delay[rows_p, rows_w].astype("timedelta64[D]"),
                          np.datetime64("NaT"))
    m = len(rows_p)
    days_off_txt = _days_off_text(rng, mess, days_off[rows_p, rows_w], reply)
    at_work_txt = np.array(["no", "yes"], dtype=object)[at_work[rows_p, rows_w].astype(np.int8)]
    at_work_txt[~reply] = None
    # inconsistent dates: reply before the SMS was sent
    bad_date = reply & (rng.random(m) < mess["inconsistent_date"])
    reply_date = np.where(bad_date, sent_date - np.timedelta64(30, "D"), reply_date)
    reply_txt = _iso(reply_date.astype("datetime64[D]"))
    sent_txt = _iso(sent_date)
    # duplicated replies (mess): appended, then ordered by participant and week
    # with integer keys (sorting 10^7 id strings would dominate the run time)
    duplicated = np.nonzero(reply & (rng.random(m) < mess["sms_duplicated"]))[0]
    take = np.r_[np.arange(m), duplicated]
    order = np.lexsort((np.r_[np.zeros(m), np.ones(len(duplicated))], rows_w[take], rows_p[take]))
    take = take[order]
    sms = pd.DataFrame({
        "participant_id": people.participant_id[rows_p[take]], "week": weeks[rows_w[take]],
        "sent_date": sent_txt[take], "reply_date": reply_txt[take],
        "days_off": days_off_txt[take], "at_work": at_work_txt[take],
    })
    return sms, replied


#: Follow-up questionnaires: timepoint, day due after randomisation, days late at most (exclusive).
QUESTIONNAIRES = (("6w", 42, 14), ("6m", 182, 21))


def _followup_score(rng, baseline, change, difference, sd, low, high, decimals, arm, fraction):
    """A secondary score at follow-up: baseline + common change + the arm difference + noise,
    the change and difference scaled by the fraction of the 6 months elapsed."""
    score = baseline + change * fraction + difference * fraction * arm + rng.normal(0, sd, len(arm))
    return np.round(np.clip(score, low, high), decimals)


def _questionnaire(rng, timepoint: str, due_day: int, max_delay: int, who, people: Participants,
                   latent: LatentOutcomes, sec: dict, window_days: int) -> pd.DataFrame:
    """Rows of table ``followup`` for the participants ``who`` returned one questionnaire."""
    fraction = 0.5 if timepoint == "6w" else 1.0
    arm = people.arm[who]
    eq = _followup_score(rng, people.eq5d_index[who], 0.08, sec["eq5d_index"], 0.15, -0.594, 1.0, 3,
                         arm, fraction)
    wa = _followup_score(rng, people.work_ability.astype(float)[who], 1.5, sec["work_ability"], 1.8,
                         0, 10, 0, arm, fraction)
    se = _followup_score(rng, people.rtw_self_efficacy[who], 0.3, sec["rtw_self_efficacy"], 0.7, 1, 6,
                         1, arm, fraction)
    pres = np.round(np.clip(rng.normal(4.0 + sec["presenteeism"] * fraction * arm, 2.0), 0, 10))
    at_day = min(due_day, window_days - 1)
    now_at_work = _at_work(at_day, _first_spell_end(latent, window_days), latent.relapse_start_day,
                           latent.relapse_start_day + latent.relapse_days)[who]
    left = latent.left_job[who] & (latent.leave_job_day[who] <= due_day)
    randomised = people.randomisation_date[who]
    n = len(who)
    return pd.DataFrame({
        "participant_id": people.participant_id[who], "timepoint": timepoint,
        "return_date": _iso(randomised + (due_day + rng.integers(0, max_delay, n)).astype("timedelta64[D]")),
        "eq5d_index": eq, "work_ability": wa.astype(int), "rtw_self_efficacy": se,
        "presenteeism": pres.astype(int),
        "gp_visits": rng.poisson(2 * fraction, n),
        "employment_status": np.where(left, "left_job", "employed"),
        "left_job_date": np.where(left, _iso(randomised + np.where(left, latent.leave_job_day[who], 0)
                                             .astype(int).astype("timedelta64[D]")), None),
        "at_work": np.where(now_at_work & ~left, "yes", "no"),
        "days_off_6m": (np.clip(np.round(latent.true_days_off[who] * rng.normal(1.0, 0.1, n)), 0,
                                window_days).astype(int)
                        if timepoint == "6m" else np.full(n, None)),
    })


def _followup_table(rng, people: Participants, latent: LatentOutcomes, dropout: Dropout, replied,
                    ret: dict, sec: dict, mess: dict, window_days: int) -> pd.DataFrame:
    """Raw table ``followup`` (the 6-week and 6-month questionnaires returned).

    The 6-month questionnaire is always returned by a participant (not lost)
    who answered fewer than half the SMS: it keeps the primary derivable.
    """
    n, n_weeks = replied.shape
    needs_6m = (replied.sum(axis=1) < int(np.ceil(0.5 * n_weeks))) & ~dropout.lost
    frames, respondents = [], []
    for timepoint, due_day, max_delay in QUESTIONNAIRES:
        returned = ((rng.random(n) < ret[timepoint]) & ~dropout.lost
                    & (due_day < dropout.followup_stop_day))
        if timepoint == "6m":
            returned |= needs_6m
        who = np.nonzero(returned)[0]
        frames.append(_questionnaire(rng, timepoint, due_day, max_delay, who, people, latent, sec,
                                     window_days))
        respondents.append(who)
    followup = pd.concat(frames, ignore_index=True)
    # out-of-range scores (mess): a typing slip multiplies by 10
    out_of_range = rng.random(len(followup)) < mess["score_out_of_range"]
    followup.loc[out_of_range, "work_ability"] = (
        followup.loc[out_of_range, "work_ability"].astype(int) * 10 + 11)
    # order by participant, then timepoint (integer keys: ids are W0000001... in order)
    row_participant = np.concatenate(respondents)
    row_timepoint = np.concatenate([np.full(len(f), k) for k, f in enumerate(frames)])
    return followup.iloc[np.lexsort((row_timepoint, row_participant))].reset_index(drop=True)


def _intervention_table(rng, p: Params, people: Participants, dropout: Dropout) -> pd.DataFrame:
    """Raw table ``intervention`` (the vocational support worker's contacts, intervention arm)."""
    n = len(people.arm)
    engaged = (people.arm == 1) & (rng.random(n) < p.engagement_rate)
    more = max(p.contacts_max - 1, 1)                    # contacts after the first, at most
    n_contacts = np.where(engaged, 1 + rng.binomial(more, min((p.contacts_mean - 1) / more, 1.0), n), 0)
    who = np.repeat(np.arange(n), n_contacts)
    contact_day = np.sort(rng.integers(1, 120, len(who)))
    order = np.lexsort((contact_day, who))
    who, contact_day = who[order], contact_day[order]
    stop_day = dropout.intervention_stop_day[who]
    keep = contact_day < stop_day
    keep |= np.r_[True, who[1:] != who[:-1]] & (stop_day > 3)   # first contact before withdrawal
    who, contact_day = who[keep], contact_day[keep]
    return pd.DataFrame({
        "participant_id": people.participant_id[who],
        "contact_date": _iso(people.randomisation_date[who] + contact_day.astype("timedelta64[D]")),
        "mode": np.where(rng.random(len(who)) < 0.8, "phone", "video"),
        "minutes": np.clip(np.round(10 + rng.gamma(2.0, 12.0, len(who))), 5, 120).astype(int),
    })


def simulate_trial(params: Params | dict, seed: int, arms: tuple[str, str], window_days: int,
                   sms_weeks, period_days: int) -> dict[str, pd.DataFrame]:
    """Generate the raw exports of one synthetic trial.

    One random stream, drawn table by table in a fixed order (screening,
    baseline, the latent outcomes, withdrawals, SMS, follow-up, intervention),
    so the same seed gives the same tables.

    Parameters
    ----------
    params : Params or dict
        Generator parameters (the config's ``synthetic:`` block, complete: validated, or
        built with ``rtw.core.validation.with_defaults("synthetic", ...)``).
    seed : int
        Seed of numpy's ``default_rng``; the same seed gives identical tables.
    arms : (control_label, intervention_label)
        Arm labels from config ``trial.arms``.
    window_days, sms_weeks, period_days
        Follow-up window and SMS schedule (config ``trial:``).

    Returns
    -------
    dict of DataFrame
        Keys :data:`TABLES`; columns as ``workflow/schemas/raw_*.schema.yaml``.
    """
    p = params if isinstance(params, Params) else params_from_config(params)
    sec, ret, mess = p.secondary_differences, p.questionnaire_return, p.mess
    rng = np.random.default_rng(seed)
    if p.n_randomised > p.n_invited:
        raise ValueError("synthetic.n_randomised exceeds n_invited")
    practices = np.array([f"P{i + 1:02d}" for i in range(p.n_practices)])
    start = np.datetime64(p.recruitment_start, "D")
    participant_ids = _ids("W", p.n_randomised)
    screening, practice, invitation_day = _screening_table(rng, p, participant_ids, practices, start)
    baseline, people = _baseline_table(rng, p, participant_ids, practice, invitation_day, start,
                                       practices, arms)
    latent = latent_outcomes(rng, p, people.arm, people.condition_group, people.days_off_before,
                             people.practice, window_days)
    withdrawals, dropout = _withdrawals_table(rng, p, people)
    sms, replied = _sms_table(rng, p, people, latent, dropout, mess, sms_weeks, period_days,
                              window_days)
    followup = _followup_table(rng, people, latent, dropout, replied, ret, sec, mess, window_days)
    intervention = _intervention_table(rng, p, people, dropout)
    return {"screening": screening, "baseline": baseline, "sms": sms, "followup": followup,
            "intervention": intervention, "withdrawals": withdrawals}


def truth(params: Params | dict) -> dict:
    """The true effects a synthetic trial was generated with (for checks and reports)."""
    p = params if isinstance(params, Params) else params_from_config(params)
    return {"irr_days_off": p.true_irr, "hr_rtw_latent": p.true_rtw_hr,
            "secondary_differences": dict(p.secondary_differences)}


def _first_rtw_seen_at_sms(rng, latent: LatentOutcomes, lost, window_days: int,
                           sms_period_days: int) -> tuple[np.ndarray, np.ndarray]:
    """Time to first RTW and its event code (1 RTW, 2 left employment, 0 censored) as the
    fortnightly SMS would show it; a participant lost is censored at a uniform SMS day."""
    per = float(sms_period_days)
    first_return = latent.first_return_day
    rtw_seen = np.ceil(np.maximum(first_return, 1) / per) * per
    event = np.where(np.isfinite(first_return) & (rtw_seen <= window_days), 1, 0)
    time = np.where(event == 1, rtw_seen, float(window_days))
    left = latent.left_job & (latent.leave_job_day < time)
    time = np.where(left, latent.leave_job_day, time)
    event = np.where(left, 2, event)
    drop = np.floor(rng.uniform(0, window_days, len(lost)) / per) * per
    censored = lost & (drop < time)
    time = np.where(censored, np.maximum(drop, 1.0), time)
    event = np.where(censored, 0, event)
    return time, event


def simulate_primary(params: Params | dict, seed, n_per_arm: int, attrition: float,
                     window_days: int, sms_period_days: int,
                     arms: tuple[str, str] | None = None) -> dict:
    """Only what the primary analysis (and the Cox analysis) needs, for power simulations.

    A fast path of :func:`simulate_trial` for the power simulation (SPEC A16):
    the same participant model -- condition group, prior days off and practice
    drawn as the generator draws them, and **the generator's outcome model**
    (:func:`latent_outcomes`, the function :func:`simulate_trial` calls: the
    zero-inflated NB with ``true_irr``, ``nb_theta``, ``nb_mean``, the cap at
    the window, the copula-linked Weibull first return and leaving employment)
    -- but none of the raw exports (no screening, SMS, questionnaire or
    intervention tables, no mess), so no cleaning and derivation are needed.

    Differences from the full path, by design:

    * the primary outcome is the true days off in the window (``D_true``);
      the full path derives it from fortnightly SMS reports (prorated when
      some are missing), which adds a little measurement noise;
    * attrition: each participant's primary outcome is missing with
      probability ``attrition`` (missing completely at random), instead of
      the generator's ``n_primary_missing`` / withdrawals;
    * time to first RTW is the latent first-return day rounded up to the
      next fortnightly SMS (interval censoring as the SMS schedule gives it),
      censored at the window, at leaving employment (code 2, the competing
      event) or, for a participant lost to attrition, at a uniform day in the
      window (rounded down to an SMS day);
    * exactly ``n_per_arm`` participants in each arm.

    Parameters
    ----------
    params : Params or dict (complete config ``synthetic:`` block, with the grid
        point's ``true_irr`` and ``nb_theta`` already set).
    seed : int or numpy.random.SeedSequence
    n_per_arm, attrition : grid point.
    window_days, sms_period_days : follow-up window and SMS period (config ``trial:``).
    arms : optional (control, intervention) labels; default arm is 0/1.

    Returns
    -------
    dict of numpy arrays: ``arm`` (0/1 or labels), ``practice`` (index),
    ``condition_group`` (index into :data:`CONDITION_GROUPS`),
    ``days_off_before``, ``days_off_6m`` (NaN when missing), ``rtw_time``,
    ``rtw_event`` (1 RTW, 2 left employment, 0 censored).
    """
    p = params if isinstance(params, Params) else params_from_config(params)
    rng = np.random.default_rng(seed)
    n = 2 * int(n_per_arm)
    arm = np.repeat(np.array([0, 1], dtype=np.int8), int(n_per_arm))
    practice = rng.integers(0, p.n_practices, n)
    condition_group = draw_condition_group(rng, n)
    days_off_before = draw_days_off_before(rng, n)
    latent = latent_outcomes(rng, p, arm, condition_group, days_off_before, practice, window_days)
    lost = rng.random(n) < attrition
    days_off = np.where(lost, np.nan, latent.true_days_off.astype(float))
    time, event = _first_rtw_seen_at_sms(rng, latent, lost, window_days, sms_period_days)
    out_arm = arm if arms is None else np.asarray(arms, dtype=object)[arm]
    return {"arm": out_arm, "practice": practice, "condition_group": condition_group,
            "days_off_before": days_off_before.astype(float), "days_off_6m": days_off,
            "rtw_time": time.astype(float), "rtw_event": event.astype(np.int64)}
