"""The analysis dataset's contract (workflow/schemas/analysis.schema.yaml).

* the schema is in step with derivation: derivation's output on a synthetic WAVE trial
  has exactly the schema's columns and validates;
* an imported (bring-your-own) table validates against the minimal contract;
* a corrupted table stops with one line naming the table, the column, the participant
  (derived) or spreadsheet row (imported), the value and what was expected;
* a config naming a column the table lacks stops with the config key and a suggestion;
* the entry script validates before it writes: a failure leaves no output.
"""
from __future__ import annotations

import runpy
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from helpers import ROOT, SCHEMAS, Params, default_config, sap, write_synthetic
from rtw.core.config import ConfigError
from rtw.core.io import InputError
from rtw.data.analysis_schema import (check_config_columns, config_columns, derived_columns,
                                      load_analysis_schema, validate_analysis)
from rtw.data.cleaning import clean_tables
from rtw.data.derivation import derive_analysis
from rtw.data.importer import import_analysis_table

TABLE = "results/data/analysis.parquet"


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    d = tmp_path_factory.mktemp("raw")
    write_synthetic(d)
    return d


@pytest.fixture(scope="module")
def derived(raw):
    cfg = default_config()
    tables, _ = clean_tables(raw, cfg, SCHEMAS)
    return derive_analysis(tables, cfg), cfg


@pytest.fixture(scope="module")
def schema():
    return load_analysis_schema()


def _derived_error(df, schema, cfg) -> InputError:
    with pytest.raises(InputError) as ei:
        validate_analysis(df, schema, cfg, table=TABLE, derived=True)
    msg = str(ei.value)
    assert "\n" not in msg and msg.startswith(TABLE)
    assert "bug in derivation" in msg
    return ei.value


# ---------------------------------------------------------------- in step with derivation
def test_derived_table_has_exactly_the_schema_columns(derived, schema):
    a, cfg = derived
    expected = derived_columns(schema, cfg)
    assert sorted(a.columns) == sorted(expected), (
        f"written by derivation, not in the schema: {sorted(set(a.columns) - set(expected))}; "
        f"in the schema, not written: {sorted(set(expected) - set(a.columns))}")


def test_derived_table_validates(derived, schema):
    a, cfg = derived
    validate_analysis(a, schema, cfg, table=TABLE, derived=True)
    check_config_columns(cfg, a.columns, TABLE)


def test_timepoint_columns_follow_the_config(schema):
    cfg = default_config()
    cfg["trial"]["timepoints"] = {"3m": 91, "12m": 365}
    cols = derived_columns(schema, cfg)
    assert {"eq5d_index_3m", "presenteeism_12m"} <= set(cols)
    assert not any(c.endswith(("_6w", "_6m")) and c != "days_off_6m" and c != "at_work_6m"
                   for c in cols)


def test_every_schema_column_has_a_type_and_a_description(schema):
    for name, spec in schema["properties"].items():
        assert spec.get("type") and spec.get("description"), name


# ---------------------------------------------------------------- imported tables
def test_imported_table_validates(tmp_path, schema):
    p = tmp_path / "mine.csv"
    pd.DataFrame({"id": ["a", "b", "c"], "grp": ["x", "y", "x"], "site": ["s1", "s1", "s2"],
                  "days": [3, 0, 10], "t": [5.0, 7.0, 9.0], "e": [1, 0, 1]}).to_csv(p, index=False)
    cfg = sap({"data": {"source": "table", "columns": {"participant_id": "id", "arm": "grp",
                                                   "practice": "site"}},
           "trial": {"arms": {"control": "x", "intervention": "y"}},
           "cluster": "site",
           "outcomes": {"count": {"value": "days"}, "time_to_event": {"time": "t", "event": "e"}}})
    df = import_analysis_table(p, cfg)
    validate_analysis(df, schema, cfg, table=str(p), derived=False)


def test_derived_table_imported_back_validates(tmp_path, derived, schema):
    a, cfg = derived
    p = tmp_path / "analysis.csv"
    a.to_csv(p, index=False)
    cfg = sap({**cfg, "data": {**cfg["data"], "source": "table", "table": str(p)}})
    df = import_analysis_table(p, cfg)
    validate_analysis(df, schema, cfg, table=str(p), derived=False)


def _imported_cfg():
    return sap({"data": {"source": "table", "columns": {"participant_id": "id", "arm": "grp"}},
            "trial": {"arms": {"control": "x", "intervention": "y"}}})


def test_imported_arm_outside_config_names_row_and_user_column(schema):
    df = pd.DataFrame({"participant_id": ["a", "b", "c"], "arm": ["x", "y", "z"]})
    with pytest.raises(InputError) as ei:
        validate_analysis(df, schema, _imported_cfg(), table="mine.csv", derived=False)
    e = ei.value
    assert (e.file, e.row, e.column, e.value) == ("mine.csv", 4, "grp", "z")
    assert str(e) == ("file mine.csv, row 4, column 'grp': value not allowed (1 row(s)) (column "
                      "mapped to arm by config data.columns.arm). Found 'z'. Expected one of x, y "
                      "(config trial.arms).")


def test_imported_table_missing_required_column(schema):
    df = pd.DataFrame({"participant_id": ["a", "b"], "group": ["x", "y"]})
    cfg = _imported_cfg()
    cfg["data"]["columns"]["arm"] = "arm"
    with pytest.raises(InputError) as ei:
        validate_analysis(df, schema, cfg, table="mine.csv", derived=False)
    assert (ei.value.row, ei.value.column) == (1, "arm")
    assert str(ei.value).startswith(
        "file mine.csv, row 1, column 'arm': required column missing from the analysis table.")


def test_imported_duplicated_id_names_the_second_row(schema):
    df = pd.DataFrame({"participant_id": ["a", "b", "a"], "arm": ["x", "y", "x"]})
    with pytest.raises(InputError, match="duplicated participant_id") as ei:
        validate_analysis(df, schema, _imported_cfg(), table="mine.csv", derived=False)
    assert (ei.value.row, ei.value.column, ei.value.value) == (4, "id", "a")


def test_imported_user_columns_are_not_checked_against_derived_columns(schema):
    # a user's 'sex' coded 1/2 is the user's business (and the importer's), not the schema's
    df = pd.DataFrame({"participant_id": ["a", "b"], "arm": ["x", "y"], "sex": [1, 2]})
    validate_analysis(df, schema, _imported_cfg(), table="mine.csv", derived=False)


# ---------------------------------------------------------------- corrupted derived tables
def test_derived_wrong_type(derived, schema):
    a, cfg = derived
    b = a.copy()
    b["n_contacts"] = b["n_contacts"].astype(object)
    b.loc[3, "n_contacts"] = "two"
    e = _derived_error(b, schema, cfg)
    pid = a["participant_id"].iloc[3]
    assert (e.column, e.value, e.participant) == ("n_contacts", "two", pid)
    assert str(e).startswith(f"{TABLE}, participant '{pid}', column 'n_contacts': value of the "
                             "wrong type (1 row(s)). Found 'two'. Expected a whole number. "
                             "This is a bug in derivation")


def test_derived_value_outside_allowed_set(derived, schema):
    a, cfg = derived
    b = a.copy()
    b.loc[5, "rtw_event"] = 7
    e = _derived_error(b, schema, cfg)
    pid = a["participant_id"].iloc[5]
    assert str(e).startswith(f"{TABLE}, participant '{pid}', column 'rtw_event': value not "
                             "allowed (1 row(s)). Found 7. Expected one of 0, 1, 2.")


def test_derived_value_outside_config_range(derived, schema):
    a, cfg = derived
    b = a.copy()
    b.loc[2, "srtw_time"] = cfg["trial"]["followup_days"] + 1
    e = _derived_error(b, schema, cfg)
    assert e.column == "srtw_time" and "(config trial.followup_days)" in str(e)


def test_derived_missing_value_in_non_null_column(derived, schema):
    a, cfg = derived
    b = a.copy()
    b["days_off_source"] = b["days_off_source"].where(b.index != 4, None)
    e = _derived_error(b, schema, cfg)
    assert e.column == "days_off_source" and "empty value" in str(e)


def test_derived_missing_column(derived, schema):
    a, cfg = derived
    e = _derived_error(a.drop(columns=["withdrawal_level"]), schema, cfg)
    assert str(e).startswith(f"{TABLE}, column 'withdrawal_level': column described in the "
                             "schema is missing.")


def test_derived_column_without_schema_entry(derived, schema):
    a, cfg = derived
    e = _derived_error(a.assign(new_score=1.0), schema, cfg)
    assert str(e).startswith(f"{TABLE}, column 'new_score': column written by derivation has no "
                             "entry in the schema.")


def test_derived_arm_outside_config(derived, schema):
    a, cfg = derived
    b = a.copy()
    b.loc[0, "arm"] = "placebo"
    e = _derived_error(b, schema, cfg)
    assert e.column == "arm" and "(config trial.arms)" in str(e)


# ---------------------------------------------------------------- config names a missing column
def test_config_names_a_missing_column_with_suggestion(derived):
    a, cfg = derived
    cfg = {**cfg, "outcomes": {**cfg["outcomes"],
                               "count": {**cfg["outcomes"]["count"], "value": "days_off_6mo"}}}
    with pytest.raises(ConfigError) as ei:
        check_config_columns(cfg, list(a.columns), TABLE)
    assert str(ei.value) == ("config: outcomes.count.value: column 'days_off_6mo' is not in the "
                             "analysis table results/data/analysis.parquet (did you mean "
                             "'days_off_6m'?)")


def test_config_names_a_missing_column_without_a_near_name(derived):
    a, cfg = derived
    cfg = {**cfg, "covariates": ["days_off_before", "bmi"]}
    with pytest.raises(ConfigError) as ei:
        check_config_columns(cfg, a.columns, "mine.csv", source="config my.yaml")
    msg = str(ei.value)
    assert msg.startswith("config my.yaml: covariates[1]: column 'bmi' is not in the analysis "
                          "table mine.csv (its columns: participant_id, arm, ")
    assert "\n" not in msg


def test_config_columns_lists_every_key_naming_a_column(derived):
    _, cfg = derived
    keys = dict(config_columns(cfg))
    assert keys["outcomes.count.value"] == "days_off_6m"
    assert keys["outcomes.time_to_event[0].upper"] == "rtw_upper"
    assert keys["subgroups[2].column"] == "prior_absence_group"
    assert keys["strata"] == keys["cluster"] == "practice"
    assert keys["stratification_factors[0]"] == "condition_group"


def test_config_column_check_runs_from_a_header_alone(schema):
    """A dry run has only the header (or the derived column list), no data."""
    cfg = default_config()
    check_config_columns(cfg, derived_columns(schema, cfg), TABLE)


# ---------------------------------------------------------------- entry script writes nothing on failure
def _smk(raw, out: Path, cfg):
    return SimpleNamespace(
        input=SimpleNamespace(analysis_schema=str(SCHEMAS / "analysis.schema.yaml")),
        params=Params(raw_dir=str(raw), schemas=str(SCHEMAS), **cfg),
        output=SimpleNamespace(analysis=str(out / "analysis.parquet"),
                               analysis_csv=str(out / "analysis.csv"),
                               queries=str(out / "queries.csv"), consort=str(out / "consort.csv"),
                               clean=str(out / "clean")),
        log=[])


def test_clean_derive_writes_nothing_when_validation_fails(raw, tmp_path, monkeypatch, capsys):
    import rtw.core.entry
    import rtw.data.derivation as derivation
    real = derivation.derive_analysis
    monkeypatch.setattr(rtw.core.entry, "setup_logging", lambda *a, **k: None)
    monkeypatch.setattr(derivation, "derive_analysis",
                        lambda tables, cfg: real(tables, cfg).assign(rtw_event=np.int64(9)))
    out = tmp_path / "results"
    with pytest.raises(SystemExit) as ei:
        runpy.run_path(str(ROOT / "scripts" / "clean_derive.py"),
                       init_globals={"snakemake": _smk(raw, out, default_config())})
    assert ei.value.code == 1
    err = capsys.readouterr().err
    assert "column 'rtw_event': value not allowed" in err and "bug in derivation" in err
    assert not out.exists() or list(out.rglob("*")) == []


def test_import_table_validates_and_writes(tmp_path, monkeypatch):
    import rtw.core.entry
    monkeypatch.setattr(rtw.core.entry, "setup_logging", lambda *a, **k: None)
    p = tmp_path / "mine.csv"
    pd.DataFrame({"id": ["a", "b", "c"], "grp": ["x", "y", "x"],
                  "days": [3, 0, 10]}).to_csv(p, index=False)
    cfg = sap({"data": {"source": "table", "columns": {"participant_id": "id", "arm": "grp"}},
           "trial": {"arms": {"control": "x", "intervention": "y"}},
           "outcomes": {"count": {"value": "days"}}})
    out = tmp_path / "results"
    smk = SimpleNamespace(input=SimpleNamespace(table=str(p),
                                                analysis_schema=str(SCHEMAS / "analysis.schema.yaml")),
                          params=Params(**cfg),
                          output=SimpleNamespace(analysis=str(out / "analysis.parquet"),
                                                 analysis_csv=str(out / "analysis.csv"),
                                                 queries=str(out / "queries.csv")),
                          log=[])
    runpy.run_path(str(ROOT / "scripts" / "import_table.py"), init_globals={"snakemake": smk})
    assert list(pd.read_parquet(out / "analysis.parquet")["participant_id"]) == ["a", "b", "c"]
