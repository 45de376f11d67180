"""The power simulation batched across replicates gives the single fits' numbers.

A batch of replicates is generated as arrays (rtw.data.replicates) and fitted together
(rtw.models.batched: glm.nb step for step; rtw.survival.batched: coxph with one discrete
covariate); each replicate's estimate, SE, p, theta and boundary/fallback decision are
compared with fitting it alone (rtw.ops.power.analyse_primary / analyse_cox: counts.fit_nb,
cox.fit_cox), including awkward replicates (all zeros in one arm, theta at the boundary,
no events).  Tolerances: estimates 1e-9 of their SE, SE and p 1e-9 relative (the batch
follows the single fit's iterations; sums in another order differ in the last digits).
"""
from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd
import pytest

from helpers import default_config
from rtw.data.generator import params_from_config, simulate_primary
from rtw.data.replicates import simulate_primary_batch
from rtw.models import batched
from rtw.ops import power
from rtw.survival.batched import fit_cox_batch
from rtw.survival.cox import fit_cox

WINDOW, PERIOD = 182, 14


def _setup(practice_effect="cluster_robust", fallback=None, n_practices=None):
    cfg = default_config()
    cfg["regression"]["fallback"]["nb_boundary"] = fallback
    sim = power.settings(cfg)
    sim["practice_effect"] = practice_effect
    if n_practices is not None:
        sim["n_practices"] = n_practices
    block = power.replicate_block(cfg["synthetic"], sim)
    return cfg, sim, block, power.analysis_settings(cfg, sim)


def _data(block, pt, R, seed=11):
    p = params_from_config(dict(block, true_irr=pt["true_irr"], nb_theta=pt["dispersion"]))
    seeds = [power.replicate_seed(seed, pt, i) for i in range(R)]
    return p, simulate_primary_batch(p, seeds, pt["n_per_arm"], pt["attrition"], WINDOW, PERIOD)


def _single(data, i, a):
    try:
        return power.analyse_primary(power._arrays_of(data, i), a)
    except ValueError:
        return None


def _compare_primary(data, a, n_practices, max_single=0.1):
    """Every replicate the batch fits equals its single fit; returns the batch result."""
    out = power.analyse_primary_batch(data, a, n_practices)
    R = len(out["estimate"])
    assert out["single"].sum() <= max(1, max_single * R)
    for i in np.flatnonzero(~out["single"]):
        ref = _single(data, i, a)
        assert ref is not None, i
        assert out["boundary"][i] == ref["boundary"], i
        assert out["estimate"][i] == pytest.approx(ref["estimate"],
                                                   abs=1e-9 * ref["std_error"]), i
        assert out["std_error"][i] == pytest.approx(ref["std_error"], rel=1e-9), i
        assert out["p_value"][i] == pytest.approx(ref["p_value"], rel=1e-9, abs=1e-15), i
        assert out["theta"][i] == pytest.approx(ref["theta"], rel=1e-9), i
    return out


def test_generator_batch_is_simulate_primary_replicate_by_replicate():
    """Bit for bit, every array (values and dtypes), with attrition and several practices."""
    _, _, block, _ = _setup(n_practices=7)
    pt = {"n_per_arm": 25, "true_irr": 0.8, "dispersion": 0.7, "attrition": 0.2}
    p, data = _data(block, pt, 5)
    for i in range(5):
        one = simulate_primary(p, power.replicate_seed(11, pt, i), 25, 0.2, WINDOW, PERIOD)
        assert set(one) == set(data)
        for k, v in one.items():
            assert v.dtype == data[k].dtype, k
            assert np.array_equal(v, data[k][i], equal_nan=True), (i, k)


@pytest.mark.parametrize("practice_effect", ["cluster_robust", "fixed", "none"])
@pytest.mark.parametrize("fallback", [None, "poisson_robust"])
def test_nb_batch_matches_single_fit_nb(practice_effect, fallback):
    """glm.nb arm estimate, SE (model, vcovCL or with practice fixed effects), p and theta."""
    _, _, block, a = _setup(practice_effect, fallback, n_practices=8)
    pt = {"n_per_arm": 60, "true_irr": 0.8, "dispersion": 0.6, "attrition": 0.1}
    p, data = _data(block, pt, 40)
    _compare_primary(data, a, p.n_practices)


def _awkward(data, a):
    """Replicates 0-1: all counts zero in one arm; 2-5: under-dispersed counts (theta at the
    boundary); 6: all counts zero."""
    y = data["days_off_6m"]
    obs = ~np.isnan(y)
    arm = data["arm"]
    y[0] = np.where(obs[0] & (arm[0] == 1), 0.0, y[0])
    y[1] = np.where(obs[1] & (arm[1] == 0), 0.0, y[1])
    rng = np.random.default_rng(3)
    for i in range(2, 6):
        y[i] = np.where(obs[i], 5.0 + rng.integers(0, 2, y.shape[1]), np.nan)
    y[6] = np.where(obs[6], 0.0, np.nan)
    return data


@pytest.mark.parametrize("fallback", [None, "poisson_robust"])
@pytest.mark.parametrize("covariates", [True, False])
def test_awkward_replicates_get_the_single_fits_decisions(fallback, covariates):
    """Zeros in one arm and all zeros are left to the single fit; theta at the boundary is
    decided in the batch as the single fit decides it (the Poisson fit, and with
    poisson_robust its HC0/vcovCL SE); the batch rows equal run_replicate's rows."""
    cfg, sim, block, a = _setup("cluster_robust", fallback, n_practices=6)
    if not covariates:                         # the collapsed path: arm only, one row per arm
        a = dict(a, adjust=[], categorical=[], practice_effect="none")
    pt = {"n_per_arm": 40, "true_irr": 0.9, "dispersion": 0.8, "attrition": 0.1}
    p, data = _data(block, pt, 12)
    data = _awkward(data, a)
    out = _compare_primary(data, a, p.n_practices, max_single=0.5)
    assert out["single"][[0, 1, 6]].all()
    assert out["boundary"][2:6].all() and not out["single"][2:6].any()
    rows = power._frame_rows(data, a, p.n_practices, 0)
    for i, row in enumerate(rows):
        ref = power._primary_row(power._arrays_of(data, i), a)
        assert row["failed"] == ref["failed"] and row["boundary"] == ref["boundary"]
        for k in ("estimate", "std_error", "p_value"):
            assert (math.isnan(row[k]) and math.isnan(ref[k])) or \
                row[k] == pytest.approx(ref[k], rel=1e-9, abs=1e-9 * abs(ref["std_error"]))


def test_collapsed_rows_fit_as_participants():
    """Participants with the same covariates as one weighted row: the same fit."""
    _, _, block, a = _setup("none")
    pt = {"n_per_arm": 50, "true_irr": 0.7, "dispersion": 1.5, "attrition": 0.1}
    _, data = _data(block, pt, 10)
    y, mask = data["days_off_6m"], ~np.isnan(data["days_off_6m"])
    dense = np.stack([np.ones(y.shape), data["arm"].astype(float)], axis=1)
    args = (dense, [data["condition_group"]], [3], np.nan_to_num(y), mask)
    fits = []
    for collapse in (True, False):
        d, rows = batched.count_rows(*args, collapse=collapse)
        assert (d.n < y.shape[1]) == collapse
        fit = batched.fit_nb_batch(d, rows)
        fits.append((fit, batched.wald_batch(d, rows, fit.coef, fit.mu, fit.theta, 1, "HC0")))
    (f1, w1), (f2, w2) = fits
    ok = ~f1.single & ~f2.single
    assert ok.sum() >= 8
    np.testing.assert_allclose(f1.coef[ok], f2.coef[ok], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(f1.theta[ok], f2.theta[ok], rtol=1e-9)
    np.testing.assert_allclose(w1["std_error"][ok], w2["std_error"][ok], rtol=1e-9)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_cox_batch_matches_fit_cox(ties):
    """coxph on arm: coefficient, model-based SE and Wald p of every replicate (heavily tied
    fortnightly times); no events in one arm (monotone likelihood) and no events at all are
    left to the single fit."""
    _, _, block, _ = _setup()
    pt = {"n_per_arm": 30, "true_irr": 0.8, "dispersion": 0.5, "attrition": 0.2}
    _, data = _data(block, pt, 30)
    event = (data["rtw_event"] == 1).astype(float)
    event[0, data["arm"][0] == 1] = 0.0
    event[1] = 0.0
    fit = fit_cox_batch(data["rtw_time"], event, data["arm"].astype(float), ties=ties)
    assert fit.single[[0, 1]].all() and fit.single.sum() <= 3
    for i in np.flatnonzero(~fit.single):
        ref = fit_cox(data["rtw_time"][i], event[i], data["arm"][i][:, None].astype(float),
                      ties=ties)
        assert fit.coef[i] == pytest.approx(ref.coef[0], abs=1e-10 * math.sqrt(ref.var[0, 0]))
        assert fit.var[i] == pytest.approx(ref.var[0, 0], rel=1e-9)


def test_run_batch_rows_are_run_replicate_rows():
    """The job's table (NB and Cox columns) equals the replicates analysed one by one."""
    cfg, sim, block, a = _setup("cluster_robust", n_practices=9)
    sim["cox"] = True
    pt = {"n_per_arm": 35, "true_irr": 0.75, "dispersion": 0.5, "attrition": 0.1}
    df = power.run_batch(sim, cfg["synthetic"], cfg, pt, 3, 23)
    ref = pd.DataFrame([dict(power.run_replicate(block, pt, power.replicate_seed(sim["seed"], pt, i),
                                                 a, True, WINDOW, PERIOD), replicate=i)
                        for i in range(3, 23)])[df.columns]
    for k in ("replicate", "n", "failed", "boundary"):
        assert (df[k].to_numpy() == ref[k].to_numpy()).all(), k
    pd.testing.assert_frame_equal(df, ref, check_exact=False, rtol=1e-9, atol=1e-12)


def test_results_do_not_depend_on_the_chunk(monkeypatch):
    """The replicates generated and fitted together (CHUNK) do not change any digit."""
    cfg, sim, _, _ = _setup("fixed", n_practices=6)
    sim["cox"] = True
    pt = {"n_per_arm": 30, "true_irr": 0.8, "dispersion": 0.9, "attrition": 0.1}
    whole = power.run_batch(sim, cfg["synthetic"], cfg, pt, 0, 24)
    for chunk in (5, 1):
        monkeypatch.setattr(power, "CHUNK", chunk)
        pieces = power.run_batch(sim, cfg["synthetic"], cfg, pt, 0, 24)
        pd.testing.assert_frame_equal(whole, pieces, check_exact=True)


def test_progress_lines_give_done_rate_and_time_left(caplog):
    """A long batch logs replicates done, rate and time left at most every ``every`` seconds
    (job log and terminal: the entry script's handlers), and a last line when it logged."""
    now = [0.0]
    prog = power.Progress(1000, "n200_irr0.8", every=20.0, clock=lambda: now[0])
    with caplog.at_level(logging.INFO, logger="rtw.ops.power"):
        for _ in range(10):
            now[0] += 5.0
            prog.update(100)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3                                   # at 20 s, 40 s and the end
    assert lines[0] == "n200_irr0.8: 400/1000 replicates (40%), 20 per second, about 30 s left"
    assert lines[-1].startswith("n200_irr0.8: 1000/1000 replicates (100%)")
    quiet = power.Progress(10, "short", every=20.0, clock=lambda: 0.0)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="rtw.ops.power"):
        quiet.update(10)
    assert caplog.records == []
