"""Analysis datasets from the project's own generator, for the R reference tests.

Run from the repository root:

    /work/venv/bin/python tests/data/generator_data.py
    Rscript tests/survival/reference/make_reference.R
    Rscript tests/models/reference/make_reference.R

Each dataset goes through the real pipeline, exactly as the Snakemake rules do
(``scripts/simulate_trial.py`` then ``scripts/clean_derive.py``):

    rtw.data.generator.simulate_trial(config['synthetic'] + overrides (schema defaults filled),
                                      seed, arms, trial schedule)
      -> raw exports written with rtw.core.io.write_table (csv) to a temporary folder
      -> rtw.data.cleaning.clean_tables(folder, config, 'workflow/schemas')
      -> rtw.data.derivation.derive_analysis(tables, config)

with ``config/config.yaml`` normalised by ``rtw.core.config.normalise``.  So the data
carry everything the real analysis dataset has: 14-day SMS ties, practices,
competing events (``rtw_event == 2``), interval bounds ``rtw_lower``/``rtw_upper``
(NaN upper = right-censored; lower 0 with NaN upper = no information),
``days_off_6m`` with missing values, secondary scores.

Datasets (``DATASETS``):

* ``generator_wave`` -- the default WAVE-size trial, ``seed = 20200904`` (the
  config's master seed): 130 participants, 10 practices, allocation 64 / 66.
* ``generator_720``  -- ``n_randomised = 720, n_invited = 20000,
  allocation = [360, 360], n_primary_missing = 30``, ``seed = 7``.

Written (CSV, only the columns the R scripts and the runners' tests use):

* ``tests/survival/reference/data/<name>.csv``   (``SURVIVAL_COLUMNS``)
* ``tests/models/reference/data/<name>.csv`` (``REGRESSION_COLUMNS``)

The stored CSVs are a snapshot: the tests read them (not the generator), so a
later change of the generator or of the config's ``synthetic:`` block does not
change the tests.  ``--check`` regenerates in memory and reports whether the
current generator still reproduces the stored files.
"""
from __future__ import annotations

import argparse
import copy
import io
import tempfile
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[2]

from rtw.data.cleaning import clean_tables  # noqa: E402
from rtw.core.config import load  # noqa: E402
from rtw.data.derivation import derive_analysis  # noqa: E402
from rtw.core.io import write_table  # noqa: E402
from rtw.core.validation import with_defaults  # noqa: E402
from rtw.data.generator import simulate_trial  # noqa: E402

HERE = Path(__file__).resolve().parent
SCHEMAS = ROOT / "workflow" / "schemas"

DATASETS = {
    "generator_wave": {"seed": 20200904, "overrides": {}},
    "generator_720": {"seed": 7, "overrides": {"n_randomised": 720, "n_invited": 20000,
                                                "allocation": [360, 360],
                                                "n_primary_missing": 30}},
}
ID_COLUMNS = ["participant_id", "arm", "practice", "condition_group", "days_off_before"]
SURVIVAL_COLUMNS = ID_COLUMNS + ["rtw_time", "rtw_event", "rtw_lower", "rtw_upper",
                                 "srtw_time", "srtw_event"]
REGRESSION_COLUMNS = ID_COLUMNS + ["days_off_6m", "eq5d_index_bl", "eq5d_index_6m",
                                   "at_work_6m"]


def config() -> dict:
    with open(ROOT / "config" / "config.yaml", encoding="utf-8") as fh:
        return load(yaml.safe_load(fh))


def analysis_dataset(seed: int, overrides: dict | None = None, cfg: dict | None = None) -> pd.DataFrame:
    """The derived analysis dataset of one seeded synthetic trial (the pipeline's path)."""
    cfg = cfg or config()
    syn = with_defaults("synthetic", {**copy.deepcopy(cfg["synthetic"]), **(overrides or {})})
    t = cfg["trial"]
    arms = (t["arms"]["control"], t["arms"]["intervention"])
    tables = simulate_trial(syn, seed=seed, arms=arms, window_days=t["followup_days"],
                            sms_weeks=t["sms_weeks"], period_days=t["sms_period_days"])
    with tempfile.TemporaryDirectory() as tmp:
        for name, df in tables.items():
            write_table(df, Path(tmp) / f"{name}.{cfg['data'].get('raw_format', 'csv')}")
        clean, _queries = clean_tables(tmp, cfg, SCHEMAS)
    return derive_analysis(clean, cfg)


def build() -> dict[str, pd.DataFrame]:
    cfg = config()
    return {name: analysis_dataset(spec["seed"], spec["overrides"], cfg)
            for name, spec in DATASETS.items()}


def _targets(name: str, df: pd.DataFrame):
    yield HERE.parent / "survival" / "reference" / "data" / f"{name}.csv", df[SURVIVAL_COLUMNS]
    yield HERE.parent / "models" / "reference" / "data" / f"{name}.csv", df[REGRESSION_COLUMNS]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--check", action="store_true",
                    help="do not write; report whether the stored CSVs are reproduced")
    args = ap.parse_args(argv)
    status = 0
    for name, df in build().items():
        for path, part in _targets(name, df):
            if args.check:
                stored = pd.read_csv(path)
                fresh = pd.read_csv(io.StringIO(part.to_csv(index=False)))
                same = stored.equals(fresh)
                print(f"{path.relative_to(ROOT)}: {'reproduced' if same else 'DIFFERS'}")
                status |= not same
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                part.to_csv(path, index=False)
                print(f"wrote {path.relative_to(ROOT)} ({len(part)} rows)")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
