"""Presentation tables: counts, formatting, and every writer (opens; byte-identical)."""
import zipfile

import pandas as pd
import pytest

import fixtures_outputs as F
from rtw.report import tables


def _row(t, label):
    hits = t[t.iloc[:, 0] == label]
    assert len(hits) >= 1, f"row {label!r} not in table:\n{t.iloc[:, 0].tolist()}"
    return hits.iloc[0]


# ------------------------------------------------------------ Table 1 --
def test_table1_counts_and_formatting():
    cfg = F.config()
    df = F.analysis_df()
    t = tables.table1(df, cfg)
    n_c, n_i = (df["arm"] == F.CONTROL).sum(), (df["arm"] == F.INTERVENTION).sum()
    assert list(t.columns) == ["Characteristic", f"Usual care (n={n_c})",
                               f"Vocational advice (n={n_i})", f"Overall (n={len(df)})"]
    # categorical: n (%) of those with data; missing counted separately
    for arm, col in ((F.CONTROL, t.columns[1]), (F.INTERVENTION, t.columns[2])):
        s = df.loc[df["arm"] == arm, "sex"]
        k, d = int((s == "female").sum()), int(s.notna().sum())
        pct = 100 * k / d
        assert _row(t, "  Female")[col] == f"{k} ({tables.fmt.fmt_num(pct, 1)}%)"
    sex_rows = t.index[t["Characteristic"] == "Sex, n (%)"][0]
    assert t.loc[sex_rows + 3, "Characteristic"] == "  Missing, n"
    assert t.loc[sex_rows + 3, t.columns[1]] == "1"
    assert t.loc[sex_rows + 3, t.columns[3]] == "1"
    # continuous: mean (SD), median (IQR), missing
    age = df.loc[df["arm"] == F.CONTROL, "age"]
    i = t.index[t["Characteristic"] == "Age, years"][0]
    assert t.loc[i + 1, t.columns[1]] == f"{age.mean():.1f} ({age.std():.1f})"
    assert t.loc[i + 2, "Characteristic"] == "  Median (IQR)"
    assert t.loc[i + 3, "Characteristic"] == "  Missing, n"
    assert t.loc[i + 3, t.columns[3]] == "2"
    # no p-values anywhere (CONSORT)
    assert not any("p" == c.lower() or "p value" in c.lower() for c in t.columns)
    # variables without missing values have no Missing row
    j = t.index[t["Characteristic"] == "Job type, n (%)"][0]
    assert t.loc[j + 3, "Characteristic"] != "  Missing, n"


def test_table1_config_list_levels_and_errors():
    cfg = F.config()
    cfg["tables"] = {"baseline": [
        {"column": "sex", "label": "Sex", "type": "categorical",
         "levels": {"male": "Men", "female": "Women"}},
        {"column": "days_off_before", "label": "Prior days off", "type": "continuous",
         "summary": "median_iqr", "dp": 0},
    ], "show_missing": "always"}
    df = F.analysis_df()
    t = tables.table1(df, cfg)
    assert t["Characteristic"].tolist() == ["Sex, n (%)", "  Men", "  Women", "  Missing, n",
                                            "Prior days off", "  Median (IQR)", "  Missing, n"]
    bad = F.analysis_df()
    bad.loc[0, "arm"] = "placebo"
    with pytest.raises(ValueError, match="placebo"):
        tables.table1(bad, cfg)
    cfg["tables"]["baseline"][0]["levels"] = ["male"]
    with pytest.raises(ValueError, match="female"):
        tables.table1(df, cfg)


# --------------------------------------------------- estimate tables --
def test_primary_table():
    cfg = F.config()
    df = F.analysis_df()
    t = tables.primary_table(F.estimates(), df, cfg)
    assert list(t.columns) == ["Outcome / analysis", "Usual care", "Vocational advice", "IRR",
                               "95% CI", "80% CI", "p", "n"]
    r = _row(t, "  Primary: negative binomial, ITT")
    assert (r["IRR"], r["95% CI"], r["80% CI"], r["p"]) == ("0.91", "0.55 to 1.51",
                                                           "0.65 to 1.28", "0.724")
    x = df.loc[df["arm"] == F.INTERVENTION, "days_off_6m"]
    assert _row(t, "  Mean (SD)")["Vocational advice"] == f"{x.mean():.1f} ({x.std():.1f})"
    assert _row(t, "  With outcome, n")["Vocational advice"] == str(x.notna().sum())
    labels = t["Outcome / analysis"].tolist()
    assert "  Hurdle negative binomial" not in labels          # absent analysis left out
    # CACE is a difference in mean days: listed under its own heading, after the IRRs
    assert labels.index("  Zero-inflated negative binomial") < labels.index(
        "Difference in mean days off, intervention vs control") < labels.index(
        "  Complier average causal effect (IV), days")


def test_secondary_table():
    cfg = F.config()
    t = tables.secondary_table(F.estimates(), cfg, F.analysis_df())
    r = _row(t, "")
    assert r["Analysis"] == "ANCOVA: mean difference"
    assert (r["Estimate"], r["95% CI"], r["p"]) == ("0.03", "-0.02 to 0.08", "0.210")
    lg = t[t["Analysis"] == "Logistic regression: odds ratio"].iloc[0]
    assert lg["Estimate"] == "1.40"
    assert _row(t, "At work at 6 months")["Usual care"].endswith("n=20")
    # eq5d needs 2 decimals (configured per outcome via dp, default by scale)
    assert _row(t, "EQ-5D-5L index, 6 months")["Usual care"].count(".") == 2


def test_survival_table():
    cfg = F.config()
    t = tables.survival_table(F.estimates(), cfg)
    assert t["Measure"].iloc[0] == "Time to first return to work"
    med = _row(t, "  Median time, days (95% CI)")
    assert med["Usual care"] == "70 (56 to 98)"
    assert med["Vocational advice"] == "not reached (84 to NR)"
    p42 = _row(t, "  Returned by day 42, % (95% CI)")
    assert p42["Usual care"] == "25.0 (15.0 to 35.0)"
    hr = _row(t, "  Cox, adjusted")
    assert (hr["Contrast"], hr["Estimate"], hr["95% CI"], hr["p"]) == (
        "Hazard ratio", "1.18", "0.82 to 1.70", "0.370")
    assert _row(t, "  Log-rank test")["p"] == "0.390"
    rm = _row(t, "  Restricted mean time to day 182, days")
    assert rm["Estimate"] == "-5.5" and rm["Usual care"] == "95.2 (80.1 to 110.3)"
    # no rows for an outcome without estimates
    assert "Time to sustained return to work" not in t["Measure"].tolist()


# ------------------------------------------------------------ writers --
def _write_all(tmp_path, name):
    t = tables.table1(F.analysis_df(), F.config())
    return t, tables.write_table(t, tmp_path / name / "table1",
                                 "Table 1. Baseline characteristics by arm",
                                 "Values are n (%) or mean (SD); percentages of those with data.")


def test_writers_open_and_are_byte_identical(tmp_path):
    t, a = _write_all(tmp_path, "a")
    _, b = _write_all(tmp_path, "b")
    assert sorted(a) == ["csv", "docx", "html", "md", "tex"]
    for f in a:
        assert a[f].read_bytes() == b[f].read_bytes(), f
    # CSV round-trips
    back = pd.read_csv(a["csv"], dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(back, t.astype(str))
    # Markdown: one line per row plus header, separator, title, footnote
    md = a["md"].read_text()
    assert md.startswith("**Table 1. Baseline characteristics by arm**")
    assert md.count("\n| ") == len(t) + 1
    assert "&nbsp;&nbsp;&nbsp;&nbsp;Mean (SD)" in md
    # HTML parses and holds every cell
    from html.parser import HTMLParser

    class P(HTMLParser):
        def __init__(self):
            super().__init__()
            self.cells, self.cur = [], None

        def handle_starttag(self, tag, attrs):
            if tag in ("td", "th"):
                self.cur = ""

        def handle_data(self, data):
            if self.cur is not None:
                self.cur += data

        def handle_endtag(self, tag):
            if tag in ("td", "th"):
                self.cells.append(self.cur)
                self.cur = None
    p = P()
    p.feed(a["html"].read_text())
    assert len(p.cells) == t.size + len(t.columns)
    assert p.cells[len(t.columns)] == t.iloc[0, 0].strip()
    # docx opens with python-docx and holds the table
    import docx
    d = docx.Document(str(a["docx"]))
    assert len(d.tables) == 1
    wt = d.tables[0]
    assert len(wt.rows) == len(t) + 1 and len(wt.columns) == len(t.columns)
    assert wt.cell(0, 1).text == t.columns[1]
    assert wt.cell(2, 1).text == t.iloc[1, 1]
    assert d.core_properties.created.year == 2000
    assert d.core_properties.modified.year == 2000
    with zipfile.ZipFile(a["docx"]) as z:
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in z.infolist())
        core = z.read("docProps/core.xml").decode()
        assert "2000-01-01T00:00:00" in core
    # LaTeX: booktabs, escaped, one row per table row
    tex = a["tex"].read_text()
    assert r"\toprule" in tex and r"\midrule" in tex and r"\bottomrule" in tex
    assert tex.count(r" \\") == len(t) + 1
    assert r"\%" in tex and "%)" not in tex.replace(r"\%)", "")
    assert r"\quad Mean (SD)" in tex


def test_latex_and_markdown_escaping(tmp_path):
    t = pd.DataFrame({"A_b": ["x & y", "50%", "a|b", "  sub_row"], "C": ["$1", "#2", "~", "<0.001"]})
    out = tables.write_table(t, tmp_path / "esc", "T & title", "note_1", formats=("tex", "md", "html"))
    tex = out["tex"].read_text()
    for s in (r"A\_b", r"x \& y", r"50\%", r"\$1", r"\#2", r"\textasciitilde{}",
              r"\textless{}0.001", r"\quad sub\_row", r"T \& title"):
        assert s in tex
    md = out["md"].read_text()
    assert r"a\|b" in md
    h = out["html"].read_text()
    assert "x &amp; y" in h and "&lt;0.001" in h


def test_docx_rerun_identical_after_time_passes(tmp_path, monkeypatch):
    """python-docx stamps zip entries with the current time: normalise_zip removes it."""
    t = pd.DataFrame({"a": ["1"], "b": ["2"]})
    b1 = tables.to_docx_bytes(t, "x")
    import time
    real = time.localtime
    monkeypatch.setattr(time, "localtime", lambda *a: real(time.time() + 86400 * 400))
    b2 = tables.to_docx_bytes(t, "x")
    assert b1 == b2


def test_table1_config_falls_back_to_config_columns_for_own_tables():
    """A bring-your-own table without the default baseline variables gets Table 1 rows for
    the config's stratification factors, covariates and outcome baselines."""
    import pandas as pd
    df = pd.DataFrame({"arm": ["x", "y", "x", "y"], "site": ["a", "b", "a", "b"],
                       "prior": [10.0, 20.0, 30.0, 40.0], "score0": [0.1, 0.5, 0.9, 0.3]})
    cfg = {"trial": {"arms": {"control": "x", "intervention": "y"}},
           "stratification_factors": ["site"], "covariates": ["prior"],
           "outcomes": {"continuous": [{"name": "s", "value": "s6", "baseline": "score0"}]}}
    spec = tables.table1_config(cfg, df)["tables"]["baseline"]
    assert [(d["column"], d["type"]) for d in spec] == [
        ("site", "categorical"), ("prior", "continuous"), ("score0", "continuous")]
    assert spec[2]["dp"] == 2
