"""Which presentation tables and figures a run makes, and their titles and footnotes.

The Snakemake rules only wire: they ask this module which tables and figures the config
calls for (:func:`table_keys`, :func:`trial_figure_keys`, :func:`survival_figure_keys`) and
map each key to its file and report caption; the entry scripts ask it for each table's
title and footnote (:func:`table_texts`).  Everything here is a function of the (analysis)
config, so a change of wording reruns the table job through its code dependencies.
"""
from __future__ import annotations

from typing import Mapping


def _outcomes(config: Mapping) -> Mapping:
    return config["outcomes"]


def table_keys(config: Mapping) -> list[str]:
    """Presentation tables of the run, in report order: ``table1`` always, ``primary`` with a
    count outcome, ``secondary`` with continuous or binary outcomes, ``survival`` with
    time-to-event outcomes."""
    oc = _outcomes(config)
    keys = ["table1"]
    if oc["count"]:
        keys.append("primary")
    if oc["continuous"] or oc["binary"]:
        keys.append("secondary")
    if oc["time_to_event"]:
        keys.append("survival")
    return keys


def _levels_text(config: Mapping) -> str:
    return ", ".join(f"{round(100 * float(x))}%" for x in config["conf_levels"])


def table_texts(config: Mapping) -> dict[str, dict[str, str]]:
    """``{key: {"title": ..., "footnote": ...}}`` of every table in :func:`table_keys`."""
    lv = _levels_text(config)
    oc = _outcomes(config)
    texts = {
        "table1": (
            "Table 1. Baseline characteristics by arm and overall",
            "Mean (SD) and median (IQR) for continuous variables; n (%) of participants with data "
            "for categorical variables. No significance tests (CONSORT)."),
    }
    if oc["count"]:
        texts["primary"] = (
            f"Primary outcome: {oc['count']['label']}",
            f"IRR: incidence rate ratio, intervention versus control (reference); "
            f"confidence levels {lv}.")
    texts["secondary"] = (
        "Secondary outcomes by arm",
        f"Mean (SD) or n (%) by arm; contrasts intervention versus control; "
        f"confidence levels {lv}.")
    texts["survival"] = (
        "Time-to-event outcomes: survival summary",
        f"{_hazard_ratio_words(oc['time_to_event'])}; confidence levels {lv}.")
    return {k: {"title": texts[k][0], "footnote": texts[k][1]} for k in table_keys(config)}


def _hazard_ratio_words(outcomes) -> str:
    """How to read the hazard ratios: above 1 the event sooner with the intervention, and
    whether that is favourable (each outcome's ``better``)."""
    parts = []
    for o in outcomes:
        what = (o["event_label"] or "the event")
        what = what[:1].lower() + what[1:]
        judged = {"higher": " (favourable)", "lower": " (unfavourable)"}.get(o["better"] or "", "")
        parts.append(f"{o['label']}: HR above 1, {what} sooner with the intervention{judged}")
    return "HR: hazard ratio, intervention versus control. " + "; ".join(parts)


def trial_figure_keys(config: Mapping) -> list[str]:
    """Figures that are not per outcome, in report order: the CONSORT diagram (raw exports
    only); with a count outcome the primary forest plot, the subgroup forest plot of its
    rate ratios (with subgroups) and its distribution; with subgroups and a time-to-event
    outcome the subgroup forest plot of the first one's hazard ratios (``subgroup_cox``).
    ``count_distribution`` is drawn as ``distribution_<count outcome name>``."""
    keys = []
    if config["data"]["source"] != "table":
        keys.append("consort")
    has_count = bool(_outcomes(config)["count"])
    has_subgroups = bool(config["subgroups"])
    if has_count:
        keys.append("forest_primary")
    if has_count and has_subgroups:
        keys.append("forest_subgroups")
    if has_subgroups and _outcomes(config)["time_to_event"]:
        keys.append("forest_subgroups_tte")
    if has_count:
        keys.append("count_distribution")
    return keys


def survival_figure_keys(outcome: Mapping) -> list[str]:
    """Figures of one time-to-event outcome: Kaplan-Meier, cumulative incidence (with a
    competing event) and scaled Schoenfeld residuals."""
    keys = ["km"]
    if outcome["competing_value"] is not None:
        keys.append("cif")
    keys.append("schoenfeld")
    return keys
