"""Power simulation (SPEC A16): config, seeds, the primary analysis it runs, and the
analytic negative binomial power formula as a check within Monte Carlo error."""
from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml

from helpers import ROOT
from rtw.core.config import ConfigError, load
from rtw.core.validation import block_defaults, load_schema, with_defaults
from rtw.ops import power
from rtw.models import runner as regression
from rtw.data.generator import (CONDITION_GROUPS, params_from_config, simulate_primary,
                            simulate_trial)


def raw_config() -> dict:
    with open(ROOT / "config" / "config.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def default_config(**changes) -> dict:
    """config/config.yaml (with top-level ``changes``) as the workflow reads it: validated,
    the schema's defaults filled in (rtw.core.config.load)."""
    return load({**raw_config(), **changes})


def small_sim(**kw):
    block = {"n_per_arm": [30, 60], "true_irr": [1.0, 0.7], "dispersion": [0.5],
             "attrition": [0.1], "replicates": 6, "batch_size": 4, "seed": 99}
    block.update(kw)
    return power.settings(default_config(simulation=block))


def test_settings_defaults_and_errors():
    """The simulation block's defaults are the schema's; a wrong key or value stops the config."""
    raw = raw_config()
    raw.pop("simulation")
    s = power.settings(load(raw))
    assert s["enabled"] is False and s["replicates"] == block_defaults("simulation")["replicates"]
    assert 1.0 in s["true_irr"]
    with pytest.raises(ConfigError, match="'replicate'"):
        default_config(simulation={"replicate": 10})
    with pytest.raises(ConfigError, match="attrition"):
        default_config(simulation={"attrition": [1.2]})
    with pytest.raises(ConfigError, match="practice_effect"):
        default_config(simulation={"practice_effect": "random"})


def test_simulation_block_is_typed_with_defaults():
    """Every key of the schema's simulation block has a type, a default and a description."""
    node = load_schema()["properties"]["simulation"]
    assert node["additionalProperties"] is False
    assert set(node["properties"]) == set(block_defaults("simulation"))
    for key, sub in node["properties"].items():
        assert {"type", "default", "description"} <= set(sub), key
    assert set(power.GRID_KEYS) < set(node["properties"])


def test_practice_effect_null_is_the_config_practice_effect():
    """simulation.practice_effect null: the top-level practice_effect; set: it overrides."""
    cfg = default_config(practice_effect="fixed")
    assert power.practice_effect(small_sim(), cfg) == "fixed"
    assert power.practice_effect(small_sim(practice_effect="none"), cfg) == "none"
    s = small_sim(practice_effect="none")
    assert power.batch_config(cfg, s) == power.batch_config(default_config(), s)
    assert power.analysis_settings(cfg, s)["practice_effect"] == "none"


def test_simulation_needs_a_count_outcome_and_cox_a_time_to_event_outcome():
    cfg = default_config()
    no_count = default_config(outcomes={"time_to_event": raw_config()["outcomes"]["time_to_event"]})
    with pytest.raises(power.SimulationConfigError, match="outcomes.count"):
        power.analysis_settings(no_count, small_sim())
    no_tte = default_config(outcomes={"count": raw_config()["outcomes"]["count"]})
    s = small_sim(replicates=2, batch_size=2, cox=True)
    frames = {lab: power.run_batch(s, cfg["synthetic"], cfg, pt, 0, 2)
              for lab, pt in power.grid(s).items()}
    with pytest.raises(power.SimulationConfigError, match="simulation.cox"):
        power.aggregate(frames, s, cfg["synthetic"], no_tte)


def test_grid_batches_and_labels():
    s = small_sim()
    g = power.grid(s)
    assert list(g) == ["n30_irr1_theta0.5_att0.1", "n30_irr0.7_theta0.5_att0.1",
                       "n60_irr1_theta0.5_att0.1", "n60_irr0.7_theta0.5_att0.1"]
    assert power.n_batches(s) == 2
    assert power.batch_range(s, 0) == (0, 4) and power.batch_range(s, 1) == (4, 6)
    assert len(power.batch_files(s)) == 8


def test_replicate_seeds_are_spawned_children_of_the_grid_point():
    pt = {"n_per_arm": 100, "true_irr": 0.8, "dispersion": 0.5, "attrition": 0.05}
    kids = np.random.SeedSequence(power.point_entropy(7, pt)).spawn(5)
    for i in range(5):
        a = power.replicate_seed(7, pt, i).generate_state(4)
        assert np.array_equal(a, kids[i].generate_state(4))
    other = dict(pt, true_irr=0.9)
    assert not np.array_equal(power.replicate_seed(7, other, 0).generate_state(4),
                              kids[0].generate_state(4))


def test_results_do_not_depend_on_batching():
    cfg = default_config()
    s = small_sim(cox=True)
    pt = power.grid(s)["n30_irr0.7_theta0.5_att0.1"]
    whole = power.run_batch(s, cfg["synthetic"], cfg, pt, 0, 6)
    parts = pd.concat([power.run_batch(s, cfg["synthetic"], cfg, pt, 0, 4),
                       power.run_batch(s, cfg["synthetic"], cfg, pt, 4, 6)], ignore_index=True)
    pd.testing.assert_frame_equal(whole, parts)
    assert list(whole.columns) == power.BATCH_COLUMNS + power.COX_COLUMNS
    assert whole["failed"].sum() == 0


@pytest.mark.parametrize("practice_effect", ["cluster_robust", "fixed", "none"])
def test_replicate_analysis_is_the_primary_analysis(practice_effect):
    """The replicate's fast NB fit gives nb_primary's arm IRR, SE and p (run_primary)."""
    cfg = default_config()
    cfg["practice_effect"] = practice_effect
    s = small_sim()
    pt = {"n_per_arm": 80, "true_irr": 0.8, "dispersion": 0.6, "attrition": 0.1}
    block = dict(cfg["synthetic"], true_irr=0.8, nb_theta=0.6)
    d = simulate_primary(params_from_config(block), power.replicate_seed(1, pt, 0), 80, 0.1,
                         cfg["trial"]["followup_days"], cfg["trial"]["sms_period_days"])
    a = power.analysis_settings(cfg, s)
    got = power.analyse_primary(d, a)
    arms = cfg["trial"]["arms"]
    df = pd.DataFrame({
        "arm": np.where(d["arm"] == 1, arms["intervention"], arms["control"]),
        "practice": [f"P{i + 1:02d}" for i in d["practice"]],
        "condition_group": CONDITION_GROUPS[d["condition_group"]],
        "days_off_before": d["days_off_before"], "days_off_6m": d["days_off_6m"]})
    ref = regression.run_primary(df, cfg)
    ref = ref[(ref["analysis"] == "nb_primary") & (ref["term"] == "arm")].iloc[0]
    assert got["estimate"] == pytest.approx(math.log(ref["estimate"]), rel=1e-9, abs=1e-12)
    assert got["std_error"] == pytest.approx(ref["std_error"], rel=1e-9)
    assert got["p_value"] == pytest.approx(ref["p_value"], rel=1e-7)
    assert got["n"] == ref["n"]


def test_fast_generator_shares_the_days_off_model():
    """Arm means of days off from simulate_primary match the full generator's
    6-month questionnaire days off (same model; 20,000 participants, 4 SE)."""
    cfg = default_config()
    syn = dict(cfg["synthetic"], n_randomised=20000, n_invited=40000, allocation=None,
               n_primary_missing=0)
    t = cfg["trial"]
    full = simulate_trial(syn, seed=5, arms=(t["arms"]["control"], t["arms"]["intervention"]),
                          window_days=t["followup_days"], sms_weeks=t["sms_weeks"],
                          period_days=t["sms_period_days"])
    fu = full["followup"]
    fu = fu[fu["timepoint"] == "6m"].merge(full["baseline"][["participant_id", "arm"]])
    fast = simulate_primary(cfg["synthetic"], 6, n_per_arm=10000, attrition=0.0,
                            window_days=t["followup_days"], sms_period_days=t["sms_period_days"])
    for k, lab in enumerate(["usual_care", "vocational_advice"]):
        a = pd.to_numeric(fu.loc[fu["arm"] == lab, "days_off_6m"])
        b = fast["days_off_6m"][fast["arm"] == k]
        se = math.sqrt(a.var() / len(a) + b.var() / len(b))
        assert abs(a.mean() - b.mean()) < 4 * se, (lab, a.mean(), b.mean())


def test_fast_generator_outputs():
    block = with_defaults("synthetic", {"n_practices": 5})
    trial = with_defaults("trial", {})
    window = {"window_days": trial["followup_days"], "sms_period_days": trial["sms_period_days"]}
    d = simulate_primary(block, 3, n_per_arm=50, attrition=0.2, **window)
    assert len(d["arm"]) == 100 and d["arm"].sum() == 50
    assert 5 < np.isnan(d["days_off_6m"]).sum() < 40
    ok = ~np.isnan(d["days_off_6m"])
    assert (d["days_off_6m"][ok] >= 0).all() and (d["days_off_6m"][ok] <= 182).all()
    assert set(np.unique(d["rtw_event"])) <= {0, 1, 2}
    assert (d["rtw_time"] > 0).all() and (d["rtw_time"] <= 182).all()
    again = simulate_primary(block, 3, n_per_arm=50, attrition=0.2, **window)
    assert np.array_equal(d["days_off_6m"], again["days_off_6m"], equal_nan=True)


def test_aggregate_tables():
    cfg = default_config()
    s = small_sim(replicates=4, batch_size=4)
    frames = {lab: power.run_batch(s, cfg["synthetic"], cfg, pt, 0, 4)
              for lab, pt in power.grid(s).items()}
    pw, detail, est = power.aggregate(frames, s, cfg["synthetic"], cfg)
    assert list(pw.columns) == power.POWER_COLUMNS
    assert len(pw) == 4 and (pw["replicates"] == 4).all()
    null = pw[pw["true_irr"] == 1.0]
    assert np.allclose(null["power"], null["type1"])
    assert ((pw["power"] >= 0) & (pw["power"] <= 1)).all()
    assert set(est["analysis"]) == {"power"} and len(est) == 4 * len(cfg["conf_levels"])
    assert "analytic_power" in detail


def test_analytic_power_formula():
    assert power.analytic_power(100, 40, 1.0, 0.5) == pytest.approx(0.05)
    a = [power.analytic_power(n, 40, 0.75, 0.5) for n in (50, 100, 200, 400)]
    assert all(x < y for x, y in zip(a, a[1:]))
    # Zhu & Lakkis (2014): n per arm for 80% power, log IRR test, V = (1/mu0 + 1/mu1 + 2k)
    mu0, irr, k = 40.0, 0.75, 2.0
    n = (1.959964 + 0.841621) ** 2 * (1 / mu0 + 1 / (mu0 * irr) + 2 * k) / math.log(irr) ** 2
    assert power.analytic_power(n, mu0, irr, 1 / k) == pytest.approx(0.80, abs=1e-3)


@pytest.mark.slow
def test_simulated_power_matches_analytic_nb_power():
    """Plain NB trials (no zero inflation, cap, covariates or clusters): the
    simulated power and type I error of the primary estimator agree with the
    analytic NB formula within 3 Monte Carlo SEs (400 replicates each)."""
    cfg = default_config()
    cfg.update(covariates=[], stratification_factors=[], practice_effect="none")
    cfg["outcomes"]["count"]["baseline"] = None
    syn = dict(cfg["synthetic"], zero_inflation=0.0, practice_sd=0.0,
               condition_effects=[0.0, 0.0, 0.0], prior_absence_effect=0.0, leave_job_rate=0.0)
    s = small_sim()
    a = power.analysis_settings(cfg, s)
    assert a["adjust"] == [] and a["practice_effect"] == "none"
    R = 400
    for irr in (0.75, 1.0):
        pt = {"n_per_arm": 120, "true_irr": irr, "dispersion": 1.0, "attrition": 0.0}
        rej = []
        for i in range(R):
            r = power.run_replicate(syn, pt, power.replicate_seed(2024, pt, i), a, cox=False,
                                    window_days=10 ** 7,
                                    sms_period_days=cfg["trial"]["sms_period_days"])
            rej.append(r["p_value"] < 0.05)
        sim = float(np.mean(rej))
        ana = power.analytic_power(120, syn["nb_mean"], irr, 1.0)
        mcse = math.sqrt(ana * (1 - ana) / R)
        assert abs(sim - ana) < 3 * mcse, (irr, sim, ana, mcse)


@pytest.mark.e2e
def test_power_target_dag(tmp_path):
    """`snakemake power` fans out one job per grid point x batch, and is not in `all`.

    The grid is a second config file merged over config/config.yaml (``--config
    simulation={...}`` would give its numbers as strings: Snakemake reads nested
    ``--config`` values with YAML's BaseLoader, and the schema types them)."""
    grid = tmp_path / "grid.yaml"
    grid.write_text("simulation: {n_per_arm: [30, 60], true_irr: [1.0, 0.8], replicates: 10, "
                    "batch_size: 4}\n", encoding="utf-8")
    configs = ["--configfile", str(ROOT / "config" / "config.yaml"), str(grid)]
    cmd = [sys.executable, "-m", "snakemake", "-n", "--quiet", "rules", "--directory",
           str(tmp_path), "--snakefile", str(ROOT / "Snakefile")]
    out = subprocess.run(cmd + configs + ["--", "power"], capture_output=True, text=True,
                         cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "power_batch" in out.stdout and "12" in out.stdout
    out_all = subprocess.run(cmd + configs, capture_output=True, text=True, cwd=ROOT)
    assert out_all.returncode == 0, out_all.stderr
    assert "power_batch" not in out_all.stdout


def test_batch_config_is_enough_for_the_replicates():
    """The trimmed config passed to the batch jobs gives the same analysis settings."""
    cfg = default_config()
    s = small_sim()
    assert power.analysis_settings(power.batch_config(cfg, s), s) == power.analysis_settings(cfg, s)
    assert power.analysis_settings(cfg, s)["adjust"] == ["condition_group", "days_off_before"]
