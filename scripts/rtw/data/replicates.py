"""Many simulated trials at once for the power simulation: :func:`simulate_primary` as arrays.

:func:`simulate_primary_batch` returns, for R replicate seeds, what
:func:`rtw.data.generator.simulate_primary` returns for each seed alone, stacked as
``(R, n)`` arrays (``n = 2 * n_per_arm``): the same values, bit for bit
(tests/ops/test_power_batched.py compares them).  Each replicate's random draws
come from its own generator, in :func:`simulate_primary`'s order (condition group,
prior days off and practice as the generator draws them, then
:func:`rtw.data.generator.latent_outcomes`' draws, then attrition and the SMS drop
day); the deterministic outcome model is the generator's own
(:func:`rtw.data.generator.days_off_model`, :func:`rtw.data.generator.leave_job`
and the SMS view of the first return), applied once to all replicates' participants
(practice indices offset per replicate), which is where the time goes.
"""
from __future__ import annotations

import numpy as np

from rtw.data import generator as gen


class _Drawn:
    """Stands in for a random generator whose next ``uniform`` draw was made already."""

    def __init__(self, values):
        self.values = values

    def uniform(self, low, high, size):
        assert size == self.values.size
        return self.values


def _draws(p: gen.Params, seed, n: int, attrition: float, window_days: int) -> dict:
    """One replicate's random draws, in :func:`simulate_primary`'s order."""
    rng = np.random.default_rng(seed)
    practice = rng.integers(0, p.n_practices, n)
    cond = gen.draw_condition_group(rng, n)
    prior = gen.draw_days_off_before(rng, n)
    # latent_outcomes' draws, in its order
    prac_eff = rng.normal(0, p.practice_sd, p.n_practices)
    z1 = rng.standard_normal(n)
    z2 = p.copula_rho * z1 + np.sqrt(1 - p.copula_rho ** 2) * rng.standard_normal(n)
    zero = rng.random(n) < p.zero_inflation
    leave = gen.leave_job_times(rng, p, n, window_days)
    lost = rng.random(n) < attrition
    drop = rng.uniform(0, window_days, n)
    return {"practice": practice, "condition_group": cond, "days_off_before": prior,
            "practice_effects": prac_eff, "z1": z1, "z2": z2, "zero": zero, "leave": leave,
            "lost": lost, "drop": drop}


def simulate_primary_batch(params, seeds, n_per_arm: int, attrition: float, window_days: int,
                           sms_period_days: int) -> dict:
    """:func:`rtw.data.generator.simulate_primary` for each of ``seeds``, as ``(R, n)`` arrays.

    Parameters
    ----------
    params : Params or dict (complete ``synthetic:`` block with the grid point's
        ``true_irr`` and ``nb_theta``).
    seeds : sequence of int or numpy.random.SeedSequence, one per replicate.
    n_per_arm, attrition, window_days, sms_period_days : as :func:`simulate_primary`.

    Returns
    -------
    dict of ``(R, 2 * n_per_arm)`` arrays with :func:`simulate_primary`'s keys (arm 0/1).
    """
    p = params if isinstance(params, gen.Params) else gen.params_from_config(params)
    n = 2 * int(n_per_arm)
    R = len(seeds)
    d = [_draws(p, s, n, attrition, window_days) for s in seeds]
    cat = {k: np.concatenate([x[k] for x in d]) for k in d[0]}
    arm = np.tile(np.repeat(np.array([0, 1], dtype=np.int8), int(n_per_arm)), R)
    offset = np.repeat(np.arange(R) * p.n_practices, n)
    model = gen.days_off_model(p, arm, cat["condition_group"], cat["days_off_before"],
                               cat["practice"] + offset, cat["practice_effects"], cat["z1"],
                               cat["z2"], cat["zero"], window_days)
    left_job, first_return, relapse_days, true_days_off = gen.leave_job(
        model["S1"], model["relapse_len"], cat["leave"], window_days)
    latent = gen.LatentOutcomes(first_return_day=first_return,
                                relapse_start_day=model["relapse_start"],
                                relapse_days=relapse_days, leave_job_day=cat["leave"],
                                left_job=left_job, true_days_off=true_days_off)
    days_off = np.where(cat["lost"], np.nan, latent.true_days_off.astype(float))
    time, event = gen._first_rtw_seen_at_sms(_Drawn(cat["drop"]), latent, cat["lost"],
                                             window_days, sms_period_days)
    out = {"arm": arm, "practice": cat["practice"], "condition_group": cat["condition_group"],
           "days_off_before": cat["days_off_before"].astype(float), "days_off_6m": days_off,
           "rtw_time": time.astype(float), "rtw_event": event.astype(np.int64)}
    return {k: v.reshape(R, n) for k, v in out.items()}
