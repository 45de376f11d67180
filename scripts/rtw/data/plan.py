"""Checks of the plan that need no fitting, run when the workflow is parsed (``snakemake -n``
too), so a config mistake stops the run in about a second, before any job.

* Every column the config names exists: in the header of a bring-your-own table (after
  ``data.columns`` renames its columns to their roles), or among the columns derivation writes
  from raw exports (``workflow/schemas/analysis.schema.yaml``).
* Both configured arm labels occur in the arm column of the table (bring-your-own) or of the
  raw baseline export (raw exports), matched by value (:func:`rtw.core.config.arm_label`).

Files are read by :func:`rtw.core.io.read_table`, as the job that uses them reads them (config
``data.sheet``, ``data.csv``, ``data.missing_values``), the arm column only.  Arm labels match
as the import matches them (:func:`rtw.data.labels.match_labels`: by value, and a variant in
case or blanks counts, to be queried by the job); value labels of a Stata/SPSS/SAS file count
as labels of the arm, and :func:`check_table_plan` returns the config with event codes named
by label resolved to their codes (:func:`rtw.data.labels.resolve_event_values`), which every
rule after the import then sees.  What was read of a file is cached by its size, modification
time and the read settings (``.snakemake/rtw-plan-checks.json``), so a no-op rerun reads
nothing.  A file that does not exist is left to Snakemake, which reports it as a missing input.
"""
from __future__ import annotations

import difflib
import json
import os
from pathlib import Path

from rtw.core.config import ConfigError, arm_label

CACHE = Path(".snakemake") / "rtw-plan-checks.json"


def _read_facts(path: Path, column: str | None, data: dict) -> dict:
    """Header, distinct values of ``column`` (as read, blanks kept) and value labels."""
    from rtw.core.io import read_options, read_table
    df = read_table(path, as_text=False, options=read_options(data), strip=False,
                    columns=[column] if column else [])
    labels = {c: [[k, v] for k, v in m.items()] for c, m in df.attrs["value_labels"].items()}
    header = [str(c) for c in df.attrs["header"]]
    if column is None or column not in df.columns:
        return {"header": header, "values": [], "labels": labels}
    values = sorted({v if isinstance(v, str) else arm_label(v) for v in df[column].dropna()})
    return {"header": header, "values": values, "labels": labels}


def table_facts(path, column: str | None, data: dict, cache: Path | None = CACHE) -> dict:
    """``{"header", "values", "labels"}`` of the table at ``path``: its columns, the distinct
    values of ``column`` and the value labels (``{column: [[code, label], ...]}``), read as
    config block ``data`` says; cached by size, modification time and the read settings."""
    path = Path(path)
    stat = path.stat()
    settings = json.dumps([data["sheet"], data["csv"], data["missing_values"]], sort_keys=True)
    key = f"{path.resolve()}|{column}|{stat.st_size}|{stat.st_mtime_ns}|{settings}"
    store = {}
    if cache is not None and cache.is_file():
        try:
            store = json.loads(cache.read_text(encoding="utf-8"))
        except ValueError:
            store = {}
    if key not in store:
        store = {k: v for k, v in store.items() if not k.startswith(f"{path.resolve()}|")}
        store[key] = _read_facts(path, column, data)
        if cache is not None and cache.parent.is_dir():
            tmp = cache.with_suffix(".tmp")
            tmp.write_text(json.dumps(store), encoding="utf-8")
            os.replace(tmp, cache)
    return store[key]


def header_and_labels(path, column: str | None, cache: Path | None = CACHE,
                      data: dict | None = None) -> tuple[list, set]:
    """The header of the table at ``path`` and the distinct values of its ``column`` (as
    :func:`~rtw.core.config.arm_label` gives them, with the value labels of their codes)."""
    from rtw.core.validation import with_defaults
    facts = table_facts(path, column, data if data is not None else with_defaults("data", {}),
                        cache)
    labels = {arm_label(k): v for k, v in (facts["labels"].get(column) or [])}
    found = {arm_label(v) for v in facts["values"]}
    return facts["header"], found | {labels[v].strip() for v in found if v in labels}


def _suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, [str(c) for c in choices], n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def check_arm_labels(config: dict, labels: set, where: str, column: str, source: str) -> None:
    """Both configured arm labels occur among ``labels`` (the arm column's values), exactly
    or as a variant in case or blanks (which the job queries)."""
    from rtw.data.labels import match_labels
    for role in ("control", "intervention"):
        label = config["trial"]["arms"][role]
        matched, _, _ = match_labels(sorted(labels), [label])
        if label not in set(matched):
            found = ", ".join(sorted(labels)[:10]) or "none"
            raise ConfigError(f"{source}: trial.arms.{role}: arm label '{label}' does not occur in "
                              f"column '{column}' of {where} (labels found: {found})")


def check_table_plan(config: dict, source: str, cache: Path | None = CACHE) -> dict:
    """A bring-your-own table: its mapped role columns, the config's columns and both arms.

    Returns
    -------
    dict
        ``config`` with event codes named by their value label resolved to the codes
        (:func:`rtw.data.labels.resolve_event_values`; ``config`` itself when the table does
        not exist yet).
    """
    from rtw.data.analysis_schema import check_config_columns
    from rtw.data.labels import resolve_event_values
    path = config["data"]["table"]
    if not Path(path).is_file():
        return config
    roles = {role: col for role, col in config["data"]["columns"].items() if col}
    header, labels = header_and_labels(path, roles["arm"], cache, config["data"])
    for role, col in roles.items():
        if col not in header:
            raise ConfigError(f"{source}: data.columns.{role}: column '{col}' is not in the table "
                              f"{path}{_suggest(col, header)}")
    renamed = [next((r for r, c in roles.items() if c == h), h) for h in header]
    check_config_columns(config, renamed, path, source=source)
    check_arm_labels(config, labels, path, roles["arm"], source)
    facts = table_facts(path, roles["arm"], config["data"], cache)
    value_labels = {c: {k: v for k, v in pairs} for c, pairs in facts["labels"].items()}
    return resolve_event_values(config, value_labels, path)


def check_raw_plan(config: dict, baseline: str | None, source: str, schema_path=None,
                   cache: Path | None = CACHE) -> None:
    """Raw exports: the config's columns are among those derivation writes; both arms occur in
    the baseline export (when it exists: the generator writes it for a synthetic trial)."""
    from rtw.data.analysis_schema import (check_config_columns, derived_columns,
                                          load_analysis_schema)
    columns = derived_columns(load_analysis_schema(schema_path), config)
    check_config_columns(config, columns, "the analysis dataset derived from the raw exports "
                         "(workflow/schemas/analysis.schema.yaml)", source=source)
    if baseline and Path(baseline).is_file():
        _, labels = header_and_labels(baseline, "arm", cache, config["data"])
        check_arm_labels(config, labels, baseline, "arm", source)
