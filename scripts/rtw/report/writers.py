"""Writers of presentation tables: CSV, Markdown, HTML, Word ``.docx`` and LaTeX (booktabs).

A table is a ``pandas.DataFrame`` of *strings* (built by :mod:`rtw.report.tables`),
first column the row label.  A row label starting with :data:`INDENT` (two spaces)
is a sub-row; a row whose other cells are all empty is a section header.
:func:`write_table` writes every format atomically, UTF-8 with LF line ends, and
byte-identical on reruns (the ``.docx`` core properties and zip entries carry the
fixed times :data:`FIXED_DOCX_TIME` and :data:`FIXED_ZIP_DATE`).
"""
from __future__ import annotations

import html
import io as _io
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


def _is_sub(label: str) -> bool:
    return str(label).startswith(INDENT)


def _is_header(row: Sequence) -> bool:
    return all(str(v) == "" for v in list(row)[1:])


def to_markdown(table: pd.DataFrame, title: str = "", footnote: str = "") -> str:
    """GitHub-flavoured Markdown (pipes escaped; sub-rows indented with non-breaking spaces)."""
    def cell(v, first=False):
        s = str(v).replace("|", "\\|")
        if first and _is_sub(s):
            s = "&nbsp;&nbsp;&nbsp;&nbsp;" + s.strip()
        return s
    lines = []
    if title:
        lines += [f"**{title}**", ""]
    lines.append("| " + " | ".join(cell(c) for c in table.columns) + " |")
    lines.append("|" + "|".join([":---"] + ["---"] * (len(table.columns) - 1)) + "|")
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(cell(v, i == 0) for i, v in enumerate(row)) + " |")
    if footnote:
        lines += ["", footnote]
    return "\n".join(lines) + "\n"


def to_html(table: pd.DataFrame, title: str = "", footnote: str = "") -> str:
    """A standalone HTML5 page with the table (caption, header, footnote)."""
    e = html.escape
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           f"<title>{e(title or 'Table')}</title>",
           "<style>",
           "body{font-family:'DejaVu Sans',Arial,sans-serif;font-size:10pt;}",
           "table{border-collapse:collapse;}",
           "caption{font-weight:bold;text-align:left;padding-bottom:4px;}",
           "th,td{padding:2px 8px;text-align:left;vertical-align:top;}",
           "thead th{border-top:1.5px solid #000;border-bottom:1px solid #000;}",
           "tbody tr:last-child td{border-bottom:1.5px solid #000;}",
           "td.sub{padding-left:20px;}td.head{font-weight:bold;}",
           ".footnote{font-size:9pt;max-width:60em;}",
           "</style>", "</head>", "<body>", "<table>"]
    if title:
        out.append(f"<caption>{e(title)}</caption>")
    out.append("<thead><tr>" + "".join(f"<th>{e(str(c))}</th>" for c in table.columns) + "</tr></thead>")
    out.append("<tbody>")
    for row in table.itertuples(index=False):
        row = list(row)
        first = str(row[0])
        cls = ' class="sub"' if _is_sub(first) else (' class="head"' if _is_header(row) else "")
        tds = [f"<td{cls}>{e(first.strip())}</td>"] + [f"<td>{e(str(v))}</td>" for v in row[1:]]
        out.append("<tr>" + "".join(tds) + "</tr>")
    out.append("</tbody>")
    out.append("</table>")
    if footnote:
        out.append(f'<p class="footnote">{e(footnote)}</p>')
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


_TEX_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                "^": r"\textasciicircum{}", "<": r"\textless{}", ">": r"\textgreater{}",
                "\u2013": "--", "\u2014": "---", "\u2212": "$-$"}


def tex_escape(s: str) -> str:
    """Escape LaTeX special characters."""
    return "".join(_TEX_ESCAPES.get(ch, ch) for ch in str(s))


def to_latex(table: pd.DataFrame, title: str = "", footnote: str = "", label: str = "") -> str:
    """A booktabs ``table`` environment (needs ``\\usepackage{booktabs}``)."""
    ncol = len(table.columns)
    out = [r"\begin{table}[htbp]", r"\centering", r"\small"]
    if title:
        out.append(r"\caption{" + tex_escape(title) + "}")
    if label:
        out.append(r"\label{" + label + "}")
    out.append(r"\begin{tabular}{" + "l" * ncol + "}")
    out.append(r"\toprule")
    out.append(" & ".join(tex_escape(c) for c in table.columns) + r" \\")
    out.append(r"\midrule")
    for row in table.itertuples(index=False):
        row = list(row)
        first = str(row[0])
        if _is_sub(first):
            c0 = r"\quad " + tex_escape(first.strip())
        elif _is_header(row):
            c0 = r"\textbf{" + tex_escape(first) + "}"
        else:
            c0 = tex_escape(first)
        out.append(" & ".join([c0] + [tex_escape(v) for v in row[1:]]) + r" \\")
    out.append(r"\bottomrule")
    out.append(r"\end{tabular}")
    if footnote:
        out.append(r"\par\smallskip")
        out.append(r"\parbox{\linewidth}{\footnotesize " + tex_escape(footnote) + "}")
    out.append(r"\end{table}")
    return "\n".join(out) + "\n"


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


def _docx_page(doc, ncol: int):
    """The first section: landscape A4 for wide tables (more than 5 columns), 20 mm side
    margins; Normal style Arial 9 pt.  Returns the section."""
    from docx.enum.section import WD_ORIENT
    from docx.shared import Mm, Pt

    sec = doc.sections[0]
    if ncol > 5:  # wide tables on a landscape page
        sec.orientation = WD_ORIENT.LANDSCAPE
        sec.page_width, sec.page_height = Mm(297), Mm(210)
    for m in ("left_margin", "right_margin"):
        setattr(sec, m, Mm(20))
    style = doc.styles["Normal"]
    style.font.name = "Arial"
    style.font.size = Pt(9)
    return sec


def _docx_table(doc, table: pd.DataFrame):
    """A "Table Grid" table: bold header row, then one row per table row (sub-row labels
    indented 4 mm, section-header labels bold)."""
    from docx.shared import Mm

    t = doc.add_table(rows=1, cols=len(table.columns))
    t.style = "Table Grid"
    for j, c in enumerate(table.columns):
        cell = t.rows[0].cells[j]
        cell.text = ""
        run = cell.paragraphs[0].add_run(str(c))
        run.bold = True
    for row in table.itertuples(index=False):
        row = list(row)
        cells = t.add_row().cells
        first = str(row[0])
        for j, v in enumerate(row):
            txt = str(v)
            par = cells[j].paragraphs[0]
            if j == 0 and _is_sub(txt):
                txt = txt.strip()
                par.paragraph_format.left_indent = Mm(4)
            run = par.add_run(txt)
            if j == 0 and _is_header(row) and not _is_sub(first):
                run.bold = True
    return t


def _docx_column_widths(t, sec, ncol: int) -> None:
    """Column widths over the usable page width: the label column twice as wide as the others."""
    usable = sec.page_width - sec.left_margin - sec.right_margin
    unit = int(usable / (ncol + 1))
    t.autofit = False
    for j, col in enumerate(t.columns):
        w = unit * 2 if j == 0 else unit
        t._tbl.tblGrid.gridCol_lst[j].w = w  # Word and pandoc read the grid
        for cell in col.cells:
            cell.width = w


def _docx_document(table: pd.DataFrame, title: str, footnote: str):
    """A python-docx ``Document``: bold title, the table, footnote in 8 pt."""
    from docx import Document
    from docx.shared import Pt

    doc = Document()
    _docx_properties(doc, title)
    sec = _docx_page(doc, len(table.columns))
    if title:
        p = doc.add_paragraph()
        r = p.add_run(title)
        r.bold = True
    t = _docx_table(doc, table)
    _docx_column_widths(t, sec, len(table.columns))
    if footnote:
        p = doc.add_paragraph()
        r = p.add_run(footnote)
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


def to_docx_bytes(table: pd.DataFrame, title: str = "", footnote: str = "") -> bytes:
    """The table as a Word document (bytes), with fixed core properties and zip timestamps."""
    doc = _docx_document(table, title, footnote)
    buf = _io.BytesIO()
    doc.save(buf)
    return normalise_zip(buf.getvalue())


def _atomic_write(path: Path, data: bytes) -> None:
    from rtw.report.style import _atomic_bytes
    _atomic_bytes(path, data)


WRITERS = ("csv", "md", "html", "docx", "tex")


def write_table(table_df: pd.DataFrame, stem, title: str = "", footnote: str = "",
                formats: Sequence[str] = WRITERS) -> dict:
    """Write a presentation table as CSV, Markdown, HTML, Word and LaTeX.

    Parameters
    ----------
    table_df : pandas.DataFrame
        A table from :func:`rtw.report.tables.table1`, ``primary_table``, ... (strings).
    stem : path-like
        Output path without extension, e.g. ``results/tables/table1``.
    title, footnote : str
        Caption and footnote (not in the CSV, which holds the table only).
    formats : sequence of str
        Any of ``csv``, ``md``, ``html``, ``docx``, ``tex``.

    Returns
    -------
    dict
        ``{format: pathlib.Path}`` of the files written (atomically; UTF-8,
        LF line ends; byte-identical for the same input).
    """
    stem = Path(stem)
    if stem.suffix.lower() in tuple("." + w for w in WRITERS):
        stem = stem.with_suffix("")
    table_df = table_df.astype(str).replace({"nan": "", "None": "", "<NA>": ""})
    out = {}
    for f in formats:
        path = stem.with_name(stem.name + "." + f)
        if f == "csv":
            data = table_df.to_csv(index=False, lineterminator="\n").encode("utf-8")
        elif f == "md":
            data = to_markdown(table_df, title, footnote).encode("utf-8")
        elif f == "html":
            data = to_html(table_df, title, footnote).encode("utf-8")
        elif f == "docx":
            data = to_docx_bytes(table_df, title, footnote)
        elif f == "tex":
            data = to_latex(table_df, title, footnote, label=f"tab:{stem.name}").encode("utf-8")
        else:
            raise ValueError(f"unknown table format {f!r}; use {WRITERS}")
        _atomic_write(path, data)
        out[f] = path
    return out
