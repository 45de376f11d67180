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
