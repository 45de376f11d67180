"""The estimands table (ICH E9(R1) addendum, section A.3): one row per analysis and outcome.

Each analysis of the plan names its estimand in config (``estimands.analyses``; the built-in
analyses have defaults in the config schema): the population, the variable, each intercurrent
event with the strategy that handles it (treatment policy, hypothetical, composite, while on
treatment, principal stratum) and the population-level summary.  The table lists every (analysis, outcome) the run estimated that has an estimand; analyses
that describe or check (descriptive statistics, ``cox_zph``, ...) have none.

The text of an estimand may use the placeholders ``{outcome}``, ``{event}``, ``{competing}``,
``{unit}``, ``{tau}``, ``{intervention}`` and ``{control}``; they are filled in per outcome by
plain replacement (nothing in config text is evaluated).
"""
from __future__ import annotations

import re

import pandas as pd

from rtw.core.config import ESTIMAND_PLACEHOLDERS as PLACEHOLDERS, check_estimands

STRATEGIES = ("treatment policy", "hypothetical", "composite", "while on treatment", "principal stratum")
COLUMNS = ["Outcome", "Analysis", "Population", "Variable", "Intercurrent events: strategy",
           "Population-level summary"]
_FIELD = re.compile(r"\{([^{}]*)\}")  # as rtw.core.config checks the text


def _fill(text: str, values: dict) -> str:
    return _FIELD.sub(lambda m: str(values.get(m.group(1), m.group(0))), text)


def _number(x) -> str:
    return f"{x:g}" if isinstance(x, (int, float)) else str(x)


def outcome_words(cfg: dict, name: str) -> dict:
    """The placeholder values of outcome ``name`` (any kind), and whether it has a competing event.

    Where the schema leaves a word null it says what stands for it: the event is "Event"
    (time to event) or "Events" (recurrent), the competing event "Competing event"; tau null
    (the last follow-up, decided by the data) reads "the end of follow-up". Counts and scores
    have no time unit or horizon.
    """
    oc, trial = cfg["outcomes"], cfg["trial"]
    found, kind = None, None
    for k in ("time_to_event", "continuous", "binary", "recurrent", "multistate"):
        for o in oc[k]:
            if o["name"] == name:
                found, kind = o, k
    if found is None and oc["count"] is not None and oc["count"]["name"] == name:
        found, kind = oc["count"], "count"
    timed = kind in ("time_to_event", "recurrent", "multistate")
    label = found["label"] if found is not None else name
    event = label
    if kind == "time_to_event":
        event = found["event_label"] or "Event"
    elif kind == "recurrent":
        event = found["event_label"] or "Events"
    tau = found["tau"] if timed else None
    arms, names = trial["arms"], trial["arm_names"]
    values = {
        "outcome": label,
        "event": event,
        "competing": (found["competing_label"] or "Competing event") if kind == "time_to_event"
        else "",
        "unit": found["time_unit"] if timed else "",
        "tau": _number(tau) if tau is not None else "the end of follow-up",
        "intervention": names[arms["intervention"]],
        "control": names[arms["control"]],
    }
    return {"values": values,
            "has_competing": kind == "time_to_event" and found["competing_value"] is not None}


def _analysis_order(analyses: dict) -> list[str]:
    """The built-in analyses in the schema's order (the order of the plan), then the others."""
    from rtw.core.validation import load_schema
    node = load_schema()["properties"]["estimands"]["properties"]["analyses"]["properties"]
    return list(node) + [a for a in analyses if a not in node]


def _outcome_order(cfg: dict) -> list[str]:
    """Outcome names in the config's order: time to event, count, continuous, binary,
    recurrent, multi-state."""
    oc = cfg["outcomes"]
    names = [o["name"] for o in oc["time_to_event"]]
    if oc["count"] is not None:
        names.append(oc["count"]["name"])
    for kind in ("continuous", "binary", "recurrent", "multistate"):
        names += [o["name"] for o in oc[kind]]
    return names


def estimands_table(estimates: pd.DataFrame, cfg: dict) -> pd.DataFrame:
    """The estimands of the analyses in ``estimates`` (the tidy estimates table).

    Parameters
    ----------
    estimates : DataFrame
        ``results/tables/estimates.csv`` (columns ``analysis`` and ``outcome`` are read).
    cfg : dict
        The SAP: ``estimands``, ``outcomes``, ``trial.arms``, ``trial.arm_names``.

    Returns
    -------
    DataFrame
        Columns :data:`COLUMNS`, one row per (outcome, analysis) present in ``estimates``, by
        outcome (config order) and analysis (the schema's order); analyses without an
        estimand left out.
    """
    check_estimands(cfg)
    analyses = cfg["estimands"]["analyses"]
    events = cfg["estimands"]["intercurrent_events"]
    pairs = estimates[["outcome", "analysis"]].drop_duplicates().astype(str)
    order = _analysis_order(analyses)
    outcomes = _outcome_order(cfg)
    pairs = pairs.assign(
        _o=pairs["outcome"].map(lambda o: outcomes.index(o) if o in outcomes else len(outcomes)),
        _a=pairs["analysis"].map(lambda a: order.index(a) if a in order else len(order)),
    ).sort_values(["_o", "_a", "outcome", "analysis"], kind="mergesort")
    rows = []
    for outcome, analysis in zip(pairs["outcome"], pairs["analysis"]):
        if analysis not in analyses:
            continue
        entry = analyses[analysis]
        words = outcome_words(cfg, str(outcome))
        v = words["values"]
        ies = []
        for ie, strategy in entry["intercurrent_events"].items():
            if ie == "competing" and not words["has_competing"]:
                continue
            ies.append(f"{_fill(events[ie], v)}: {_fill(strategy, v)}")
        rows.append({
            "Outcome": v["outcome"],
            "Analysis": _fill(entry["label"] or analysis, v),
            "Population": _fill(entry["population"], v),
            "Variable": _fill(entry["variable"], v),
            "Intercurrent events: strategy": "; ".join(ies) if ies else "none",
            "Population-level summary": _fill(entry["summary"], v),
        })
    return pd.DataFrame(rows, columns=COLUMNS)
