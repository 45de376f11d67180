"""Bring your own analysis table (SPEC §2.2).

A one-row-per-participant table (any supported extension) is read, its mapped
columns renamed to the pipeline's roles (``participant_id``, ``arm``,
``practice``), and checked: the config's columns exist, ids are unique, arm
labels are the configured ones (both present), event codes and times are
valid.  Problems stop the run with the file, spreadsheet row, column, value
and what was expected.  Other columns keep their names.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from rtw.core.config import arm_label
from rtw.core.io import InputError, read_table, sheet_row
from rtw.data.analysis_schema import check_config_columns


def import_analysis_table(path, config: dict) -> pd.DataFrame:
    """Read and check an own analysis table (SPEC §2.2).

    Steps, each stopping the run with an :class:`~rtw.core.io.InputError` on a
    problem: at least one data row; mapped columns renamed to their roles
    (:func:`_rename_roles`); ids unique (:func:`_check_ids`); arm labels
    (:func:`_check_arms`); the config's columns exist
    (:func:`rtw.data.analysis_schema.check_config_columns`); outcome values
    (:func:`_check_outcome_values`); time-to-event times and event codes
    (:func:`_check_event_times`).

    Returns
    -------
    DataFrame
        The table with ``participant_id``, ``arm`` (and ``practice``) as text.
    """
    cfg = config
    path = str(path)
    df = read_table(path, as_text=False)
    if len(df) == 0:
        raise InputError("table has a header but no data rows", file=path, row=2,
                         expected="one row per participant")
    cols = cfg["data"]["columns"]
    df = _rename_roles(df, cols, path)
    _check_ids(df, cols, path)
    _check_arms(df, cfg["trial"]["arms"], cols, path)
    check_config_columns(cfg, df.columns, path)
    _check_outcome_values(df, cfg, path)
    _check_event_times(df, cfg, path)
    return df


def _rename_roles(df: pd.DataFrame, cols: dict, path: str) -> pd.DataFrame:
    """Rename the columns config ``data.columns`` maps to the roles ``participant_id``, ``arm``,
    ``practice``, and make those roles text."""
    ren = {}
    for role in ("participant_id", "arm", "practice"):
        src = cols.get(role)
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
    df["arm"] = df["arm"].map(arm_label, na_action="ignore").astype(object)
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


def _check_arms(df: pd.DataFrame, arms: dict, cols: dict, path: str) -> None:
    """Every arm label is one of config ``trial.arms``, and each configured arm is present."""
    labels = [arms["control"], arms["intervention"]]
    bad = ~df["arm"].isin(labels).to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError("arm label not in config trial.arms", file=path, row=sheet_row(i),
                         column=cols["arm"], value=df["arm"].iloc[i],
                         expected="one of " + ", ".join(labels))
    for role, lab in arms.items():
        if not (df["arm"] == lab).any():
            raise InputError(f"the {role} arm label from config is absent from the data", file=path,
                             column=cols["arm"], value=lab,
                             expected="at least one participant in each configured arm")


def _check_event_times(df: pd.DataFrame, cfg: dict, path: str) -> None:
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
                             + " (0 = censored; outcomes.time_to_event.event_value/competing_value)")


def _bad_value(path, df, col, mask, message, expected):
    i = int(np.flatnonzero(mask)[0])
    raise InputError(f"{message} ({int(mask.sum())} row(s) in this column)", file=path,
                     row=sheet_row(i), column=col, value=df[col].iloc[i], expected=expected)


def _check_outcome_values(df: pd.DataFrame, cfg: dict, path: str) -> None:
    """Outcome columns must hold what their analyses need (missing values are allowed:
    they are the complete-case analyses' business and are counted in the tables)."""
    oc = cfg["outcomes"]
    numeric = []                                    # (column, minimum or None, what)
    if oc["count"]:
        numeric.append((oc["count"]["value"], 0, "a count >= 0"))
        if oc["count"]["baseline"]:
            numeric.append((oc["count"]["baseline"], 0, "a count >= 0"))
    for o in oc["continuous"]:
        numeric.append((o["value"], None, "a number"))
        if o["baseline"]:
            numeric.append((o["baseline"], None, "a number"))
    for o in oc["time_to_event"]:
        for k in ("lower", "upper"):
            if o.get(k):
                numeric.append((o[k], 0, "a time >= 0 (empty upper = right-censored)"))
    for col, lo, what in numeric:
        x = pd.to_numeric(df[col], errors="coerce")
        bad = (df[col].notna() & x.isna()).to_numpy()
        if bad.any():
            _bad_value(path, df, col, bad, "value is not a number", what)
        if lo is not None:
            neg = (x < lo).to_numpy()
            if neg.any():
                _bad_value(path, df, col, neg, "value out of range", what)
    for o in oc["binary"]:
        col = o["value"]
        x = pd.to_numeric(df[col], errors="coerce")
        bad = (df[col].notna() & ~x.isin([0, 1])).to_numpy()
        if bad.any():
            _bad_value(path, df, col, bad, "binary outcome value not 0 or 1",
                       "0, 1 or empty (missing)")
