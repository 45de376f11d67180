"""Bad input: structural problems stop with one clear message; interpretable ones become queries.

Each structural case asserts that the message names the file, the spreadsheet row
(header = row 1) and/or the column, the value, and what was expected.
"""
from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from helpers import SCHEMAS, default_config, write_synthetic, sap
from rtw.data.cleaning import clean_tables
from rtw.core.config import ConfigError
from rtw.data.analysis_schema import check_config_columns
from rtw.data.derivation import derive_analysis
from rtw.data.importer import import_analysis_table
from rtw.core.io import InputError


@pytest.fixture(scope="module")
def raw_template(tmp_path_factory):
    d = tmp_path_factory.mktemp("raw_template")
    write_synthetic(d)
    return d


@pytest.fixture
def raw(tmp_path, raw_template):
    d = tmp_path / "raw"
    shutil.copytree(raw_template, d)
    return d


def _edit(raw, table, fn):
    p = raw / f"{table}.csv"
    df = pd.read_csv(p, dtype=str, keep_default_na=False)
    df = fn(df)
    df.to_csv(p, index=False)
    return p


def _clean(raw, cfg=None):
    return clean_tables(raw, cfg or default_config(), SCHEMAS)


def _expect(raw, match, cfg=None, **attrs):
    with pytest.raises(InputError, match=match) as ei:
        _clean(raw, cfg)
    for k, v in attrs.items():
        assert getattr(ei.value, k) == v, (k, getattr(ei.value, k), str(ei.value))
    return ei.value


# ---------------------------------------------------------------- structural errors
def test_missing_table(raw):
    (raw / "sms.csv").unlink()
    e = _expect(raw, "required table 'sms' is missing")
    assert "sms.csv" in str(e) and "sms.xlsx" in str(e)


def test_missing_required_column(raw):
    p = _edit(raw, "baseline", lambda d: d.drop(columns=["arm"]))
    e = _expect(raw, r"required column\(s\) \['arm'\] missing", file=str(p), row=1, column="arm")
    assert "Expected header with columns" in str(e)


def test_duplicated_participant_id_in_baseline(raw):
    def dup(d):
        d.loc[5, "participant_id"] = d.loc[2, "participant_id"]
        return d
    p = _edit(raw, "baseline", dup)
    e = _expect(raw, "duplicated participant_id", file=str(p), row=7, column="participant_id")
    assert "rows [4, 7]" in str(e)


def test_arm_label_not_in_config(raw):
    def bad(d):
        d.loc[9, "arm"] = "Vocational Advice"
        return d
    p = _edit(raw, "baseline", bad)
    e = _expect(raw, "arm label not in config", file=str(p), row=11, column="arm",
                value="Vocational Advice")
    assert "usual_care, vocational_advice" in str(e)


def test_control_arm_label_absent_from_data(raw):
    cfg = default_config()
    cfg["trial"]["arms"]["control"] = "placebo"
    def relabel(d):
        return d
    _edit(raw, "baseline", relabel)
    # data hold usual_care, which is now not a configured label -> the first error names it
    with pytest.raises(InputError, match="arm label not in config"):
        _clean(raw, cfg)
    # with the data relabelled so that only the intervention arm remains, the absent control is named
    _edit(raw, "baseline", lambda d: d.assign(arm="vocational_advice"))
    cfg2 = default_config()
    _expect(raw, "control arm label from config is absent", cfg=cfg2, column="arm",
            value="usual_care")


def test_sms_for_participant_never_randomised(raw):
    def bad(d):
        d.loc[3, "participant_id"] = "W9999999"
        return d
    p = _edit(raw, "sms", bad)
    _expect(raw, "never randomised", file=str(p), row=5, column="participant_id", value="W9999999")


def test_followup_for_participant_never_randomised(raw):
    def bad(d):
        d.loc[0, "participant_id"] = "X1"
        return d
    p = _edit(raw, "followup", bad)
    _expect(raw, "never randomised", file=str(p), row=2, column="participant_id", value="X1")


def test_unparseable_randomisation_date(raw):
    def bad(d):
        d.loc[4, "randomisation_date"] = "31/02/2021"
        return d
    p = _edit(raw, "baseline", bad)
    e = _expect(raw, "invalid value", file=str(p), row=6, column="randomisation_date",
                value="31/02/2021")
    assert "YYYY-MM-DD" in str(e)


def test_empty_file(raw):
    (raw / "withdrawals.csv").write_bytes(b"")
    _expect(raw, "file is empty", file=str(raw / "withdrawals.csv"))


def test_header_only_file(raw):
    _edit(raw, "baseline", lambda d: d.iloc[0:0])
    _expect(raw, "header but no data rows", file=str(raw / "baseline.csv"), row=2)


def test_wrong_encoding(raw):
    p = raw / "baseline.csv"
    text = p.read_text(encoding="utf-8").replace("musculoskeletal", "musculosquelettique\u00e9", 1)
    p.write_bytes(text.encode("latin-1"))
    e = _expect(raw, "not valid UTF-8", file=str(p))
    assert "UTF-8" in str(e)


def test_empty_required_value(raw):
    def bad(d):
        d.loc[7, "practice"] = ""
        return d
    p = _edit(raw, "baseline", bad)
    _expect(raw, "empty value in required column", file=str(p), row=9, column="practice")


def test_unknown_timepoint(raw):
    def bad(d):
        d.loc[1, "timepoint"] = "12m"
        return d
    p = _edit(raw, "followup", bad)
    _expect(raw, "unknown questionnaire timepoint", file=str(p), row=3, column="timepoint", value="12m")


def test_withdrawal_before_randomisation(raw):
    def bad(d):
        d.loc[0, "withdrawal_date"] = "2000-01-01"
        return d
    p = _edit(raw, "withdrawals", bad)
    _expect(raw, "withdrawal date before randomisation", file=str(p), row=2, column="withdrawal_date")


def test_invalid_condition_group(raw):
    def bad(d):
        d.loc[0, "condition_group"] = "cardiac"
        return d
    p = _edit(raw, "baseline", bad)
    _expect(raw, "invalid value", file=str(p), row=2, column="condition_group", value="cardiac")


def test_table_in_two_formats(raw):
    shutil.copy(raw / "sms.csv", raw / "sms.parquet")
    _expect(raw, "present in more than one format")


def test_config_names_missing_column(raw):
    cfg = default_config()
    cfg["covariates"] = ["days_off_before", "bmi"]
    tables, _ = _clean(raw, cfg)
    a = derive_analysis(tables, cfg)
    with pytest.raises(ConfigError, match=r"^config: covariates\[1\]: column 'bmi' is not in the "
                                          r"analysis table analysis"):
        check_config_columns(cfg, a.columns, "analysis")


def test_byo_table_config_names_missing_column(tmp_path):
    p = tmp_path / "t.csv"
    pd.DataFrame({"id": ["a", "b"], "grp": ["x", "y"], "t": [1, 2], "e": [1, 0]}).to_csv(p, index=False)
    cfg = default_config()
    cfg["data"]["columns"] = {"participant_id": "id", "arm": "group", "practice": None}
    cfg["trial"]["arms"] = {"control": "x", "intervention": "y"}
    with pytest.raises(InputError, match="data.columns.arm names a column that does not exist") as ei:
        import_analysis_table(p, cfg)
    assert ei.value.column == "group" and ei.value.row == 1


def test_byo_table_bad_event_code(tmp_path):
    p = tmp_path / "t.csv"
    pd.DataFrame({"id": ["a", "b", "c"], "grp": ["x", "y", "x"], "t": [1, 2, 3], "e": [1, 0, 7]}).to_csv(p, index=False)
    cfg = sap({"data": {"columns": {"participant_id": "id", "arm": "grp"}},
           "trial": {"arms": {"control": "x", "intervention": "y"}},
           "outcomes": {"time_to_event": {"time": "t", "event": "e"}}})
    with pytest.raises(InputError, match="event code not allowed") as ei:
        import_analysis_table(p, cfg)
    assert ei.value.row == 4 and ei.value.column == "e" and ei.value.value == 7


def _byo(tmp_path, **cols):
    base = {"id": ["a", "b", "c"], "grp": ["x", "y", "x"], "days": [3, 0, 10], "bin": [1, 0, None]}
    base.update(cols)
    p = tmp_path / "t.csv"
    pd.DataFrame(base).to_csv(p, index=False)
    cfg = sap({"data": {"columns": {"participant_id": "id", "arm": "grp"}},
           "trial": {"arms": {"control": "x", "intervention": "y"}},
           "outcomes": {"count": {"value": "days"}, "binary": [{"name": "b", "value": "bin"}]}})
    return p, cfg


def test_byo_count_not_a_number(tmp_path):
    p, cfg = _byo(tmp_path, days=[3, "about 5", 10])
    with pytest.raises(InputError, match="value is not a number") as ei:
        import_analysis_table(p, cfg)
    assert (ei.value.row, ei.value.column, ei.value.value) == (3, "days", "about 5")


def test_byo_negative_count(tmp_path):
    p, cfg = _byo(tmp_path, days=[3, 0, -1])
    with pytest.raises(InputError, match="value out of range") as ei:
        import_analysis_table(p, cfg)
    assert (ei.value.row, ei.value.column) == (4, "days") and "count >= 0" in str(ei.value)


def test_byo_binary_not_zero_one(tmp_path):
    p, cfg = _byo(tmp_path, bin=[1, 2, None])
    with pytest.raises(InputError, match="binary outcome value not 0 or 1") as ei:
        import_analysis_table(p, cfg)
    assert (ei.value.row, ei.value.column, ei.value.value) == (3, "bin", 2)


def test_byo_valid_table_with_missing_outcomes_is_accepted(tmp_path):
    p, cfg = _byo(tmp_path, days=[3, None, 10])
    df = import_analysis_table(p, cfg)
    assert len(df) == 3 and df["days"].isna().sum() == 1


# ---------------------------------------------------------------- interpretable -> queries
def _queries(raw):
    _, q = _clean(raw)
    return q


def test_free_text_days_off_is_interpreted_and_logged(raw):
    def ft(d):
        i = d.index[d["days_off"].isin(["3", "4", "5"])][0]
        d.loc[i, "days_off"] = "three days"
        d.loc[d.index[d["days_off"] == "0"][0], "days_off"] = "None"
        return d
    _edit(raw, "sms", ft)
    tables, q = _clean(raw)
    rows = q[(q["rule"] == "free text reply") & q["value"].isin(["three days", "None"])]
    assert set(rows["action"]) == {"interpreted as 3", "interpreted as 0"}
    assert set(rows.columns) == {"table", "row", "participant", "column", "value", "rule", "action"}


def test_reply_before_randomisation_is_queried_not_dropped(raw):
    def bad(d):
        i = d.index[d["reply_date"] != ""][0]
        d.loc[i, "reply_date"] = "2019-01-01"
        return d
    _edit(raw, "sms", bad)
    tables, q = _clean(raw)
    hit = q[(q["value"] == "2019-01-01") & (q["column"] == "reply_date")]
    assert len(hit) == 1 and "reply values kept" in hit["action"].iloc[0]


def test_out_of_range_score_is_queried_and_set_missing(raw):
    def bad(d):
        d.loc[0, "eq5d_index"] = "1.7"
        return d
    _edit(raw, "followup", bad)
    tables, q = _clean(raw)
    hit = q[(q["table"] == "followup") & (q["row"] == 2) & (q["column"] == "eq5d_index")]
    assert len(hit) == 1 and hit["action"].iloc[0] == "set to missing"
    assert np.isnan(tables["followup"]["eq5d_index"].iloc[0])


def test_duplicated_sms_is_queried(raw):
    def dup(d):
        return pd.concat([d, d.iloc[[20]]], ignore_index=True)
    _edit(raw, "sms", dup)
    q = _queries(raw)
    assert (q["rule"] == "duplicated SMS for participant and week").sum() >= 1


def test_unparseable_reply_date_is_queried(raw):
    def bad(d):
        i = d.index[d["reply_date"] != ""][3]
        d.loc[i, "reply_date"] = "yesterday"
        return d
    _edit(raw, "sms", bad)
    q = _queries(raw)
    hit = q[q["value"] == "yesterday"]
    assert len(hit) == 1 and hit["action"].iloc[0] == "set to missing"
