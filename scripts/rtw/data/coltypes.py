"""Types of the columns an analysis uses, checked before any fit (issue 14, item 2).

Every column the config names for the analysis is checked against the type its analysis
needs, on the table as it is about to be written (a bring-your-own table after its import, or
the analysis table derivation made), so that no fit ever sees a value of the wrong type:

* **covariates**: declared ``{column, type: numeric|categorical, reference}`` or a plain name.
  A declared numeric covariate must hold numbers only; a declared categorical one may hold
  anything (each value a level) and its ``reference`` must be one of its levels.  The type of
  a plain name is inferred and reported in the log: numeric when every value is a number,
  categorical when every value is text; a column that mixes the two (``45y`` among ages)
  stops the run at the first value of the minority kind, since either reading would silently
  change the analysis (a ~50-level factor, or a value dropped);
* **outcomes and their baselines**: a count (and its baseline) a number >= 0, a continuous
  outcome (and its baseline) a number, a binary outcome 0 or 1, interval-censoring bounds a
  time >= 0 (missing values are allowed: they are the complete-case analyses' business);
* **stratification factors, strata, cluster and subgroup columns** are categorical: any value
  is a level; their type is reported in the log.

A problem is one :class:`~rtw.core.io.InputError` line naming the file, the spreadsheet row
(header = row 1; or the participant, for a derived table), the column as the user named it,
the value and what was expected.
"""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from rtw.core.config import arm_label, covariate_declarations, covariate_names
from rtw.core.io import InputError, sheet_row

log = logging.getLogger("rtw.coltypes")

NUMERIC, CATEGORICAL = "numeric", "categorical"


def _is_number(v) -> bool:
    if v is None or isinstance(v, (bool, np.bool_)):
        return False
    if isinstance(v, (int, float, np.integer, np.floating)):
        return bool(np.isfinite(v))
    if isinstance(v, str):
        try:
            return bool(np.isfinite(float(v.strip())))
        except ValueError:
            return False
    return False


def number_mask(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(present, number) masks of a column: a value is a number when it is a finite number
    or text that spells one (``"40"``, ``" 3.5 "``); ``True``/``False``, ``inf`` and ``1e400``
    are not numbers."""
    present = s.notna().to_numpy()
    api = pd.api.types
    if api.is_numeric_dtype(s.dtype) and not api.is_bool_dtype(s.dtype):
        return present, present & np.isfinite(s.to_numpy(dtype=float, na_value=np.nan))
    codes, uniq = pd.factorize(s.to_numpy(dtype=object), use_na_sentinel=True)
    ok = np.array([_is_number(v) for v in uniq] + [False], dtype=bool)
    return present, ok[codes]


def _numbers(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s.map(lambda v: v.strip() if isinstance(v, str) else v),
                         errors="coerce")


class _Where:
    """How a message names a data row: the spreadsheet row of the user's file, or the
    participant of a derived table; and the column as the user named it."""

    def __init__(self, file: str, ids=None, user_names: dict | None = None):
        self.file, self.ids, self.user_names = file, ids, dict(user_names or {})

    def error(self, message, i, column, value=None, expected=None) -> InputError:
        shown = self.user_names.get(column, column)
        if shown != column:
            message += f" (column mapped to {column} by config data.columns.{column})"
        if i is None:
            return InputError(message, file=self.file, column=shown, value=value,
                              expected=expected)
        if self.ids is not None:
            return InputError(f"{message}, participant {self.ids[i]!r}", file=self.file,
                              column=shown, value=value, expected=expected)
        return InputError(message, file=self.file, row=sheet_row(i), column=shown, value=value,
                          expected=expected)


def _first(mask) -> int:
    return int(np.flatnonzero(mask)[0])


def column_roles(config: dict) -> list[tuple[str, str, str]]:
    """(config key, column, role) of every column :func:`check_column_types` checks; role is
    ``covariate``, ``categorical``, ``count``, ``number``, ``binary`` or ``time``."""
    out = [(f"covariates[{i}]", c, "covariate") for i, c in enumerate(covariate_names(config))]
    out += [(f"stratification_factors[{i}]", c, "categorical")
            for i, c in enumerate(config["stratification_factors"])]
    out += [(key, config[key], "categorical") for key in ("strata", "cluster") if config[key]]
    out += [(f"subgroups[{i}].column", sg["column"], "categorical")
            for i, sg in enumerate(config["subgroups"])]
    oc = config["outcomes"]
    if oc["count"]:
        out += [(f"outcomes.count.{k}", oc["count"][k], "count")
                for k in ("value", "baseline") if oc["count"][k]]
    for i, o in enumerate(oc["continuous"]):
        out += [(f"outcomes.continuous[{i}].{k}", o[k], "number")
                for k in ("value", "baseline") if o[k]]
    for i, o in enumerate(oc["binary"]):
        out.append((f"outcomes.binary[{i}].value", o["value"], "binary"))
    for i, o in enumerate(oc["time_to_event"]):
        out += [(f"outcomes.time_to_event[{i}].{k}", o[k], "time")
                for k in ("lower", "upper") if o.get(k)]
    return out


_OUTCOME_EXPECTED = {"count": "a count >= 0", "number": "a number",
                     "time": "a time >= 0 (empty upper = right-censored)"}


def check_column_types(df: pd.DataFrame, config: dict, file: str, *, ids=None,
                       user_names: dict | None = None) -> dict:
    """Check every column the analysis uses against its declared or inferred type.

    Parameters
    ----------
    df : DataFrame
        The analysis table as it will be written (roles renamed).
    config : dict
        The normalised config.
    file : str
        The table, for messages (the user's file, or ``results/data/analysis.parquet``).
    ids : array-like, optional
        Participant ids of a derived table: messages name the participant, not a row.
    user_names : dict, optional
        ``{role: user's column name}`` (config ``data.columns``) for messages.

    Returns
    -------
    dict
        ``{column: "numeric" | "categorical"}`` of every column checked (first use wins).

    Raises
    ------
    rtw.core.io.InputError
        One line: file, row (or participant), column, value and what was expected.
    """
    where = _Where(file, ids, user_names)
    declared = covariate_declarations(config)
    types: dict = {}
    for key, col, role in column_roles(config):
        if col not in df.columns:
            continue
        s = df[col]
        if role == "covariate":
            kind = _covariate(s, key, col, declared.get(col), where)
        elif role == "categorical":
            kind = CATEGORICAL
            log.info("type check: %s %r: categorical (%d levels)", key, col,
                     s.dropna().nunique())
        else:
            _outcome(s, key, col, role, where)
            kind = NUMERIC
        types.setdefault(col, kind)
    return types


def _covariate(s: pd.Series, key: str, col: str, decl: dict | None, where: _Where) -> str:
    present, number = number_mask(s)
    text = present & ~number
    n, n_num = int(present.sum()), int(number.sum())
    if decl is not None and decl["type"] == NUMERIC:
        if text.any():
            i = _first(text)
            raise where.error(f"value is not a number in numeric covariate ({int(text.sum())} "
                              f"row(s) in this column; config {key} declares type: numeric)",
                              i, col, s.iloc[i], "a number or empty (missing)")
        log.info("type check: %s %r: numeric (declared), %d values", key, col, n)
        return NUMERIC
    if decl is not None:
        lv = _levels(s)
        ref = decl["reference"]
        if ref is not None and not any(arm_label(x) == arm_label(ref) for x in lv):
            raise where.error(f"reference level of categorical covariate is not a value of the "
                              f"column (config {key}.reference)", None, col, ref,
                              "one of the column's levels: " + _show_levels(lv))
        log.info("type check: %s %r: categorical (declared), %d levels, reference %r%s", key,
                 col, len(lv), ref if ref is not None else (lv[0] if lv else None),
                 "" if ref is not None else " (first in sort order)")
        return CATEGORICAL
    if n == 0:
        log.info("type check: %s %r: no values (type not inferred)", key, col)
        return NUMERIC if pd.api.types.is_numeric_dtype(s.dtype) else CATEGORICAL
    declare = f"or declare it in config {key}: {{column: {col}, type: categorical}}"
    if n_num == n:
        log.info("type check: %s %r: numeric (inferred: all %d values are numbers; declare "
                 "{column: %s, type: categorical} to treat it as levels)", key, col, n, col)
        return NUMERIC
    if n_num == 0:
        lv = _levels(s)
        log.info("type check: %s %r: categorical (inferred: every value is text), %d levels, "
                 "reference %r (first in sort order)", key, col, len(lv), lv[0])
        return CATEGORICAL
    if n_num * 2 >= n:
        i = _first(text)
        raise where.error(f"value is not a number in a numeric covariate ({n_num} of {n} "
                          "values in this column are numbers)", i, col, s.iloc[i],
                          f"a number or empty (missing), {declare}")
    i = _first(number)
    raise where.error(f"number in a categorical (text) covariate ({n - n_num} of {n} values "
                      "in this column are text)", i, col, s.iloc[i],
                      f"a text label like the column's other values, {declare}")


def _levels(s: pd.Series) -> list:
    from rtw.core.modelframe import levels
    return levels(s)


def _show_levels(lv: list, most: int = 12) -> str:
    shown = ", ".join(repr(x) for x in lv[:most])
    return shown + (", ..." if len(lv) > most else "") if lv else "(none: the column is empty)"


def _outcome(s: pd.Series, key: str, col: str, role: str, where: _Where) -> None:
    present, number = number_mask(s)
    if role == "binary":
        x = _numbers(s)
        bad = present & ~x.isin([0, 1]).to_numpy()
        if bad.any():
            _raise(where, s, col, bad, "binary outcome value not 0 or 1", "0, 1 or empty (missing)")
        return
    bad = present & ~number
    if bad.any():
        _raise(where, s, col, bad, "value is not a number", _OUTCOME_EXPECTED[role])
    if role in ("count", "time"):
        with np.errstate(invalid="ignore"):
            neg = (_numbers(s) < 0).to_numpy()
        if neg.any():
            _raise(where, s, col, neg, "value out of range", _OUTCOME_EXPECTED[role])


def _raise(where: _Where, s, col, mask, message, expected):
    i = _first(mask)
    raise where.error(f"{message} ({int(mask.sum())} row(s) in this column)", i, col, s.iloc[i],
                      expected)
