"""Long tables: one row per (start, stop] interval of a participant (SPEC §9).

Two uses, both pure (tables, schema and config in; no Snakemake):

* :func:`validate_derived` checks a long table derivation wrote
  (``results/data/work_status``, ``absence_spells``) against its data schema
  (``workflow/schemas/<name>.schema.yaml``) before it is written: exactly the
  schema's columns, each of its type and range (the checks of
  :mod:`rtw.data.analysis_schema`), and the intervals of its ``x-intervals``
  keyword.  A failure is a bug in derivation and the message says so, naming
  the participant.
* :func:`read_long_table` reads a bring-your-own long table named by a config
  entry of ``outcomes.recurrent`` or ``outcomes.multistate`` and checks it
  against the contract: the columns the entry names exist; start and stop are
  numbers with start < stop; every id is in the main analysis table; a
  participant's intervals do not overlap; event values are 0 or
  ``event_value`` (recurrent); ``to`` values are among ``states`` or
  ``censored_value``, and no row enters the state it is in (multistate).  A
  problem stops the run with one line naming the file, the row as a
  spreadsheet shows it (header = row 1), the column, the participant id and
  what was expected.  It returns the long table joined to the main table's
  arm, stratification factors, covariates, strata and cluster columns.

Values are compared as arm labels are (:func:`rtw.core.config.arm_label`):
integral numbers by their digits (``1``, ``1.0`` and ``"1"`` match), text
stripped of blanks; so a CSV's ``001`` and a typed id ``1`` match.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from rtw.core.config import ConfigError, arm_label, covariate_names
from rtw.core.io import InputError, read_table, sheet_row

SCHEMAS = Path(__file__).resolve().parents[3] / "workflow" / "schemas"
KINDS = ("recurrent", "multistate")


def load_long_schema(name: str, folder=None) -> dict:
    """The data schema ``<name>.schema.yaml`` (``work_status``, ``absence_spells``) of
    ``folder`` (default ``workflow/schemas``)."""
    import yaml
    path = Path(folder if folder is not None else SCHEMAS) / f"{name}.schema.yaml"
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


# --------------------------------------------------------------------------- derived tables
@dataclass
class _Derived:
    """Failure messages for a derived long table (the interface of analysis_schema's checks)."""
    name: str
    schema_name: str
    ids: object = None

    def fail(self, i, column, problem, value=None, expected=None):
        """An :class:`~rtw.core.io.InputError` for data row ``i`` (0-based; None: the header)."""
        if hasattr(value, "item") and not isinstance(value, (str, bytes)):
            value = value.item()
        pid = None if i is None or self.ids is None else self.ids[i]
        who = "" if i is None else f", participant {pid!r}"
        detail = ("" if value is None else f" Found {value!r}.") + \
            ("" if expected is None else f" Expected {expected}.")
        e = InputError(f"{self.name}{who}, column '{column}': {problem}.{detail} This is a bug in "
                       f"derivation (rtw.data.episodes), not in the data: the derived table "
                       f"must match {self.schema_name}")
        e.file, e.column, e.value, e.expected = self.name, column, value, expected
        e.participant = pid
        return e


def validate_derived(df: pd.DataFrame, schema: dict, config: dict, *, table: str,
                     schema_name: str) -> None:
    """Check a derived long table against its data schema.

    Parameters
    ----------
    df : DataFrame
        The table as it is about to be written.
    schema : dict
        :func:`load_long_schema`.
    config : dict
        The validated config (for ``x-maximum-from-config``).
    table, schema_name : str
        How messages name the table (``results/data/work_status.parquet``) and the schema.

    Raises
    ------
    rtw.core.io.InputError
        One line: the table, the participant, the column, the value and what was expected.
    """
    from rtw.data.analysis_schema import _check_column
    specs = schema["properties"]
    iv = schema["x-intervals"]
    t = _Derived(table, schema_name, df[iv["id"]].to_numpy(dtype=object)
                 if iv["id"] in df.columns else None)
    for col in specs:
        if col not in df.columns:
            raise t.fail(None, col, "column described in the schema is missing")
    for col in df.columns:
        if col not in specs:
            raise t.fail(None, col, "column written by derivation has no entry in the schema")
    for col, spec in specs.items():
        _check_column(df[col], col, spec, config, t)
    ids = pd.factorize(df[iv["id"]].to_numpy(dtype=object))[0]
    bad = _interval_problem(ids, df[iv["start"]].to_numpy(float), df[iv["stop"]].to_numpy(float),
                            bool(iv["tile"]), lambda i: f"data row {i + 1}")
    if bad is not None:
        i, column, problem, expected = bad
        col = iv[column]
        raise t.fail(i, col, problem, value=df[col].iloc[i], expected=expected)


def _interval_problem(ids, start, stop, tile: bool, row_name):
    """The first interval problem as (row, 'start' or 'stop', problem, expected), or None.

    Rows of one id need not be adjacent or ordered; start < stop in each row, no two
    intervals of an id overlap, and with ``tile`` the first starts at 0 and each next
    starts where the one before stops.  ``row`` is the 0-based row of the offending
    interval; ``row_name(i)`` names another row in the message.
    """
    bad = ~(start < stop)
    if bad.any():
        return int(np.flatnonzero(bad)[0]), "stop", "interval does not end after it starts", \
            "stop greater than start"
    order = np.lexsort((start, ids))
    i_s, s_s, e_s = ids[order], start[order], stop[order]
    same = np.r_[False, i_s[1:] == i_s[:-1]]
    prev_stop = np.r_[np.nan, e_s[:-1]]
    overlap = same & (s_s < prev_stop)
    if overlap.any():
        k = int(np.flatnonzero(overlap)[0])
        return int(order[k]), "start", \
            f"interval overlaps the participant's interval on {row_name(int(order[k - 1]))}", \
            f"start at or after {prev_stop[k]:g} (no overlapping intervals)"
    if tile:
        gap = (same & (s_s != prev_stop)) | (~same & (s_s != 0))
        if gap.any():
            k = int(np.flatnonzero(gap)[0])
            want = prev_stop[k] if same[k] else 0.0
            return int(order[k]), "start", "intervals do not tile follow-up from 0", \
                f"start at {want:g}"
    return None


# --------------------------------------------------------------------------- bring your own
def read_long_table(entry: dict, kind: str, analysis: pd.DataFrame, config: dict, path=None,
                    main_table: str = "results/data/analysis.parquet") -> pd.DataFrame:
    """Read and check a bring-your-own long table (SPEC §9), joined to the analysis table.

    Parameters
    ----------
    entry : dict
        One validated item of config ``outcomes.recurrent`` or ``outcomes.multistate``
        (table, id, start, stop, and event/event_value or to/censored_value/
        initial_state/states).
    kind : {"recurrent", "multistate"}
    analysis : DataFrame
        The main analysis table (``participant_id``, ``arm`` and the model's columns).
    config : dict
        The validated config (``stratification_factors``, ``covariates``, ``strata``,
        ``cluster``: the columns joined from the analysis table).
    path : path-like, optional
        The file to read (default ``entry["table"]``).
    main_table : str
        How messages name the analysis table.

    Returns
    -------
    DataFrame
        One row per interval, sorted by participant (analysis-table order) and start:
        ``participant_id`` (as the analysis table holds it), ``spell`` (recurrent: 1 + the
        participant's events before the interval, the strata of a Prentice–Williams–Peterson
        model), ``start``, ``stop``, then
        ``event`` (1 at an event, else 0; recurrent) or ``state`` (occupied during the
        interval: ``initial_state`` for a participant's first row, then the last state
        entered) and ``to`` (multistate; values as config ``states``/``censored_value``
        give them), then ``arm`` and the model columns of the analysis table.

    Raises
    ------
    rtw.core.io.InputError
        A problem in the table (module docstring), one line with file, row, column and id.
    rtw.core.config.ConfigError
        An entry at odds with itself (a censored value among the states, ...).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    where = f"config outcomes.{kind} {entry['name']!r}"
    path = str(path if path is not None else entry["table"])
    df = read_table(path, as_text=True)
    if len(df) == 0:
        raise InputError("table has a header but no data rows", file=path, row=2,
                         expected="one row per interval")
    roles = {r: entry[r] for r in ("id", "start", "stop", "event" if kind == "recurrent" else "to")}
    for role, col in roles.items():
        if col not in df.columns:
            raise InputError(f"{where}: {role} names a column that is not in the table", file=path,
                             row=1, column=col, expected="one of the table's columns: "
                             + ", ".join(map(str, df.columns[:40])))
    start, stop = (_times(df[roles[r]], path, roles[r]) for r in ("start", "stop"))
    pos = _positions(df[roles["id"]], analysis["participant_id"], path, roles["id"], main_table)
    bad = _interval_problem(pos, start, stop, False, lambda i: f"row {sheet_row(i)}")
    if bad is not None:
        i, role, problem, expected = bad
        raise InputError(f"participant {analysis['participant_id'].iloc[pos[i]]!r}: {problem}",
                         file=path, row=sheet_row(i), column=roles[role],
                         value=df[roles[role]].iloc[i], expected=expected)
    if kind == "recurrent":
        out = {"event": _events(df[roles["event"]], entry, path, where)}
    else:
        out = _multistate(df[roles["to"]], pos, start, entry, path, where)
    return _joined({"start": start, "stop": stop, **out}, pos, analysis, config)


def _canon(values) -> np.ndarray:
    """Each value as a label (:func:`rtw.core.config.arm_label`; true/false as 1/0), None when
    missing; computed once per distinct value."""
    codes, uniq = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
    labels = [arm_label(int(u)) if isinstance(u, (bool, np.bool_)) else arm_label(u) for u in uniq]
    return np.array(labels + [None], dtype=object)[codes]


def _times(s: pd.Series, path: str, column: str) -> np.ndarray:
    """A start or stop column as numbers; a missing or non-numeric value stops the run."""
    v = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(v)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError("interval time missing or not a number", file=path, row=sheet_row(i),
                         column=column, value=s.iloc[i], expected="a number of days in every row")
    return v


def _positions(ids: pd.Series, main_ids: pd.Series, path: str, column: str,
               main_table: str) -> np.ndarray:
    """Row of the analysis table of each long-table row's participant.

    Ids match as text; an id without a match then matches as a label (module docstring)
    when that does not merge two of the analysis table's ids (``01`` and ``1``).  An id
    not in the analysis table stops the run with the file, its row and the id.
    """
    present = ids.notna().to_numpy()
    keys = np.where(present, ids.astype(str).to_numpy(dtype=object), None)
    main_keys = main_ids.astype(str).to_numpy(dtype=object)
    pos = pd.Index(main_keys).get_indexer(keys)
    miss = (pos < 0) & present
    if miss.any():
        main_labels = _canon(main_keys)
        if len(set(main_labels)) == len(main_labels):
            pos[miss] = pd.Index(main_labels).get_indexer(_canon(keys[miss]))
    bad = pos < 0
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        problem = ("participant id missing" if not present[i] else
                   f"participant id {ids.iloc[i]!r} is not in the analysis table {main_table}")
        raise InputError(problem + (f" ({int(bad.sum())} row(s))" if bad.sum() > 1 else ""),
                         file=path, row=sheet_row(i), column=column, value=ids.iloc[i],
                         expected="the id of a participant of the analysis table in every row")
    return pos


def _events(s: pd.Series, entry: dict, path: str, where: str) -> np.ndarray:
    """The event column as 1 (``event_value``) / 0 (0: no event); other values stop the run."""
    value = arm_label(entry["event_value"])
    if value == "0":
        raise ConfigError(f"{where}: event_value is 0, which marks no event; expected another "
                          "value of the event column")
    codes = _canon(s)
    bad = ~np.isin(codes, [value, "0"])
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"event value not allowed ({int(bad.sum())} row(s))", file=path,
                         row=sheet_row(i), column=entry["event"], value=s.iloc[i],
                         expected=f"{entry['event_value']!r} (event) or 0 (no event), "
                                  f"as {where} event_value says")
    return (codes == value).astype(np.int64)


def _state_labels(entry: dict, where: str) -> tuple[dict, str, str]:
    """(label -> config value of each state, censored label, initial label), checked."""
    labels = {}
    for s in entry["states"]:
        lab = arm_label(s)
        if lab in labels:
            raise ConfigError(f"{where}: states {labels[lab]!r} and {s!r} are the same state; "
                              "expected different states")
        labels[lab] = s
    cens = arm_label(entry["censored_value"])
    if cens in labels:
        raise ConfigError(f"{where}: censored_value {entry['censored_value']!r} is one of the "
                          f"states; expected a value of the to column that is not a state")
    initial = entry["initial_state"] if entry["initial_state"] is not None else entry["states"][0]
    if arm_label(initial) not in labels:
        raise ConfigError(f"{where}: initial_state {initial!r} is not one of the states "
                          f"({', '.join(map(str, entry['states']))})")
    return labels, cens, arm_label(initial)


def _multistate(s: pd.Series, pos, start, entry: dict, path: str, where: str) -> dict:
    """``state`` (occupied during the interval) and ``to`` (entered at stop) of each row.

    A participant's first row (by start) is in ``initial_state``; each later row is in the
    last state entered before it (a censored row enters none: the state goes on, as R reads
    a multi-state ``Surv``).  A ``to`` value that is neither a state nor ``censored_value``,
    or a row entering the state it is in, stops the run.
    """
    labels, cens, initial = _state_labels(entry, where)
    names = list(labels)
    to_label = _canon(s)
    code = pd.Index(names + [cens]).get_indexer(to_label)     # -1: not allowed
    bad = code < 0
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"state not allowed ({int(bad.sum())} row(s))", file=path,
                         row=sheet_row(i), column=entry["to"], value=s.iloc[i],
                         expected="one of " + ", ".join(map(str, entry["states"]))
                                  + f" or {entry['censored_value']!r} (censored; {where})")
    code[code == len(names)] = -1                               # censored: enters no state
    order = np.lexsort((start, pos))
    c, g, k = code[order], pos[order], np.arange(len(order))
    # row of the participant's last transition before each row, and of their first row
    entered = np.r_[-1, np.maximum.accumulate(np.where(c >= 0, k, -1))[:-1]]
    first = np.maximum.accumulate(np.where(np.r_[True, g[1:] != g[:-1]], k, 0))
    state = np.empty(len(order), int)
    state[order] = np.where(entered >= first, c[np.maximum(entered, 0)], names.index(initial))
    same = code == state
    if same.any():
        i = int(np.flatnonzero(same)[0])
        raise InputError(f"the row enters the state its participant is already in "
                         f"({entry['states'][state[i]]!r}, from the rows before it or "
                         "initial_state)", file=path, row=sheet_row(i), column=entry["to"],
                         value=s.iloc[i],
                         expected=f"another state, or {entry['censored_value']!r} (no transition)")
    values = np.array([*entry["states"], entry["censored_value"]], dtype=object)
    return {"state": values[state], "to": values[code]}


def _joined(long: dict, pos, analysis: pd.DataFrame, config: dict) -> pd.DataFrame:
    """The long table's columns (``long``: arrays in file order) with the participant id, the
    ``spell`` of a recurrent table, and the analysis table's arm and model columns
    (stratification factors, covariates, strata, cluster), sorted by participant (analysis
    order) and start."""
    order = np.lexsort((long["start"], pos))
    p = pos[order]
    out = {"participant_id": analysis["participant_id"].to_numpy(dtype=object)[p]}
    if "event" in long:
        # the PWP strata: 1 + the participant's events before the interval
        ev = long["event"][order]
        first = np.r_[True, p[1:] != p[:-1]]
        before = np.cumsum(ev) - ev
        out["spell"] = (before - np.maximum.accumulate(np.where(first, before, 0)) + 1)
    out.update({name: values[order] for name, values in long.items()})
    model = [*config["stratification_factors"], *covariate_names(config),
             *(c for c in (config["strata"], config["cluster"]) if c)]
    for c in ["arm"] + [c for c in dict.fromkeys(model) if c not in out and c != "arm"]:
        out[c] = analysis[c].to_numpy()[p]
    return pd.DataFrame(out)
