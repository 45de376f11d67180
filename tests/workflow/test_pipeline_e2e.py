"""End to end: `snakemake` in temporary folders (default synthetic trial, bring-your-own table,
bad input leaving nothing behind, and `snakemake --lint`)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
pytestmark = pytest.mark.e2e


def smk(workdir, *args, check=True):
    cmd = SNAKEMAKE + ["--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir),
                       "--cores", "2", "--quiet", "all", *args]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900,
                       env={**os.environ, "PYTHONHASHSEED": "0"})
    if check and r.returncode != 0:
        raise AssertionError(f"snakemake failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-6000:]}")
    return r


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    wd = tmp_path_factory.mktemp("default_run")
    smk(wd)
    return wd


def test_default_pipeline_writes_the_wave_analysis_dataset(default_run):
    a = pd.read_parquet(default_run / "results/data/analysis.parquet")
    assert len(a) == 130
    assert a["arm"].value_counts().to_dict() == {"usual_care": 64, "vocational_advice": 66}
    assert a["practice"].nunique() == 10
    assert a["days_off_6m"].notna().sum() == 125
    csv = pd.read_csv(default_run / "results/data/analysis.csv")
    assert len(csv) == 130
    q = pd.read_csv(default_run / "results/data/queries.csv")
    assert list(q.columns) == ["table", "row", "participant", "column", "value", "rule", "action"]
    c = pd.read_csv(default_run / "results/data/consort.csv")
    assert c.loc[c["stage"] == "randomised", "n"].iloc[0] == 130
    est = pd.read_csv(default_run / "results/tables/estimates.csv")
    for col in ["analysis", "outcome", "population", "term", "estimate", "std_error", "conf_level",
                "conf_low", "conf_high", "statistic", "p_value", "n", "events"]:
        assert col in est.columns
    prov = yaml.safe_load((default_run / "results/provenance.json").read_text())
    assert set(prov) >= {"inputs", "outputs", "config", "packages", "seeds", "git_commit"}
    assert any(k.endswith("baseline.csv") for k in prov["inputs"])


def _byo_table(src: Path, dest: Path, competing=True):
    """The default run's analysis table with other column names and arm labels."""
    a = pd.read_parquet(src)
    if not competing:                       # no competing event declared: code 2 -> censored
        a["rtw_event"] = a["rtw_event"].where(a["rtw_event"] != 2, 0)
    t = pd.DataFrame({
        "pid": a["participant_id"], "group": a["arm"].map({"usual_care": "UC", "vocational_advice": "VA"}),
        "site": a["practice"], "days": a["rtw_time"], "status": a["rtw_event"],
        "absence": a["days_off_6m"], "prior": a["days_off_before"], "eq5d": a["eq5d_index_6m"],
        "eq5d0": a["eq5d_index_bl"], "working": a["at_work_6m"], "cond": a["condition_group"],
    })
    t.to_csv(dest, index=False)


def _byo_config(table, strata=None, competing=None):
    tte = {"time": "days", "event": "status", "event_value": 1, "tau": 182}
    if competing is not None:
        tte["competing_value"] = competing
    return {
        "data": {"source": "table", "table": str(table),
                 "columns": {"participant_id": "pid", "arm": "group", "practice": "site"}},
        "trial": {"arms": {"control": "UC", "intervention": "VA"}},
        "covariates": ["prior"], "stratification_factors": ["cond"], "strata": strata,
        "conf_levels": [0.95, 0.8],
        "outcomes": {"time_to_event": tte, "count": {"name": "absence", "value": "absence", "baseline": "prior"},
                     "continuous": [{"name": "eq5d", "value": "eq5d", "baseline": "eq5d0"}],
                     "binary": [{"name": "working", "value": "working"}]},
    }


@pytest.mark.parametrize("strata,competing", [(None, None), ("site", 2)])
def test_bring_your_own_table_with_other_names(default_run, tmp_path, strata, competing):
    wd = tmp_path / "elsewhere"
    wd.mkdir()
    _byo_table(default_run / "results/data/analysis.parquet", wd / "mytable.csv", competing is not None)
    (wd / "my.yaml").write_text(yaml.safe_dump(_byo_config("mytable.csv", strata, competing)))
    smk(wd, "--configfile", str(wd / "my.yaml"))
    a = pd.read_parquet(wd / "results/data/analysis.parquet")
    assert len(a) == 130 and set(a["arm"]) == {"UC", "VA"}
    assert {"participant_id", "arm", "practice", "days", "status"} <= set(a.columns)
    est = pd.read_csv(wd / "results/tables/estimates.csv")
    assert set(est["outcome"]) >= {"absence", "eq5d", "working", "time_to_event"}
    assert not (wd / "results/data/consort.csv").exists()


def test_bring_your_own_table_with_arms_coded_0_1(default_run, tmp_path):
    """Issue 10: arm labels as the data hold them, numbers in config and data (0/1), names
    keyed by number; outputs name the arms by label and by name."""
    wd = tmp_path / "numeric"
    wd.mkdir()
    _byo_table(default_run / "results/data/analysis.parquet", wd / "mytable.csv", False)
    t = pd.read_csv(wd / "mytable.csv")
    t["group"] = t["group"].map({"UC": 0, "VA": 1})
    t.to_csv(wd / "mytable.csv", index=False)
    cfg = _byo_config("mytable.csv")
    cfg["trial"] = {"arms": {"control": 0, "intervention": 1},
                    "arm_names": {0: "Usual care", 1: "Advice"}}
    (wd / "my.yaml").write_text(yaml.safe_dump(cfg))
    smk(wd, "--configfile", str(wd / "my.yaml"))
    a = pd.read_parquet(wd / "results/data/analysis.parquet")
    assert set(a["arm"]) == {"0", "1"}
    est = pd.read_csv(wd / "results/tables/estimates.csv", dtype={"term": str})
    assert {"arm=0", "arm=1"} <= set(est["term"])
    header = (wd / "results/tables/table1.csv").read_text(encoding="utf-8").splitlines()[0]
    assert "Usual care (n=" in header and "Advice (n=" in header


def test_bad_input_stops_with_clear_message_and_no_results(tmp_path):
    wd = tmp_path / "bad"
    (wd / "data/raw").mkdir(parents=True)
    cfg = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    cfg["data"]["source"] = "raw"
    from helpers import write_synthetic
    write_synthetic(wd / "data/raw")
    b = pd.read_csv(wd / "data/raw/baseline.csv", dtype=str, keep_default_na=False)
    b.loc[3, "arm"] = "VA"
    b.to_csv(wd / "data/raw/baseline.csv", index=False)
    (wd / "c.yaml").write_text(yaml.safe_dump(cfg))
    r = smk(wd, "--configfile", str(wd / "c.yaml"), check=False)
    assert r.returncode != 0
    assert "row 5, column 'arm': arm label not in config trial.arms. Found 'VA'" in r.stderr
    leftovers = [p for p in (wd / "results").rglob("*") if p.is_file() and "logs" not in p.parts]
    assert leftovers == []


def test_snakemake_lint_is_clean(tmp_path):
    r = subprocess.run(SNAKEMAKE + ["--snakefile", str(ROOT / "Snakefile"), "--directory", str(tmp_path),
                                    "--lint"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Congratulations, your workflow is in a good condition!" in (r.stdout + r.stderr)


def test_bring_your_own_trial_in_months_gets_grids_and_words_of_months(tmp_path):
    """Issue 11, item 1: time_unit months, 24-month follow-up, no grids configured: the
    at-risk times, proportions and table headings are in months with round times."""
    import numpy as np
    wd = tmp_path / "months"
    wd.mkdir()
    rng = np.random.default_rng(5)
    n = 240
    arm = np.repeat([0, 1], n // 2)
    t = np.minimum(24.0, rng.exponential(12.0, n) / np.where(arm == 1, 1.3, 1.0)).round(2)
    pd.DataFrame({"pid": range(n), "grp": arm, "months": t, "ev": (t < 24).astype(int),
                  "age": rng.integers(20, 60, n)}).to_csv(wd / "t.csv", index=False)
    cfg = {"data": {"source": "table", "table": "t.csv",
                    "columns": {"participant_id": "pid", "arm": "grp"}},
           "trial": {"arms": {"control": 0, "intervention": 1}},
           "covariates": ["age"],
           "outcomes": {"time_to_event": {"name": "relapse", "time": "months", "event": "ev",
                                          "time_unit": "months", "tau": 24,
                                          "event_label": "Relapsed", "better": "lower"}}}
    (wd / "my.yaml").write_text(yaml.safe_dump(cfg))
    smk(wd, "--configfile", str(wd / "my.yaml"))
    risk = pd.read_csv(wd / "results/tables/survival/relapse_km_at_risk.csv")
    assert sorted(risk["time"].unique()) == [0, 3, 6, 9, 12, 15, 18, 21, 24]
    # the table's footnotes follow a blank row (issue 11 item 4)
    rows = pd.read_csv(wd / "results/tables/survival_summary.csv")["Measure"].dropna()
    rows = rows.str.strip().tolist()
    assert "Median time, months (95% CI)" in rows
    assert [r for r in rows if r.startswith("Relapsed by")] == [
        "Relapsed by month 6, % (95% CI)", "Relapsed by month 12, % (95% CI)",
        "Relapsed by month 24, % (95% CI)"]
    assert not [r for r in rows if "day" in r.lower()]


def _long_tables(rng, n):
    """A made-up disease course in months: active <-> remission, death absorbing; the
    multi-state intervals and the recurrent relapses (remission -> active) as long tables."""
    status, spells = [], []
    for pid in range(n):
        t, state, drug = 0.0, "active", pid % 2
        while state != "dead":
            dwell = rng.exponential(5.0 if state == "active" else 6.0 * (1.5 if drug else 1.0))
            stop = round(min(24.0, t + dwell), 2)
            if stop <= t:
                break
            to = "cens" if stop >= 24 else ("dead" if rng.random() < 0.1 else
                                            ("remission" if state == "active" else "active"))
            status.append({"pid": pid, "t0": t, "t1": stop, "state": to})
            if state == "remission":
                spells.append({"pid": pid, "t0": t, "t1": stop, "ev": int(to == "active")})
            t, state = stop, to
            if to == "cens":
                break
    return pd.DataFrame(status), pd.DataFrame(spells)


def test_bring_your_own_long_tables_in_months_run_the_recurrent_and_multistate_analyses(tmp_path):
    """Issue 12, item 2: a bring-your-own analysis table with long tables of the SPEC §9
    contract (own column names, arms 0/1, months): estimates, curves, figures and the table."""
    import numpy as np
    wd = tmp_path / "long"
    wd.mkdir()
    rng = np.random.default_rng(12)
    n = 160
    pd.DataFrame({"pid": range(n), "grp": np.arange(n) % 2,
                  "age": rng.integers(20, 60, n)}).to_csv(wd / "t.csv", index=False)
    status, spells = _long_tables(rng, n)
    status.to_csv(wd / "status.csv", index=False)
    spells.to_csv(wd / "spells.csv", index=False)
    cfg = {"data": {"source": "table", "table": "t.csv",
                    "columns": {"participant_id": "pid", "arm": "grp"}},
           "trial": {"arms": {"control": 0, "intervention": 1},
                     "arm_names": {0: "Placebo", 1: "Drug"}},
           "covariates": ["age"],
           "outcomes": {
               "recurrent": [{"name": "relapses", "label": "Relapses", "table": "spells.csv",
                              "id": "pid", "start": "t0", "stop": "t1", "event": "ev",
                              "event_value": 1, "tau": 24, "time_unit": "months"}],
               "multistate": [{"name": "course", "label": "Disease course",
                               "table": "status.csv", "id": "pid", "start": "t0", "stop": "t1",
                               "to": "state", "censored_value": "cens",
                               "initial_state": "active",
                               "states": ["active", "remission", "dead"], "tau": 24,
                               "time_unit": "months"}]}}
    (wd / "my.yaml").write_text(yaml.safe_dump(cfg))
    smk(wd, "--configfile", str(wd / "my.yaml"))
    est = pd.read_csv(wd / "results/tables/estimates.csv", dtype={"term": str})
    got = set(zip(est["analysis"], est["outcome"]))
    for a in ("ag_cox", "pwp_total", "pwp_gap", "rate_nb", "rate_poisson", "mcf",
              "mcf_difference", "event_rate"):
        assert (a, "relapses") in got
    for a in ("state_probability", "state_time", "state_time_difference", "transition_cox"):
        assert (a, "course") in got
    probs = est[(est["analysis"] == "state_probability") & (est["outcome"] == "course")]
    assert {t.split("t=")[1] for t in probs["term"]} == {"6", "12", "24"}   # round months
    risk = pd.read_csv(wd / "results/tables/recurrent/relapses_at_risk.csv")
    assert sorted(risk["time"].unique()) == [0, 3, 6, 9, 12, 15, 18, 21, 24]
    for f in ("mcf_relapses.png", "states_course.png", "mcf_relapses.pdf"):
        assert (wd / "results/figures" / f).stat().st_size > 0
    table = (wd / "results/tables/longitudinal.md").read_text(encoding="utf-8")
    assert "| Placebo | Drug |" in table and "up to 24 months" in table
    assert "day" not in table.lower() and "work" not in table.lower()
