"""Checks of the plan that need no fitting, run when the workflow is parsed (``snakemake -n``
too), so a config mistake stops the run in about a second, before any job.

* Every column the config names exists: in the header of a bring-your-own table (after
  ``data.columns`` renames its columns to their roles), or among the columns derivation writes
  from raw exports (``workflow/schemas/analysis.schema.yaml``).
* Both configured arm labels occur in the arm column of the table (bring-your-own) or of the
  raw baseline export (raw exports), matched by value (:func:`rtw.core.config.arm_label`).

A CSV file is read with the standard library; other formats through
:func:`rtw.core.io.read_table` (which loads pandas, so only for those files).  What was read
of a file is cached by its size and modification time (``.snakemake/rtw-plan-checks.json``),
so a no-op rerun does not read a large table again.  A file that does not exist is left to
Snakemake, which reports it as a missing input.
"""
from __future__ import annotations

import csv
import difflib
import json
import os
from pathlib import Path

from rtw.core.config import ConfigError, arm_label

CACHE = Path(".snakemake") / "rtw-plan-checks.json"


def _csv_columns(path: Path, column: str | None) -> tuple[list[str], list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = csv.reader(fh)
        header = [h.strip() for h in next(rows, [])]
        if column is None or column not in header:
            return header, []
        i = header.index(column)
        values = {row[i].strip() for row in rows if len(row) > i and row[i].strip()}
    return header, sorted(values)


def _other_columns(path: Path, column: str | None) -> tuple[list[str], list[str]]:
    from rtw.core.io import read_table
    df = read_table(path, as_text=False)
    header = [str(c) for c in df.columns]
    if column is None or column not in header:
        return header, []
    return header, sorted({str(v) for v in df[column].dropna().tolist()})


def header_and_labels(path, column: str | None, cache: Path | None = CACHE) -> tuple[list, set]:
    """The header of the table at ``path`` and the distinct values of its ``column`` (as
    :func:`~rtw.core.config.arm_label` gives them); cached by size and modification time."""
    path = Path(path)
    stat = path.stat()
    key = f"{path.resolve()}|{column}|{stat.st_size}|{stat.st_mtime_ns}"
    store = {}
    if cache is not None and cache.is_file():
        try:
            store = json.loads(cache.read_text(encoding="utf-8"))
        except ValueError:
            store = {}
    if key not in store:
        read = _csv_columns if path.suffix.lower() == ".csv" else _other_columns
        header, values = read(path, column)
        store = {k: v for k, v in store.items() if not k.startswith(f"{path.resolve()}|")}
        store[key] = {"header": header, "values": values}
        if cache is not None and cache.parent.is_dir():
            tmp = cache.with_suffix(".tmp")
            tmp.write_text(json.dumps(store), encoding="utf-8")
            os.replace(tmp, cache)
    entry = store[key]
    return entry["header"], {arm_label(v) for v in entry["values"]}


def _suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, [str(c) for c in choices], n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def check_arm_labels(config: dict, labels: set, where: str, column: str, source: str) -> None:
    """Both configured arm labels occur among ``labels`` (the arm column's values)."""
    for role in ("control", "intervention"):
        label = config["trial"]["arms"][role]
        if label not in labels:
            found = ", ".join(sorted(labels)[:10]) or "none"
            raise ConfigError(f"{source}: trial.arms.{role}: arm label '{label}' does not occur in "
                              f"column '{column}' of {where} (labels found: {found})")


def check_table_plan(config: dict, source: str, cache: Path | None = CACHE) -> None:
    """A bring-your-own table: its mapped role columns, the config's columns and both arms."""
    from rtw.data.analysis_schema import check_config_columns
    path = config["data"]["table"]
    if not Path(path).is_file():
        return
    roles = {role: col for role, col in config["data"]["columns"].items() if col}
    header, labels = header_and_labels(path, roles["arm"], cache)
    for role, col in roles.items():
        if col not in header:
            raise ConfigError(f"{source}: data.columns.{role}: column '{col}' is not in the table "
                              f"{path}{_suggest(col, header)}")
    renamed = [next((r for r, c in roles.items() if c == h), h) for h in header]
    check_config_columns(config, renamed, path, source=source)
    check_arm_labels(config, labels, path, roles["arm"], source)


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
        _, labels = header_and_labels(baseline, "arm", cache)
        check_arm_labels(config, labels, baseline, "arm", source)
