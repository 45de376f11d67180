"""Shared test helpers: small synthetic trials written to a folder."""
from __future__ import annotations

import copy
from pathlib import Path

import yaml

from rtw.core.config import load
from rtw.core.io import write_table
from rtw.core.validation import with_defaults
from rtw.data.generator import simulate_trial

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "workflow" / "schemas"


def default_config() -> dict:
    with open(ROOT / "config" / "config.yaml", encoding="utf-8") as fh:
        return load(yaml.safe_load(fh))


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


def sap(partial: dict) -> dict:
    """A test's partial config as the library receives it: validated against the config
    schema, with the schema's defaults filled in and normalised (rtw.core.config.load)."""
    return load({"outcomes": {}, **copy.deepcopy(partial)}, source="test config")


class Params:
    """A stand-in for a Snakemake job's ``params`` in entry-script tests: attributes plus
    ``items()`` (rtw.core.entry.sap reads the config slice from the named params)."""

    def __init__(self, **named):
        self.__dict__.update(named)

    def items(self):
        return self.__dict__.items()
