"""Cleaning raw exports (SPEC §2.1): accept what can be interpreted, query the rest.

Each raw table is checked against its schema in ``workflow/schemas/raw_<table>.schema.yaml``:
required columns, types, allowed values and ranges.  Two outcomes for a bad value:

* a **structural** problem (missing table or column, duplicated participant id
  in baseline, unknown arm label, a participant in another table who was never
  randomised, an unparseable randomisation date, ...) raises
  :class:`rtw.core.io.InputError`, naming the file, spreadsheet row, column, value
  and what was expected;
* an **interpretable** problem (free text "3 days", a late or duplicated SMS
  reply, an out-of-range score) becomes a row of the data-queries table
  (table, row, participant, column, value, rule, action) and the value is kept,
  interpreted or set missing as the action says.  Nothing is changed silently.

The schema's custom keywords: ``x-invalid: error|query`` (what an unparseable
or out-of-range value does; default ``error``), ``x-not-null`` (columns that may
not be empty), ``x-unique``, ``x-min-rows``, ``x-range-from-config`` (range from
config ``derivation.score_ranges``), ``x-foreign-key``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from rtw.core.io import (InputError, ReadOptions, find_table, read_options, read_table,
                         sheet_row)
from rtw.data.labels import VARIANT_RULE, apply_category_labels, arm_values, match_labels

QUERY_COLUMNS = ["table", "row", "participant", "column", "value", "rule", "action"]
RAW_TABLES = ("screening", "baseline", "sms", "followup", "intervention", "withdrawals")
_NUMBER_WORDS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                 "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
                 "thirteen": 13, "fourteen": 14}


def _value_text(values: np.ndarray) -> np.ndarray:
    """Values as query text: "" for missing (None/NaN), else ``str(value)``."""
    v = pd.Series(values, dtype=object)
    missing = v.isna().to_numpy()
    out = np.full(len(v), "", dtype=object)
    if (~missing).any():
        out[~missing] = v[~missing].astype(str).to_numpy(dtype=object)
    return out


@dataclass
class Queries:
    """Accumulates data queries; :meth:`frame` gives them in a stable order.

    Queries are kept as column blocks (one per :meth:`add`), so that logging
    millions of them (a registry-sized trial) costs no per-row Python work.
    """
    parts: list = field(default_factory=list)

    def add(self, table, rows, participants, column, values, rule, action):
        """Log queries for ``rows`` (scalars or arrays; ``action`` may be per row)."""
        rows = np.atleast_1d(np.asarray(rows)).astype(np.int64)
        n = len(rows)
        if n == 0:
            return
        participants = np.atleast_1d(np.asarray(participants, dtype=object))
        values = np.atleast_1d(np.asarray(values, dtype=object))
        action = (np.full(n, action, dtype=object) if isinstance(action, str)
                  else np.atleast_1d(np.asarray(action, dtype=object)))
        self.parts.append(pd.DataFrame({
            "table": np.full(n, table, dtype=object), "row": rows,
            "participant": participants, "column": np.full(n, column, dtype=object),
            "value": _value_text(values), "rule": np.full(n, rule, dtype=object),
            "action": action}, columns=QUERY_COLUMNS))

    @property
    def rows(self) -> list:
        return self.frame().to_dict("records")

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            df = pd.DataFrame(columns=QUERY_COLUMNS)
        else:
            df = pd.concat(self.parts, ignore_index=True)
        return df.sort_values(["table", "row", "column", "rule"], kind="mergesort").reset_index(drop=True)


def load_schema(schema_dir, table: str) -> dict:
    with open(Path(schema_dir) / f"raw_{table}.schema.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _types(spec) -> list:
    t = spec.get("type", "string")
    return t if isinstance(t, list) else [t]


def _first_bad(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _parse_dates(s: pd.Series, date_format: str | None = None) -> pd.Series:
    """Dates written as ``date_format`` (config ``data.csv.date_format``, e.g. ``%d/%m/%Y``)
    or ISO (YYYY-MM-DD, always accepted); anything else -> NaT (the caller decides
    error/query)."""
    if pd.api.types.is_datetime64_any_dtype(s):
        return s.dt.normalize()
    txt = s.astype("string")
    out = pd.to_datetime(txt, format="%Y-%m-%d", errors="coerce")
    if date_format:
        other = pd.to_datetime(txt, format=date_format, errors="coerce")
        out = other.where(other.notna(), out)
    return out


def check_structure(df: pd.DataFrame, table: str, file: str, schema: dict) -> None:
    """Required columns present, minimum rows, not-null and unique columns."""
    missing = [c for c in schema.get("required", []) if c not in df.columns]
    if missing:
        raise InputError(f"required column(s) {missing} missing from table '{table}'",
                         file=file, row=1, column=missing[0],
                         expected="header with columns " + ", ".join(schema["required"]))
    if len(df) < schema.get("x-min-rows", 0):
        raise InputError(f"table '{table}' has a header but no data rows", file=file, row=2,
                         expected=f"at least {schema['x-min-rows']} data row(s)")
    for col in schema.get("x-not-null", []):
        na = df[col].isna().to_numpy()
        if na.any():
            i = _first_bad(na)
            raise InputError(f"empty value in required column ({int(na.sum())} row(s))",
                             file=file, row=sheet_row(i), column=col, value="",
                             expected="a value in every row")
    for col in schema.get("x-unique", []):
        dup = df[col].duplicated(keep=False).to_numpy()
        if dup.any():
            i = _first_bad(dup)
            v = df[col].iloc[i]
            rows = [sheet_row(j) for j in np.flatnonzero((df[col] == v).to_numpy())]
            raise InputError(f"duplicated {col} (rows {rows})", file=file, row=rows[1],
                             column=col, value=v, expected=f"each {col} once")


def check_columns(df: pd.DataFrame, table: str, file: str, schema: dict, queries: Queries,
                  score_ranges: dict, id_col: str = "participant_id",
                  options: ReadOptions | None = None) -> pd.DataFrame:
    """Parse each schema column to its type; bad values raise or become queries.

    Returns a new frame with parsed columns (numbers as float, dates as datetime64,
    strings stripped).  Columns not in the schema are kept as they are.  A value of an
    ``enum`` column that differs from an allowed one only in case or surrounding blanks is
    matched to it and queried (:func:`rtw.data.labels.match_labels`; blanks are kept in these
    columns when read, see :func:`_read_tables`); dates are read as ``options.date_format``
    says (or ISO).
    """
    out = df.copy()
    pids = out[id_col].to_numpy(dtype=object) if id_col in df.columns else np.full(len(df), None)
    date_format = options.date_format if options is not None else None
    for col, spec in schema.get("properties", {}).items():
        if col not in df.columns:
            continue
        how = spec.get("x-invalid", "error")
        parsed, bad, expected = _parse_column(out[col], spec, date_format)
        if bad.any():
            _handle(how, table, file, col, out, bad, pids, queries,
                    rule=f"not parseable as {expected}", expected=expected)
            parsed = parsed.where(~bad, None if parsed.dtype == object else np.nan)
        if spec.get("enum") is not None:
            parsed = _check_enum(df[col], parsed, spec, (table, file, col, how), pids, queries)
        lo, hi = spec.get("minimum"), spec.get("maximum")
        if spec.get("x-range-from-config") in score_ranges:
            lo, hi = score_ranges[spec["x-range-from-config"]]
        if lo is not None or hi is not None:
            v = parsed.to_numpy(dtype=float)
            with np.errstate(invalid="ignore"):
                outside = ~np.isnan(v) & (((v < lo) if lo is not None else False) |
                                          ((v > hi) if hi is not None else False))
            if outside.any():
                _handle(how, table, file, col, out, outside, pids, queries,
                        rule=f"outside range [{lo}, {hi}]", expected=f"a value from {lo} to {hi}")
                parsed = parsed.where(~outside, np.nan)
        out[col] = parsed
    return out


def _check_enum(raw: pd.Series, parsed: pd.Series, spec: dict, where: tuple, pids,
                queries: Queries) -> pd.Series:
    """An ``enum`` column: variants of an allowed value (case, blanks) matched and queried;
    other values outside the list raise or are queried as the schema's ``x-invalid`` says."""
    table, file, col, how = where
    allowed = [e for e in spec["enum"] if e is not None]
    present = parsed.notna().to_numpy()
    matched, variant, unknown = match_labels(raw.where(present, None).to_numpy(dtype=object),
                                             allowed, canon=lambda v: str(v).strip())
    if variant.any():
        idx = np.flatnonzero(variant)
        queries.add(table, idx + 2, pids[idx], col, raw.to_numpy(dtype=object)[idx],
                    VARIANT_RULE.format(what=f"one of {allowed}"),
                    "matched to " + pd.Series(matched[idx], dtype=object).map(repr).to_numpy(dtype=object))
    parsed = pd.Series(np.where(unknown, parsed.to_numpy(dtype=object), matched),
                       index=parsed.index, dtype=object)
    if unknown.any():
        _handle(how, table, file, col, pd.DataFrame({col: parsed}), unknown, pids, queries,
                rule=f"not one of {allowed}", expected="one of " + ", ".join(map(str, allowed)))
        parsed = parsed.where(~unknown, None)
    return parsed


def _parse_column(raw: pd.Series, spec: dict, date_format: str | None = None
                  ) -> tuple[pd.Series, np.ndarray, str]:
    """Parse one column to its schema type (date, integer/number as float, or text).

    Returns the parsed series (unparseable values still in it), the mask of
    present values that could not be parsed, and the expected form (for messages).
    """
    types = _types(spec)
    present = raw.notna().to_numpy()
    if spec.get("format") == "date":
        parsed = _parse_dates(raw, date_format)
        bad = present & parsed.isna().to_numpy()
        expected = (f"a date as {date_format} or YYYY-MM-DD" if date_format
                    else "a date as YYYY-MM-DD")
    elif "integer" in types or "number" in types:
        parsed = pd.to_numeric(raw, errors="coerce").astype(float)
        bad = present & parsed.isna().to_numpy()
        if "integer" in types:
            frac = present & ~bad & (np.mod(parsed.fillna(0).to_numpy(), 1) != 0)
            bad = bad | frac
        expected = "an integer" if "integer" in types else "a number"
    else:
        parsed = raw.astype(object).where(raw.notna(), None)
        if pd.api.types.infer_dtype(parsed, skipna=True) not in ("string", "empty"):
            parsed = parsed.map(lambda v: v if v is None else str(v))
        bad = np.zeros(len(raw), bool)
        expected = "text"
    return parsed, bad, expected


def _handle(how, table, file, col, df, mask, pids, queries, rule, expected):
    idx = np.flatnonzero(mask)
    if how == "query":
        queries.add(table, idx + 2, pids[idx], col,   # idx + 2 = sheet_row(idx)
                    df[col].to_numpy(dtype=object)[idx], rule, "set to missing")
        return
    i = idx[0]
    raise InputError(f"invalid value ({len(idx)} row(s) in this column)", file=file,
                     row=sheet_row(i), column=col, value=df[col].iloc[i], expected=expected)


def parse_days_off(values: pd.Series, free_text_zero) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Interpret SMS days-off replies.

    Returns the numeric series, a mask of free-text values that were interpreted
    (to be logged), and a mask of values that could not be interpreted.
    Accepted: integers; ``"none"``-like words (config ``derivation.free_text_zero``);
    ``"<n> day(s)"``, ``"<n>d"``, number words (``"three days"``).
    """
    zero = {z.lower() for z in free_text_zero}
    # each distinct value is interpreted once (a registry trial has 10^7 replies
    # but a few dozen distinct texts), then mapped back to the rows
    codes, uniq = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=True)
    uniq = np.asarray(uniq, dtype=object)
    num = np.full(len(uniq), np.nan)
    interpreted = np.zeros(len(uniq), bool)
    bad = np.zeros(len(uniq), bool)
    pat = re.compile(r"^\s*(\d+|" + "|".join(_NUMBER_WORDS) + r")\s*(d|day|days)?\.?\s*$", re.I)
    for i, v in enumerate(uniq):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            continue
        s = str(v).strip()
        try:
            f = float(s)
            if f == int(f):
                num[i] = f
                continue
            bad[i] = True
            continue
        except ValueError:
            pass
        low = s.lower()
        if low in zero:
            num[i], interpreted[i] = 0, True
            continue
        m = pat.match(low)
        if m:
            tok = m.group(1).lower()
            num[i] = float(_NUMBER_WORDS.get(tok, tok))
            interpreted[i] = True
            continue
        bad[i] = True
    seen = codes >= 0
    num_rows = np.full(len(codes), np.nan)
    num_rows[seen] = num[codes[seen]]
    interp_rows = np.zeros(len(codes), bool)
    interp_rows[seen] = interpreted[codes[seen]]
    bad_rows = np.zeros(len(codes), bool)
    bad_rows[seen] = bad[codes[seen]]
    return pd.Series(num_rows, index=values.index), interp_rows, bad_rows


def clean_tables(raw_dir, config: dict, schema_dir) -> tuple[dict, pd.DataFrame]:
    """Read, check and clean all raw tables.

    Parameters
    ----------
    raw_dir : path-like
        Folder holding one file per table (any supported extension).
    config : dict
        The resolved config (arms, SMS schedule, derivation rules).
    schema_dir : path-like
        ``workflow/schemas``.

    Returns
    -------
    (tables, queries)
        Cleaned tables (dict of DataFrames keyed by table name, each with a
        ``source_row`` column giving the spreadsheet row) and the queries table.

    Raises
    ------
    InputError
        On any structural problem (see module docstring).
    """
    q = Queries()
    ranges = {k: tuple(v) for k, v in config["derivation"]["score_ranges"].items()}
    arms = config["trial"]["arms"]
    tables, files = _read_tables(raw_dir, schema_dir, q, ranges, config)
    baseline = tables["baseline"]
    _check_arms(baseline, files["baseline"], arms, q)
    # participant -> randomisation date (a Series: .map() by hash index, no 10^6-entry dict)
    rand_date = pd.Series(baseline["randomisation_date"].to_numpy(),
                          index=baseline["participant_id"].to_numpy())
    randomised = set(baseline["participant_id"])
    _check_foreign_keys(tables, files, randomised)
    _check_screening(tables, files["screening"], randomised, q)
    tables["sms"] = _clean_sms(tables["sms"], rand_date, config, q)
    tables["followup"] = _clean_followup(tables["followup"], files["followup"], rand_date, config, q)
    _check_withdrawals(tables["withdrawals"], files["withdrawals"], rand_date, q)
    _query_control_arm_intervention(tables, arms, q)
    return tables, q.frame()


def _read_tables(raw_dir, schema_dir, q: Queries, ranges: dict, config: dict
                 ) -> tuple[dict, dict]:
    """Read every raw table (as config ``data`` says: :func:`rtw.core.io.read_options`), apply
    value labels (:func:`_apply_value_labels`), check its structure and parse its columns
    (:func:`check_columns`).

    Text is read without surrounding blanks, except in the columns with a list of values
    (``enum``) and the arm, where a label written with blanks is queried
    (:func:`check_columns`, :func:`_check_arms`).  Returns the tables (each with a
    ``source_row`` column, the spreadsheet row) and their file names, keyed by table name.
    """
    options = read_options(config["data"])
    tables, files = {}, {}
    for t in RAW_TABLES:
        path = find_table(raw_dir, t)
        files[t] = str(path)
        schema = load_schema(schema_dir, t)
        labels = [c for c, spec in schema.get("properties", {}).items() if "enum" in spec]
        raw = read_table(path, options=options, keep_blanks=labels + ["arm"])
        raw = _apply_value_labels(raw, schema, files[t], config["trial"]["arms"])
        check_structure(raw, t, files[t], schema)
        df = check_columns(raw, t, files[t], schema, q, ranges,
                           id_col="participant_id" if t != "screening" else "screening_id",
                           options=options)
        if t == "baseline":
            df["arm"] = raw["arm"]
        df.insert(0, "source_row", np.arange(len(df)) + 2)
        tables[t] = df
    return tables, files


def _apply_value_labels(df: pd.DataFrame, schema: dict, file: str, arms: dict) -> pd.DataFrame:
    """Stata/SPSS/SAS value labels: a column the schema types as text takes its labels
    (:func:`rtw.data.labels.apply_category_labels`); the arm column holds what config
    ``trial.arms`` names, code or label (:func:`rtw.data.labels.arm_values`)."""
    labels = df.attrs["value_labels"]
    if not labels:
        return df
    numeric = {c for c, spec in schema.get("properties", {}).items()
               if spec.get("format") == "date" or {"integer", "number"} & set(_types(spec))}
    out = apply_category_labels(df, labels, numeric | {"arm"}, file)
    if "arm" in labels and "arm" in out.columns:
        out["arm"] = arm_values(out["arm"], labels["arm"], arms, file, "arm")
    return out


def _check_arms(baseline: pd.DataFrame, file: str, arms: dict, q: Queries) -> None:
    """Every baseline arm label is one of config ``trial.arms`` (matched by value: ``1``,
    ``"1"`` and ``1.0`` are one label, :func:`rtw.core.config.arm_label`, which the
    column then holds; a label differing only in case or surrounding blanks is matched and
    queried), and each configured arm is present."""
    labels = [arms["control"], arms["intervention"]]
    raw = baseline["arm"].to_numpy(dtype=object)
    arm_vals, variant, unknown = match_labels(raw, labels)
    if unknown.any():
        i = _first_bad(unknown)
        raise InputError("arm label not in config trial.arms", file=file, row=sheet_row(i),
                         column="arm", value=raw[i], expected="one of " + ", ".join(labels))
    if variant.any():
        idx = np.flatnonzero(variant)
        q.add("baseline", idx + 2, baseline["participant_id"].to_numpy(dtype=object)[idx], "arm",
              raw[idx], VARIANT_RULE.format(what="config trial.arms"),
              "matched to arm " + pd.Series(arm_vals[idx], dtype=object).map(repr).to_numpy(dtype=object))
    baseline["arm"] = arm_vals
    for role, lab in arms.items():
        if not (arm_vals == lab).any():
            raise InputError(f"the {role} arm label from config is absent from the data",
                             file=file, column="arm", value=lab,
                             expected="at least one participant in each configured arm (check config trial.arms)")


def _check_foreign_keys(tables: dict, files: dict, randomised: set) -> None:
    """Every participant of the sms, followup, intervention and withdrawals tables was randomised."""
    for t in ("sms", "followup", "intervention", "withdrawals"):
        table = tables[t]
        unknown = ~table["participant_id"].isin(randomised).to_numpy()
        if unknown.any():
            i = _first_bad(unknown)
            raise InputError(f"participant in table '{t}' was never randomised (not in baseline)",
                             file=files[t], row=sheet_row(i), column="participant_id",
                             value=table["participant_id"].iloc[i],
                             expected="a participant_id present in baseline")


def _check_screening(tables: dict, file: str, randomised: set, q: Queries) -> None:
    """Screening and baseline agree on who was randomised.

    A participant screening calls randomised but absent from baseline is an
    error; a baseline participant absent from screening is queried (kept).
    """
    baseline = tables["baseline"]
    screening = tables["screening"]
    says_randomised = screening["randomised"] == "yes"
    screening_pid = screening["participant_id"]
    not_in_base = says_randomised.to_numpy() & ~screening_pid.isin(randomised).to_numpy()
    if not_in_base.any():
        i = _first_bad(not_in_base)
        raise InputError("screening says randomised but the participant is not in baseline",
                         file=file, row=sheet_row(i), column="participant_id",
                         value=screening_pid.iloc[i], expected="a participant_id present in baseline")
    missing_screen = ~baseline["participant_id"].isin(set(screening_pid.dropna())).to_numpy()
    if missing_screen.any():
        idx = np.flatnonzero(missing_screen)
        q.add("baseline", idx + 2, baseline["participant_id"].to_numpy()[idx],
              "participant_id", baseline["participant_id"].to_numpy()[idx],
              "randomised participant not found in screening", "kept; CONSORT counts from baseline")


def _check_withdrawals(withdrawals: pd.DataFrame, file: str, rand_date: pd.Series, q: Queries) -> None:
    """One withdrawal per participant (latest level wins is not assumed: query), not before
    randomisation (error)."""
    rows = withdrawals["source_row"].to_numpy()
    pids = withdrawals["participant_id"]
    repeated = pids.duplicated(keep="first").to_numpy()
    if repeated.any():
        idx = np.flatnonzero(repeated)
        q.add("withdrawals", rows[idx], pids.to_numpy()[idx], "participant_id", pids.to_numpy()[idx],
              "more than one withdrawal for a participant", "earliest withdrawal used for censoring")
    before = (withdrawals["withdrawal_date"] < pids.map(rand_date)).to_numpy()
    if before.any():
        i = _first_bad(before)
        raise InputError("withdrawal date before randomisation", file=file,
                         row=int(withdrawals["source_row"].iloc[i]), column="withdrawal_date",
                         value=str(withdrawals["withdrawal_date"].iloc[i].date()),
                         expected=f"a date on or after randomisation ({rand_date[pids.iloc[i]].date()})")


def _query_control_arm_intervention(tables: dict, arms: dict, q: Queries) -> None:
    """Intervention records of control-arm participants are kept and queried: a withdrawal from
    the intervention (follow-up continues) and VSW contacts (contamination)."""
    baseline = tables["baseline"]
    arm_of = pd.Series(baseline["arm"].to_numpy(), index=baseline["participant_id"].to_numpy())
    withdrawals = tables["withdrawals"]
    pids = withdrawals["participant_id"]
    control_withdrawn = ((withdrawals["level"] == "intervention")
                         & (pids.map(arm_of) == arms["control"])).to_numpy()
    if control_withdrawn.any():
        idx = np.flatnonzero(control_withdrawn)
        q.add("withdrawals", withdrawals["source_row"].to_numpy()[idx], pids.to_numpy()[idx],
              "level", withdrawals["level"].to_numpy()[idx],
              "withdrawal from the intervention recorded for a control-arm participant",
              "kept; follow-up continues (no censoring)")
    contacts = tables["intervention"]
    pids = contacts["participant_id"]
    control_contact = (pids.map(arm_of) == arms["control"]).to_numpy()
    if control_contact.any():
        idx = np.flatnonzero(control_contact)
        q.add("intervention", contacts["source_row"].to_numpy()[idx], pids.to_numpy()[idx],
              "participant_id", pids.to_numpy()[idx],
              "VSW contact recorded for a control-arm participant", "kept (counts as contamination)")


def _clean_sms(sms: pd.DataFrame, rand: pd.Series, config: dict, q: Queries) -> pd.DataFrame:
    """Clean the SMS table (a copy): schedule, days off, reply dates, duplicates.

    Adds ``use`` (row used by the derivations) and ``replied`` (a days-off or
    at-work answer given); every change or exclusion is a query.
    """
    der = config["derivation"]
    sms = sms.copy()
    _sms_schedule(sms, list(config["trial"]["sms_weeks"]), q)
    _sms_days_off(sms, der["free_text_zero"], config["trial"]["sms_period_days"], q)
    _sms_reply_dates(sms, rand, der["late_reply_days"], q)
    _sms_duplicates(sms, q)
    return sms


def _sms_schedule(sms: pd.DataFrame, weeks: list, q: Queries) -> None:
    """Column ``use`` (in place): rows without a week or with a week off the schedule are
    not used (the latter queried)."""
    pid = sms["participant_id"].to_numpy(dtype=object)
    rows = sms["source_row"].to_numpy()
    off = ~sms["week"].isin(weeks).to_numpy() & sms["week"].notna().to_numpy()
    if off.any():
        idx = np.flatnonzero(off)
        q.add("sms", rows[idx], pid[idx], "week", sms["week"].to_numpy()[idx],
              f"week not in the SMS schedule {weeks}", "row excluded from derivations")
    nowk = sms["week"].isna().to_numpy()
    sms["use"] = ~(off | nowk)


def _sms_days_off(sms: pd.DataFrame, free_text_zero, period: int, q: Queries) -> None:
    """Column ``days_off`` as numbers (in place): free text interpreted (queried), replies
    not interpretable or outside [0, period] set to missing (queried)."""
    pid = sms["participant_id"].to_numpy(dtype=object)
    rows = sms["source_row"].to_numpy()
    num, interp, bad = parse_days_off(sms["days_off"], free_text_zero)
    if interp.any():
        idx = np.flatnonzero(interp)
        q.add("sms", rows[idx], pid[idx], "days_off", sms["days_off"].to_numpy(dtype=object)[idx],
              "free text reply",
              "interpreted as " + num.iloc[idx].astype(np.int64).astype(str).to_numpy(dtype=object))
    if bad.any():
        idx = np.flatnonzero(bad)
        q.add("sms", rows[idx], pid[idx], "days_off", sms["days_off"].to_numpy()[idx],
              "reply not interpretable as days off", "set to missing")
    rng_bad = ~np.isnan(num.to_numpy()) & ((num.to_numpy() < 0) | (num.to_numpy() > period))
    if rng_bad.any():
        idx = np.flatnonzero(rng_bad)
        q.add("sms", rows[idx], pid[idx], "days_off", sms["days_off"].to_numpy()[idx],
              f"outside range [0, {period}]", "set to missing")
        num[rng_bad] = np.nan
    sms["days_off"] = num


def _sms_reply_dates(sms: pd.DataFrame, rand: pd.Series, late_days: int, q: Queries) -> None:
    """Reply dates (in place): a reply before the SMS was sent or before randomisation loses its
    date (queried, values kept); a reply more than ``late_days`` late is queried and kept."""
    pid = sms["participant_id"].to_numpy(dtype=object)
    rows = sms["source_row"].to_numpy()
    r0 = sms["participant_id"].map(rand)
    bad_order = (sms["reply_date"].notna() & ((sms["reply_date"] < sms["sent_date"]) |
                                              (sms["reply_date"] < r0))).to_numpy()
    if bad_order.any():
        idx = np.flatnonzero(bad_order)
        q.add("sms", rows[idx], pid[idx], "reply_date",
              sms["reply_date"].iloc[idx].dt.strftime("%Y-%m-%d").to_numpy(),
              "reply date before the SMS was sent or before randomisation",
              "reply date set to missing; reply values kept")
        sms.loc[bad_order, "reply_date"] = pd.NaT
    late = ((sms["reply_date"] - sms["sent_date"]).dt.days > late_days).to_numpy()
    if late.any():
        idx = np.flatnonzero(late)
        q.add("sms", rows[idx], pid[idx], "reply_date",
              sms["reply_date"].iloc[idx].dt.strftime("%Y-%m-%d").to_numpy(),
              f"reply more than {late_days} days after the SMS was sent", "kept")


def _sms_duplicates(sms: pd.DataFrame, q: Queries) -> None:
    """Column ``replied``, and ``use`` updated (in place): of the used rows of one participant
    and week, only the earliest reply is used; the others are queried as identical or
    conflicting duplicates of it."""
    pid = sms["participant_id"].to_numpy(dtype=object)
    sms["replied"] = sms["days_off"].notna() | sms["at_work"].notna()
    # integer keys: participant codes in sorted-id order (sorting 10^7 id strings
    # with lexsort would dominate the run), week codes (NaN -> one code, as duplicated())
    pcode, _ = pd.factorize(sms["participant_id"].to_numpy(dtype=object), sort=True)
    wcode, wlev = pd.factorize(sms["week"].to_numpy())
    order = np.lexsort((sms["source_row"].to_numpy(),
                        sms["reply_date"].fillna(pd.Timestamp.max).to_numpy(),
                        ~sms["replied"].to_numpy(), sms["week"].fillna(-1).to_numpy(),
                        pcode))
    key = pcode.astype(np.int64) * (len(wlev) + 1) + (wcode + 1)
    key_s = key[order]
    start = np.ones(len(order), bool)
    start[1:] = key_s[1:] != key_s[:-1]            # a (participant, week) group starts
    dup = ~start & sms["use"].to_numpy()[order]
    if not dup.any():
        return
    # first row of each group (the one used), for every duplicate
    grp_first = np.maximum.accumulate(np.where(start, np.arange(len(order)), 0))
    pos = np.flatnonzero(dup)
    di, ki = order[pos], order[grp_first[pos]]  # rows of the duplicate and of its first
    same = np.ones(len(pos), bool)
    for c in ("days_off", "at_work"):           # _eq, vectorised
        col = sms[c]
        a, b = col.iloc[di].reset_index(drop=True), col.iloc[ki].reset_index(drop=True)
        same &= ((a.isna() & b.isna()) | (a.notna() & b.notna() & (a == b))).to_numpy()
    krow = sms["source_row"].to_numpy()[ki].astype(np.int64).astype(str).astype(object)
    action = (np.where(same, "identical", "conflicting").astype(object) + " duplicate of row "
              + krow + "; row " + krow + " used")
    q.add("sms", sms["source_row"].to_numpy()[di], pid[di], "week",
          sms["week"].to_numpy(dtype=object)[di], "duplicated SMS for participant and week",
          action)
    use = sms["use"].to_numpy().copy()
    use[order[dup]] = False
    sms["use"] = use


def _eq(a, b) -> bool:
    if a is None or (isinstance(a, float) and np.isnan(a)):
        return b is None or (isinstance(b, float) and np.isnan(b))
    return a == b


def _clean_followup(fu: pd.DataFrame, file: str, rand: pd.Series, config: dict, q: Queries) -> pd.DataFrame:
    tps = list(config["trial"]["timepoints"])
    bad = ~fu["timepoint"].isin(tps).to_numpy()
    if bad.any():
        i = _first_bad(bad)
        raise InputError("unknown questionnaire timepoint", file=file, row=sheet_row(i),
                         column="timepoint", value=fu["timepoint"].iloc[i],
                         expected="one of " + ", ".join(tps) + " (config trial.timepoints)")
    fu = fu.copy()
    rows, pid = fu["source_row"].to_numpy(), fu["participant_id"].to_numpy(dtype=object)
    r0 = fu["participant_id"].map(rand)
    before = (fu["return_date"].notna() & (fu["return_date"] < r0)).to_numpy()
    if before.any():
        idx = np.flatnonzero(before)
        q.add("followup", rows[idx], pid[idx], "return_date",
              fu["return_date"].iloc[idx].dt.strftime("%Y-%m-%d").to_numpy(),
              "questionnaire returned before randomisation", "date set to missing; answers kept")
        fu.loc[before, "return_date"] = pd.NaT
    dup = fu.duplicated(["participant_id", "timepoint"], keep="first").to_numpy()
    fu["use"] = ~dup
    if dup.any():
        idx = np.flatnonzero(dup)
        q.add("followup", rows[idx], pid[idx], "timepoint", fu["timepoint"].to_numpy()[idx],
              "more than one questionnaire for participant and timepoint", "first returned used")
    lj = (fu["employment_status"] == "left_job").to_numpy() & fu["left_job_date"].isna().to_numpy()
    if lj.any():
        idx = np.flatnonzero(lj)
        q.add("followup", rows[idx], pid[idx], "left_job_date", [""] * len(idx),
              "left job without a date", "leaving dated at the questionnaire's return date")
        fu.loc[lj, "left_job_date"] = fu.loc[lj, "return_date"]
    return fu
