"""rtw.data.plan: what `snakemake -n` checks before any job (issue 10, item 7)."""
from __future__ import annotations

import pandas as pd
import pytest
from helpers import SCHEMAS, default_config, sap

from rtw.core.config import ConfigError
from rtw.data.plan import check_raw_plan, check_table_plan, header_and_labels


def _byo(tmp_path, fmt="csv", **config):
    df = pd.DataFrame({"pid": range(6), "grp": [0, 1, 0, 1, 0, 1], "months": [1.5, 2, 3, 4, 5, 6],
                       "ev": [1, 0, 1, 1, 0, 1], "age": [30, 40, 50, 60, 35, 45]})
    path = tmp_path / f"t.{fmt}"
    if fmt == "csv":
        df.to_csv(path, index=False)
    else:
        df.to_parquet(path)
    cfg = {"data": {"source": "table", "table": str(path),
                    "columns": {"participant_id": "pid", "arm": "grp"}},
           "trial": {"arms": {"control": 0, "intervention": 1}},
           "covariates": ["age"],
           "outcomes": {"time_to_event": {"name": "rtw", "time": "months", "event": "ev"}}}
    for key, value in config.items():
        cfg[key] = value
    return sap(cfg)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_good_bring_your_own_plan_passes_with_numeric_arm_labels(tmp_path, fmt):
    check_table_plan(_byo(tmp_path, fmt), "config my.yaml", cache=None)


def test_a_column_the_config_names_must_be_in_the_table_header(tmp_path):
    cfg = _byo(tmp_path, covariates=["agee"])
    with pytest.raises(ConfigError, match=r"^config my\.yaml: covariates\[0\]: column 'agee' is not "
                                          r"in the analysis table .*t\.csv \(did you mean 'age'\?\)"):
        check_table_plan(cfg, "config my.yaml", cache=None)


def test_a_mapped_role_column_must_be_in_the_table_header(tmp_path):
    cfg = _byo(tmp_path)
    cfg["data"]["columns"]["arm"] = "group"
    with pytest.raises(ConfigError, match=r"data\.columns\.arm: column 'group' is not in the "
                                          r"table .*t\.csv \(did you mean 'grp'\?\)"):
        check_table_plan(cfg, "config my.yaml", cache=None)


def test_both_arm_labels_must_occur_in_the_data(tmp_path):
    cfg = _byo(tmp_path, trial={"arms": {"control": 0, "intervention": 2}})
    with pytest.raises(ConfigError, match=r"trial\.arms\.intervention: arm label '2' does not "
                                          r"occur in column 'grp' of .*t\.csv \(labels found: 0, 1\)"):
        check_table_plan(cfg, "config my.yaml", cache=None)


def test_arm_labels_match_by_value_whatever_the_file_holds(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("id,arm\n1,1.0\n2, 2 \n3,02\n", encoding="utf-8")
    header, labels = header_and_labels(path, "arm", cache=None)
    assert header == ["id", "arm"] and labels == {"1", "2"}


def test_what_was_read_is_cached_by_size_and_time(tmp_path):
    path, cache = tmp_path / "x.csv", tmp_path / "cache.json"
    path.write_text("id,arm\n1,a\n", encoding="utf-8")
    assert header_and_labels(path, "arm", cache=cache)[1] == {"a"}
    assert cache.is_file()
    path.write_text("id,arm\n1,a\n2,bb\n", encoding="utf-8")     # new size: read again
    assert header_and_labels(path, "arm", cache=cache)[1] == {"a", "bb"}


def test_raw_exports_plan_checks_the_columns_derivation_writes(tmp_path):
    cfg = default_config()
    check_raw_plan(cfg, None, "config c.yaml", SCHEMAS / "analysis.schema.yaml", cache=None)
    cfg["outcomes"]["count"]["value"] = "days_off_6mo"
    with pytest.raises(ConfigError, match=r"outcomes\.count\.value: column 'days_off_6mo' is not "
                                          r"in the analysis table the analysis dataset derived .*"
                                          r"\(did you mean 'days_off_6m'\?\)"):
        check_raw_plan(cfg, None, "config c.yaml", SCHEMAS / "analysis.schema.yaml", cache=None)


def test_raw_exports_plan_checks_the_arms_of_the_baseline_export(tmp_path):
    cfg = default_config()
    baseline = tmp_path / "baseline.csv"
    baseline.write_text("participant_id,arm\nW1,usual_care\nW2,vocational_advise\n",
                        encoding="utf-8")
    with pytest.raises(ConfigError, match=r"arm label 'vocational_advice' does not occur in "
                                          r"column 'arm' of .*baseline\.csv"):
        check_raw_plan(cfg, str(baseline), "config c.yaml", SCHEMAS / "analysis.schema.yaml",
                       cache=None)
