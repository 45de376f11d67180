"""Bring your own analysis table (SPEC §2.2).

A one-row-per-participant table (any supported extension, read as config ``data.sheet``,
``data.csv`` and ``data.missing_values`` say: :func:`rtw.core.io.read_table`) is read, its
mapped columns renamed to the pipeline's roles (``participant_id``, ``arm``, ``practice``),
and checked: the config's columns exist, ids are unique, arm labels are the configured ones
(both present), event codes and times are valid.  Problems stop the run with the file,
spreadsheet row, column, value and what was expected.  Other columns keep their names.

Labels (:mod:`rtw.data.labels`): value labels of a Stata/SPSS/SAS table let config name an
arm or an event code by its code or its label; a category label written with another case
or surrounding blanks (an arm ``"Usual_Care"``, a subgroup level ``"female "``) is matched
and logged as a data query (``results/data/queries.csv``: table = the file's name).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from rtw.core.io import InputError, read_options, read_table, sheet_row, strip_text
from rtw.data.analysis_schema import check_config_columns, config_columns
from rtw.data.coltypes import check_column_types
from rtw.data.labels import (VARIANT_RULE, apply_category_labels, arm_values,
                             canonical_spellings, label_list, match_labels,
                             resolve_event_values)


def import_analysis_table(path, config: dict, queries=None) -> pd.DataFrame:
    """Read and check an own analysis table (SPEC §2.2).

    Steps, each stopping the run with an :class:`~rtw.core.io.InputError` on a
    problem: at least one data row; event codes named by value label resolved
    (:func:`rtw.data.labels.resolve_event_values`); mapped columns renamed to their roles
    (:func:`_rename_roles`); ids unique (:func:`_check_ids`); arm labels, variants queried
    (:func:`_check_arms`); category variants queried (:func:`_match_categories`); the
    config's columns exist (:func:`rtw.data.analysis_schema.check_config_columns`); outcome
    types of every column the analysis uses, covariates, outcomes and baselines
    (:func:`rtw.data.coltypes.check_column_types`); time-to-event times and event codes
    (:func:`_check_event_times`).

    Parameters
    ----------
    path : path-like
    config : dict
        The config (validated, defaults filled).
    queries : rtw.data.cleaning.Queries, optional
        Collects the data queries (label variants).

    Returns
    -------
    DataFrame
        The table with ``participant_id``, ``arm`` (and ``practice``) as text.
    """
    path = str(path)
    raw = read_table(path, as_text=False, options=read_options(config["data"]), strip=False)
    if len(raw) == 0:
        raise InputError("table has a header but no data rows", file=path, row=2,
                         expected="one row per participant")
    labels = raw.attrs["value_labels"]
    cfg = resolve_event_values(config, labels, path)
    cols = cfg["data"]["columns"]
    outcome_cols = {c for key, c in config_columns(cfg) if key.startswith("outcomes.")}
    df = strip_text(raw)
    categories = {c for key, c in config_columns(cfg) if not key.startswith("outcomes.")}
    for col in (categories | {cols["arm"]}) & set(raw.columns):
        df[col] = raw[col]                          # blanks kept: a variant is queried
    df = apply_category_labels(df, labels, outcome_cols | {cols["arm"]}, path)
    if cols["arm"] in labels:
        df[cols["arm"]] = arm_values(df[cols["arm"]], labels[cols["arm"]], cfg["trial"]["arms"],
                                     path, cols["arm"])
    df = _rename_roles(df, cols, path)
    _check_ids(df, cols, path)
    _check_arms(df, cfg["trial"]["arms"], cols, path, queries)
    check_config_columns(cfg, df.columns, path)
    _match_categories(df, cfg, outcome_cols, path, queries,
                      {role: src for role, src in cols.items() if src})
    check_column_types(df, cfg, path, user_names={r: c for r, c in cols.items() if c})
    _check_event_times(df, cfg, path, labels)
    df.attrs = {}
    return df


def _rename_roles(df: pd.DataFrame, cols: dict, path: str) -> pd.DataFrame:
    """Rename the columns config ``data.columns`` maps to the roles ``participant_id``, ``arm``,
    ``practice``, and make ``participant_id`` and ``practice`` text (the arm is matched by
    :func:`_check_arms`)."""
    ren = {}
    for role in ("participant_id", "arm", "practice"):
        src = cols[role]
        if src is None:
            continue
        if src not in df.columns:
            raise InputError(f"config data.columns.{role} names a column that does not exist",
                             file=path, row=1, column=src,
                             expected="one of the table's columns: " + ", ".join(map(str, df.columns[:40])))
        ren[src] = role
    clash = [r for s, r in ren.items() if r in df.columns and s != r]
    if clash:
        raise InputError("table already has a column named like a role it is mapped to",
                         file=path, row=1, column=clash[0],
                         expected=f"rename or drop the existing '{clash[0]}' column")
    df = df.rename(columns=ren)
    df["participant_id"] = df["participant_id"].astype(str)
    if "practice" in df.columns:
        df["practice"] = df["practice"].astype(str)
    return df


def _check_ids(df: pd.DataFrame, cols: dict, path: str) -> None:
    """One row per participant."""
    dup = df["participant_id"].duplicated(keep=False).to_numpy()
    if dup.any():
        idx = np.flatnonzero(dup)
        raise InputError(f"duplicated participant id (rows {[sheet_row(i) for i in idx[:5]]})",
                         file=path, row=sheet_row(idx[1]), column=cols["participant_id"],
                         value=df["participant_id"].iloc[idx[1]], expected="one row per participant")


def _check_arms(df: pd.DataFrame, arms: dict, cols: dict, path: str, queries) -> None:
    """Every arm label is one of config ``trial.arms`` (a variant in case or blanks is matched
    and queried), and each configured arm is present; the column then holds the labels."""
    labels = [arms["control"], arms["intervention"]]
    matched, variant, unknown = match_labels(df["arm"].to_numpy(dtype=object), labels)
    if unknown.any():
        i = int(np.flatnonzero(unknown)[0])
        raise InputError("arm label not in config trial.arms", file=path, row=sheet_row(i),
                         column=cols["arm"], value=df["arm"].iloc[i],
                         expected="one of " + ", ".join(labels))
    _query_variants(queries, path, df, cols["arm"], df["arm"], variant, matched,
                    "config trial.arms", "matched to arm ")
    df["arm"] = matched
    for role, lab in arms.items():
        if not (matched == lab).any():
            raise InputError(f"the {role} arm label from config is absent from the data", file=path,
                             column=cols["arm"], value=lab,
                             expected="at least one participant in each configured arm")


def _query_variants(queries, path, df, column, raw, mask, matched, what, action) -> None:
    if queries is None or not mask.any():
        return
    idx = np.flatnonzero(mask)
    queries.add(Path(path).name, idx + 2, df["participant_id"].to_numpy(dtype=object)[idx],
                column, raw.to_numpy(dtype=object)[idx], VARIANT_RULE.format(what=what),
                action + pd.Series(matched[idx], dtype=object).map(repr).to_numpy(dtype=object))


def _match_categories(df: pd.DataFrame, cfg: dict, outcome_cols: set, path: str,
                      queries, user_names: dict | None = None) -> None:
    """Text columns the config names (covariates, stratification factors, strata, cluster,
    subgroups): labels equal but for case and blanks are one level, spelled as its most
    frequent form; each other spelling is matched to it and queried."""
    for key, col in config_columns(cfg):
        if col in outcome_cols or col not in df.columns or df[col].dtype != object:
            continue
        spell = canonical_spellings(df[col])
        if not spell:
            continue
        raw = df[col].copy()
        mask = raw.isin(list(spell)).to_numpy()
        matched = raw.map(lambda v: spell.get(v, v)).to_numpy(dtype=object)
        _query_variants(queries, path, df, (user_names or {}).get(col, col), raw, mask, matched,
                        f"another value of the column ({key})", "matched to ")
        df[col] = matched


def _check_event_times(df: pd.DataFrame, cfg: dict, path: str, value_labels: dict) -> None:
    """Each time-to-event outcome: a time >= 0 for every participant, and event codes 0
    (censored), ``event_value`` or ``competing_value``."""
    for o in cfg["outcomes"]["time_to_event"]:
        t = pd.to_numeric(df[o["time"]], errors="coerce")
        badt = (t.isna() | (t < 0)).to_numpy()
        if badt.any():
            i = int(np.flatnonzero(badt)[0])
            raise InputError("time-to-event time missing, not a number or negative", file=path,
                             row=sheet_row(i), column=o["time"], value=df[o["time"]].iloc[i],
                             expected="a time >= 0 for every participant")
        allowed = {0, o["event_value"]} | ({o["competing_value"]} if o["competing_value"] is not None else set())
        e = df[o["event"]]
        bade = ~e.isin(list(allowed)).to_numpy()
        if bade.any():
            i = int(np.flatnonzero(bade)[0])
            raise InputError("event code not allowed", file=path, row=sheet_row(i), column=o["event"],
                             value=e.iloc[i], expected="one of " + ", ".join(map(str, sorted(allowed, key=str)))
                             + " (0 = censored; outcomes.time_to_event.event_value/competing_value)"
                             + _labels_hint(value_labels, o["event"]))


def _labels_hint(value_labels: dict, column: str) -> str:
    labels = value_labels.get(column)
    return f"; the column's value labels: {label_list(labels)}" if labels else ""
