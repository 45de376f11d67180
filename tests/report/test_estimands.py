"""The estimands table (ICH E9(R1)): defaults for every built-in analysis, placeholders filled
per outcome from config, overrides, and config mistakes stopped with the key named."""
from __future__ import annotations

import re

import pandas as pd
import pytest

from helpers import ROOT, default_config, sap
from rtw.core.config import ConfigError
from rtw.core.validation import load_schema
from rtw.report.estimands import COLUMNS, STRATEGIES, estimands_table

# Analyses of estimates.csv that describe or check rather than estimate (config/README.md).
NO_ESTIMAND = {"descriptive", "cox_zph", "delivery", "event_rate", "mcf", "state_time", "rmst",
               "power"}


def _documented_analyses() -> set[str]:
    text = (ROOT / "config" / "README.md").read_text(encoding="utf-8")
    block = text[text.index("* `analysis` names:"):]
    block = block.split("\n\n")[0]
    return set(re.findall(r"`([a-z_]+)`", block)) - {"analysis", "term", "arm", "state"}


def _estimates(pairs):
    return pd.DataFrame([{"analysis": a, "outcome": o, "term": "arm"} for o, a in pairs])


def test_every_estimating_analysis_has_a_default_estimand():
    analyses = load_schema()["properties"]["estimands"]["properties"]["analyses"]["properties"]
    documented = _documented_analyses()
    assert len(documented) > 30
    missing = documented - NO_ESTIMAND - set(analyses)
    assert not missing, f"analyses without a default estimand: {sorted(missing)}"
    assert set(analyses) <= documented, sorted(set(analyses) - documented)


def test_default_strategies_are_the_five_of_ICH_E9_R1():
    cfg = default_config()
    for name, entry in cfg["estimands"]["analyses"].items():
        for ie, strategy in entry["intercurrent_events"].items():
            assert ie in cfg["estimands"]["intercurrent_events"], (name, ie)
            assert strategy.split(" (")[0] in STRATEGIES, (name, strategy)
        assert entry["population"] and entry["variable"] and entry["summary"]


def test_wave_table_fills_every_placeholder_and_keeps_competing_for_time_to_event():
    cfg = default_config()
    est = _estimates([("first_rtw", "cox_adjusted"), ("first_rtw", "cox_zph"), ("days_off", "cace"),
                      ("first_rtw", "fine_gray"), ("days_off", "nb_primary"),
                      ("days_off", "descriptive")])
    t = estimands_table(est, cfg)
    assert list(t.columns) == COLUMNS
    # time to event first (config order), then the count; analyses in the plan's order
    assert list(zip(t["Outcome"], t["Analysis"])) == [
        ("Time to first return to work", "Cox, adjusted"),
        ("Time to first return to work", "Fine-Gray"),
        ("Days off work over 6 months", "Negative binomial"),
        ("Days off work over 6 months", "Complier average causal effect")]
    assert not t.apply(lambda c: c.str.contains(r"\{")).any().any()
    cox = t.iloc[0]
    assert cox["Variable"] == "Time from randomisation to the event, in days (event: Returned to work)"
    assert cox["Intercurrent events: strategy"] == (
        "Not receiving the allocated intervention: treatment policy; "
        "Left employment before return to work: hypothetical (censored at the competing event)")
    assert cox["Population-level summary"] == \
        "Hazard ratio conditional on the covariates (Vocational advice vs Usual care)"
    assert t.iloc[3]["Intercurrent events: strategy"] == \
        "Not receiving the allocated intervention: principal stratum"
    assert t.iloc[3]["Population"].startswith("Compliers")


def test_byo_trial_in_months_with_arms_0_1_and_no_competing_event():
    cfg = sap({
        "trial": {"name": "FOOT", "arms": {"control": 0, "intervention": 1},
                  "arm_names": {0: "Standard dressing", 1: "Silver dressing"}},
        "outcomes": {"time_to_event": [{"name": "healing", "label": "Time to ulcer healing",
                                        "time": "t", "event": "healed", "tau": 24,
                                        "time_unit": "months", "event_label": "Healed"}]},
    })
    t = estimands_table(_estimates([("healing", "rmst_difference"), ("healing", "logrank")]), cfg)
    assert list(t["Analysis"]) == ["Log-rank test", "Restricted mean time"]
    rmst = t.iloc[1]
    assert rmst["Variable"] == "Time from randomisation to the event, in months (event: Healed)"
    assert rmst["Intercurrent events: strategy"] == \
        "Not receiving the allocated intervention: treatment policy"
    assert rmst["Population-level summary"] == ("Difference in restricted mean time to the event up "
                                                "to 24 months (Silver dressing − Standard dressing)")
    text = " ".join(t.astype(str).to_numpy().ravel())
    for word in ("work", "days", "employment", "Vocational", "Usual care"):
        assert word not in text


def test_an_entry_in_config_replaces_the_default_and_its_events_are_the_trials():
    cfg = sap({
        "trial": {"arms": {"control": "A", "intervention": "B"}},
        "outcomes": {"count": {"name": "falls", "label": "Falls in 12 months", "value": "n_falls"}},
        "estimands": {
            "intercurrent_events": {"death": "Death before 12 months", "switch": "Switching to B"},
            "analyses": {"nb_primary": {
                "label": "Primary", "population": "Randomised residents",
                "variable": "{outcome}", "summary": "Rate ratio of falls ({intervention} vs {control})",
                "intercurrent_events": {"death": "while on treatment (falls while alive)",
                                        "switch": "treatment policy"}}},
        },
    })
    t = estimands_table(_estimates([("falls", "nb_primary"), ("falls", "zinb")]), cfg)
    first = t.iloc[0]
    assert first["Analysis"] == "Primary"
    assert first["Intercurrent events: strategy"] == (
        "Death before 12 months: while on treatment (falls while alive); "
        "Switching to B: treatment policy")
    assert first["Population-level summary"] == "Rate ratio of falls (B vs A)"
    # the other analyses keep their defaults (filled from the schema), with the built-in events
    assert t.iloc[1]["Analysis"] == "Zero-inflated negative binomial"
    assert t.iloc[1]["Intercurrent events: strategy"] == \
        "Not receiving the allocated intervention: treatment policy"


def test_an_intercurrent_event_not_declared_stops_naming_the_key():
    with pytest.raises(ConfigError, match=r"estimands\.analyses\.cace\.intercurrent_events: "
                                          r"'death' is not an intercurrent event"):
        sap({"trial": {"arms": {"control": 0, "intervention": 1}},
             "estimands": {"analyses": {"cace": {
            "population": "p", "variable": "v", "summary": "s",
            "intercurrent_events": {"death": "composite"}}}}})


def test_an_unknown_placeholder_stops_and_is_never_evaluated():
    with pytest.raises(ConfigError, match=r"estimands\.analyses\.cace\.summary: unknown placeholder "
                                          r"\{__import__\}"):
        sap({"trial": {"arms": {"control": 0, "intervention": 1}},
             "estimands": {"analyses": {"cace": {
            "population": "p", "variable": "v", "summary": "{__import__}('os')",
            "intercurrent_events": {"non_adherence": "principal stratum"}}}}})


def test_a_strategy_outside_ICH_E9_R1_is_refused_by_the_schema():
    with pytest.raises(ConfigError, match="estimands"):
        sap({"trial": {"arms": {"control": 0, "intervention": 1}},
             "estimands": {"analyses": {"cace": {
            "population": "p", "variable": "v", "summary": "s",
            "intercurrent_events": {"non_adherence": "ignore it"}}}}})
