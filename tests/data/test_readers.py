"""Readers for real files (issue 14, item 1), each on files made the way the tools make them
(openpyxl and pandas for Excel and CSV, pyreadstat (ReadStat, as R haven) for Stata, SPSS and
SAS transport; SAS-made .sas7bdat/.sas7bcat files from pyreadstat's test data, Apache 2.0, in
tests/data/files/), and label variants (item 2): matched, and logged as data queries.

Every error asserted here is one line naming the file, the spreadsheet row, the column, the
value and what was expected.
"""
from __future__ import annotations

import datetime as dt
import runpy
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import openpyxl
import pandas as pd
import pyreadstat
import pytest

from helpers import ROOT, SCHEMAS, Params, default_config, sap, write_synthetic
from rtw.core.io import InputError, ReadOptions, csv_dialect, read_table
from rtw.data.cleaning import Queries, clean_tables
from rtw.data.derivation import derive_analysis
from rtw.data.importer import import_analysis_table
from rtw.data.plan import check_raw_plan, check_table_plan, header_and_labels

FILES = Path(__file__).parent / "files"


@pytest.fixture(scope="module")
def raw_template(tmp_path_factory):
    d = tmp_path_factory.mktemp("raw_readers")
    write_synthetic(d)
    return d


@pytest.fixture
def raw(tmp_path, raw_template):
    d = tmp_path / "raw"
    shutil.copytree(raw_template, d)
    return d


@pytest.fixture(scope="module")
def reference_analysis(raw_template):
    cfg = default_config()
    tables, queries = clean_tables(raw_template, cfg, SCHEMAS)
    return derive_analysis(tables, cfg), queries


def _one_line(e, *parts):
    text = str(e)
    assert "\n" not in text, text
    for p in parts:
        assert str(p) in text, (p, text)


def _config(**data):
    cfg = default_config()
    cfg["data"].update(data)
    return cfg


# ---------------------------------------------------------------- Excel
def _workbook(path, rows, sheet="Sheet1", first=None):
    wb = openpyxl.Workbook()
    ws = wb.active
    if first is not None:
        ws.title = first
        ws.append(["not", "this"])
        ws = wb.create_sheet(sheet)
    else:
        ws.title = sheet
    for r in rows:
        ws.append(r)
    wb.save(path)


def test_xlsx_date_datetime_and_time_cells_read_as_iso_text(tmp_path):
    p = tmp_path / "t.xlsx"
    _workbook(p, [["id", "d", "dt", "t"],
                  ["a", dt.date(2021, 4, 23), dt.datetime(2021, 4, 23, 10, 30), dt.time(9, 15)],
                  ["b", dt.datetime(2021, 4, 24), dt.datetime(2021, 4, 25, 0, 0), dt.time(0, 0)]])
    df = read_table(p)
    assert df["d"].tolist() == ["2021-04-23", "2021-04-24"]
    assert df["dt"].tolist() == ["2021-04-23 10:30:00", "2021-04-25"]
    assert df["t"].tolist() == ["09:15:00", "00:00:00"]


def test_xlsx_randomisation_dates_as_excel_date_cells_clean_like_the_csv(raw, reference_analysis):
    """The issue's finding: real Excel date cells stopped with "Found '2021-04-23 00:00:00'"."""
    base = pd.read_csv(raw / "baseline.csv", dtype=str, keep_default_na=False)
    base["randomisation_date"] = pd.to_datetime(base["randomisation_date"])   # date cells
    base["age"] = pd.to_numeric(base["age"])
    base.to_excel(raw / "baseline.xlsx", index=False)
    (raw / "baseline.csv").unlink()
    wb = openpyxl.load_workbook(raw / "baseline.xlsx")
    col = [c.value for c in wb.active[1]].index("randomisation_date") + 1
    assert wb.active.cell(2, col).is_date
    cfg = default_config()
    tables, queries = clean_tables(raw, cfg, SCHEMAS)
    pd.testing.assert_frame_equal(derive_analysis(tables, cfg), reference_analysis[0])
    pd.testing.assert_frame_equal(queries, reference_analysis[1])


def test_xlsx_numbers_stored_as_text_are_numbers_in_a_bring_your_own_table(tmp_path):
    p = tmp_path / "t.xlsx"
    _workbook(p, [["id", "grp", "days", "age"], ["a", "x", "3", 40], ["b", "y", 0, "51"],
                  ["c", "x", "10", 33.5]])
    cfg = sap({"data": {"columns": {"participant_id": "id", "arm": "grp"}},
               "trial": {"arms": {"control": "x", "intervention": "y"}},
               "outcomes": {"count": {"value": "days"}}})
    df = import_analysis_table(p, cfg)
    assert df["days"].tolist() == [3, 0, 10] and pd.api.types.is_numeric_dtype(df["days"])
    assert df["age"].tolist() == [40, 51, 33.5]


def test_xlsx_column_with_one_text_value_stays_text_for_the_type_check(tmp_path):
    p = tmp_path / "t.xlsx"
    _workbook(p, [["id", "age"], ["a", 40], ["b", "45y"], ["c", 33]])
    df = read_table(p, as_text=False)
    assert df["age"].tolist() == ["40", "45y", "33"]


def test_xlsx_named_sheet_is_read_with_data_sheet(tmp_path):
    p = tmp_path / "t.xlsx"
    _workbook(p, [["id", "v"], ["a", 1]], sheet="Data", first="Notes")
    assert list(read_table(p).columns) == ["not", "this"]          # default: the first sheet
    df = read_table(p, options=ReadOptions(sheet="Data"))
    assert list(df.columns) == ["id", "v"] and df["v"].tolist() == ["1"]


def test_xlsx_missing_sheet_error_names_the_file_and_the_sheets(tmp_path):
    p = tmp_path / "t.xlsx"
    _workbook(p, [["id"], ["a"]], sheet="Data", first="Notes")
    with pytest.raises(InputError, match="sheet not found") as ei:
        read_table(p, options=ReadOptions(sheet="data"))
    _one_line(ei.value, p, "'data'", "'Notes', 'Data'", "data.sheet")


# ---------------------------------------------------------------- Stata, SPSS, SAS
EVENT_LABELS = {0: "censored", 1: "returned", 2: "left job"}
ARM_LABELS = {0: "usual_care", 1: "vocational_advice"}


def _labelled(tmp_path, ext="dta", event=(1, 0, 2, 1, 0, 1), arm=(0, 1, 0, 1, 0, 1)):
    df = pd.DataFrame({"pid": [f"p{i}" for i in range(6)], "grp": list(arm),
                       "months": [1.5, 2.0, 3.0, 4.0, 5.0, 6.0], "ev": list(event),
                       "sex": [1, 2, 1, 2, 2, 1],
                       "rand": [dt.date(2021, 1, 4 + i) for i in range(6)]})
    path = tmp_path / f"t.{ext}"
    labels = {"ev": EVENT_LABELS, "grp": ARM_LABELS, "sex": {1: "female", 2: "male"}}
    if ext == "dta":
        pyreadstat.write_dta(df, str(path), variable_value_labels=labels)
    else:
        pyreadstat.write_sav(df, str(path), variable_value_labels=labels)
    return path


def _tte_cfg(path, arms=("usual_care", "vocational_advice"), event_value=1, competing=2):
    return sap({"data": {"source": "table", "table": str(path),
                         "columns": {"participant_id": "pid", "arm": "grp"}},
                "trial": {"arms": {"control": arms[0], "intervention": arms[1]}},
                "covariates": ["sex"],
                "outcomes": {"time_to_event": {"name": "rtw", "time": "months", "event": "ev",
                                               "event_value": event_value,
                                               "competing_value": competing}}})


@pytest.mark.parametrize("ext", ["dta", "sav"])
def test_stata_and_spss_read_codes_and_keep_value_labels_and_dates(tmp_path, ext):
    df = read_table(_labelled(tmp_path, ext), as_text=False)
    assert df["ev"].tolist() == [1, 0, 2, 1, 0, 1]
    assert df.attrs["value_labels"]["ev"] == EVENT_LABELS
    assert df["rand"].tolist()[:2] == ["2021-01-04", "2021-01-05"]     # %td / DATE11 -> ISO


@pytest.mark.parametrize("ext", ["dta", "sav"])
@pytest.mark.parametrize("event_value, competing", [(1, 2), ("returned", "left job")])
def test_event_codes_may_be_named_by_value_or_by_label(tmp_path, ext, event_value, competing):
    """The issue's finding: codes failed with Found 'left job', labels with Found 'censored'."""
    path = _labelled(tmp_path, ext)
    cfg = _tte_cfg(path, event_value=event_value, competing=competing)
    df = import_analysis_table(path, cfg)
    assert df["ev"].tolist() == [1, 0, 2, 1, 0, 1]                      # codes: 0 = censored
    resolved = check_table_plan(cfg, "config my.yaml", cache=None)       # what later rules see
    o = resolved["outcomes"]["time_to_event"][0]
    assert (o["event_value"], o["competing_value"]) == (1, 2)
    assert df["sex"].tolist() == ["female", "male", "female", "male", "male", "female"]


@pytest.mark.parametrize("arms, held", [(("usual_care", "vocational_advice"), "usual_care"),
                                         ((0, 1), "0")])
def test_arms_may_be_named_by_code_or_by_value_label(tmp_path, arms, held):
    path = _labelled(tmp_path)
    cfg = _tte_cfg(path, arms=arms)
    check_table_plan(cfg, "config my.yaml", cache=None)
    df = import_analysis_table(path, cfg)
    assert df["arm"].iloc[0] == held and set(df["arm"]) == {str(a) for a in arms}


def test_event_label_not_in_the_column_stops_with_its_labels(tmp_path):
    path = _labelled(tmp_path, event=(1, 0, 3, 1, 0, 1))
    with pytest.raises(InputError, match="event code not allowed") as ei:
        import_analysis_table(path, _tte_cfg(path, event_value="returned", competing="left job"))
    _one_line(ei.value, path, "row 4", "'ev'", "Found 3", "0 = censored, 1 = returned")


def test_raw_baseline_as_labelled_stata_cleans_like_the_csv(raw, reference_analysis):
    base = pd.read_csv(raw / "baseline.csv", dtype=str, keep_default_na=False)
    codes = {"usual_care": 0, "vocational_advice": 1}
    base["arm"] = base["arm"].map(codes)
    base["sex"] = base["sex"].map({"female": 1, "male": 2})
    for c in ("age", "days_off_before"):
        base[c] = pd.to_numeric(base[c])
    pyreadstat.write_dta(base, str(raw / "baseline.dta"), variable_value_labels={
        "arm": {v: k for k, v in codes.items()}, "sex": {1: "female", 2: "male"}})
    (raw / "baseline.csv").unlink()
    cfg = default_config()
    check_raw_plan(cfg, str(raw / "baseline.dta"), "config c.yaml", SCHEMAS / "analysis.schema.yaml",
                   cache=None)
    tables, _ = clean_tables(raw, cfg, SCHEMAS)
    a = derive_analysis(tables, cfg)
    ref = reference_analysis[0]
    assert a["arm"].tolist() == ref["arm"].tolist() and a["sex"].tolist() == ref["sex"].tolist()


def test_sas7bdat_with_its_format_catalog_keeps_value_labels():
    df = read_table(FILES / "sas_labelled.sas7bdat")
    assert df["SEXA"].tolist() == ["1", "2", "1"]
    assert df.attrs["value_labels"]["SEXA"] == {"1": "Male", "2": "Female"}


def test_sas7bdat_date_datetime_and_time_formats_read_as_iso_text():
    df = read_table(FILES / "sas_dates.sas7bdat")
    assert df["mydate"].tolist()[:2] == ["2018-05-06", "1880-05-06"]
    assert df["dtime"].iloc[0] == "2018-05-06 10:10:10" and df["mytime"].iloc[1] == "23:10:10"
    assert df["mydate"].isna().iloc[4]


def test_xpt_written_by_pyreadstat_reads_numbers_and_dates(tmp_path):
    p = tmp_path / "t.xpt"
    pyreadstat.write_xport(pd.DataFrame({"ID": ["a", "b"], "AGE": [40.0, np.nan],
                                         "RDATE": [dt.date(2021, 3, 1), dt.date(2021, 3, 2)]}),
                           str(p))
    df = read_table(p, as_text=False)
    assert df["AGE"].iloc[0] == 40 and np.isnan(df["AGE"].iloc[1])
    assert df["RDATE"].tolist() == ["2021-03-01", "2021-03-02"]


# ---------------------------------------------------------------- CSV
def _byo_frame():
    return pd.DataFrame({"id": ["a", "b", "c", "d"], "grp": ["x", "y", "x", "y"],
                         "score": [1.5, 2.25, np.nan, 4.0], "days": [3, 0, 10, 7]})


def test_csv_with_bom_crlf_semicolon_and_decimal_comma_is_detected(tmp_path):
    p = tmp_path / "t.csv"
    _byo_frame().to_csv(p, sep=";", decimal=",", encoding="utf-8-sig", lineterminator="\r\n",
                        index=False)
    assert p.read_bytes().startswith(b"\xef\xbb\xbf") and b"\r\n" in p.read_bytes()
    assert csv_dialect(p) == ("utf-8-sig", ";", ",")
    df = read_table(p, as_text=False)
    assert list(df.columns) == ["id", "grp", "score", "days"]
    assert df["score"].tolist()[:2] == [1.5, 2.25] and df["days"].tolist() == [3, 0, 10, 7]
    assert read_table(p)["score"].tolist()[:2] == ["1.5", "2.25"]      # as text: a number


def test_csv_dialect_set_in_config_is_used(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("id|v\na|1,5\n", encoding="utf-8")
    assert csv_dialect(p, ReadOptions(sep="|", decimal=".")) == ("utf-8", "|", ".")
    assert read_table(p, as_text=False, options=ReadOptions(sep="|", decimal=","))["v"].iloc[0] == 1.5


def test_csv_utf16_from_excel_unicode_text_is_read(tmp_path):
    p = tmp_path / "t.csv"
    _byo_frame().to_csv(p, sep="\t", encoding="utf-16", index=False)
    assert csv_dialect(p)[:2] == ("utf-16", "\t")
    assert read_table(p, as_text=False)["days"].tolist() == [3, 0, 10, 7]


def test_cp1252_csv_needs_its_encoding_configured(tmp_path):
    p = tmp_path / "t.csv"
    pd.DataFrame({"id": ["a"], "site": ["Montréal"]}).to_csv(p, index=False, encoding="cp1252")
    with pytest.raises(InputError, match="not valid UTF-8") as ei:
        read_table(p)
    _one_line(ei.value, p, "data.csv.encoding")
    assert read_table(p, options=ReadOptions(encoding="cp1252"))["site"].iloc[0] == "Montréal"


def test_missing_value_codes_default_and_configured(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("id,v,w\na,NA,-99\nb,.,5\nc, ,-99.0\nd,3,\n", encoding="utf-8")
    df = read_table(p, as_text=False, options=ReadOptions(missing_values=("-99",)))
    assert df["v"].isna().tolist() == [True, True, True, False] and df["v"].iloc[3] == 3
    assert df["w"].isna().tolist() == [True, False, True, True]
    assert read_table(p, as_text=False)["w"].tolist()[:3] == [-99, 5, -99]


def test_missing_value_code_applies_to_numeric_columns_of_stata_files(tmp_path):
    p = tmp_path / "t.dta"
    pyreadstat.write_dta(pd.DataFrame({"id": ["a", "b"], "age": [40.0, -99.0]}), str(p))
    df = read_table(p, as_text=False, options=ReadOptions(missing_values=("-99",)))
    assert df["age"].iloc[0] == 40 and np.isnan(df["age"].iloc[1])


def _resave_csv(raw, table, **to_csv):
    p = raw / f"{table}.csv"
    pd.read_csv(p, dtype=str, keep_default_na=False).to_csv(p, index=False, **to_csv)


def test_raw_exports_as_semicolon_decimal_comma_csv_clean_like_the_default(raw, reference_analysis):
    for t in ("screening", "baseline", "sms", "followup", "intervention", "withdrawals"):
        p = raw / f"{t}.csv"
        df = pd.read_csv(p, dtype=str, keep_default_na=False)
        df = df.apply(lambda s: s.str.replace(r"^(-?\d+)\.(\d+)$", r"\1,\2", regex=True))
        df.to_csv(p, sep=";", index=False, encoding="utf-8-sig", lineterminator="\r\n")
    cfg = default_config()
    tables, queries = clean_tables(raw, cfg, SCHEMAS)
    pd.testing.assert_frame_equal(derive_analysis(tables, cfg), reference_analysis[0])
    pd.testing.assert_frame_equal(queries, reference_analysis[1])


def _uk_dates(raw):
    p = raw / "baseline.csv"
    df = pd.read_csv(p, dtype=str, keep_default_na=False)
    df["randomisation_date"] = pd.to_datetime(df["randomisation_date"]).dt.strftime("%d/%m/%Y")
    df.to_csv(p, index=False)
    return p, df


def test_uk_dates_with_configured_date_format_clean_like_iso(raw, reference_analysis):
    _uk_dates(raw)
    cfg = _config(csv={"sep": None, "decimal": None, "encoding": None, "date_format": "%d/%m/%Y"})
    tables, _ = clean_tables(raw, cfg, SCHEMAS)
    pd.testing.assert_frame_equal(derive_analysis(tables, cfg), reference_analysis[0])


def test_uk_dates_without_a_date_format_stop_on_one_line(raw):
    p, df = _uk_dates(raw)
    with pytest.raises(InputError, match="invalid value") as ei:
        clean_tables(raw, default_config(), SCHEMAS)
    bad = int(np.flatnonzero(pd.to_datetime(df["randomisation_date"], format="%Y-%m-%d",
                                            errors="coerce").isna())[0])
    _one_line(ei.value, p, f"row {bad + 2}", "'randomisation_date'",
              df["randomisation_date"].iloc[bad], "YYYY-MM-DD")


# ---------------------------------------------------------------- label variants (queries)
def _edit_baseline(raw, fn):
    p = raw / "baseline.csv"
    df = pd.read_csv(p, dtype=str, keep_default_na=False)
    fn(df)
    df.to_csv(p, index=False)
    return df


@pytest.mark.parametrize("variant", ["usual_care ", "Usual_Care", " USUAL_CARE"])
def test_raw_arm_label_variant_is_matched_and_queried(raw, reference_analysis, variant):
    """The issue's finding: a trailing space in one arm label was accepted without a query."""
    i = int(np.flatnonzero(reference_analysis[0]["arm"] == "usual_care")[0])

    def edit(df):
        df.loc[i, "arm"] = variant
    df = _edit_baseline(raw, edit)
    cfg = default_config()
    tables, queries = clean_tables(raw, cfg, SCHEMAS)
    pd.testing.assert_frame_equal(derive_analysis(tables, cfg), reference_analysis[0])
    q = queries[(queries["table"] == "baseline") & (queries["column"] == "arm")]
    assert len(q) == 1
    row = q.iloc[0]
    assert (row["row"], row["participant"], row["value"]) == (i + 2, df["participant_id"][i], variant)
    assert "case or surrounding blanks" in row["rule"] and row["action"] == "matched to arm 'usual_care'"


def test_raw_category_variant_is_matched_and_queried(raw, reference_analysis):
    def edit(df):
        df.loc[0, "sex"] = df.loc[0, "sex"].capitalize() + " "
    df = _edit_baseline(raw, edit)
    tables, queries = clean_tables(raw, default_config(), SCHEMAS)
    assert tables["baseline"]["sex"].iloc[0] == reference_analysis[0]["sex"].iloc[0]
    q = queries[(queries["column"] == "sex")]
    assert q[["row", "value"]].values.tolist() == [[2, df.loc[0, "sex"]]]
    assert q["action"].iloc[0] == f"matched to {reference_analysis[0]['sex'].iloc[0]!r}"


def test_raw_arm_label_that_is_no_variant_still_stops_on_one_line(raw):
    _edit_baseline(raw, lambda df: df.__setitem__("arm", df["arm"].where(df.index != 3, "usual care")))
    with pytest.raises(InputError, match="arm label not in config trial.arms") as ei:
        clean_tables(raw, default_config(), SCHEMAS)
    _one_line(ei.value, raw / "baseline.csv", "row 5", "'arm'", "'usual care'",
              "usual_care, vocational_advice")


def test_plan_accepts_arm_label_variants_that_the_job_queries(raw):
    _edit_baseline(raw, lambda df: df.__setitem__("arm", df["arm"].str.upper() + " "))
    check_raw_plan(default_config(), str(raw / "baseline.csv"), "config c.yaml",
                   SCHEMAS / "analysis.schema.yaml", cache=None)


def _byo_variants(tmp_path):
    p = tmp_path / "t.csv"
    pd.DataFrame({"id": ["a", "b", "c", "d", "e"],
                  "grp": ["x", "y ", "X", "y", "x"], "days": [3, 0, 10, 2, 1],
                  "sex": ["female", "male", "Female", "female ", "male"]}).to_csv(p, index=False)
    cfg = sap({"data": {"source": "table", "table": str(p),
                        "columns": {"participant_id": "id", "arm": "grp"}},
               "trial": {"arms": {"control": "x", "intervention": "y"}},
               "subgroups": [{"name": "sex", "column": "sex"}],
               "outcomes": {"count": {"value": "days"}}})
    return p, cfg


def test_byo_arm_and_subgroup_label_variants_are_matched_and_queried(tmp_path):
    p, cfg = _byo_variants(tmp_path)
    q = Queries()
    df = import_analysis_table(p, cfg, q)
    assert df["arm"].tolist() == ["x", "y", "x", "y", "x"]
    assert df["sex"].tolist() == ["female", "male", "female", "female", "male"]
    rows = q.frame()[["table", "row", "participant", "column", "value", "action"]].values.tolist()
    assert rows == [["t.csv", 3, "b", "grp", "y ", "matched to arm 'y'"],
                    ["t.csv", 4, "c", "grp", "X", "matched to arm 'x'"],
                    ["t.csv", 4, "c", "sex", "Female", "matched to 'female'"],
                    ["t.csv", 5, "d", "sex", "female ", "matched to 'female'"]]
    check_table_plan(cfg, "config my.yaml", cache=None)


def test_import_table_writes_the_variant_queries(tmp_path, monkeypatch):
    import rtw.core.entry
    monkeypatch.setattr(rtw.core.entry, "setup_logging", lambda *a, **k: None)
    p, cfg = _byo_variants(tmp_path)
    out = tmp_path / "results"
    smk = SimpleNamespace(input=SimpleNamespace(table=str(p),
                                                analysis_schema=str(SCHEMAS / "analysis.schema.yaml")),
                          params=Params(**cfg),
                          output=SimpleNamespace(analysis=str(out / "analysis.parquet"),
                                                 analysis_csv=str(out / "analysis.csv"),
                                                 queries=str(out / "queries.csv")),
                          log=[])
    runpy.run_path(str(ROOT / "scripts" / "import_table.py"), init_globals={"snakemake": smk})
    q = pd.read_csv(out / "queries.csv")
    assert len(q) == 4 and set(q["column"]) == {"grp", "sex"}


# ---------------------------------------------------------------- the plan reads as the job does
def test_plan_reads_a_semicolon_csv_with_the_same_reader(tmp_path):
    p = tmp_path / "t.csv"
    p.write_bytes("\ufeffpid;grp;t;e\r\n1;0;1,5;1\r\n2;1;2,5;0\r\n".encode("utf-8"))
    header, labels = header_and_labels(p, "grp", cache=None)
    assert header == ["pid", "grp", "t", "e"] and labels == {"0", "1"}


def test_plan_cache_is_keyed_by_the_read_settings(tmp_path):
    p, cache = tmp_path / "t.csv", tmp_path / "cache.json"
    p.write_text("id,arm\n1,a\n2,-99\n", encoding="utf-8")
    data = default_config()["data"]
    assert header_and_labels(p, "arm", cache, data)[1] == {"a", "-99"}
    data["missing_values"] = [-99]
    assert header_and_labels(p, "arm", cache, data)[1] == {"a"}
