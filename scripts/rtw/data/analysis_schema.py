"""The analysis dataset's contract: ``workflow/schemas/analysis.schema.yaml``.

Two checks, both pure (a table or its header, the schema and the config; no
Snakemake), run by the rules that write ``results/data/analysis.parquet``
before anything is written:

* :func:`validate_analysis` checks a table against the schema.  A derived table
  (raw or synthetic source) must have exactly the schema's columns, each of its
  type, nullability, allowed values and range; a failure is a bug in
  derivation and the message says so, naming the participant.  An imported
  (bring-your-own) table must have the schema's ``required`` columns, and its
  ``x-imported`` columns are checked; the message names the user's file, the
  spreadsheet row (header = row 1) and the user's column name.
* :func:`check_config_columns` checks that every column the config names for
  the analysis (:func:`config_columns`) is in the table, from its column names
  only, so that a dry run can call it with a table's header, or with
  :func:`derived_columns` for a raw source.

Every failure is one line: the table, the column, the first offending row (or
participant), the value found and what was expected.  The schema's keywords
beyond JSON Schema are described in the schema file itself.  This module does
not import pandas at import time (a dry run calls :func:`check_config_columns`
while the workflow is parsed).
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from rtw.core.config import ConfigError

SCHEMA = Path(__file__).resolve().parents[3] / "workflow" / "schemas" / "analysis.schema.yaml"
SCHEMA_NAME = "workflow/schemas/analysis.schema.yaml"
TIMEPOINT = "{timepoint}"
_TYPE_WORDS = {"string": "text", "integer": "a whole number", "number": "a number",
               "boolean": "true or false"}


def load_analysis_schema(path=None) -> dict:
    """The analysis schema (``workflow/schemas/analysis.schema.yaml`` unless ``path``, a file
    or the schema folder)."""
    import yaml
    path = Path(path) if path is not None else SCHEMA
    if path.is_dir():
        path = path / "analysis.schema.yaml"
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _config_value(config: dict, dotted: str):
    """The config value at a dotted key (``trial.followup_days``); None when absent."""
    node = config
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def column_specs(schema: dict, config: dict) -> dict:
    """The schema's columns of a derived table, in schema order, with each name holding
    ``{timepoint}`` expanded to one column per config ``trial.timepoints`` label."""
    timepoints = list(_config_value(config, "trial.timepoints") or [])
    specs = {}
    for name, spec in schema.get("properties", {}).items():
        if TIMEPOINT in name:
            for tp in timepoints:
                specs[name.replace(TIMEPOINT, str(tp))] = spec
        else:
            specs[name] = spec
    return specs


def derived_columns(schema: dict, config: dict) -> list[str]:
    """The columns derivation writes for ``config`` (raw or synthetic source)."""
    return list(column_specs(schema, config))


def config_columns(config: dict) -> list[tuple[str, str]]:
    """Every column the (normalised) config names for the analysis, as (config key, column).

    Keys are dotted paths as the config is written (list items by position):
    ``outcomes.count.value``, ``covariates[1]``, ``outcomes.time_to_event[0].time``,
    ``subgroups[2].column`` (as rtw.core.validation names keys).
    """
    from rtw.core.config import covariate_names
    need = [(f"covariates[{i}]", c) for i, c in enumerate(covariate_names(config))]
    need += [(f"stratification_factors[{i}]", c)
             for i, c in enumerate(config["stratification_factors"])]
    need += [(key, config[key]) for key in ("strata", "cluster") if config[key]]
    oc = config["outcomes"]
    for i, o in enumerate(oc["time_to_event"]):
        need += [(f"outcomes.time_to_event[{i}].{k}", o[k])
                 for k in ("time", "event", "lower", "upper") if o[k]]
    if oc["count"]:
        need += [(f"outcomes.count.{k}", oc["count"][k])
                 for k in ("value", "baseline") if oc["count"][k]]
    for kind in ("continuous", "binary"):
        for i, o in enumerate(oc[kind]):
            need += [(f"outcomes.{kind}[{i}].{k}", o[k]) for k in ("value", "baseline") if o[k]]
    need += [(f"subgroups[{i}].column", sg["column"]) for i, sg in enumerate(config["subgroups"])]
    return need


def check_config_columns(config: dict, columns, where: str, source: str = "config") -> None:
    """Every column the config names (:func:`config_columns`) is one of ``columns``.

    Parameters
    ----------
    config : dict
        The normalised config.
    columns : iterable of str
        The analysis table's column names (a header, or :func:`derived_columns`).
    where : str
        The table, for the message (``results/data/analysis.parquet`` or the user's file).
    source : str
        How the config is named (``config my.yaml``).

    Raises
    ------
    ConfigError
        ``config: outcomes.count.value: column 'days_off_6mo' is not in the analysis
        table results/data/analysis.parquet (did you mean 'days_off_6m'?)``.
    """
    have = [str(c) for c in columns]
    present = set(have)
    for key, col in config_columns(config):
        if col in present:
            continue
        close = difflib.get_close_matches(str(col), have, n=1, cutoff=0.6)
        hint = f" (did you mean '{close[0]}'?)" if close else \
            f" (its columns: {', '.join(have[:12])}{', ...' if len(have) > 12 else ''})"
        raise ConfigError(f"{source}: {key}: column '{col}' is not in the analysis table "
                          f"{where}{hint}")


@dataclass
class _Table:
    """What a failure message needs: the table's name, whether it is derived, its participant
    ids (derived) and the user's name of each renamed role column (imported)."""
    name: str
    derived: bool
    ids: object = None
    user_names: dict = None

    def fail(self, i, column, problem, value=None, expected=None):
        """An :class:`~rtw.core.io.InputError` for data row ``i`` (0-based; None: the header)."""
        from rtw.core.io import InputError, sheet_row
        if hasattr(value, "item") and not isinstance(value, (str, bytes)):
            value = value.item()
        if not self.derived:
            shown = (self.user_names or {}).get(column, column)
            if shown != column:
                problem += f" (column mapped to {column} by config data.columns.{column})"
            return InputError(problem, file=self.name, row=1 if i is None else sheet_row(i),
                              column=shown, value=value, expected=expected)
        pid = None if i is None or self.ids is None else self.ids[i]
        who = "" if i is None else (f", participant {pid!r}" if isinstance(pid, str) and pid
                                    else f", data row {i + 1} (no participant id)")
        detail = ("" if value is None else f" Found {value!r}.") + \
            ("" if expected is None else f" Expected {expected}.")
        e = InputError(f"{self.name}{who}, column '{column}': {problem}.{detail} This is a bug in "
                       f"derivation (rtw.data.derivation), not in the data: the derived table "
                       f"must match {SCHEMA_NAME}")
        e.file, e.column, e.value, e.expected, e.participant = self.name, column, value, expected, pid
        return e


def validate_analysis(df, schema: dict, config: dict, *, table: str, derived: bool) -> None:
    """Check the analysis table ``df`` against the analysis schema.

    Parameters
    ----------
    df : DataFrame
        The analysis table as it is about to be written (before blinding: arm labels
        are those of config ``trial.arms``).
    schema : dict
        :func:`load_analysis_schema`.
    config : dict
        The normalised config (``trial.arms``, ``trial.timepoints``, ``trial.followup_days``,
        ``derivation.score_ranges``, ``derivation.days_off.cap_days``, ``data.columns``).
    table : str
        The table's name in messages: ``results/data/analysis.parquet`` (derived) or the
        user's file (imported).
    derived : bool
        True for derivation's output (exactly the schema's columns; a failure is a bug in
        derivation), False for an imported table (the ``required`` columns; the
        ``x-imported`` columns checked).

    Raises
    ------
    rtw.core.io.InputError
        One line: the table, the column, the first offending participant (derived) or
        spreadsheet row (imported), the value and what was expected.
    """
    specs = column_specs(schema, config)
    ids = df["participant_id"].to_numpy(dtype=object) if "participant_id" in df.columns else None
    roles = (_config_value(config, "data.columns") or {}) if not derived else {}
    t = _Table(table, derived, ids, {r: c for r, c in roles.items() if c})
    _check_column_set(df, schema, specs, t)
    checked = specs if derived else {c: specs[c] for c in schema.get("x-imported", [])
                                     if c in df.columns}
    for col, spec in checked.items():
        _check_column(df[col], col, spec, config, t)
    for col in schema.get("x-unique", []):
        if col in checked:
            _check_unique(df[col], col, t)


def _check_column_set(df, schema: dict, specs: dict, t: _Table) -> None:
    """Derived: exactly the schema's columns.  Imported: the ``required`` ones."""
    have = [str(c) for c in df.columns]
    if not t.derived:
        for col in schema.get("required", []):
            if col not in have:
                raise t.fail(None, col, "required column missing from the analysis table",
                             expected="columns " + ", ".join(schema["required"])
                             + " (config data.columns maps your column names to them)")
        return
    for col in specs:
        if col not in have:
            raise t.fail(None, col, "column described in the schema is missing")
    for col in have:
        if col not in specs:
            raise t.fail(None, col, "column written by derivation has no entry in the schema")


def _types(spec: dict) -> list:
    types = spec.get("type", "string")
    return types if isinstance(types, list) else [types]


def _first(mask) -> int:
    import numpy as np
    return int(np.flatnonzero(mask)[0])


def _check_column(s, col: str, spec: dict, config: dict, t: _Table) -> None:
    """Nullability, type, then allowed values, pattern, date format and range of one column."""
    import numpy as np
    types = _types(spec)
    na = s.isna().to_numpy()
    if "null" not in types and na.any():
        raise t.fail(_first(na), col, f"empty value ({int(na.sum())} row(s) in this column)",
                     value="", expected="a value in every row")
    kinds = [k for k in types if k != "null"]
    bad = ~na
    for kind in kinds:
        bad = bad & _type_bad(s, kind)
    if bad.any():
        what = " or ".join(_TYPE_WORDS.get(k, k) for k in kinds)
        raise t.fail(_first(bad), col, f"value of the wrong type ({int(bad.sum())} row(s))",
                     value=s.iloc[_first(bad)],
                     expected=what + (" or empty" if "null" in types else ""))
    for mask, expected in _value_problems(s, ~na, spec, config):
        mask = np.asarray(mask, bool)
        if mask.any():
            raise t.fail(_first(mask), col, f"value not allowed ({int(mask.sum())} row(s))",
                         value=s.iloc[_first(mask)], expected=expected)


def _type_bad(s, kind: str):
    """Mask of values (missing ones included, the caller masks them) not of JSON type ``kind``.

    A fast path by dtype answers without looking at each value; an object column
    holding other values is checked value by value.
    """
    import numpy as np
    import pandas as pd
    api = pd.api.types
    dtype = s.dtype
    if kind == "boolean":
        if api.is_bool_dtype(dtype):
            return np.zeros(len(s), bool)
        ok = lambda v: isinstance(v, (bool, np.bool_))  # noqa: E731
    elif kind in ("integer", "number"):
        if api.is_numeric_dtype(dtype) and not api.is_bool_dtype(dtype):
            if kind == "integer" and api.is_float_dtype(dtype):
                v = s.to_numpy(dtype=float)
                with np.errstate(invalid="ignore"):
                    return ~np.isnan(v) & (np.mod(v, 1) != 0)
            return np.zeros(len(s), bool)
        numeric = (int, float, np.integer, np.floating)
        ok = (lambda v: isinstance(v, numeric) and not isinstance(v, (bool, np.bool_))
              and (kind == "number" or float(v).is_integer()))
    elif kind == "string":
        if api.is_string_dtype(dtype) and api.infer_dtype(s, skipna=True) in ("string", "empty"):
            return np.zeros(len(s), bool)
        ok = lambda v: isinstance(v, str)  # noqa: E731
    else:
        raise ValueError(f"{SCHEMA_NAME}: unknown column type {kind!r}")
    return ~s.map(lambda v: v is None or v != v or ok(v)).to_numpy(dtype=bool)


def _value_problems(s, present, spec: dict, config: dict):
    """(mask of offending values, what was expected) for each value rule of ``spec``."""
    import pandas as pd
    if "enum" in spec:
        allowed = [e for e in spec["enum"] if e is not None]
        yield present & ~s.isin(allowed).to_numpy(), "one of " + ", ".join(map(str, allowed))
    if "x-values-from-config" in spec:
        key = spec["x-values-from-config"]
        block = _config_value(config, key) or {}
        allowed = list(block.values()) if isinstance(block, dict) else list(block)
        yield (present & ~s.isin(allowed).to_numpy(),
               "one of " + ", ".join(map(str, allowed)) + f" (config {key})")
    if "pattern" in spec:
        pattern = re.compile(spec["pattern"])
        yield (present & _per_distinct(s, lambda v: pattern.search(str(v)) is None),
               f"text matching {spec['pattern']}")
    if spec.get("format") == "date" and not pd.api.types.is_datetime64_any_dtype(s.dtype):
        yield present & _per_distinct(s, _not_iso_date), "a date as YYYY-MM-DD"
    lo, hi, whence = _bounds(spec, config)
    if lo is not None or hi is not None:
        import numpy as np
        v = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            out = ((v < lo) if lo is not None else False) | ((v > hi) if hi is not None else False)
        yield present & out, _range_words(lo, hi) + whence


def _per_distinct(s, bad_value):
    """Mask of the values of ``s`` for which ``bad_value(value)`` is true, calling it once per
    distinct value (a million rows hold a few hundred dates); missing values are not bad."""
    import numpy as np
    import pandas as pd
    codes, uniq = pd.factorize(s.to_numpy(dtype=object), use_na_sentinel=True)
    bad = np.array([bool(bad_value(v)) for v in uniq] + [False], dtype=bool)
    return bad[codes]            # code -1 (missing) picks the trailing False


def _not_iso_date(value) -> bool:
    import datetime
    try:
        datetime.date.fromisoformat(str(value))
    except ValueError:
        return True
    return not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(value))


def _bounds(spec: dict, config: dict):
    """(minimum, maximum, where they come from) of a column; None where unbounded."""
    lo, hi, whence = spec.get("minimum"), spec.get("maximum"), ""
    key = spec.get("x-range-from-config")
    if key is not None:
        ranges = _config_value(config, "derivation.score_ranges") or {}
        if key in ranges:
            lo, hi = ranges[key]
            whence = f" (config derivation.score_ranges.{key})"
    key = spec.get("x-maximum-from-config")
    if key is not None and _config_value(config, key) is not None:
        hi, whence = float(_config_value(config, key)), f" (config {key})"
    return lo, hi, whence


def _range_words(lo, hi) -> str:
    if lo is not None and hi is not None:
        return f"a value from {lo:g} to {hi:g}"
    return f"a value >= {lo:g}" if lo is not None else f"a value <= {hi:g}"


def _check_unique(s, col: str, t: _Table) -> None:
    dup = s.duplicated(keep=False).to_numpy()
    if dup.any():
        import numpy as np
        idx = np.flatnonzero(dup)
        second = int(idx[(s.iloc[idx] == s.iloc[idx[0]]).to_numpy()][1])
        raise t.fail(second, col, f"duplicated {col}", value=s.iloc[second],
                     expected=f"each {col} once (one row per participant)")
