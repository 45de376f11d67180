"""End to end (issue 14, items 2 and 4): a bring-your-own trial whose numeric covariate holds
one text value stops with one line naming file, row, column and value, and the failed run
leaves nothing under results/ but the logs, even the results of an earlier good run (the
Snakefile's ``onerror:`` handler)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from _pipeline import snakemake

pytestmark = pytest.mark.e2e


def _trial(n=80, seed=5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = np.array(["UC", "VA"] * (n // 2))
    return pd.DataFrame({
        "pid": [f"P{i:03d}" for i in range(n)], "group": arm,
        "site": rng.choice(["S1", "S2", "S3"], n),
        "age": rng.integers(20, 65, n).astype(object),
        "sex": rng.choice(["female", "male"], n),
        "absence": rng.negative_binomial(1.2, 0.05, n),
        "prior": rng.negative_binomial(1.5, 0.05, n),
    })


def _config(table: str) -> dict:
    return {"data": {"source": "table", "table": table,
                     "columns": {"participant_id": "pid", "arm": "group", "practice": "site"}},
            "trial": {"arms": {"control": "UC", "intervention": "VA"}},
            "covariates": ["age", {"column": "sex", "type": "categorical", "reference": "male"}],
            "outcomes": {"count": {"name": "absence", "value": "absence", "baseline": "prior"}}}


def test_bad_byo_covariate_value_stops_with_one_line_and_leaves_only_logs(tmp_path):
    wd = tmp_path / "byo"
    wd.mkdir()
    t = _trial()
    t.to_csv(wd / "mytable.csv", index=False)
    (wd / "my.yaml").write_text(yaml.safe_dump(_config("mytable.csv")))
    snakemake(wd, "--configfile", str(wd / "my.yaml"))          # a good run first
    assert (wd / "results/tables/estimates.csv").exists()
    log = (wd / "results/logs/import_table.log").read_text()
    assert "covariates[0] 'age': numeric (inferred: all 80 values are numbers" in log
    assert "covariates[1] 'sex': categorical (declared), 2 levels, reference 'male'" in log

    t.loc[6, "age"] = "45y"
    t.to_csv(wd / "mytable.csv", index=False)
    r = snakemake(wd, "--configfile", str(wd / "my.yaml"), check=False)
    assert r.returncode != 0
    line = (f"ERROR: file mytable.csv, row 8, column 'age': value is not a number in a numeric "
            "covariate (79 of 80 values in this column are numbers). Found '45y'.")
    hits = [ln for ln in r.stderr.splitlines() if ln.startswith("ERROR: ")]
    assert len(hits) == 1 and hits[0].startswith(line), r.stderr[-3000:]
    assert hits[0].endswith("(log: results/logs/import_table.log)")
    assert "Traceback" not in r.stderr
    left = sorted(p.relative_to(wd / "results").as_posix()
                  for p in (wd / "results").rglob("*") if p.is_file())
    assert left and all(p.startswith("logs/") for p in left), left
