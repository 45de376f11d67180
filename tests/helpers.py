"""Shared test helpers: small synthetic trials written to a folder."""
from __future__ import annotations

import copy
from pathlib import Path

import yaml

from rtw.core.config import normalise
from rtw.core.io import write_table
from rtw.core.validation import with_defaults
from rtw.data.generator import simulate_trial

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "workflow" / "schemas"


def default_config() -> dict:
    with open(ROOT / "config" / "config.yaml", encoding="utf-8") as fh:
        return normalise(yaml.safe_load(fh))


def write_synthetic(folder, seed=20200904, fmt="csv", config=None, **overrides) -> dict:
    """Write a WAVE-like synthetic trial's raw tables to ``folder``; returns the tables."""
    cfg = config or default_config()
    syn = with_defaults("synthetic", {**copy.deepcopy(cfg["synthetic"]), **overrides})
    trial = with_defaults("trial", cfg["trial"])
    arms = (trial["arms"]["control"], trial["arms"]["intervention"])
    tables = simulate_trial(syn, seed=seed, arms=arms, window_days=trial["followup_days"],
                            sms_weeks=trial["sms_weeks"], period_days=trial["sms_period_days"])
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        write_table(df, folder / f"{name}.{fmt}")
    return tables
