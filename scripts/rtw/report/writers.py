"""Writers of presentation tables: CSV, Markdown, HTML, Word ``.docx`` and LaTeX (booktabs).

A table is a ``pandas.DataFrame`` of *strings* (built by :mod:`rtw.report.tables`),
first column the row label.  A row label starting with :data:`INDENT` (two spaces)
is a sub-row (four spaces: a sub-row of a sub-row); a row whose other cells are all
empty is a section header.  Footnotes: the ``footnote`` text (paragraphs separated by
``"\n"``) and the table's ``attrs["footnotes"]`` (``[(symbol, text), ...]`` from
:class:`rtw.report.tables.Footnotes`), one paragraph each; a symbol at the end of a cell
is set as a superscript in HTML, Word and LaTeX.

Journal conventions (the gtsummary / Stata defaults statisticians know):

* Three-line tables in every format: a rule above the header, one under it, one under the
  last row, no cell borders (Word: table borders top and bottom, a bottom border on the
  header cells, none inside; HTML: the same with CSS; LaTeX: booktabs).
* Word: A4 or US Letter (config ``tables.page_size``), landscape above 5 columns (or when
  the columns need more than a portrait page), header
  row repeated on every page (``w:tblHeader``), rows not split across pages.
* Numeric columns (:func:`numeric_columns`: most filled cells start with a number, a
  minus sign, ``<`` or a not-reached/not-estimable text) right-aligned, header included, in
  Word, HTML (``text-align:right``, tabular figures), LaTeX (``r``) and Markdown (``---:``).

:func:`write_table` writes every format atomically, UTF-8 with LF line ends, and
byte-identical on reruns (the ``.docx`` core properties and zip entries carry the
fixed times :data:`FIXED_DOCX_TIME` and :data:`FIXED_ZIP_DATE`).
"""
from __future__ import annotations

import html
import io as _io
import re
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Sequence

import pandas as pd

#: Prefix of a sub-row's label (a level of a categorical variable, a statistic of a continuous one).
INDENT = "  "
#: Fixed timestamp written into .docx core properties and zip entries.
FIXED_DOCX_TIME = datetime(2000, 1, 1, 0, 0, 0)
FIXED_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


#: Paper sizes of the Word tables (config ``tables.page_size``): (width, height) in mm.
PAGE_SIZES_MM = {"A4": (210.0, 297.0), "letter": (215.9, 279.4)}
#: Footnote symbols recognised at the end of a cell (set as superscripts).
MARK_CHARS = "*\u2020\u2021\u00a7\u00b6\u2016"
_MARK_RE = re.compile(f"([{re.escape(MARK_CHARS)}]+)$")
_NUMERIC_RE = re.compile(r"^(?:[\u2212\-+<>\u2264\u2265]?\s?\d|\u03c7|not reached|not estimable|NR\b|inf)")


def _is_sub(label: str) -> bool:
    return str(label).startswith(INDENT)


def indent_level(label: str) -> int:
    """0 for a row label, 1 for a sub-row (:data:`INDENT`), 2 for a sub-row of a sub-row."""
    s = str(label)
    return (len(s) - len(s.lstrip(" "))) // len(INDENT)


def split_mark(text: str) -> tuple[str, str]:
    """``("Cox, adjusted", "*")`` from ``"Cox, adjusted*"``: a trailing footnote symbol."""
    m = _MARK_RE.search(str(text))
    if not m or m.start() == 0:
        return str(text), ""
    return str(text)[:m.start()], m.group(1)


def _is_header(row: Sequence) -> bool:
    return all(str(v) == "" for v in list(row)[1:])


def numeric_columns(table: pd.DataFrame) -> list[bool]:
    """Per column, whether it holds numbers (right-aligned): not the label column; a column
    whose filled cells mostly start with a number (or a minus sign, ``<``, ``\u03c7``,
    "not reached", "not estimable")."""
    out = []
    for j, c in enumerate(table.columns):
        if j == 0:
            out.append(False)
            continue
        vals = [str(v) for v in table.iloc[:, j] if str(v).strip()]
        hits = sum(bool(_NUMERIC_RE.match(v.strip())) for v in vals)
        out.append(bool(vals) and hits >= 0.5 * len(vals))
    return out


def footnote_paragraphs(table: pd.DataFrame, footnote: str = "") -> list[str]:
    """The footnote's paragraphs (split at ``"\n"``), then ``"<symbol> <text>"`` of each of
    the table's ``attrs["footnotes"]``."""
    paras = [p for p in str(footnote or "").split("\n") if p.strip()]
    paras += [f"{m} {t}" for m, t in table.attrs.get("footnotes", [])]
    return paras


def to_markdown(table: pd.DataFrame, title: str = "", footnote: str = "") -> str:
    """GitHub-flavoured Markdown (pipes escaped; sub-rows indented with non-breaking spaces;
    numeric columns right-aligned, ``---:``; footnotes as paragraphs under the table)."""
    def cell(v, first=False):
        s = str(v).replace("|", "\\|").replace("*", "\\*")
        if first and _is_sub(s):
            s = "&nbsp;&nbsp;&nbsp;&nbsp;" * indent_level(s) + s.strip()
        return s
    lines = []
    if title:
        lines += [f"**{title}**", ""]
    num = numeric_columns(table)
    lines.append("| " + " | ".join(cell(c) for c in table.columns) + " |")
    lines.append("|" + "|".join(":---" if j == 0 else ("---:" if num[j] else "---")
                                for j in range(len(table.columns))) + "|")
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(cell(v, i == 0) for i, v in enumerate(row)) + " |")
    for p in footnote_paragraphs(table, footnote):
        mark, _, text = p.partition(" ")
        lines += ["", (mark.replace("*", "\\*") + " " + text) if text else p]
    return "\n".join(lines) + "\n"


def _html_cell(text: str) -> str:
    body, mark = split_mark(text)
    return html.escape(body) + (f"<sup>{html.escape(mark)}</sup>" if mark else "")


def to_html(table: pd.DataFrame, title: str = "", footnote: str = "") -> str:
    """A standalone HTML5 page with the table: caption, three rules (above and under the
    header, under the last row), numeric columns right-aligned with tabular figures,
    footnote symbols as superscripts, one footnote paragraph each."""
    e = html.escape
    num = numeric_columns(table)
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           f"<title>{e(title or 'Table')}</title>",
           "<style>",
           "body{font-family:'DejaVu Sans',Arial,sans-serif;font-size:10pt;}",
           "table{border-collapse:collapse;}",
           "caption{font-weight:bold;text-align:left;padding-bottom:4px;}",
           "th,td{padding:2px 8px;text-align:left;vertical-align:top;}",
           "th.num,td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap;}",
           "thead th{border-top:1.5px solid #000;border-bottom:1px solid #000;}",
           "tbody tr:last-child td{border-bottom:1.5px solid #000;}",
           "td.sub{padding-left:20px;}td.sub2{padding-left:36px;}td.head{font-weight:bold;}",
           ".footnote{font-size:9pt;max-width:60em;margin:2px 0;}",
           "sup{line-height:0;font-size:75%;}",
           "</style>", "</head>", "<body>", "<table>"]
    if title:
        out.append(f"<caption>{e(title)}</caption>")
    nc = ' class="num"'
    out.append("<thead><tr>" + "".join(
        f"<th{nc if num[j] else ''}>{e(str(c))}</th>"
        for j, c in enumerate(table.columns)) + "</tr></thead>")
    out.append("<tbody>")
    for row in table.itertuples(index=False):
        row = list(row)
        first = str(row[0])
        lvl = indent_level(first)
        cls = (' class="sub"' if lvl == 1 else ' class="sub2"' if lvl >= 2
               else (' class="head"' if _is_header(row) else ""))
        tds = [f"<td{cls}>{_html_cell(first.strip())}</td>"] + [
            f"<td{nc if num[j + 1] else ''}>{_html_cell(str(v))}</td>"
            for j, v in enumerate(row[1:])]
        out.append("<tr>" + "".join(tds) + "</tr>")
    out.append("</tbody>")
    out.append("</table>")
    for p in footnote_paragraphs(table, footnote):
        out.append(f'<p class="footnote">{e(p)}</p>')
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


_TEX_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                "^": r"\textasciicircum{}", "<": r"\textless{}", ">": r"\textgreater{}",
                "\u2013": "--", "\u2014": "---", "\u2212": "$-$", "\u03c7": r"$\chi$",
                "\u00b2": r"$^{2}$", "\u2020": r"\dag{}", "\u2021": r"\ddag{}", "\u00a7": r"\S{}",
                "\u00b6": r"\P{}", "\u2016": r"$\Vert$", "\u2264": r"$\leq$", "\u2265": r"$\geq$"}


def tex_escape(s: str) -> str:
    """Escape LaTeX special characters."""
    return "".join(_TEX_ESCAPES.get(ch, ch) for ch in str(s))


def _tex_cell(text: str) -> str:
    body, mark = split_mark(text)
    return tex_escape(body) + (r"\textsuperscript{" + tex_escape(mark) + "}" if mark else "")


def to_latex(table: pd.DataFrame, title: str = "", footnote: str = "", label: str = "") -> str:
    """A booktabs ``table`` environment (needs ``\\usepackage{booktabs}``); numeric
    columns right-aligned (``r``), footnote symbols as superscripts."""
    ncol = len(table.columns)
    num = numeric_columns(table)
    out = [r"\begin{table}[htbp]", r"\centering", r"\small"]
    if title:
        out.append(r"\caption{" + tex_escape(title) + "}")
    if label:
        out.append(r"\label{" + label + "}")
    out.append(r"\begin{tabular}{" + "".join("r" if num[j] else "l" for j in range(ncol)) + "}")
    out.append(r"\toprule")
    out.append(" & ".join(tex_escape(c) for c in table.columns) + r" \\")
    out.append(r"\midrule")
    for row in table.itertuples(index=False):
        row = list(row)
        first = str(row[0])
        if _is_sub(first):
            c0 = r"\quad " * indent_level(first) + _tex_cell(first.strip())
        elif _is_header(row):
            c0 = r"\textbf{" + _tex_cell(first) + "}"
        else:
            c0 = _tex_cell(first)
        out.append(" & ".join([c0] + [_tex_cell(v) for v in row[1:]]) + r" \\")
    out.append(r"\bottomrule")
    out.append(r"\end{tabular}")
    paras = footnote_paragraphs(table, footnote)
    if paras:
        out.append(r"\par\smallskip")
        out.append(r"\parbox{\linewidth}{\footnotesize "
                   + r" \\ ".join(tex_escape(p) for p in paras) + "}")
    out.append(r"\end{table}")
    return "\n".join(out) + "\n"


def to_csv(table: pd.DataFrame) -> str:
    """The table as CSV; when it has footnote symbols (``attrs["footnotes"]``), a blank row
    and then one row per symbol, ``"<symbol> <text>"`` in the first column, so that the
    CSV carries the key to its symbols (the caption and general footnote are not in it)."""
    marks = table.attrs.get("footnotes", [])
    if marks:
        blank = pd.DataFrame([[""] * len(table.columns)], columns=table.columns)
        keys = pd.DataFrame([[f"{m} {t}"] + [""] * (len(table.columns) - 1) for m, t in marks],
                            columns=table.columns)
        table = pd.concat([table, blank, keys], ignore_index=True)
    return table.to_csv(index=False, lineterminator="\n")


def _docx_properties(doc, title: str) -> None:
    """Fixed core properties (author, times, revision), so reruns give the same bytes."""
    cp = doc.core_properties
    cp.author = "rtw trial pipeline"
    cp.last_modified_by = "rtw trial pipeline"
    cp.created = FIXED_DOCX_TIME
    cp.modified = FIXED_DOCX_TIME
    cp.last_printed = FIXED_DOCX_TIME
    cp.revision = 1
    cp.title = title or ""
    cp.comments = ""


def page_size_default() -> str:
    """The schema's default of config ``tables.page_size``."""
    from rtw.core.validation import block_defaults
    return block_defaults("tables")["page_size"]


#: Side margins of the Word page (mm).
MARGIN_MM = 20.0


def _docx_page(doc, table: pd.DataFrame, page_size: str):
    """The first section: ``page_size`` paper (:data:`PAGE_SIZES_MM`), landscape for wide
    tables (more than 5 columns, or columns that need more than a portrait page's width
    with the label column at most :data:`LABEL_SHARE` of it, :func:`natural_widths_mm`),
    20 mm side margins; Normal style Arial 9 pt.  Returns the
    section."""
    from docx.enum.section import WD_ORIENT
    from docx.shared import Mm, Pt

    if page_size not in PAGE_SIZES_MM:
        raise ValueError(f"tables.page_size: {page_size!r} is not one of {sorted(PAGE_SIZES_MM)}")
    w, h = PAGE_SIZES_MM[page_size]
    sec = doc.sections[0]
    nat = natural_widths_mm(table)
    portrait = w - 2 * MARGIN_MM
    wide = len(table.columns) > 5 or sum(nat[1:]) + min(nat[0], LABEL_SHARE * portrait) > portrait
    if wide:  # wide tables on a landscape page
        sec.orientation = WD_ORIENT.LANDSCAPE
        w, h = h, w
    else:
        sec.orientation = WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = Mm(w), Mm(h)
    for m in ("left_margin", "right_margin"):
        setattr(sec, m, Mm(MARGIN_MM))
    style = doc.styles["Normal"]
    style.font.name = "Arial"
    style.font.size = Pt(9)
    return sec


#: Rule widths of the three-line table, in eighths of a point (Word's w:sz): 1.5 pt above
#: the header and under the last row, 0.75 pt under the header.
RULE_HEAVY, RULE_LIGHT = 12, 6


def _border_el(tag: str, edges: dict):
    """``<w:tag>`` holding one ``<w:edge w:val=... w:sz=...>`` per edge (``None``: nil)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    el = OxmlElement(tag)
    for edge, sz in edges.items():
        b = OxmlElement(f"w:{edge}")
        if sz is None:
            b.set(qn("w:val"), "nil")
        else:
            b.set(qn("w:val"), "single")
            b.set(qn("w:sz"), str(sz))
            b.set(qn("w:space"), "0")
            b.set(qn("w:color"), "000000")
        el.append(b)
    return el


def _three_line(t) -> None:
    """Table borders: a heavy rule on top and bottom, none inside or at the sides; a light
    rule under every header cell; the header row repeated on each page; rows kept whole."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tblPr = t._tbl.tblPr
    for old in tblPr.findall(qn("w:tblBorders")):
        tblPr.remove(old)
    tblPr.append(_border_el("w:tblBorders", {"top": RULE_HEAVY, "left": None,
                                              "bottom": RULE_HEAVY, "right": None,
                                              "insideH": None, "insideV": None}))
    for i, row in enumerate(t.rows):
        trPr = row._tr.get_or_add_trPr()
        trPr.append(OxmlElement("w:cantSplit"))
        if i == 0:
            trPr.append(OxmlElement("w:tblHeader"))
            for cell in row.cells:
                tcPr = cell._tc.get_or_add_tcPr()
                tcPr.append(_border_el("w:tcBorders", {"top": RULE_HEAVY, "bottom": RULE_LIGHT}))


def _docx_runs(par, text: str, bold: bool = False) -> None:
    """The cell's text in runs (a trailing footnote symbol superscript), single-spaced with
    no space before or after, so rows are one line high."""
    pf = par.paragraph_format
    pf.space_before = pf.space_after = 0
    pf.line_spacing = 1.0
    body, mark = split_mark(text)
    run = par.add_run(body)
    run.bold = bold or None
    if mark:
        r = par.add_run(mark)
        r.font.superscript = True
        r.bold = bold or None


def _docx_table(doc, table: pd.DataFrame):
    """A three-line table (:func:`_three_line`, no style's cell boxes): bold header row
    repeated on every page, then one row per table row (sub-row labels indented 4 mm per
    level, section-header labels bold); numeric columns right-aligned, header included."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm

    num = numeric_columns(table)
    t = doc.add_table(rows=1, cols=len(table.columns))
    for j, c in enumerate(table.columns):
        par = t.rows[0].cells[j].paragraphs[0]
        _docx_runs(par, str(c), bold=True)
        if num[j]:
            par.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for row in table.itertuples(index=False):
        row = list(row)
        cells = t.add_row().cells
        first = str(row[0])
        for j, v in enumerate(row):
            txt = str(v)
            par = cells[j].paragraphs[0]
            if j == 0 and _is_sub(txt):
                par.paragraph_format.left_indent = Mm(4 * indent_level(txt))
                txt = txt.strip()
            if num[j]:
                par.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            _docx_runs(par, txt, bold=(j == 0 and _is_header(row) and not _is_sub(first)))
    _three_line(t)
    return t


#: Column widths of the Word tables: a column's longest cell (its header's longest word, as
#: headers wrap), in characters, at CHAR_MM per character (Arial 9 pt digits are 1.76 mm)
#: plus PAD_MM of cell margins (Word: 1.9 mm each side), at most MAX_CHARS (LABEL_CHARS for the label column).
CHAR_MM, PAD_MM, MAX_CHARS, LABEL_CHARS, MIN_LABEL_MM = 1.8, 4.2, 28, 48, 35.0
#: Largest share of the usable page width the label column keeps when the table is too wide.
LABEL_SHARE = 0.3


def natural_widths_mm(table: pd.DataFrame) -> list[float]:
    """Width (mm) each column needs to hold its longest cell on one line (:func:`text_mm`)
    plus :data:`PAD_MM`, at most :data:`MAX_CHARS` (the label column :data:`LABEL_CHARS`)
    digits wide; a header counts by its longest word (headers wrap), bold (:data:`BOLD`)."""
    nat = []
    for j, c in enumerate(table.columns):
        cells = [text_mm(str(v).strip()) for v in table.iloc[:, j]]
        head = max((BOLD * text_mm(w) for w in str(c).split()), default=0.0)
        most = (LABEL_CHARS if j == 0 else MAX_CHARS) * CHAR_MM
        nat.append(min(max(cells + [head, CHAR_MM]), most) + PAD_MM)
    return nat


#: Bold header text is wider than regular text by about this factor.
BOLD = 1.12
#: Characters about half as wide as a digit in Arial (space, punctuation, narrow letters).
NARROW = set(" .,;:()[]'!|ilIjft")


def text_mm(text: str) -> float:
    """Approximate width (mm) of ``text`` in Arial 9 pt: :data:`CHAR_MM` per character,
    half that for the narrow ones (:data:`NARROW`)."""
    return sum(CHAR_MM / 2 if ch in NARROW else CHAR_MM for ch in text)


def column_widths_mm(table: pd.DataFrame, usable_mm: float) -> list[float]:
    """Widths (mm) of the columns: each number column its natural width
    (:func:`natural_widths_mm`, so numbers do not wrap), the label column the rest of
    ``usable_mm`` (its text wraps), at least :data:`MIN_LABEL_MM`; only when the number
    columns alone leave less than that do they share the rest in proportion."""
    nat = natural_widths_mm(table)
    rest = sum(nat[1:])
    label = max(MIN_LABEL_MM, usable_mm - rest)
    k = min(1.0, (usable_mm - label) / rest) if rest else 1.0
    return [label] + [w * k for w in nat[1:]]


def _docx_column_widths(t, sec, table: pd.DataFrame) -> None:
    """Column widths over the usable page width (:func:`column_widths_mm`)."""
    from docx.shared import Mm

    usable = sec.page_width - sec.left_margin - sec.right_margin
    widths = column_widths_mm(table, usable / 36000.0)
    t.autofit = False
    for j, col in enumerate(t.columns):
        w = Mm(round(widths[j], 1))
        t._tbl.tblGrid.gridCol_lst[j].w = w  # Word and pandoc read the grid
        for cell in col.cells:
            cell.width = w


def _docx_document(table: pd.DataFrame, title: str, footnote: str, page_size: str):
    """A python-docx ``Document``: bold title, the table, footnote paragraphs in 8 pt."""
    from docx import Document
    from docx.shared import Pt

    doc = Document()
    _docx_properties(doc, title)
    sec = _docx_page(doc, table, page_size)
    if title:
        p = doc.add_paragraph()
        r = p.add_run(title)
        r.bold = True
    t = _docx_table(doc, table)
    _docx_column_widths(t, sec, table)
    for i, text in enumerate(footnote_paragraphs(table, footnote)):
        p = doc.add_paragraph()
        p.paragraph_format.space_after = Pt(0)
        p.paragraph_format.space_before = Pt(4 if i == 0 else 0)
        r = p.add_run(text)
        r.font.size = Pt(8)
    return doc


def normalise_zip(data: bytes) -> bytes:
    """Rewrite a zip (docx) with fixed entry timestamps and attributes, same entry order."""
    src = zipfile.ZipFile(_io.BytesIO(data))
    buf = _io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_DATE)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            zi.create_system = 0
            dst.writestr(zi, src.read(info.filename), compresslevel=6)
    return buf.getvalue()


def to_docx_bytes(table: pd.DataFrame, title: str = "", footnote: str = "",
                  page_size: str | None = None) -> bytes:
    """The table as a Word document (bytes), with fixed core properties and zip timestamps;
    ``page_size`` ``A4`` or ``letter`` (None: the schema's default of ``tables.page_size``)."""
    doc = _docx_document(table, title, footnote, page_size or page_size_default())
    buf = _io.BytesIO()
    doc.save(buf)
    return normalise_zip(buf.getvalue())


def _atomic_write(path: Path, data: bytes) -> None:
    from rtw.report.style import _atomic_bytes
    _atomic_bytes(path, data)


WRITERS = ("csv", "md", "html", "docx", "tex")


def write_table(table_df: pd.DataFrame, stem, title: str = "", footnote: str = "",
                formats: Sequence[str] = WRITERS, page_size: str | None = None) -> dict:
    """Write a presentation table as CSV, Markdown, HTML, Word and LaTeX.

    Parameters
    ----------
    table_df : pandas.DataFrame
        A table from :func:`rtw.report.tables.table1`, ``primary_table``, ... (strings).
    stem : path-like
        Output path without extension, e.g. ``results/tables/table1``.
    title, footnote : str
        Caption and footnote (not in the CSV, which holds the table and the key to its
        footnote symbols, :func:`to_csv`); the footnote's
        paragraphs are separated by ``"\n"``, and the table's ``attrs["footnotes"]``
        (symbol, text) follow them.
    formats : sequence of str
        Any of ``csv``, ``md``, ``html``, ``docx``, ``tex``.
    page_size : str, optional
        Paper of the Word table, config ``tables.page_size`` (None: the schema's default).

    Returns
    -------
    dict
        ``{format: pathlib.Path}`` of the files written (atomically; UTF-8,
        LF line ends; byte-identical for the same input).
    """
    stem = Path(stem)
    if stem.suffix.lower() in tuple("." + w for w in WRITERS):
        stem = stem.with_suffix("")
    notes = list(table_df.attrs.get("footnotes", []))
    table_df = table_df.astype(str).replace({"nan": "", "None": "", "<NA>": ""})
    table_df.attrs["footnotes"] = notes
    out = {}
    for f in formats:
        path = stem.with_name(stem.name + "." + f)
        if f == "csv":
            data = to_csv(table_df).encode("utf-8")
        elif f == "md":
            data = to_markdown(table_df, title, footnote).encode("utf-8")
        elif f == "html":
            data = to_html(table_df, title, footnote).encode("utf-8")
        elif f == "docx":
            data = to_docx_bytes(table_df, title, footnote, page_size)
        elif f == "tex":
            data = to_latex(table_df, title, footnote, label=f"tab:{stem.name}").encode("utf-8")
        else:
            raise ValueError(f"unknown table format {f!r}; use {WRITERS}")
        _atomic_write(path, data)
        out[f] = path
    return out
