"""A catalogue of named bad or awkward bring-your-own inputs (issue 14, item 5).

Each case starts from one small valid table and config (:func:`_base`), changes one thing,
and asserts what the import says: a bad input stops with one :class:`InputError` or
:class:`ConfigError` line (its message, and where known the file, spreadsheet row, column and
value); an interpretable one is accepted with a data query row (column, value, rule) in the
queries table.  The catalogue's names are the ids of the parametrised tests (``pytest -v``).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import openpyxl
import pandas as pd
import pytest

from helpers import sap
from rtw.core.config import ConfigError
from rtw.core.io import InputError
from rtw.data.cleaning import Queries
from rtw.data.importer import import_analysis_table

N = 12


def _base() -> tuple[pd.DataFrame, dict]:
    rng = np.random.default_rng(11)
    df = pd.DataFrame({
        "id": [f"p{i:02d}" for i in range(N)], "grp": ["x", "y"] * (N // 2),
        "site": ["s1", "s2", "s3"] * (N // 3),
        "age": rng.integers(20, 65, N), "sex": ["female", "male", "male"] * (N // 3),
        "days": rng.integers(0, 30, N), "days0": rng.integers(0, 30, N),
        "eq5d": np.round(rng.uniform(0, 1, N), 3), "eq5d0": np.round(rng.uniform(0, 1, N), 3),
        "work": [1, 0] * (N // 2), "t": rng.integers(1, 182, N), "e": [1, 0, 1, 2] * (N // 4),
        "lo": [0] * N, "hi": [10] * N,
    })
    cfg = {"data": {"source": "table", "table": "table.csv",
                    "columns": {"participant_id": "id", "arm": "grp", "practice": "site"}},
           "trial": {"arms": {"control": "x", "intervention": "y"}},
           "covariates": ["age", {"column": "sex", "type": "categorical", "reference": "female"}],
           "subgroups": [{"name": "by_sex", "column": "sex"}],
           "outcomes": {"count": {"value": "days", "baseline": "days0"},
                        "continuous": [{"name": "eq5d", "value": "eq5d", "baseline": "eq5d0"}],
                        "binary": [{"name": "work", "value": "work"}],
                        "time_to_event": {"time": "t", "event": "e", "competing_value": 2}}}
    return df, cfg


def _set(col, row, value):
    """Set data row ``row`` (0-based; spreadsheet row ``row + 2``) of ``col`` to ``value``."""
    def f(df):
        df[col] = df[col].astype(object)
        df.loc[row, col] = value
        return df
    return f


@dataclass
class Case:
    name: str
    table: Callable = lambda df: df
    config: Callable = lambda cfg: cfg
    error: str | None = None                  # regex of the message
    where: tuple = ()                          # (row, column, value) of the error, as far as known
    query: tuple | None = None                 # (column, value, rule substring) of a query row
    ext: str = ".csv"
    exc: type = InputError
    raw: bytes | None = None                   # the file's bytes, instead of the table
    kwargs: dict = field(default_factory=dict)


def _cfg(fn):
    def f(cfg):
        fn(cfg)
        return cfg
    return f


def _tte(**kw):
    return _cfg(lambda c: c["outcomes"]["time_to_event"].update(kw))


def _interval(c):
    c["outcomes"]["time_to_event"].update({"lower": "lo", "upper": "hi"})


CASES = [
    # ---------------------------------------------------------------- covariate types
    Case("numeric_covariate_one_text_value_csv", _set("age", 6, "45y"),
         error="value is not a number in a numeric covariate", where=(8, "age", "45y")),
    Case("numeric_covariate_one_text_value_xlsx", _set("age", 6, "45y"), ext=".xlsx",
         error="value is not a number in a numeric covariate", where=(8, "age", "45y")),
    Case("numeric_covariate_text_na", _set("age", 2, "n/k"),
         error="value is not a number in a numeric covariate", where=(4, "age", "n/k")),
    Case("numeric_covariate_infinite", _set("age", 3, "inf"),
         error="value is not a number in a numeric covariate", where=(5, "age")),
    Case("numeric_covariate_decimal_comma_in_comma_csv", _set("age", 1, "41,5"),
         error="value is not a number in a numeric covariate", where=(3, "age", "41,5")),
    Case("declared_numeric_covariate_mostly_text",
         lambda df: df.assign(sex=["f", "1", "m"] * (N // 3)),
         _cfg(lambda c: c.__setitem__("covariates", [{"column": "sex", "type": "numeric"}])),
         error="not a number in numeric covariate", where=(2, "sex", "f")),
    Case("text_covariate_one_number", _set("sex", 4, "2"),
         _cfg(lambda c: c.__setitem__("covariates", ["sex"])),
         error=r"number in a categorical \(text\) covariate", where=(6, "sex", "2")),
    Case("reference_level_not_in_data",
         config=_cfg(lambda c: c["covariates"][1].__setitem__("reference", "woman")),
         error="reference level of categorical covariate is not a value", where=(None, "sex", "woman")),
    Case("reference_for_numeric_covariate",
         config=_cfg(lambda c: c["covariates"].__setitem__(
             0, {"column": "age", "type": "numeric", "reference": 40})),
         exc=ConfigError, error=r"covariates\[0\]: reference 40 given for numeric covariate"),
    Case("covariate_declaration_without_type",
         config=_cfg(lambda c: c["covariates"].__setitem__(0, {"column": "age"})),
         exc=ConfigError, error=r"covariates\[0\]"),
    Case("covariate_type_misspelt",
         config=_cfg(lambda c: c["covariates"].__setitem__(0, {"column": "age", "type": "numerical"})),
         exc=ConfigError, error=r"covariates\[0\]"),
    Case("covariate_column_absent",
         config=_cfg(lambda c: c["covariates"].append("bmi")),
         exc=ConfigError, error=r"covariates\[2\]: column 'bmi' is not in the analysis table"),
    # ---------------------------------------------------------------- outcomes and baselines
    Case("count_not_a_number", _set("days", 1, "about 5"),
         error="value is not a number", where=(3, "days", "about 5")),
    Case("count_negative", _set("days", 5, -1), error="value out of range", where=(7, "days")),
    Case("count_baseline_text", _set("days0", 0, "lots"),
         error="value is not a number", where=(2, "days0", "lots")),
    Case("count_baseline_negative", _set("days0", 9, -3),
         error="value out of range", where=(11, "days0")),
    Case("count_xlsx_text", _set("days", 2, "3 days"), ext=".xlsx",
         error="value is not a number", where=(4, "days", "3 days")),
    Case("continuous_outcome_text", _set("eq5d", 3, "0,71x"),
         error="value is not a number", where=(5, "eq5d", "0,71x")),
    Case("continuous_baseline_text", _set("eq5d0", 7, "missing?"),
         error="value is not a number", where=(9, "eq5d0", "missing?")),
    Case("binary_outcome_two", _set("work", 2, 2),
         error="binary outcome value not 0 or 1", where=(4, "work")),
    Case("binary_outcome_yes", _set("work", 0, "yes"),
         error="binary outcome value not 0 or 1", where=(2, "work", "yes")),
    Case("tte_time_missing", _set("t", 4, None),
         error="time-to-event time missing, not a number or negative", where=(6, "t")),
    Case("tte_time_negative", _set("t", 1, -4),
         error="time-to-event time missing, not a number or negative", where=(3, "t")),
    Case("tte_time_text", _set("t", 8, "6 weeks"),
         error="time-to-event time missing, not a number or negative", where=(10, "t", "6 weeks")),
    Case("event_code_not_allowed", _set("e", 3, 7), error="event code not allowed", where=(5, "e")),
    Case("event_code_competing_not_declared", config=_tte(competing_value=None),
         error="event code not allowed", where=(5, "e")),
    Case("interval_lower_negative", _set("lo", 0, -1), config=_cfg(_interval),
         error="value out of range", where=(2, "lo")),
    Case("interval_upper_text", _set("hi", 5, "later"), config=_cfg(_interval),
         error="value is not a number", where=(7, "hi", "later")),
    # ---------------------------------------------------------------- structure
    Case("duplicated_participant_id", _set("id", 5, "p02"),
         error="duplicated participant id", where=(7, "id", "p02")),
    Case("arm_label_unknown", _set("grp", 3, "z"),
         error="arm label not in config trial.arms", where=(5, "grp", "z")),
    Case("arm_label_near_miss_not_a_variant", _set("grp", 3, "x x"),
         error="arm label not in config trial.arms", where=(5, "grp", "x x")),
    Case("control_arm_absent", lambda df: df.assign(grp="y"),
         error="the control arm label from config is absent", where=(None, "grp", "x")),
    Case("header_only", lambda df: df.iloc[0:0], error="header but no data rows", where=(2,)),
    Case("empty_file", raw=b"", error="file is empty"),
    Case("not_utf8", raw="id,grp\np\u00e9,x\n".encode("latin-1"), error="not valid UTF-8"),
    Case("ragged_csv", raw=b"id,grp,t\n1,x,3\n2,y,4,5,6\n", error="CSV could not be parsed"),
    Case("unsupported_extension", ext=".txt", error="unsupported file type"),
    Case("xlsx_sheet_missing", ext=".xlsx",
         config=_cfg(lambda c: c["data"].__setitem__("sheet", "Data")),
         error="sheet not found in the workbook"),
    Case("arm_column_mapping_absent",
         config=_cfg(lambda c: c["data"]["columns"].__setitem__("arm", "group")),
         error="data.columns.arm names a column that does not exist", where=(1, "group")),
    Case("role_name_clash", lambda df: df.assign(arm="x"),
         error="table already has a column named like a role", where=(1, "arm")),
    # ---------------------------------------------------------------- interpretable -> queries
    Case("arm_label_trailing_space", _set("grp", 2, "x "),
         query=("grp", "x ", "label differs from config trial.arms only in case or surrounding blanks")),
    Case("arm_label_other_case", _set("grp", 3, "Y"),
         query=("grp", "Y", "label differs from config trial.arms only in case")),
    Case("covariate_level_with_blanks", _set("sex", 1, " male "),
         query=("sex", " male ", "only in case or surrounding blanks")),
    Case("subgroup_level_other_case", _set("sex", 0, "FEMALE"),
         query=("sex", "FEMALE", "only in case or surrounding blanks")),
    Case("stratum_mapped_to_practice_other_case", _set("site", 0, "S1"),
         config=_cfg(lambda c: c.__setitem__("strata", "site")),
         query=("site", "S1", "only in case or surrounding blanks")),
]


def _write(df: pd.DataFrame, path, case: Case):
    if case.raw is not None:
        path.write_bytes(case.raw)
    elif path.suffix == ".xlsx":
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.append(list(df.columns))
        for row in df.itertuples(index=False):
            ws.append([None if v is None or (isinstance(v, float) and np.isnan(v))
                       else (v.item() if hasattr(v, "item") else v) for v in row])
        wb.save(path)
    else:
        df.to_csv(path, index=False)


def _run(tmp_path, case: Case):
    df, cfg = _base()
    df = case.table(df.copy())
    path = tmp_path / f"table{case.ext}"
    _write(df, path, case)
    queries = Queries()
    config = sap(case.config(copy.deepcopy(cfg)))
    return import_analysis_table(path, config, queries), queries, path


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_catalogue(tmp_path, case):
    if case.query is None:
        with pytest.raises(case.exc, match=case.error) as ei:
            _run(tmp_path, case)
        e = ei.value
        assert "\n" not in str(e), str(e)
        if case.exc is InputError:
            assert e.file == str(tmp_path / f"table{case.ext}")
            for attr, want in zip(("row", "column", "value"), case.where):
                assert getattr(e, attr) == want, (attr, getattr(e, attr), str(e))
        return
    out, queries, path = _run(tmp_path, case)
    q = queries.frame()
    column, value, rule = case.query
    hit = q[(q["column"] == column) & (q["value"].astype(str) == value)]
    assert len(hit) == 1, q
    assert rule in hit["rule"].iloc[0] and hit["table"].iloc[0] == path.name
    assert hit["action"].iloc[0].startswith("matched to")


def test_catalogue_names_are_unique_and_many():
    names = [c.name for c in CASES]
    assert len(names) == len(set(names)) and len(names) >= 40
