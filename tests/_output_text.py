"""The words in a run's output files, for tests that search them (issue 11: no WAVE words in
another trial's outputs): text files as they are, Word files' XML, PDF figures' text (through
their fonts' ToUnicode maps), and the Snakemake HTML report with each embedded file decoded.
PNG images carry no text to search (their PDF twins are searched)."""
from __future__ import annotations

import base64
import html
import io
import re
import urllib.parse
import zipfile
import zlib
from pathlib import Path

TEXT_SUFFIXES = {".csv", ".md", ".html", ".tex", ".json", ".txt", ".tsv", ".log", ".yaml", ".rst"}


def _objects(data: bytes) -> dict:
    return {int(m.group(1)): m.group(2)
            for m in re.finditer(rb"(\d+) 0 obj(.*?)endobj", data, re.S)}


def _stream(obj: bytes) -> bytes:
    m = re.search(rb"stream\r?\n(.*?)\r?\nendstream", obj, re.S)
    if not m:
        return b""
    raw = m.group(1)
    if b"/FlateDecode" in obj:
        try:
            return zlib.decompress(raw)
        except zlib.error:
            return b""
    return raw


def _cmap(stream: bytes) -> dict:
    out = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", stream, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            out[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be", "replace")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", stream, re.S):
        for lo, hi, dst in re.findall(
                rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(\[[^\]]*\]|<[0-9A-Fa-f]+>)", block):
            codes = range(int(lo, 16), int(hi, 16) + 1)
            if dst.startswith(b"["):
                for code, d in zip(codes, re.findall(rb"<([0-9A-Fa-f]+)>", dst)):
                    out[code] = bytes.fromhex(d.decode()).decode("utf-16-be", "replace")
            else:
                for i, code in enumerate(codes):
                    out[code] = chr(int(dst[1:-1], 16) + i)
    return out


def _pdf_string(tok: bytes) -> bytes:
    if tok.startswith(b"<"):
        return bytes.fromhex(tok[1:-1].decode())
    s = tok[1:-1]
    s = re.sub(rb"\\([0-7]{1,3})", lambda m: bytes([int(m.group(1), 8)]), s)
    return re.sub(rb"\\(.)", rb"\1", s)


def pdf_text(data: bytes) -> str:
    """The text drawn in a (matplotlib) PDF, one line per text object."""
    objs = _objects(data)
    fonts = {}                  # font resource name -> (bytes per code, code map)
    for num, obj in objs.items():
        for name, ref in re.findall(rb"/(F\d+|[A-Za-z][\w.+-]*)\s+(\d+) 0 R", obj):
            fo = objs.get(int(ref), b"")
            if b"/Type /Font" not in fo and b"/Type/Font" not in fo:
                continue
            tu = re.search(rb"/ToUnicode\s+(\d+) 0 R", fo)
            cmap = _cmap(_stream(objs.get(int(tu.group(1)), b""))) if tu else {}
            two = b"/Type0" in fo or b"Identity-H" in fo
            if not cmap:          # Type 3 or simple font: codes are Latin-1
                cmap = {}
            fonts[name] = (2 if two else 1, cmap)
    lines = []
    for obj in objs.values():
        content = _stream(obj)
        if b"BT" not in content:
            continue
        for text_obj in re.findall(rb"BT(.*?)ET", content, re.S):
            width, cmap = 1, {}
            chunks = []
            for tok in re.finditer(rb"/([\w.+-]+)\s+[\d.]+\s+Tf|(<[0-9A-Fa-f]*>|\((?:\\.|[^\\)])*\))",
                                   text_obj):
                if tok.group(1):
                    width, cmap = fonts.get(tok.group(1), (1, {}))
                    continue
                raw = _pdf_string(tok.group(2))
                codes = ([int.from_bytes(raw[i:i + 2], "big") for i in range(0, len(raw), 2)]
                         if width == 2 else list(raw))
                chunks.append("".join(cmap.get(c, chr(c) if width == 1 else "") for c in codes))
            lines.append("".join(chunks))
    return "\n".join(lines)


def docx_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        xml = " ".join(z.read(n).decode("utf-8", "replace") for n in z.namelist()
                       if n.endswith(".xml"))
    return html.unescape(re.sub(r"<[^>]+>", "", xml))


def file_text(name: str, data: bytes) -> str:
    """The searchable text of one file (by its name's suffix)."""
    suffix = Path(name).suffix.lower()
    if suffix == ".docx":
        return docx_text(data)
    if suffix == ".pdf":
        return pdf_text(data)
    if suffix in (".png", ".parquet", ".zip"):
        return ""
    return data.decode("utf-8", "replace")


_DATA_URI = re.compile(r"data:([\w/+.-]+)((?:;[\w-]+=[^;,\"']*)*)(;base64)?,"
                       r"([A-Za-z0-9+/=%._~!$&()*-]+)")


def report_texts(report: Path) -> dict:
    """``{part: text}`` of a Snakemake HTML report: the page itself (data URIs cut out) and
    every embedded file, decoded by its MIME type."""
    page = report.read_text(encoding="utf-8", errors="replace")
    parts = {}
    for i, m in enumerate(_DATA_URI.finditer(page)):
        mime, params, b64, payload = m.groups()
        name = re.search(r";filename=([^;]+)", params or "")
        try:
            data = base64.b64decode(payload) if b64 else urllib.parse.unquote_to_bytes(payload)
        except ValueError:
            continue
        ext = {"application/pdf": ".pdf", "image/png": ".png", "image/svg+xml": ".svg",
               "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
               }.get(mime, ".txt")
        if name:
            ext = Path(name.group(1)).suffix or ext
        parts[f"report.html[{i}:{name.group(1) if name else mime}]"] = file_text(f"x{ext}", data)
    parts["report.html"] = _DATA_URI.sub("", page)
    return parts


def output_texts(workdir: Path, subdirs=("results",)) -> dict:
    """``{relative path: text}`` of every output file under ``workdir/<subdir>``; the HTML
    report's embedded files as separate parts."""
    out = {}
    for sub in subdirs:
        for p in sorted((Path(workdir) / sub).rglob("*")):
            if not p.is_file():
                continue
            rel = p.relative_to(workdir).as_posix()
            if p.name == "report.html":
                out.update({f"{rel}:{k}": v for k, v in report_texts(p).items()})
            else:
                out[rel] = file_text(p.name, p.read_bytes())
    return out
