"""Table writers: every format opens, holds the table, escapes, and is byte-identical on reruns."""
import zipfile

import pandas as pd

import fixtures_outputs as F
from rtw.report import tables, writers


def test_tables_reexports_the_writers():
    """Callers of ``tables.write_table`` (scripts, tests) get the writers' functions."""
    for name in ("write_table", "to_markdown", "to_html", "to_latex", "to_docx_bytes",
                 "normalise_zip", "tex_escape", "WRITERS", "INDENT"):
        assert getattr(tables, name) is getattr(writers, name), name


def _write_all(tmp_path, name):
    t = tables.table1(F.analysis_df(), F.config())
    return t, writers.write_table(t, tmp_path / name / "table1",
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
    out = writers.write_table(t, tmp_path / "esc", "T & title", "note_1", formats=("tex", "md", "html"))
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
    b1 = writers.to_docx_bytes(t, "x")
    import time
    real = time.localtime
    monkeypatch.setattr(time, "localtime", lambda *a: real(time.time() + 86400 * 400))
    b2 = writers.to_docx_bytes(t, "x")
    assert b1 == b2


# ------------------------------------------- journal standard (issue 11 item 4) --
def _journal_table():
    """A small estimate table with a sub-sub-row, negative numbers and footnote symbols."""
    t = pd.DataFrame({"Measure": ["Outcome", "  Cox, adjusted*", "    PH test, global\u2020",
                                  "  RMST difference, days*"],
                      "Usual care": ["", "", "", "51.5 (36.8 to 66.2)"],
                      "HR": ["", "1.06", "", ""],
                      "Difference, days": ["", "", "", "\u22127.5"],
                      "Test statistic": ["", "", "\u03c7\u00b2(4) = 19.48", ""],
                      "95% CI": ["", "0.74 to 1.53", "", "\u221225.7 to 10.7"],
                      "p": ["", "0.737", "<0.001", "0.420"]})
    t.attrs["footnotes"] = [("*", "Adjusted for Health condition group; cluster-robust SE."),
                            ("\u2020", "Proportional-hazards test (R cox.zph).")]
    return t


def _w(tag):
    return "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}" + tag


def test_docx_is_a_three_line_table_on_a4_with_a_repeated_header(tmp_path):
    import docx
    out = writers.write_table(_journal_table(), tmp_path / "s", "Survival", "HR: hazard ratio.")
    d = docx.Document(str(out["docx"]))
    sec = d.sections[0]
    # A4 by default (the schema's tables.page_size); 7 columns: landscape
    assert (round(sec.page_width.mm), round(sec.page_height.mm)) == (297, 210)
    t = d.tables[0]
    tbl = t._tbl
    assert t.style is None or t.style.name != "Table Grid"            # no boxed cells
    borders = tbl.tblPr.find(_w("tblBorders"))
    val = {e.tag.split("}")[1]: (e.get(_w("val")), e.get(_w("sz"))) for e in borders}
    assert val["top"] == ("single", "12") and val["bottom"] == ("single", "12")
    for inner in ("insideH", "insideV", "left", "right"):
        assert val[inner][0] in ("nil", "none"), inner
    # the rule under the header: a bottom border on every header cell, none on body cells
    for cell in t.rows[0].cells:
        b = cell._tc.tcPr.find(_w("tcBorders")).find(_w("bottom"))
        assert b.get(_w("val")) == "single" and b.get(_w("sz")) == "6"
    for row in t.rows[1:]:
        for cell in row.cells:
            assert cell._tc.tcPr is None or cell._tc.tcPr.find(_w("tcBorders")) is None
    # header row repeated on each page; body rows not split
    assert t.rows[0]._tr.trPr.find(_w("tblHeader")) is not None
    assert all(r._tr.trPr.find(_w("tblHeader")) is None for r in t.rows[1:])
    # numbers right-aligned (header included), labels left
    from docx.enum.text import WD_ALIGN_PARAGRAPH as A
    assert t.cell(0, 2).paragraphs[0].alignment == A.RIGHT
    assert t.cell(2, 2).paragraphs[0].alignment == A.RIGHT
    assert t.cell(4, 3).paragraphs[0].alignment == A.RIGHT
    assert t.cell(2, 0).paragraphs[0].alignment in (None, A.LEFT)
    # the sub-sub-row indented twice as far as a sub-row; footnote symbols superscript
    assert round(t.cell(3, 0).paragraphs[0].paragraph_format.left_indent.mm) == 8
    assert round(t.cell(2, 0).paragraphs[0].paragraph_format.left_indent.mm) == 4
    runs = t.cell(2, 0).paragraphs[0].runs
    assert [r.text for r in runs] == ["Cox, adjusted", "*"] and runs[1].font.superscript
    # minus sign and footnotes (the general one, then one paragraph per symbol)
    assert t.cell(4, 3).text == "\u22127.5"
    paras = [p.text for p in d.paragraphs]
    assert paras[-3:] == ["HR: hazard ratio.",
                          "* Adjusted for Health condition group; cluster-robust SE.",
                          "\u2020 Proportional-hazards test (R cox.zph)."]


def test_docx_page_size_letter_and_portrait(tmp_path):
    import docx
    narrow = _journal_table()[["Measure", "HR", "p"]]
    out = writers.write_table(narrow, tmp_path / "n", "T", formats=["docx"], page_size="letter")
    sec = docx.Document(str(out["docx"])).sections[0]
    assert (round(sec.page_width.inches, 2), round(sec.page_height.inches, 2)) == (8.5, 11.0)
    wide = writers.write_table(_journal_table(), tmp_path / "w", "T", formats=["docx"],
                               page_size="letter")
    sec = docx.Document(str(wide["docx"])).sections[0]
    assert (round(sec.page_width.inches, 2), round(sec.page_height.inches, 2)) == (11.0, 8.5)
    import pytest
    with pytest.raises(ValueError, match="page_size"):
        writers.to_docx_bytes(narrow, page_size="A5")


def test_html_numbers_right_aligned_and_three_rules(tmp_path):
    out = writers.write_table(_journal_table(), tmp_path / "s", "Survival", "HR: hazard ratio.")
    h = out["html"].read_text()
    assert "th.num,td.num{text-align:right;" in h and "tabular-nums" in h
    assert "thead th{border-top:1.5px solid #000;border-bottom:1px solid #000;}" in h
    assert "tbody tr:last-child td{border-bottom:1.5px solid #000;}" in h
    # header: label column left, the six numeric columns right
    assert h.count('<th class="num">') == 6 and "<th>Measure</th>" in h
    assert '<td class="num">\u22127.5</td>' in h
    assert '<td class="sub">Cox, adjusted<sup>*</sup></td>' in h
    assert '<td class="sub2">PH test, global<sup>\u2020</sup></td>' in h
    assert '<p class="footnote">* Adjusted for Health condition group; cluster-robust SE.</p>' in h
    assert '<p class="footnote">HR: hazard ratio.</p>' in h


def test_minus_signs_and_footnotes_in_csv_and_markdown(tmp_path):
    out = writers.write_table(_journal_table(), tmp_path / "s", "Survival", "HR: hazard ratio.")
    csv = out["csv"].read_text(encoding="utf-8")
    assert "\u22127.5" in csv and "\u221225.7 to 10.7" in csv
    import re
    assert not re.search(r"-\d", csv)                         # no hyphen-minus before a digit
    # CSV: the table, a blank row, then the key to its symbols
    back = pd.read_csv(out["csv"], dtype=str, keep_default_na=False)
    assert back.iloc[:4].equals(_journal_table().astype(str))
    assert back.iloc[4].tolist() == [""] * 7
    assert back.iloc[5, 0] == "* Adjusted for Health condition group; cluster-robust SE."
    assert back.iloc[6, 0] == "\u2020 Proportional-hazards test (R cox.zph)."
    md = out["md"].read_text(encoding="utf-8")
    assert "|:---|---:|---:|---:|---:|---:|---:|" in md           # numbers right-aligned
    assert "Cox, adjusted\\* |" in md and "\u22127.5" in md
    assert "\n\n\\* Adjusted for Health condition group; cluster-robust SE.\n" in md
    assert "\n\n\u2020 Proportional-hazards test (R cox.zph).\n" in md
    assert "&nbsp;" * 8 + "PH test, global\u2020" in md
    tex = out["tex"].read_text(encoding="utf-8")
    assert r"\begin{tabular}{lrrrrrr}" in tex
    assert r"$-$7.5" in tex and r"\textsuperscript{\dag{}}" in tex and r"$\chi$$^{2}$(4)" in tex


def test_journal_tables_byte_identical_on_rerun(tmp_path):
    a = writers.write_table(_journal_table(), tmp_path / "a" / "s", "T", "F")
    b = writers.write_table(_journal_table(), tmp_path / "b" / "s", "T", "F")
    for f in a:
        assert a[f].read_bytes() == b[f].read_bytes(), f


def test_docx_number_columns_keep_their_natural_width(tmp_path):
    """Numbers never wrap: the label column gives way first (down to its minimum)."""
    import docx
    t = _journal_table()
    t.loc[0, "Measure"] = "A very long label " * 6
    out = writers.write_table(t, tmp_path / "s", "T", formats=["docx"])
    sec = docx.Document(str(out["docx"])).sections[0]
    usable = (sec.page_width - sec.left_margin - sec.right_margin) / 36000.0
    nat = writers.natural_widths_mm(t)
    got = writers.column_widths_mm(t, usable)
    assert got[1:] == nat[1:] and abs(sum(got) - usable) < 1e-6
    assert got[0] >= writers.MIN_LABEL_MM
