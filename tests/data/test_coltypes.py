"""Types checked before any fit (issue 14, item 2): every column an analysis uses is checked
against its declared or inferred type by the import (rtw.data.coltypes), and covariates may be
declared ``{column, type, reference}``.

The issue's finding: one ``45y`` in a numeric ``age`` column of a CSV turned age into a
~50-level factor and the run went on to write partial results; in ``.xlsx`` it gave a raw
pyarrow traceback.  Now both stop on one line naming file, row, column, value and what was
expected, before anything is written.
"""
from __future__ import annotations

import logging

import numpy as np
import openpyxl
import pandas as pd
import pytest

from helpers import sap
from rtw.core.config import ConfigError, covariate_declarations, covariate_names
from rtw.core.io import InputError
from rtw.core.modelframe import build_design
from rtw.data.analysis_schema import config_columns
from rtw.data.coltypes import check_column_types
from rtw.data.importer import import_analysis_table


def _table(n=12, **cols):
    rng = np.random.default_rng(3)
    base = {"id": [f"p{i}" for i in range(n)], "grp": ["x", "y"] * (n // 2),
            "days": rng.integers(0, 20, n).tolist(), "age": rng.integers(20, 65, n).tolist(),
            "sex": ["female", "male", "male"] * (n // 3)}
    base.update(cols)
    return pd.DataFrame(base)


def _cfg(covariates=("age",), **extra):
    return sap({"data": {"columns": {"participant_id": "id", "arm": "grp"}},
                "trial": {"arms": {"control": "x", "intervention": "y"}},
                "covariates": list(covariates),
                "outcomes": {"count": {"value": "days"}}, **extra})


def _write(df, path):
    if path.suffix == ".xlsx":
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.append(list(df.columns))
        for row in df.itertuples(index=False):
            ws.append([None if isinstance(v, float) and np.isnan(v) else v for v in row])
        wb.save(path)
    else:
        df.to_csv(path, index=False)
    return path


def _one_line(e, *parts):
    text = str(e)
    assert "\n" not in text, text
    for p in parts:
        assert str(p) in text, (p, text)


@pytest.mark.parametrize("ext", [".csv", ".xlsx"])
def test_numeric_covariate_with_one_text_value_stops_on_one_line(tmp_path, ext):
    """The issue's finding, in CSV and in .xlsx (was: a ~50-level factor / a pyarrow traceback)."""
    df = _table()
    df["age"] = df["age"].astype(object)
    df.loc[6, "age"] = "45y"
    p = _write(df, tmp_path / f"t{ext}")
    with pytest.raises(InputError, match="value is not a number in a numeric covariate") as ei:
        import_analysis_table(p, _cfg())
    e = ei.value
    assert (e.file, e.row, e.column, e.value) == (str(p), 8, "age", "45y")
    _one_line(e, f"file {p}", "row 8", "column 'age'", "Found '45y'", "Expected a number",
              "11 of 12 values in this column are numbers",
              "{column: age, type: categorical}")


def test_declared_numeric_covariate_with_text_stops_even_when_text_is_most(tmp_path):
    df = _table(sex=["1", "f", "m"] * 4)
    p = _write(df, tmp_path / "t.csv")
    cfg = _cfg([{"column": "sex", "type": "numeric"}])
    with pytest.raises(InputError, match="not a number in numeric covariate") as ei:
        import_analysis_table(p, cfg)
    assert (ei.value.row, ei.value.column, ei.value.value) == (3, "sex", "f")
    assert "declares type: numeric" in str(ei.value)


def test_text_covariate_with_one_number_stops_naming_the_number(tmp_path):
    df = _table(sex=["female", "male", "male"] * 3 + ["female", "2", "male"])
    p = _write(df, tmp_path / "t.csv")
    with pytest.raises(InputError, match=r"number in a categorical \(text\) covariate") as ei:
        import_analysis_table(p, _cfg(["sex"]))
    assert (ei.value.row, ei.value.column, ei.value.value) == (12, "sex", "2")


def test_mixed_column_declared_categorical_is_accepted(tmp_path):
    df = _table()
    df["age"] = df["age"].astype(object)
    df.loc[6, "age"] = "45y"
    p = _write(df, tmp_path / "t.csv")
    out = import_analysis_table(p, _cfg([{"column": "age", "type": "categorical"}]))
    assert out["age"].iloc[6] == "45y"


def test_inferred_types_of_plain_names_are_reported_in_the_log(tmp_path, caplog):
    p = _write(_table(), tmp_path / "t.csv")
    with caplog.at_level(logging.INFO, logger="rtw.coltypes"):
        import_analysis_table(p, _cfg(["age", "sex"]))
    text = caplog.text
    assert "covariates[0] 'age': numeric (inferred: all 12 values are numbers" in text
    assert "covariates[1] 'sex': categorical (inferred: every value is text), 2 levels, " \
           "reference 'female' (first in sort order)" in text


def test_declared_reference_not_a_level_stops_on_one_line(tmp_path):
    p = _write(_table(), tmp_path / "t.csv")
    cfg = _cfg([{"column": "sex", "type": "categorical", "reference": "Female"}])
    with pytest.raises(InputError, match="reference level of categorical covariate") as ei:
        import_analysis_table(p, cfg)
    _one_line(ei.value, f"file {p}", "column 'sex'", "Found 'Female'",
              "one of the column's levels: 'female', 'male'", "covariates[0].reference")


def test_count_outcome_text_value_is_still_named(tmp_path):
    df = _table()
    df["days"] = df["days"].astype(object)
    df.loc[2, "days"] = "about 5"
    p = _write(df, tmp_path / "t.xlsx")
    with pytest.raises(InputError, match="value is not a number") as ei:
        import_analysis_table(p, _cfg())
    assert (ei.value.row, ei.value.column, ei.value.value) == (4, "days", "about 5")


def test_derived_table_messages_name_the_participant():
    df = _table().rename(columns={"id": "participant_id", "grp": "arm"})
    df["age"] = df["age"].astype(object)
    df.loc[3, "age"] = "n/k"
    with pytest.raises(InputError) as ei:
        check_column_types(df, _cfg(), "results/data/analysis.parquet",
                           ids=df["participant_id"].to_numpy())
    _one_line(ei.value, "results/data/analysis.parquet", "column 'age'", "participant 'p3'",
              "Found 'n/k'")


# ---------------------------------------------------------------- the two forms in config
def test_covariates_may_be_plain_names_or_declarations():
    cfg = _cfg(["age", {"column": "sex", "type": "categorical", "reference": "male"},
                {"column": "days", "type": "numeric"}])
    assert covariate_names(cfg) == ["age", "sex", "days"]
    assert covariate_declarations(cfg) == {
        "sex": {"type": "categorical", "reference": "male"},
        "days": {"type": "numeric", "reference": None}}
    assert ("covariates[1]", "sex") in config_columns(cfg)


def test_declaration_needs_a_type_and_refuses_unknown_keys():
    with pytest.raises(ConfigError, match=r"covariates\[0\]"):
        _cfg([{"column": "sex"}])
    with pytest.raises(ConfigError, match="refrence"):
        _cfg([{"column": "sex", "type": "categorical", "refrence": "male"}])


def test_reference_for_a_numeric_covariate_is_a_config_error():
    with pytest.raises(ConfigError, match=r"covariates\[0\]: reference 40 given for numeric"):
        _cfg([{"column": "age", "type": "numeric", "reference": 40}])


def test_declaration_of_a_role_column_is_renamed_to_the_role():
    cfg = sap({"data": {"source": "table", "table": "t.csv",
                        "columns": {"participant_id": "id", "arm": "grp", "practice": "site"}},
               "trial": {"arms": {"control": "x", "intervention": "y"}},
               "covariates": [{"column": "site", "type": "categorical", "reference": "S2"}],
               "outcomes": {"count": {"value": "days"}}})
    assert covariate_declarations(cfg) == {"practice": {"type": "categorical", "reference": "S2"}}


# ---------------------------------------------------------------- the model frame
def test_model_frame_puts_the_declared_reference_first():
    df = _table().rename(columns={"id": "participant_id", "grp": "arm"})
    plain = build_design(df, _cfg(["sex"]), outcome="days", adjust=["sex"])
    assert list(plain.X.columns) == ["(Intercept)", "arm", "sex[male]"]
    cfg = _cfg([{"column": "sex", "type": "categorical", "reference": "male"}])
    d = build_design(df, cfg, outcome="days", adjust=["sex"])
    assert list(d.X.columns) == ["(Intercept)", "arm", "sex[female]"]
    assert d.X["sex[female]"].tolist() == (df["sex"] == "female").astype(float).tolist()


def test_model_frame_treats_a_numeric_column_declared_categorical_as_levels():
    df = _table(grade=[1, 2, 3] * 4).rename(columns={"id": "participant_id", "grp": "arm"})
    cfg = _cfg([{"column": "grade", "type": "categorical", "reference": 2}])
    d = build_design(df, cfg, outcome="days", adjust=["grade"])
    assert list(d.X.columns) == ["(Intercept)", "arm", "grade[1]", "grade[3]"]
