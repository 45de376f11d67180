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
  practice) has mean zero in the population.  ``D`` is capped at the window
  (182 days).  ``true_irr`` is therefore the ratio of the *uncapped* means;
  the cap pulls the realised ratio of means slightly towards 1.
* **Latent time to RTW** ``T``: Weibull proportional hazards with hazard ratio
  ``true_rtw_hr`` for the intervention, linked to ``D`` by a Gaussian copula
  (correlation ``copula_rho``) so that long absences go with late returns.
  The first return happens at ``min(T, D)`` when ``D`` < 182 (days off beyond
  the first spell are placed as a relapse after it); when ``D`` = 182 the
  participant never returns in the window.  The observed first RTW is only
  seen at the fortnightly SMS, so the estimable HR is close to, not exactly,
  ``true_rtw_hr``.
* **Leaving employment** (competing event) at an exponential time whose
  probability of falling inside the window is ``leave_job_rate``; it counts only
  if it comes before the first return, after which the participant is off work
  (not employed) to the end of the window.
* Secondary scores: baseline score + common change + ``secondary_differences``
  for the intervention + noise, at 6 weeks and 6 months.

The defaults reproduce WAVE's published shape: 7,955 invited, 130 randomised
(64/66), 10 practices, 125 with the primary outcome, days off mean (SD) about
42.7 (57.7) with usual care and 37.9 (48.8) with vocational advice.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

TABLES = ("screening", "baseline", "sms", "followup", "intervention", "withdrawals")

CONDITION_GROUPS = np.array(["musculoskeletal", "mental_health", "other"])
INELIGIBLE_REASONS = np.array([
    "off work less than 2 weeks", "off work more than 6 months",
    "not employed", "other reason"])


@dataclass(frozen=True)
class Params:
    """Generator parameters; field names are the keys of the config ``synthetic:`` block."""
    n_invited: int = 7955
    n_randomised: int = 130
    n_practices: int = 10
    allocation: tuple | None = (64, 66)
    allocation_ratio: tuple = (1, 1)
    n_primary_missing: int | None = 5
    primary_missing_rate: float = 0.04
    response_rate: float = 0.055
    eligible_rate: float = 0.55
    consent_rate: float = 0.55
    recruitment_start: str = "2021-01-11"
    recruitment_days: int = 300
    true_irr: float = 0.89
    nb_mean: float = 52.0
    nb_theta: float = 0.62
    zero_inflation: float = 0.10
    true_rtw_hr: float = 1.15
    weibull_shape: float = 0.9
    weibull_median_days: float = 40.0
    copula_rho: float = 0.8
    relapse_gap_days: int = 10
    condition_effects: tuple = (0.0, 0.25, -0.2)  # log-mean effects: msk, mental health, other
    prior_absence_effect: float = 0.3             # per SD of log prior absence
    practice_sd: float = 0.15
    secondary_differences: dict | None = None
    sms_reply_rate: float = 0.80
    questionnaire_return: dict | None = None
    withdrawal_rate: float = 0.04
    leave_job_rate: float = 0.06
    contacts_mean: float = 4.8
    contacts_max: int = 12
    engagement_rate: float = 0.92
    mess: dict | None = None


def params_from_config(block: dict | None) -> Params:
    """Build :class:`Params` from the config's ``synthetic:`` block (unknown keys are an error)."""
    block = dict(block or {})
    fields = set(Params.__dataclass_fields__)
    unknown = sorted(set(block) - fields)
    if unknown:
        raise ValueError(f"config synthetic: unknown key(s) {unknown}; known: {sorted(fields)}")
    for key in ("allocation", "allocation_ratio", "condition_effects"):
        if block.get(key) is not None:
            block[key] = tuple(block[key])
    # legacy name kept for readability of config: control_mean_days_off documents the target
    return Params(**block)


def _defaults(d: dict | None, base: dict) -> dict:
    out = dict(base)
    out.update(d or {})
    return out


SECONDARY_DEFAULTS = {"eq5d_index": 0.03, "work_ability": 0.4,
                      "rtw_self_efficacy": 0.15, "presenteeism": -0.3}
RETURN_DEFAULTS = {"6w": 0.80, "6m": 0.75}
MESS_DEFAULTS = {"sms_late": 0.03, "sms_duplicated": 0.02, "sms_free_text": 0.05,
                 "sms_uninterpretable": 0.005, "score_out_of_range": 0.01,
                 "inconsistent_date": 0.005}


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
# the days-off model (shared by simulate_trial and simulate_primary)
# --------------------------------------------------------------------------- #
def days_off_model(p: Params, arm, cond, prior, practice_i, prac_eff, z1, z2, structural_zero,
                   window_days: int = 182) -> dict:
    """Latent days off and first-return time of each participant (no random draws here).

    The deterministic part of the generator's outcome model, given its random
    inputs (arm 0/1, condition group index, prior days off, practice index,
    practice effects, the copula normals ``z1``/``z2`` and the structural-zero
    flags).  :func:`simulate_trial` and :func:`simulate_primary` both call it,
    so the power simulation uses exactly the generator's days-off model.

    Returns a dict with ``lp`` (prognostic score), ``mu`` (uncapped NB mean),
    ``D`` (capped days off), ``T`` (latent Weibull RTW day), ``S1`` (first
    spell length, inf if no return), ``relapse_len`` and ``relapse_start``.
    """
    ce = np.asarray(p.condition_effects, float)
    ce = ce - np.dot([0.45, 0.40, 0.15], ce)             # population mean zero
    logp = np.log(prior)
    z_prior = (logp - 3.9) / 0.6                          # ~ standardised for the gamma above
    lp = ce[cond] + p.prior_absence_effect * z_prior + prac_eff[practice_i] \
        - 0.5 * (p.practice_sd ** 2 + p.prior_absence_effect ** 2 * 0.0)
    mu = p.nb_mean * np.exp(np.log(p.true_irr) * arm + lp)
    u1 = special.ndtr(z1)
    # NB quantile at u1 (comonotone with z1); scipy nbinom: n=size, p=size/(size+mu)
    D = stats.nbinom.ppf(u1, p.nb_theta, p.nb_theta / (p.nb_theta + mu))
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


def leave_job_times(rng, p: Params, n: int, window_days: int = 182) -> np.ndarray:
    """Day of leaving employment (exponential; P(within window) = ``leave_job_rate``)."""
    if p.leave_job_rate <= 0:
        return np.full(n, np.inf)
    leave_rate = -np.log1p(-p.leave_job_rate) / window_days
    return np.ceil(rng.exponential(1 / leave_rate, n))


def leave_job(S1, relapse_len, L, window_days: int = 182):
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


def simulate_trial(params: Params | dict | None = None, seed: int = 1,
                   arms: tuple[str, str] = ("usual_care", "vocational_advice"),
                   window_days: int = 182, sms_weeks=tuple(range(2, 27, 2)),
                   period_days: int = 14) -> dict[str, pd.DataFrame]:
    """Generate the raw exports of one synthetic trial.

    Parameters
    ----------
    params : Params or dict
        Generator parameters (the config ``synthetic:`` block).
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
    sec = _defaults(p.secondary_differences, SECONDARY_DEFAULTS)
    ret = _defaults(p.questionnaire_return, RETURN_DEFAULTS)
    mess = _defaults(p.mess, MESS_DEFAULTS)
    rng = np.random.default_rng(seed)
    n, n_inv = p.n_randomised, p.n_invited
    if n > n_inv:
        raise ValueError("synthetic.n_randomised exceeds n_invited")
    practices = np.array([f"P{i + 1:02d}" for i in range(p.n_practices)])

    # ---------------- screening (CONSORT flow) ----------------
    start = np.datetime64(p.recruitment_start, "D")
    inv_practice = rng.integers(0, p.n_practices, n_inv)
    # every practice recruits at least one participant when possible
    inv_day = rng.integers(0, p.recruitment_days, n_inv)
    rand_idx = np.sort(rng.choice(n_inv, n, replace=False))
    if n >= p.n_practices:
        inv_practice[rand_idx[: p.n_practices]] = rng.permutation(p.n_practices)
    is_rand = np.zeros(n_inv, bool)
    is_rand[rand_idx] = True
    # stage reached by the others: 0 no response, 1 ineligible, 2 declined
    other = ~is_rand
    u = rng.random(n_inv)
    responded = is_rand | (u < p.response_rate)
    eligible = is_rand | (responded & (rng.random(n_inv) < p.eligible_rate))
    consented = is_rand.copy()
    reason = np.where(responded & ~eligible,
                      INELIGIBLE_REASONS[rng.integers(0, len(INELIGIBLE_REASONS), n_inv)], None)
    pid = _ids("W", n)
    screening_pid = np.full(n_inv, None, dtype=object)
    screening_pid[rand_idx] = pid
    yn = np.array(["no", "yes"], dtype=object)
    screening = pd.DataFrame({
        "screening_id": _ids("S", n_inv),
        "practice": practices[inv_practice],
        "invitation_date": _iso(start + inv_day.astype("timedelta64[D]")),
        "responded": yn[responded.astype(int)],
        "eligible": np.where(responded, yn[eligible.astype(int)], None),
        "ineligible_reason": reason,
        "consented": np.where(eligible, yn[consented.astype(int)], None),
        "randomised": yn[is_rand.astype(int)],
        "participant_id": screening_pid,
    })
    del other, u

    # ---------------- baseline ----------------
    arm = _allocate(rng, p)
    practice_i = inv_practice[rand_idx]
    rand_date = start + (inv_day[rand_idx] + rng.integers(7, 29, n)).astype("timedelta64[D]")
    cond = rng.choice(3, n, p=[0.45, 0.40, 0.15])
    age = np.clip(np.round(rng.normal(45, 11, n)), 18, 67).astype(int)
    sex = np.where(rng.random(n) < 0.6, "female", "male")
    job = np.where(rng.random(n) < 0.4, "manual", "non_manual")
    prior = np.clip(np.round(15 + rng.gamma(1.5, 30, n)), 15, 182).astype(int)
    hours = np.clip(np.round(rng.normal(35, 8, n)), 8, 60).astype(int)
    eq5d_bl = np.round(np.clip(rng.normal(0.55, 0.22, n), -0.594, 1.0), 3)
    wa_bl = np.clip(np.round(rng.normal(4.0, 2.2, n)), 0, 10).astype(int)
    se_bl = np.round(np.clip(rng.normal(3.8, 0.9, n), 1, 6), 1)
    baseline = pd.DataFrame({
        "participant_id": pid, "practice": practices[practice_i],
        "randomisation_date": _iso(rand_date),
        "arm": np.array(arms, dtype=object)[arm],
        "condition_group": CONDITION_GROUPS[cond], "age": age, "sex": sex, "job_type": job,
        "days_off_before": prior, "weekly_hours": hours,
        "eq5d_index": eq5d_bl, "work_ability": wa_bl, "rtw_self_efficacy": se_bl,
    })

    # ---------------- latent outcomes ----------------
    # (the days-off model is shared with simulate_primary: days_off_model / leave_job)
    prac_eff = rng.normal(0, p.practice_sd, p.n_practices)
    z1 = rng.standard_normal(n)
    z2 = p.copula_rho * z1 + np.sqrt(1 - p.copula_rho ** 2) * rng.standard_normal(n)
    structural_zero = rng.random(n) < p.zero_inflation
    lat = days_off_model(p, arm, cond, prior, practice_i, prac_eff, z1, z2, structural_zero,
                         window_days)
    lp, D, S1, relapse_len, relapse_start = (lat["lp"], lat["D"], lat["S1"], lat["relapse_len"],
                                             lat["relapse_start"])
    # competing event: leaving employment before RTW
    L = leave_job_times(rng, p, n, window_days)
    left_job, S1, relapse_len, D_true = leave_job(S1, relapse_len, L, window_days)

    # ---------------- withdrawals and missing primary ----------------
    if p.n_primary_missing is not None:
        n_miss = min(int(p.n_primary_missing), n)
    else:
        n_miss = int(rng.binomial(n, p.primary_missing_rate))
    lost = np.zeros(n, bool)
    lost[rng.choice(n, n_miss, replace=False)] = True
    n_wd = int(rng.binomial(n, p.withdrawal_rate))
    wd_idx = rng.choice(n, n_wd, replace=False)
    wd_level = rng.choice(np.array(["intervention", "followup", "full"]), n_wd, p=[0.3, 0.4, 0.3])
    # only intervention-arm participants can withdraw from the intervention alone
    ctrl_int = (arm[wd_idx] == 0) & (wd_level == "intervention")
    wd_level[ctrl_int] = rng.choice(np.array(["followup", "full"]), int(ctrl_int.sum()))
    # participants lost to follow-up withdraw early; others late enough to keep the primary
    wd_day = np.where(lost[wd_idx], rng.integers(5, 40, n_wd), rng.integers(113, 176, n_wd))
    wd_day_full = np.full(n, np.inf)
    fu_withdrawn = np.isin(wd_level, ["followup", "full"])
    wd_day_full[wd_idx[fu_withdrawn]] = wd_day[fu_withdrawn]
    int_stop = np.full(n, np.inf)
    int_stop[wd_idx] = wd_day
    withdrawals = pd.DataFrame({
        "participant_id": pid[wd_idx],
        "withdrawal_date": _iso(rand_date[wd_idx] + wd_day.astype("timedelta64[D]")),
        "level": wd_level,
        # only participants lost to follow-up withdraw with their data not kept
        "data_kept": np.where((wd_level == "full") & lost[wd_idx] & (rng.random(n_wd) < 0.5), "no", "yes"),
    }).sort_values("participant_id", kind="mergesort").reset_index(drop=True)

    # ---------------- SMS (n x 13) ----------------
    weeks = np.asarray(sms_weeks)
    day = weeks * 7                                       # SMS day after randomisation
    nw = len(weeks)
    propensity = rng.beta(8 * p.sms_reply_rate, 8 * (1 - p.sms_reply_rate), n)
    sent = day[None, :] < wd_day_full[:, None]            # no SMS after withdrawal from follow-up
    reply = sent & (rng.random((n, nw)) < propensity[:, None]) & ~lost[:, None]
    # keep the primary outcome derivable for all but the lost: at least
    # min_replies answered (the earliest unanswered SMS are answered instead)
    min_replies = int(np.ceil(0.5 * nw)) + 1
    short = np.maximum(min_replies - reply.sum(axis=1), 0) * ~lost
    fill = sent & ~reply & (np.cumsum(sent & ~reply, axis=1) <= short[:, None])
    reply |= fill
    lo, hi = day[None, :] - period_days, day[None, :]      # window (lo, hi]
    def overlap(a, b):                                    # days of [a, b) inside (lo, hi]
        a = a[:, None]; b = b[:, None]
        return np.clip(np.minimum(b, hi) - np.maximum(a, lo), 0, None)
    off1_end = np.where(left_job, window_days, np.minimum(S1, window_days))
    days_off_fn = overlap(np.zeros(n), off1_end) + overlap(relapse_start, relapse_start + relapse_len)
    days_off_fn = days_off_fn.astype(int)
    # "at work now": working on the SMS day (not in an off spell, not left job)
    # status end of the first spell: never back (left job, or off all window) -> inf,
    # so an SMS on the last day of the window is not read as a return
    status_end = np.where(left_job | ~np.isfinite(S1), np.inf, S1)
    in_first = day[None, :] < status_end[:, None]
    in_relapse = (day[None, :] >= relapse_start[:, None]) & (day[None, :] < (relapse_start + relapse_len)[:, None])
    at_work = ~(in_first | in_relapse)
    # participants whose primary would not be derivable: force enough replies
    # (the 6-month questionnaire is the fallback; see below)
    delay = np.where(rng.random((n, nw)) < 0.7, 0, rng.integers(1, 4, (n, nw)))
    late = rng.random((n, nw)) < mess["sms_late"]
    delay = np.where(late, rng.integers(8, 21, (n, nw)), delay)
    rows_p, rows_w = np.nonzero(sent)
    sent_date = rand_date[rows_p] + day[rows_w].astype("timedelta64[D]")
    rep = reply[rows_p, rows_w]
    reply_date = np.where(rep, sent_date + delay[rows_p, rows_w].astype("timedelta64[D]"),
                          np.datetime64("NaT"))
    dof = days_off_fn[rows_p, rows_w]
    aw = at_work[rows_p, rows_w]
    m = len(rows_p)
    dof_txt = _int_text(dof)
    ft = rep & (rng.random(m) < mess["sms_free_text"])
    dof_txt[ft & (dof == 0)] = "none"
    sel = ft & (dof > 0)
    dof_txt[sel] = (_int_text(dof[sel]) + np.where(dof[sel] == 1, " day", " days").astype(object))
    unint = rep & (rng.random(m) < mess["sms_uninterpretable"])
    dof_txt[unint] = "not sure"
    dof_txt[~rep] = None
    aw_txt = np.array(["no", "yes"], dtype=object)[aw.astype(np.int8)]
    aw_txt[~rep] = None
    # inconsistent dates: reply before the SMS was sent
    bad_date = rep & (rng.random(m) < mess["inconsistent_date"])
    reply_date = np.where(bad_date, sent_date - np.timedelta64(30, "D"), reply_date)
    reply_txt = _iso(reply_date.astype("datetime64[D]"))
    sent_txt = _iso(sent_date)
    # duplicated replies (mess): appended, then ordered by participant and week
    # with integer keys (sorting 10^7 id strings would dominate the run time)
    dup = np.nonzero(rep & (rng.random(m) < mess["sms_duplicated"]))[0]
    take = np.r_[np.arange(m), dup]
    order = np.lexsort((np.r_[np.zeros(m), np.ones(len(dup))], rows_w[take], rows_p[take]))
    take = take[order]
    sms = pd.DataFrame({
        "participant_id": pid[rows_p[take]], "week": weeks[rows_w[take]],
        "sent_date": sent_txt[take], "reply_date": reply_txt[take],
        "days_off": dof_txt[take], "at_work": aw_txt[take],
    })

    # ---------------- follow-up questionnaires ----------------
    answered = reply.sum(axis=1)
    need_q = (answered < int(np.ceil(0.5 * nw))) & ~lost
    fu_frames, fu_index = [], []
    for tp, tday, extra_days in (("6w", 42, 14), ("6m", 182, 21)):
        returned_q = (rng.random(n) < ret[tp]) & ~lost & (tday < wd_day_full)
        if tp == "6m":
            returned_q |= need_q            # keeps the primary derivable for all but the lost
        idx = np.nonzero(returned_q)[0]
        frac = 0.5 if tp == "6w" else 1.0
        def score(bl, change, diff, sd, lo_, hi_, dec):
            v = bl[idx] + change * frac + diff * frac * arm[idx] + rng.normal(0, sd, len(idx))
            return np.round(np.clip(v, lo_, hi_), dec)
        eq = score(eq5d_bl, 0.08, sec["eq5d_index"], 0.15, -0.594, 1.0, 3)
        wa = score(wa_bl.astype(float), 1.5, sec["work_ability"], 1.8, 0, 10, 0)
        se = score(se_bl, 0.3, sec["rtw_self_efficacy"], 0.7, 1, 6, 1)
        pres = np.round(np.clip(rng.normal(4.0 + sec["presenteeism"] * frac * arm[idx], 2.0), 0, 10))
        at_day = min(tday, window_days - 1)
        now_at_work = ~(((at_day < off1_end) | ((at_day >= relapse_start) & (at_day < relapse_start + relapse_len))))[idx]
        lj = left_job[idx] & (L[idx] <= tday)
        fu = pd.DataFrame({
            "participant_id": pid[idx], "timepoint": tp,
            "return_date": _iso(rand_date[idx] + (tday + rng.integers(0, extra_days, len(idx))).astype("timedelta64[D]")),
            "eq5d_index": eq, "work_ability": wa.astype(int), "rtw_self_efficacy": se,
            "presenteeism": pres.astype(int),
            "gp_visits": rng.poisson(2 * frac, len(idx)),
            "employment_status": np.where(lj, "left_job", "employed"),
            "left_job_date": np.where(lj, _iso(rand_date[idx] + np.where(lj, L[idx], 0).astype(int).astype("timedelta64[D]")), None),
            "at_work": np.where(now_at_work & ~lj, "yes", "no"),
            "days_off_6m": (np.clip(np.round(D_true[idx] * rng.normal(1.0, 0.1, len(idx))), 0, window_days).astype(int)
                            if tp == "6m" else np.full(len(idx), None)),
        })
        fu_frames.append(fu)
        fu_index.append(idx)
    followup = pd.concat(fu_frames, ignore_index=True)
    # out-of-range scores (mess): a typing slip multiplies by 10
    oor = rng.random(len(followup)) < mess["score_out_of_range"]
    followup.loc[oor, "work_ability"] = followup.loc[oor, "work_ability"].astype(int) * 10 + 11
    # order by participant, then timepoint (integer keys: ids are W0000001... in order)
    fu_pid = np.concatenate(fu_index)
    fu_tp = np.concatenate([np.full(len(f), k) for k, f in enumerate(fu_frames)])
    followup = followup.iloc[np.lexsort((fu_tp, fu_pid))].reset_index(drop=True)

    # ---------------- intervention (VSW contacts) ----------------
    engaged = (arm == 1) & (rng.random(n) < p.engagement_rate)
    cm = max(p.contacts_max - 1, 1)
    n_contacts = np.where(engaged, 1 + rng.binomial(cm, min((p.contacts_mean - 1) / cm, 1.0), n), 0)
    ip = np.repeat(np.arange(n), n_contacts)
    cday = np.sort(rng.integers(1, 120, len(ip)))
    order = np.lexsort((cday, ip))
    ip, cday = ip[order], cday[order]
    keep = cday < int_stop[ip]
    keep |= np.r_[True, ip[1:] != ip[:-1]] & (int_stop[ip] > 3)   # first contact before withdrawal
    ip, cday = ip[keep], cday[keep]
    intervention = pd.DataFrame({
        "participant_id": pid[ip],
        "contact_date": _iso(rand_date[ip] + cday.astype("timedelta64[D]")),
        "mode": np.where(rng.random(len(ip)) < 0.8, "phone", "video"),
        "minutes": np.clip(np.round(10 + rng.gamma(2.0, 12.0, len(ip))), 5, 120).astype(int),
    })

    return {"screening": screening, "baseline": baseline, "sms": sms, "followup": followup,
            "intervention": intervention, "withdrawals": withdrawals}


def truth(params: Params | dict | None = None) -> dict:
    """The true effects a synthetic trial was generated with (for checks and reports)."""
    p = params if isinstance(params, Params) else params_from_config(params)
    return {"irr_days_off": p.true_irr, "hr_rtw_latent": p.true_rtw_hr,
            "secondary_differences": _defaults(p.secondary_differences, SECONDARY_DEFAULTS)}


def simulate_primary(params: Params | dict | None = None, seed=1, n_per_arm: int = 65,
                     attrition: float = 0.0, window_days: int = 182,
                     sms_period_days: int = 14,
                     arms: tuple[str, str] | None = None) -> dict:
    """Only what the primary analysis (and the Cox analysis) needs, for power simulations.

    A fast path of :func:`simulate_trial` for the power simulation (SPEC A16):
    the same participant model -- condition group, prior days off and practice
    drawn as the generator draws them, and **the generator's days-off model**
    (:func:`days_off_model`, :func:`leave_job_times`, :func:`leave_job`: the
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
    params : Params or dict (config ``synthetic:`` block, with the grid
        point's ``true_irr`` and ``nb_theta`` already set).
    seed : int or numpy.random.SeedSequence
    n_per_arm, attrition : grid point.
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
    practice_i = rng.integers(0, p.n_practices, n)
    cond = rng.choice(3, n, p=[0.45, 0.40, 0.15])
    prior = np.clip(np.round(15 + rng.gamma(1.5, 30, n)), 15, 182).astype(int)
    prac_eff = rng.normal(0, p.practice_sd, p.n_practices)
    z1 = rng.standard_normal(n)
    z2 = p.copula_rho * z1 + np.sqrt(1 - p.copula_rho ** 2) * rng.standard_normal(n)
    structural_zero = rng.random(n) < p.zero_inflation
    lat = days_off_model(p, arm, cond, prior, practice_i, prac_eff, z1, z2, structural_zero,
                         window_days)
    L = leave_job_times(rng, p, n, window_days)
    left_job, S1, _, D_true = leave_job(lat["S1"], lat["relapse_len"], L, window_days)
    lost = rng.random(n) < attrition
    days_off = np.where(lost, np.nan, D_true.astype(float))
    # time to first RTW, seen at the fortnightly SMS
    per = float(sms_period_days)
    rtw_seen = np.ceil(np.maximum(S1, 1) / per) * per
    event = np.where(np.isfinite(S1) & (rtw_seen <= window_days), 1, 0)
    time = np.where(event == 1, rtw_seen, float(window_days))
    lj = left_job & (L < time)
    time = np.where(lj, L, time)
    event = np.where(lj, 2, event)
    drop = np.floor(rng.uniform(0, window_days, n) / per) * per
    cens = lost & (drop < time)
    time = np.where(cens, np.maximum(drop, 1.0), time)
    event = np.where(cens, 0, event)
    out_arm = arm if arms is None else np.asarray(arms, dtype=object)[arm]
    return {"arm": out_arm, "practice": practice_i, "condition_group": cond,
            "days_off_before": prior.astype(float), "days_off_6m": days_off,
            "rtw_time": time.astype(float), "rtw_event": event.astype(np.int64)}
