"""Seeded synthetic analysis tables for the regression reference tests.

Run from the repository root::

    /work/venv/bin/python tests/models/reference/make_data.py

Writes ``data/trial_small.csv`` (n = 130, WAVE-sized) and ``data/trial_large.csv``
(n = 720, the planned size), plus ``data/randhie_sub.csv`` (a fixed subsample of
the RAND Health Insurance Experiment shipped with statsmodels) and
``data/separation.csv`` (a logistic model with quasi-complete separation).
Columns follow workflow/schemas/analysis.schema.yaml.  Everything is drawn
with ``numpy.random.default_rng`` and fixed seeds, so the files are
reproducible byte for byte; the R reference script reads them.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
CAP = 182


def make_trial(n: int, seed: int, n_practices: int = 10, n_missing: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pid = [f"P{i:04d}" for i in range(1, n + 1)]
    practice = np.array([f"GP{k:02d}" for k in rng.integers(1, n_practices + 1, n)])
    arm_i = rng.permutation(np.r_[np.zeros(n // 2), np.ones(n - n // 2)]).astype(int)
    arm = np.where(arm_i == 1, "vocational_advice", "usual_care")
    condition = rng.choice(["musculoskeletal", "mental_health", "other"], n, p=[0.5, 0.3, 0.2])
    sex = rng.choice(["female", "male"], n, p=[0.55, 0.45])
    age = np.round(rng.normal(44, 11, n), 0)
    days_before = np.round(rng.gamma(2.0, 25.0, n)).clip(15, 180)
    prior_group = np.where(days_before <= 42, "<=6 weeks", ">6 weeks")
    # practice random effect on the log mean; NB counts with excess zeros, capped at 182
    u = rng.normal(0, 0.25, n_practices)
    pr_idx = np.array([int(p[2:]) - 1 for p in practice])
    lin = (np.log(38) + np.log(0.85) * arm_i + 0.25 * (condition == "mental_health")
           - 0.15 * (condition == "other") + 0.006 * (days_before - 50) + u[pr_idx])
    mu = np.exp(lin)
    theta = 0.8
    lam = rng.gamma(theta, mu / theta)
    y = rng.poisson(lam).astype(float)
    y[rng.random(n) < 0.10] = 0.0
    y = np.minimum(y, CAP)
    miss = rng.choice(n, n_missing, replace=False)
    y[miss] = np.nan
    # engagement: intervention arm only
    engaged = (arm_i == 1) & (rng.random(n) < 0.9)
    n_contacts = np.where(engaged, rng.integers(1, 13, n), 0)
    minutes = np.where(engaged, np.round(n_contacts * rng.gamma(4, 5, n), 1), 0.0)
    # secondary continuous outcomes (one participant random effect across timepoints)
    b = rng.normal(0, 0.08, n)
    eq_bl = np.clip(rng.normal(0.55, 0.2, n), -0.5, 1)
    eq6w = np.clip(0.2 + 0.6 * eq_bl + 0.03 * arm_i + b + rng.normal(0, 0.1, n), -0.594, 1)
    eq6m = np.clip(0.25 + 0.6 * eq_bl + 0.04 * arm_i + 0.03 + b + rng.normal(0, 0.1, n), -0.594, 1)
    wa_bl = np.clip(np.round(rng.normal(5, 2, n), 1), 0, 10)
    bw = rng.normal(0, 0.8, n)
    wa6w = np.clip(1.5 + 0.7 * wa_bl + 0.4 * arm_i + bw + rng.normal(0, 1.2, n), 0, 10)
    wa6m = np.clip(2.0 + 0.7 * wa_bl + 0.5 * arm_i + bw + rng.normal(0, 1.2, n), 0, 10)
    for v, p in ((eq6w, 0.2), (eq6m, 0.25), (wa6w, 0.2), (wa6m, 0.25)):
        v[rng.random(n) < p] = np.nan
    # binary outcomes
    eta = -0.2 + 0.35 * arm_i - 0.4 * (condition == "mental_health") - 0.01 * (days_before - 50)
    at_work = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    at_work[rng.random(n) < 0.2] = np.nan
    srtw = (rng.random(n) < 1 / (1 + np.exp(-(eta - 0.3)))).astype(float)
    srtw[rng.random(n) < 0.15] = np.nan
    df = pd.DataFrame({
        "participant_id": pid, "arm": arm, "practice": practice,
        "condition_group": condition, "sex": sex, "age": age,
        "days_off_before": days_before, "prior_absence_group": prior_group,
        "days_off_6m": y, "engaged": engaged, "n_contacts": n_contacts,
        "contact_minutes": minutes, "pop_pp": (arm_i == 0) | engaged,
        "eq5d_index_bl": np.round(eq_bl, 4), "eq5d_index_6w": np.round(eq6w, 4),
        "eq5d_index_6m": np.round(eq6m, 4), "work_ability_bl": wa_bl,
        "work_ability_6w": np.round(wa6w, 2), "work_ability_6m": np.round(wa6m, 2),
        "at_work_6m": at_work, "srtw_26w": srtw,
    })
    return df


def make_randhie(seed: int = 1, n: int = 2000) -> pd.DataFrame:
    """A fixed subsample of statsmodels.datasets.randhie (mdvis counts)."""
    import statsmodels.datasets.randhie as rh
    d = rh.load_pandas().data
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(d), n, replace=False))
    return d.iloc[idx].reset_index(drop=True)


def make_separation(seed: int = 7, n: int = 80) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = np.where(np.arange(n) % 2 == 0, "usual_care", "vocational_advice")
    x = rng.normal(0, 1, n)
    y = (arm == "vocational_advice").astype(float)   # arm perfectly predicts y
    return pd.DataFrame({"participant_id": [f"S{i:03d}" for i in range(n)],
                         "arm": arm, "x": np.round(x, 4), "y": y})


def main() -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    kw = dict(index=False, lineterminator="\n", float_format="%.10g")
    make_trial(130, 20200904).to_csv(DATA / "trial_small.csv", **kw)
    make_trial(720, 20200905, n_missing=36).to_csv(DATA / "trial_large.csv", **kw)
    make_randhie().to_csv(DATA / "randhie_sub.csv", **kw)
    make_separation().to_csv(DATA / "separation.csv", **kw)


if __name__ == "__main__":
    main()
