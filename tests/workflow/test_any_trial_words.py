"""Issue 11, item 2: a bring-your-own trial that is not about work (a made-up respiratory
trial: arms 0/1, time in months, exacerbations, lung function, hospital admission) runs the
whole pipeline and the HTML report, and no output file -- tables in every format, figures'
PDF text, CSVs, logs, provenance, and every file embedded in report.html -- contains any of
WAVE's words."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import yaml

from _output_text import output_texts
from _pipeline import build_report, fresh_run

pytestmark = pytest.mark.e2e

# WAVE's words (issue 11): none may appear in another trial's outputs
WAVE_WORDS = [r"\bSMS\b", r"(?i)vocational", r"(?i)fit note", r"(?i)days off", r"(?i)employment",
              r"(?i)\b6 months\b", r"(?i)return(ed|ing|s)? to work", r"\bRTW\b",
              r"(?i)usual care", r"\bWAVE\b"]


def _trial(rng, n=200) -> pd.DataFrame:
    arm = np.arange(n) % 2
    centre = rng.choice(["north", "south", "east"], n)
    age = rng.integers(40, 80, n)
    smoker = rng.choice(["current", "former"], n)
    exac0 = rng.poisson(2.0, n)
    exac = rng.negative_binomial(2, 2 / (2 + 2.4 * np.where(arm == 1, 0.75, 1.0)), n).astype(float)
    exac[rng.choice(n, 8, replace=False)] = np.nan
    fev0 = rng.normal(1.8, 0.4, n).round(2)
    fev = (fev0 + rng.normal(0.05 * arm, 0.2, n)).round(2)
    hosp = (rng.random(n) < np.where(arm == 1, 0.15, 0.25)).astype(int)
    t_rel = rng.exponential(14.0 * np.where(arm == 1, 1.4, 1.0), n)
    t_die = rng.exponential(80.0, n)
    t = np.minimum(np.minimum(t_rel, t_die), 24.0).round(2)
    status = np.where(t >= 24.0, 0, np.where(t_rel <= t_die, 1, 2))
    return pd.DataFrame({"pid": [f"R{i:04d}" for i in range(n)], "grp": arm, "centre": centre,
                         "age": age, "smoker": smoker, "exac0": exac0, "exac": exac,
                         "fev0": fev0, "fev12": fev, "hosp": hosp, "months": t,
                         "status": status})


CONFIG = {
    "data": {"source": "table", "table": "trial.csv",
             "columns": {"participant_id": "pid", "arm": "grp"}},
    "trial": {"name": "BREATHE", "arms": {"control": 0, "intervention": 1},
              "arm_names": {0: "Placebo", 1: "Inhaler"}},
    "stratification_factors": ["centre"],
    "covariates": ["age"],
    "conf_levels": [0.95, 0.9],
    "subgroups": [{"name": "smoker", "label": "Smoking status", "column": "smoker"}],
    "outcomes": {
        "time_to_event": {"name": "relapse", "label": "Time to relapse", "time": "months",
                          "event": "status", "event_value": 1, "competing_value": 2,
                          "time_unit": "months", "tau": 24, "event_label": "Relapsed",
                          "competing_label": "Died", "better": "lower"},
        "count": {"name": "exacerbations", "label": "Exacerbations over 12 months",
                  "value": "exac", "baseline": "exac0", "unit": "exacerbations",
                  "better": "lower"},
        "continuous": [{"name": "fev1", "label": "FEV1 at 12 months, litres", "value": "fev12",
                        "baseline": "fev0", "unit": "litres", "better": "higher"}],
        "binary": [{"name": "hospitalised", "label": "Admitted to hospital", "value": "hosp",
                    "better": "lower"}],
    },
    "regression": {"mi": {"m": 3, "iterations": 2}, "bootstrap": {"replicates": 20}},
}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    wd = tmp_path_factory.mktemp("breathe")
    _trial(np.random.default_rng(2024)).to_csv(wd / "trial.csv", index=False)
    (wd / "breathe.yaml").write_text(yaml.safe_dump(CONFIG, sort_keys=False))
    fresh_run(wd, "--configfile", str(wd / "breathe.yaml"))
    build_report(wd, "--configfile", str(wd / "breathe.yaml"))
    return wd


def test_a_trial_not_about_work_has_none_of_waves_words_in_any_output(run):
    texts = output_texts(run)
    assert any(k.endswith(".pdf") for k in texts) and any(".docx" in k for k in texts)
    assert sum(1 for k in texts if "report.html[" in k) > 20, "report's embedded files not read"
    found = []
    for path, text in texts.items():
        for pattern in WAVE_WORDS:
            for m in re.finditer(pattern, text):
                found.append(f"{path}: {text[max(0, m.start() - 60):m.end() + 60]!r}")
    assert not found, "WAVE's words in the outputs:\n" + "\n".join(found[:40])
    # the search does see the words of this trial
    assert "Exacerbations over 12 months" in texts["results/tables/primary_outcome.md"]
    assert any("Favours Inhaler" in t for k, t in texts.items() if k.endswith(".pdf"))


def test_the_outputs_are_named_and_worded_after_this_trial(run):
    res = run / "results"
    assert (res / "figures/distribution_exacerbations.png").exists()
    assert not (res / "figures/days_off.png").exists()
    report = (res / "report.html").read_text(encoding="utf-8")
    assert "Trial analysis: BREATHE" in report
    t1 = pd.read_csv(res / "tables/table1.csv")["Characteristic"].dropna().tolist()  # footnotes
    heads = [c for c in t1 if not c.startswith("  ")]
    assert heads == ["centre, n (%)", "age", "exac0", "fev0"]   # strata, covariates, baselines
    est = pd.read_csv(res / "tables/estimates.csv")
    tp = est[(est["analysis"] == "tipping_point") & est["term"].str.startswith("delta=")]
    sd = pd.read_csv(run / "trial.csv")["exac"].std()
    deltas = sorted({float(t.split("=")[1]) for t in tp["term"]})
    assert deltas == pytest.approx([float(f"{k * sd:.3g}") for k in
                                    (-1, -0.5, -0.25, 0, 0.25, 0.5, 1)])
    assert tp["note"].str.contains("exacerbations added to imputed").all()
