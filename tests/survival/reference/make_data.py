"""Write the input CSVs for the survival reference tests (tests/survival/reference/data/).

Run from the repository root:  /work/venv/bin/python tests/survival/reference/make_data.py
then regenerate R's outputs:   Rscript tests/survival/reference/make_reference.R

Datasets (all seeded with numpy's default_rng, fixed seeds):

* ``rossi.csv``       lifelines' ``load_rossi()`` (Rossi et al. 1980, n=432), a public
                      randomised trial: financial aid (``fin``) vs none, time ``week``,
                      event ``arrest``.
* ``trial_ties.csv``  n=300, WAVE-like: times on a 14-day SMS grid (heavy ties),
                      10 practices (strata / clusters), condition group (3 levels),
                      days off before, competing event (left job, code 2),
                      interval bounds rtw_lower/rtw_upper.
* ``heavy_cens.csv``  n=200, continuous times, ~85% censored: medians not reached.
* ``competing.csv``   n=400, continuous times with some ties, two causes + censoring.
* ``interval_irregular.csv`` n=150, interval-censored with irregular visit schedules.
* ``tiny.csv``        n=12 (6 per arm), hand-built so that the control arm's S(t) is
                      exactly 0.5 on a flat stretch (R's median mid-point rule).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent / "data"


def rossi() -> pd.DataFrame:
    from lifelines.datasets import load_rossi
    df = load_rossi()
    df.insert(0, "id", np.arange(1, len(df) + 1))
    return df


def trial_ties(seed: int = 20240601, n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = np.where(rng.random(n) < 0.5, "usual_care", "vocational_advice")
    practice = np.array([f"P{k:02d}" for k in rng.integers(1, 11, n)])
    cond = rng.choice(["musculoskeletal", "mental_health", "other"], n, p=[0.5, 0.3, 0.2])
    days_before = np.round(rng.gamma(2.0, 30.0, n))
    pr_eff = {f"P{k:02d}": v for k, v in zip(range(1, 11), rng.normal(0, 0.3, 10))}
    lp = (0.25 * (arm == "vocational_advice") - 0.4 * (cond == "mental_health")
          - 0.004 * days_before + np.array([pr_eff[p] for p in practice]))
    t_rtw = rng.exponential(60.0 * np.exp(-lp))
    t_leave = rng.exponential(900.0, n)
    t_cens = np.where(rng.random(n) < 0.15, rng.uniform(14, 182, n), 182.0)
    t_true = np.minimum(np.minimum(t_rtw, t_leave), t_cens)
    cause = np.where(t_true == t_rtw, 1, np.where(t_true == t_leave, 2, 0))
    grid = np.ceil(t_true / 14.0) * 14.0          # known only at the next SMS
    time = np.where(cause == 0, np.floor(t_cens / 14.0) * 14.0, grid)
    time = np.where(cause == 0, np.maximum(time, 14.0), time)
    time = np.minimum(time, 182.0)
    lower = np.where(cause == 1, time - 14.0, time)
    upper = np.where(cause == 1, time, np.nan)
    return pd.DataFrame({
        "id": np.arange(1, n + 1), "arm": arm, "practice": practice,
        "condition_group": cond, "days_off_before": days_before,
        "rtw_time": time, "rtw_event": cause, "rtw_lower": lower, "rtw_upper": upper,
    })


def heavy_cens(seed: int = 7, n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = np.where(np.arange(n) % 2 == 0, "control", "treated")
    age = np.round(rng.normal(45, 10, n), 1)
    t = rng.weibull(1.3, n) * 900.0 * np.where(arm == "treated", 1.3, 1.0)
    c = rng.uniform(20, 200, n)
    time = np.round(np.minimum(t, c), 2)
    event = (t <= c).astype(int)
    return pd.DataFrame({"id": np.arange(1, n + 1), "arm": arm, "age": age,
                         "time": time, "event": event})


def competing(seed: int = 11, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = np.where(rng.random(n) < 0.5, "A", "B")
    x = np.round(rng.normal(0, 1, n), 2)
    t1 = rng.exponential(50.0 / np.where(arm == "B", 1.4, 1.0) * np.exp(-0.3 * x))
    t2 = rng.exponential(120.0, n)
    c = rng.uniform(10, 150, n)
    t = np.minimum(np.minimum(t1, t2), c)
    status = np.where(t == t1, 1, np.where(t == t2, 2, 0))
    time = np.ceil(t)                       # integer days: some ties
    return pd.DataFrame({"id": np.arange(1, n + 1), "arm": arm, "x": x,
                         "time": time, "status": status})


def interval_irregular(seed: int = 23, n: int = 150) -> pd.DataFrame:
    """Irregular visit schedules (missed SMS replies): overlapping, unequal intervals."""
    rng = np.random.default_rng(seed)
    arm = np.where(rng.random(n) < 0.5, "control", "treated")
    t = rng.weibull(1.4, n) * 80.0 * np.where(arm == "treated", 0.8, 1.0)
    lower = np.empty(n)
    upper = np.empty(n)
    for i in range(n):
        visits = np.cumsum(rng.choice([14, 28, 42], size=20, p=[0.6, 0.3, 0.1]))
        visits = visits[visits <= 182]
        after = visits[visits >= t[i]]
        if after.size == 0:                     # right-censored at the last visit
            lower[i], upper[i] = visits[-1], np.nan
        else:
            before = visits[visits < t[i]]
            lower[i] = before[-1] if before.size else 0.0
            upper[i] = after[0]
    return pd.DataFrame({"id": np.arange(1, n + 1), "arm": arm, "lower": lower, "upper": upper})


def tiny() -> pd.DataFrame:
    # control: events at 2, 3, 5 among 6 with no censoring before -> S = 0.5 on [5, 8),
    # then an event at 8; one censored at 10.
    rows = [("control", 2, 1), ("control", 3, 1), ("control", 5, 1), ("control", 8, 1),
            ("control", 10, 0), ("control", 12, 1),
            ("treated", 1, 1), ("treated", 4, 0), ("treated", 6, 1), ("treated", 7, 1),
            ("treated", 9, 0), ("treated", 11, 0)]
    df = pd.DataFrame(rows, columns=["arm", "time", "event"])
    df.insert(0, "id", np.arange(1, len(df) + 1))
    return df


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, df in {"rossi": rossi(), "trial_ties": trial_ties(), "heavy_cens": heavy_cens(),
                     "competing": competing(), "tiny": tiny(),
                     "interval_irregular": interval_irregular()}.items():
        df.to_csv(OUT / f"{name}.csv", index=False, float_format="%.10g", lineterminator="\n")


if __name__ == "__main__":
    main()
