"""Reading tables by file extension, atomic writing, and input errors.

Readers accept ``.csv``, ``.xlsx``, ``.parquet``, ``.dta`` (Stata), ``.sav`` (SPSS),
``.sas7bdat`` and ``.xpt`` (SAS), chosen by extension; how each reads real exports is
described in ``config/README.md`` ("Reading your files"):

* CSV: encoding (UTF-8 with or without a byte-order mark, UTF-16 with one, or config
  ``data.csv.encoding``), separator (``,``, ``;``, tab or ``|``, from the header line) and
  decimal mark (``,`` when a non-comma file writes its numbers so) detected, or set in
  ``data.csv``; CRLF line ends;
* Excel: the first sheet, or config ``data.sheet``; date cells become ISO dates
  (``YYYY-MM-DD``; a date-time with a time of day ``YYYY-MM-DD HH:MM:SS``), time cells
  ``HH:MM:SS``; numbers stored as text are numbers where a number is expected;
* Stata, SPSS and SAS: **codes are read and value labels kept beside them**, in
  ``DataFrame.attrs["value_labels"]`` (``{column: {code: label}}``); date, date-time and time
  formats become ISO text as for Excel; a SAS format catalog is read from ``<name>.sas7bcat``
  or ``formats.sas7bcat`` beside the data file;
* missing values: an empty cell, ``NA`` and ``.``, and the codes of config
  ``data.missing_values`` (``-99``: matched as text, and by value in numeric columns).

With ``as_text`` (raw exports) CSV and Excel cells are read as text, so that cleaning (not
the reader) decides what a value means and logs a data query when it has to interpret one.

Errors in the input are raised as :class:`InputError`, whose message names the
file, the row as a spreadsheet user sees it (header = row 1, first data row =
row 2), the column, the value and what was expected.
"""
from __future__ import annotations

import codecs
import datetime as _dt
import logging
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from rtw.core.formats import STAT_EXTENSIONS, SUPPORTED_EXTENSIONS  # noqa: F401
MISSING_CODES = ("", "NA", ".")
CSV_SEPARATORS = (",", ";", "\t", "|")
_COMMA_NUMBER = re.compile(r"^\s*[+-]?\d+,\d+\s*$")
_DOT_NUMBER = re.compile(r"^\s*[+-]?\d*\.\d+\s*$")
log = logging.getLogger("rtw.io")


class InputError(Exception):
    """A structural problem in the inputs: the run must stop.

    Attributes mirror the message so tests and logs can inspect them.
    """

    def __init__(self, message: str, *, file=None, row=None, column=None,
                 value=None, expected=None):
        if hasattr(value, "item") and not isinstance(value, (str, bytes)):
            value = value.item()            # numpy scalar -> plain Python for the message
        self.file, self.row, self.column = file, row, column
        self.value, self.expected = value, expected
        parts = []
        if file is not None:
            parts.append(f"file {file}")
        if row is not None:
            parts.append(f"row {row}")
        if column is not None:
            parts.append(f"column '{column}'")
        where = (", ".join(parts) + ": ") if parts else ""
        detail = ""
        if value is not None:
            detail += f" Found {value!r}."
        if expected is not None:
            detail += f" Expected {expected}."
        message = message if message.endswith((".", "?", "!")) else message + "."
        super().__init__(f"{where}{message}{detail}")


def sheet_row(index: int) -> int:
    """Spreadsheet row number of the 0-based data row ``index`` (header is row 1)."""
    return int(index) + 2


def find_table(directory, name: str) -> Path:
    """The file holding table ``name`` in ``directory``, whatever its supported extension."""
    directory = Path(directory)
    hits = [directory / f"{name}{ext}" for ext in SUPPORTED_EXTENSIONS
            if (directory / f"{name}{ext}").exists()]
    if not hits:
        raise InputError(
            f"required table '{name}' is missing",
            file=str(directory / name) + ".*",
            expected="one of " + ", ".join(name + e for e in SUPPORTED_EXTENSIONS))
    if len(hits) > 1:
        raise InputError(f"table '{name}' is present in more than one format",
                         file=", ".join(str(h) for h in hits),
                         expected="exactly one file per table")
    return hits[0]


@dataclass(frozen=True)
class ReadOptions:
    """How files are read (config ``data.sheet``, ``data.csv``, ``data.missing_values``);
    ``None`` = detected (CSV) or the first sheet (Excel)."""
    sheet: str | None = None
    sep: str | None = None
    decimal: str | None = None
    encoding: str | None = None
    date_format: str | None = None
    missing_values: tuple = ()


def read_options(data: dict) -> ReadOptions:
    """The :class:`ReadOptions` of config block ``data`` (validated, defaults filled)."""
    csv = data["csv"]
    return ReadOptions(sheet=data["sheet"], sep=csv["sep"], decimal=csv["decimal"],
                       encoding=csv["encoding"], date_format=csv["date_format"],
                       missing_values=tuple(_code_text(v) for v in data["missing_values"]))


def _code_text(value) -> str:
    """A configured missing-value code as text (``-99`` and ``-99.0`` are ``"-99"``)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_table(path, *, as_text: bool = True, options: ReadOptions | None = None,
               strip: bool = True, keep_blanks=(), columns=None) -> pd.DataFrame:
    """Read one table by extension (see the module docstring for what each reader does).

    Parameters
    ----------
    path : path-like
    as_text : bool
        Read CSV/Excel cells as text (missing cells as ``None``), leaving type interpretation
        to cleaning.  Otherwise (a bring-your-own table) a text column whose every value is a
        number becomes numeric.  Parquet/Stata/SPSS/SAS keep their typed columns.
    options : ReadOptions, optional
        Sheet, CSV dialect, date format and missing-value codes (default: all detected).
    strip : bool
        Remove blanks around text values (``False`` keeps them, for callers that log a
        label written with blanks as a data query).
    keep_blanks : collection of str
        Columns whose text keeps its blanks even with ``strip``.
    columns : list of str, optional
        Read only these columns (those present); the header is always complete in
        ``attrs["header"]``.

    Returns
    -------
    DataFrame
        ``attrs["value_labels"]``: ``{column: {code: label}}`` of every labelled column of
        the file (Stata/SPSS/SAS, else empty);
        ``attrs["header"]``: every column name of the file.
    """
    options = options or ReadOptions()
    path = _checked_path(path)
    keep = _KeepAll() if not strip else set(keep_blanks)
    ext = path.suffix.lower()
    labels: dict = {}
    try:
        if ext == ".csv":
            df = _read_csv(path, options, as_text, columns)
        elif ext == ".xlsx":
            df = _read_xlsx(path, options, as_text)
        elif ext == ".parquet":
            df = _read_parquet(path, MISSING_CODES + tuple(options.missing_values), keep)
        else:
            df, labels = _read_stat(path, ext, columns)
    except InputError:
        raise
    except Exception as e:  # a corrupt binary file
        raise InputError(f"file could not be read as {ext}: {type(e).__name__}: {e}",
                         file=str(path)) from None
    df.columns = [str(c).strip() for c in df.columns]
    header = list(df.columns) if "header" not in df.attrs else df.attrs["header"]
    if columns is not None:
        df = df[[c for c in df.columns if c in set(columns)]]
    df = _apply_missing(df, MISSING_CODES + tuple(options.missing_values), path, keep,
                        text=ext != ".parquet")
    if not as_text and ext in (".csv", ".xlsx"):
        df = infer_numbers(df)
    df.attrs = {"value_labels": labels, "header": header}
    return df


def _checked_path(path) -> Path:
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in SUPPORTED_EXTENSIONS:
        raise InputError("unsupported file type", file=str(path), value=ext,
                         expected="one of " + ", ".join(SUPPORTED_EXTENSIONS))
    if not path.exists():
        raise InputError("file does not exist", file=str(path))
    if path.stat().st_size == 0:
        raise InputError("file is empty (no header row)", file=str(path),
                         expected="a header row naming the columns")
    return path


# ------------------------------------------------------------------ CSV
def csv_dialect(path, options: ReadOptions | None = None) -> tuple[str, str, str]:
    """``(encoding, separator, decimal mark)`` of a CSV file: as configured, else detected.

    Encoding: a byte-order mark says UTF-8 (Excel's "CSV UTF-8") or UTF-16 (Excel's
    "Unicode text"); otherwise UTF-8.  Separator: the most frequent of ``,`` ``;`` tab ``|``
    in the header line (outside quotes), ``,`` when none.  Decimal mark: ``,`` when the
    separator is not ``,`` and the first 200 lines write numbers as ``3,5`` and none as
    ``3.5``; else ``.``.
    """
    options = options or ReadOptions()
    with open(path, "rb") as fh:
        head = fh.read(65536)
    encoding = options.encoding or _detect_encoding(head)
    try:
        text = head.decode(encoding, errors="strict")
    except UnicodeDecodeError as e:
        if e.start < len(head) - 4:          # not just a character cut at the sample's end
            raise _encoding_error(path, encoding, e) from None
        text = head[:e.start].decode(encoding)
    except LookupError:
        raise InputError("unknown text encoding in config data.csv.encoding", file=str(path),
                         value=encoding, expected="an encoding name such as utf-8 or cp1252") from None
    lines = text.lstrip("\ufeff").splitlines()
    sep = options.sep or _detect_separator(lines[0] if lines else "")
    decimal = options.decimal or _detect_decimal(lines[1:200], sep)
    return encoding, sep, decimal


def _detect_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8"


def _encoding_error(path, encoding, e) -> InputError:
    name = "UTF-8" if encoding.lower().replace("_", "-").startswith("utf-8") else encoding
    return InputError(f"file is not valid {name} text (byte {e.start}: "
                      f"{e.object[e.start:e.start + 1]!r})", file=str(path),
                      expected="UTF-8 encoded CSV (re-save as 'CSV UTF-8'), or set config "
                               "data.csv.encoding (e.g. cp1252)")


def _detect_separator(header: str) -> str:
    outside = re.sub(r'"[^"]*"', "", header)
    counts = {sep: outside.count(sep) for sep in CSV_SEPARATORS}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] else ","


def _detect_decimal(lines: list, sep: str) -> str:
    if sep == ",":
        return "."
    comma = dot = 0
    for line in lines:
        for field in line.split(sep):
            comma += bool(_COMMA_NUMBER.match(field))
            dot += bool(_DOT_NUMBER.match(field))
    return "," if comma and not dot else "."


def _read_csv(path: Path, options: ReadOptions, as_text: bool, columns) -> pd.DataFrame:
    encoding, sep, decimal = csv_dialect(path, options)
    na = list(MISSING_CODES) + list(options.missing_values)
    try:
        header = pd.read_csv(path, sep=sep, encoding=encoding, nrows=0).columns
        names = [str(c).strip() for c in header]
        use = None if columns is None else [h for h, n in zip(header, names) if n in set(columns)]
        df = pd.read_csv(path, sep=sep, decimal=decimal, encoding=encoding, usecols=use,
                         dtype=str if as_text else None, keep_default_na=False, na_values=na)
    except UnicodeDecodeError as e:
        raise _encoding_error(path, encoding, e) from None
    except pd.errors.EmptyDataError:
        raise InputError("file is empty (no header row)", file=str(path),
                         expected="a header row naming the columns") from None
    except pd.errors.ParserError as e:
        raise InputError(f"CSV could not be parsed: {' '.join(str(e).split())}", file=str(path),
                         expected=f"values separated by {sep!r} (config data.csv.sep), "
                                  "one record per line") from None
    if as_text and decimal == ",":
        df = df.apply(lambda s: s.where(~s.fillna("").str.match(_COMMA_NUMBER),
                                        s.str.replace(",", ".", regex=False)))
    log.info("%s: read as CSV (encoding %s, separator %r, decimal mark %r)", path, encoding,
             sep, decimal)
    df.attrs["header"] = names
    return df


# ------------------------------------------------------------------ Excel
def _read_xlsx(path: Path, options: ReadOptions, as_text: bool) -> pd.DataFrame:
    """The sheet ``options.sheet`` (default the first), date/time cells as ISO text."""
    book = pd.ExcelFile(path, engine="openpyxl")
    sheet = options.sheet if options.sheet is not None else book.sheet_names[0]
    if sheet not in book.sheet_names:
        raise InputError("sheet not found in the workbook (config data.sheet)", file=str(path),
                         value=sheet, expected="one of the sheets " + ", ".join(
                             repr(s) for s in book.sheet_names))
    df = book.parse(sheet, dtype=object, keep_default_na=False, na_values=[])
    df = df.apply(lambda s: s.map(_cell_text if as_text else _temporal_text))
    return df


def _temporal_text(value):
    """A date, date-time or time value as ISO text; other values unchanged."""
    if isinstance(value, _dt.datetime):
        if value.time() == _dt.time(0):
            return value.strftime("%Y-%m-%d")
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, _dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, _dt.time):
        return value.strftime("%H:%M:%S")
    return value


def _cell_text(value):
    """A cell as text: dates ISO, integral numbers without ``.0``, missing as ``None``."""
    value = _temporal_text(value)
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# ------------------------------------------------------------------ Stata, SPSS, SAS
def _read_stat(path: Path, ext: str, columns) -> tuple[pd.DataFrame, dict]:
    """Codes and value labels of a Stata/SPSS/SAS file (pyreadstat, the ReadStat library
    that R haven uses); date/time columns as ISO text."""
    import pyreadstat
    read = {".dta": pyreadstat.read_dta, ".sav": pyreadstat.read_sav,
            ".sas7bdat": pyreadstat.read_sas7bdat, ".xpt": pyreadstat.read_xport}[ext]
    _, meta = read(str(path), metadataonly=True)
    header = [str(c).strip() for c in meta.column_names]
    labels = dict(meta.variable_value_labels or {})
    use = None if columns is None else [c for c in meta.column_names
                                        if str(c).strip() in set(columns)]
    df, _ = read(str(path), usecols=use)
    catalog = _sas_catalog(path) if ext == ".sas7bdat" else None
    if catalog is not None:
        _, cmeta = pyreadstat.read_sas7bdat(str(path), catalog_file=str(catalog),
                                            metadataonly=True)
        labels = dict(cmeta.variable_value_labels or {})
    for c in df.columns:
        if df[c].dtype == object:
            s = df[c].map(_temporal_text)
            df[c] = s.where(s.map(lambda v: not (isinstance(v, str) and v.strip() == "")), None)
    df.attrs["header"] = header
    labels = {str(c).strip(): {_code(k): str(v) for k, v in m.items()}
              for c, m in labels.items()}
    return df, labels


def _sas_catalog(path: Path):
    for cand in (path.with_suffix(".sas7bcat"), path.parent / "formats.sas7bcat"):
        if cand.is_file():
            return cand
    return None


def _code(value):
    """A value-label code: integral numbers as ``int`` (SPSS stores ``1.0``), text stripped."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value.strip() if isinstance(value, str) else value


# ------------------------------------------------------------------ values
def _by_unique(s: pd.Series, fn) -> pd.Series:
    """``s`` (object) with ``fn`` applied to each distinct value once (a table of 10^7 rows
    has far fewer distinct texts); ``s`` itself when nothing changes."""
    codes, uniq = pd.factorize(s.to_numpy(dtype=object), use_na_sentinel=True)
    uniq = np.asarray(uniq, dtype=object)
    new = np.empty(len(uniq) + 1, dtype=object)
    new[:-1] = [fn(v) for v in uniq]
    new[-1] = None                              # code -1: missing
    changed = [a is not b for a, b in zip(new[:-1], uniq)]
    if not any(changed):
        return s
    return pd.Series(new[codes], index=s.index, dtype=object)


def _strip_series(s: pd.Series) -> pd.Series:
    """Text values of an object column without surrounding blanks (others unchanged)."""
    return _by_unique(s, lambda v: v.strip() if isinstance(v, str) and v != v.strip() else v)


class _KeepAll:
    """Every column keeps its blanks (``read_table(strip=False)``)."""

    def __contains__(self, column) -> bool:
        return True


def _read_parquet(path: Path, codes: tuple, keep) -> pd.DataFrame:
    """A Parquet file; its text columns' missing-value codes and blanks handled in Arrow
    (vectorised: a registry's 10^7-row tables come as Parquet)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    table = pq.read_table(path)
    value_set = pa.array(sorted({c.strip() for c in codes}))
    for i, f in enumerate(table.schema):
        if not (pa.types.is_string(f.type) or pa.types.is_large_string(f.type)):
            continue
        col = table.column(i)
        trimmed = pc.utf8_trim_whitespace(col)
        missing = pc.fill_null(pc.is_in(trimmed, value_set=value_set.cast(f.type)), False)
        table = table.set_column(i, f.name, pc.if_else(missing, pa.scalar(None, f.type),
                                                       col if f.name.strip() in keep
                                                       else trimmed))
    return table.to_pandas()


def _apply_missing(df: pd.DataFrame, codes: tuple, path, keep,
                   text: bool = True) -> pd.DataFrame:
    """Cells equal to a missing-value code become missing: text compared without
    surrounding blanks, numbers (and numeric text) by value for numeric codes; text
    stripped of surrounding blanks except in the columns in ``keep``.  ``text=False``: numeric columns only
    (Parquet's text columns were handled by :func:`_read_parquet`)."""
    text_codes = {c.strip() for c in codes}
    num_codes = set(pd.to_numeric(pd.Series(sorted(text_codes)), errors="coerce").dropna())

    def clean(v, strip=True):
        if isinstance(v, str):
            t = v.strip()
            if t in text_codes:
                return None
            return t if strip and t != v else v
        if isinstance(v, (int, float)) and not isinstance(v, bool) and v in num_codes:
            return None
        return v

    out = {}
    for c in df.columns:
        s = df[c]
        if s.dtype == object and text:
            s = _by_unique(s, clean if c not in keep else lambda v: clean(v, strip=False))
        elif num_codes and pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            hit = s.isin(list(num_codes)).to_numpy()
            if hit.any():
                s = s.astype(float).where(~hit, np.nan)
        if num_codes or set(text_codes) - set(MISSING_CODES):
            n = int(s.isna().sum() - df[c].isna().sum())
            if n:
                log.info("%s: column %r: %d value(s) read as missing (missing-value codes %s)",
                         path, c, n, sorted(text_codes))
        if s is not df[c]:
            out[c] = s
    if not out:
        return df
    df = df.copy(deep=False)
    for c, s in out.items():
        df[c] = s
    return df


def strip_text(df: pd.DataFrame) -> pd.DataFrame:
    """Text values without surrounding blanks (other values unchanged)."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = _strip_series(out[c])
    out.attrs = dict(df.attrs)
    return out


def infer_numbers(df: pd.DataFrame) -> pd.DataFrame:
    """A text (object) column whose every present value is a number, or a number written as
    text (Excel's "number stored as text"), becomes numeric; any other column keeps its
    values, as text where they were mixed (so one ``45y`` leaves ``age`` text, for the type
    check to name)."""
    out = df.copy()
    for c in out.columns:
        s = out[c]
        if s.dtype != object:
            continue
        present = s.notna()
        num = pd.to_numeric(s.map(lambda v: v.strip() if isinstance(v, str) else v),
                            errors="coerce")
        if present.any() and num[present].notna().all() and not s[present].map(
                lambda v: isinstance(v, bool)).any():
            out[c] = num
        elif present.any():
            out[c] = s.map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v))
                           else _cell_text(v))
    out.attrs = dict(df.attrs)
    return out


def write_table(df: pd.DataFrame, path) -> None:
    """Write a table in the format given by the extension (used by the generator)."""
    path = Path(path)
    ext = path.suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    if ext == ".csv":
        atomic_write_csv(df, path)
    elif ext == ".parquet":
        _atomic(path, lambda tmp: df.to_parquet(tmp, index=False))
    elif ext == ".xlsx":
        _atomic(path, lambda tmp: df.to_excel(tmp, index=False, engine="openpyxl"))
    elif ext in (".dta", ".sav"):
        # no missing string in Stata/SPSS: write None as an empty string
        out = df.copy()
        for c in out.columns:
            if out[c].dtype == object:
                out[c] = out[c].map(lambda v: "" if v is None or (isinstance(v, float) and v != v) else str(v))
        if ext == ".dta":
            _atomic(path, lambda tmp: out.to_stata(tmp, write_index=False, version=118))
        else:
            import pyreadstat
            _atomic(path, lambda tmp: pyreadstat.write_sav(out, str(tmp)))
    else:
        raise InputError("unsupported output type", file=str(path), value=ext)


def _atomic(path, writer) -> None:
    """Write through a temporary file in the same folder, then rename (no half files)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name, suffix=path.suffix)
    os.close(fd)
    try:
        writer(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _floats_as_text(df: pd.DataFrame, float_format: str) -> pd.DataFrame:
    """``df`` (a shallow copy) with each numpy float column replaced by the text pandas'
    ``to_csv(float_format=...)`` writes for it (``float_format % value``; NaN kept, so
    ``na_rep`` still applies), formatting each distinct value once: a long table with
    few distinct values (times, residuals of a few covariate patterns) costs a hash
    of its bits instead of one Python format per cell.  The bytes written are the same
    (values are grouped by their exact bits, so -0.0 and 0.0 stay apart)."""
    out = None
    for i in range(df.shape[1]):
        col = df.iloc[:, i]
        if not (isinstance(col.dtype, np.dtype) and col.dtype.kind == "f"
                and col.dtype.itemsize in (4, 8)):
            continue
        values = col.to_numpy()
        bits = values.view(np.int64 if values.dtype.itemsize == 8 else np.int32)
        codes, uniq = pd.factorize(bits)
        text = np.array([float_format % v if v == v else np.nan
                         for v in uniq.view(values.dtype).tolist()], dtype=object)
        if out is None:
            out = df.copy(deep=False)
        out.isetitem(i, text[codes] if codes.size else np.array([], dtype=object))
    return df if out is None else out


_CSV_CHUNK_ROWS = 1_000_000      # rows formatted and written at a time (bounds the text arrays)


def atomic_write_csv(df: pd.DataFrame, path, float_format: str | None = "%.10g") -> None:
    """CSV with LF line ends, no index, fixed float format; atomic.  Float columns are
    formatted once per distinct value (:func:`_floats_as_text`), a million rows at a time
    (the same bytes as one ``to_csv``)."""
    if not isinstance(float_format, str):
        _atomic(path, lambda tmp: df.to_csv(tmp, index=False, lineterminator="\n",
                                            float_format=float_format))
        return

    def write(tmp):
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            for a in range(0, max(len(df), 1), _CSV_CHUNK_ROWS):
                part = _floats_as_text(df.iloc[a:a + _CSV_CHUNK_ROWS], float_format)
                part.to_csv(fh, index=False, header=a == 0, lineterminator="\n",
                            float_format=float_format)
    _atomic(path, write)


def atomic_write_parquet(df: pd.DataFrame, path) -> None:
    """Parquet without pandas metadata timestamps; atomic and byte-stable."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    table = pa.Table.from_pandas(df, preserve_index=False)
    table = table.replace_schema_metadata(None)
    _atomic(path, lambda tmp: pq.write_table(table, tmp, compression="snappy"))


def atomic_write_text(text: str, path) -> None:
    def w(tmp):
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    _atomic(path, w)
