"""Blinded mode end to end (issue 5): with ``--config blinded=True`` no output file under
results/ (data, estimates, tables in every format, figures, logs, provenance and the HTML
report) contains a true arm label or display name.  Files are searched as what a reader
could extract from them: text; zip members (.docx); PDF metadata, decompressed streams and
the text drawn (decoded through the fonts' Unicode maps); PNG text chunks; Parquet values,
column names and metadata; and every base64 file embedded in the report, recursively."""
from __future__ import annotations

import base64
import io
import re
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from _pipeline import build_report, pipeline_run

pytestmark = pytest.mark.e2e

BLINDED = ("--config", "blinded=True")
TRUE_STRINGS = ["usual_care", "vocational_advice", "Usual care", "Vocational advice"]


def _variants(strings):
    out = set()
    for s in strings:
        out |= {s, s.replace("_", " "), s.replace(" ", "_")}
    return sorted({v.lower() for v in out})


# ------------------------------------------------------------ extraction --
def _pdf_literal_strings(content: bytes) -> list:
    """Literal strings ``(...)`` of a content stream, unescaped (bytes)."""
    out, i, n = [], 0, len(content)
    while i < n:
        if content[i:i + 1] != b"(":
            i += 1
            continue
        depth, buf, i = 1, bytearray(), i + 1
        while i < n and depth:
            c = content[i:i + 1]
            if c == b"\\":
                nxt = content[i + 1:i + 2]
                if nxt.isdigit():
                    m = re.match(rb"[0-7]{1,3}", content[i + 1:i + 4])
                    buf.append(int(m.group(), 8) & 0xFF)
                    i += 1 + len(m.group())
                    continue
                buf += {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}.get(nxt, nxt)
                i += 2
                continue
            if c == b"(":
                depth += 1
            elif c == b")":
                depth -= 1
                if not depth:
                    break
            buf += c
            i += 1
        out.append(bytes(buf))
        i += 1
    return out


def _pdf_texts(data: bytes) -> list:
    """Raw bytes, decompressed streams and the drawn text (TJ/Tj strings per text object)."""
    texts = [data.decode("latin-1")]
    for s in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            d = zlib.decompress(s)
        except zlib.error:
            d = s
        texts.append(d.decode("latin-1"))
        for block in re.findall(rb"BT(.*?)ET", d, re.S):
            strings = _pdf_literal_strings(block)
            if not strings:
                continue
            raw = b"".join(strings)
            # matplotlib's Type 42 fonts use 2-byte codes equal to Unicode (Identity ToUnicode)
            texts.append(raw.decode("utf-16-be", errors="ignore") if len(raw) % 2 == 0 else "")
            texts.append(raw.decode("latin-1"))
    return texts


def _png_texts(data: bytes) -> list:
    texts, pos = [], 8
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"tEXt":
            texts.append(body.decode("latin-1"))
        elif kind == b"zTXt":
            key, _, rest = body.partition(b"\0")
            texts.append(key.decode("latin-1") + " " + zlib.decompress(rest[1:]).decode("latin-1"))
        elif kind == b"iTXt":
            key, _, rest = body.partition(b"\0")
            flag, rest = rest[0], rest[2:]
            _lang, _, rest = rest.partition(b"\0")
            _tkey, _, text = rest.partition(b"\0")
            texts.append(key.decode("latin-1") + " "
                         + (zlib.decompress(text) if flag else text).decode("utf-8", "replace"))
        elif kind == b"eXIf":
            texts.append(body.decode("latin-1"))
        pos += 12 + length
    return texts


def _parquet_texts(data: bytes) -> list:
    import pyarrow.parquet as pq
    t = pq.read_table(io.BytesIO(data))
    texts = [" ".join(t.column_names), str(t.schema.metadata or {})]
    df = t.to_pandas()
    for c in df.columns:
        texts.append("\n".join(map(str, df[c].astype(str).unique())))
    return texts


DATA_URI = re.compile(rb"data:[\w/+.-]+[^,\"')\s]*?;base64,([A-Za-z0-9+/=]+)")


def texts_of(name: str, data: bytes, depth: int = 0) -> list:
    """Everything a reader could get out of a file's bytes, as strings."""
    if data[:4] == b"PK\x03\x04":
        out = []
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            for info in z.infolist():
                out.append(info.filename + " " + info.comment.decode("latin-1"))
                out += texts_of(info.filename, z.read(info.filename), depth + 1)
        return out
    if data[:5] == b"%PDF-":
        return _pdf_texts(data)
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return _png_texts(data)
    if data[:4] == b"PAR1":
        return _parquet_texts(data)
    out = [data.decode("utf-8", errors="replace")]
    if depth < 3:
        for m in DATA_URI.finditer(data):
            try:
                inner = base64.b64decode(m.group(1))
            except ValueError:
                continue
            out += texts_of(name + ":embedded", inner, depth + 1)
    return out


def leaks(root: Path, needles) -> dict:
    found = {}
    for p in sorted(root.rglob("*")):
        if not p.is_file():
            continue
        hay = "\n".join(texts_of(p.name, p.read_bytes())).lower()
        hits = [n for n in needles if n in hay]
        if hits:
            found[p.relative_to(root).as_posix()] = hits
    return found


# ------------------------------------------------------------------ tests --
@pytest.fixture(scope="module")
def blinded_run():
    wd = pipeline_run("blinded", *BLINDED)
    build_report(wd, *BLINDED)
    return wd


def test_blinded_run_writes_every_output_with_blinded_labels(blinded_run):
    res = blinded_run / "results"
    assert (res / "report.html").stat().st_size > 100_000
    for f in ["figures/km_first_rtw.pdf", "figures/consort.png", "tables/table1.docx",
              "tables/primary_outcome.tex", "data/analysis.parquet", "provenance.json"]:
        assert (res / f).is_file(), f
    t1 = (res / "tables/table1.md").read_text(encoding="utf-8")
    assert "Arm A (n=" in t1 and "Arm B (n=" in t1
    # the extraction is not vacuous: the blinded names are found where labels are drawn
    assert "Arm A" in "\n".join(texts_of("km", (res / "figures/km_first_rtw.pdf").read_bytes()))
    assert "Arm B" in "\n".join(texts_of("docx", (res / "tables/table1.docx").read_bytes()))
    report_text = "\n".join(texts_of("report.html", (res / "report.html").read_bytes()))
    assert "Arm A" in report_text and "km_first_rtw.pdf" in report_text
    import pandas as pd
    assert set(pd.read_parquet(res / "data/analysis.parquet")["arm"]) == {"A", "B"}


def test_no_output_file_contains_a_true_arm_label(blinded_run):
    needles = _variants(TRUE_STRINGS)
    found = leaks(blinded_run / "results", needles)
    assert found == {}, f"true arm labels found in blinded outputs: {found}"


def test_the_leak_search_finds_labels_in_an_unblinded_run():
    """Control: the same search finds the labels in the default (unblinded) run's outputs."""
    run = pipeline_run("default")
    needles = _variants(TRUE_STRINGS)
    res = run / "results"
    for f in ["figures/km_first_rtw.pdf", "figures/km_first_rtw.png", "tables/table1.docx",
              "data/analysis.parquet"]:
        hay = "\n".join(texts_of(f, (res / f).read_bytes())).lower()
        if f.endswith(".png"):
            continue    # pixels only: no text to find (and none to leak)
        assert any(n in hay for n in needles), f
