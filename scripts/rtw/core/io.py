"""Reading raw exports by file extension, atomic writing, and input errors.

Readers accept ``.csv``, ``.xlsx``, ``.parquet``, ``.dta`` (Stata) and ``.sav``
(SPSS), chosen by extension.  Every value is read as text first where the
format allows (CSV, Excel), so that cleaning (not the reader) decides what a
value means and logs a data query when it has to interpret one.

Errors in the input are raised as :class:`InputError`, whose message names the
file, the row as a spreadsheet user sees it (header = row 1, first data row =
row 2), the column, the value and what was expected.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

SUPPORTED_EXTENSIONS = (".csv", ".xlsx", ".parquet", ".dta", ".sav")


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


def read_table(path, *, as_text: bool = True) -> pd.DataFrame:
    """Read one table by extension.

    Parameters
    ----------
    path : path-like
    as_text : bool
        Read CSV/Excel cells as strings (missing cells as ``NaN``), leaving
        type interpretation to cleaning.  Parquet/Stata/SPSS keep their typed
        columns (they carry types), which cleaning accepts as well.
    """
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
    try:
        if ext == ".csv":
            try:
                df = pd.read_csv(path, dtype=str if as_text else None, keep_default_na=False,
                                 na_values=[""], encoding="utf-8")
            except UnicodeDecodeError as e:
                raise InputError(
                    f"file is not valid UTF-8 text (byte {e.start}: {e.object[e.start:e.start+1]!r})",
                    file=str(path), expected="UTF-8 encoded CSV (re-save as 'CSV UTF-8')") from None
            except pd.errors.EmptyDataError:
                raise InputError("file is empty (no header row)", file=str(path),
                                 expected="a header row naming the columns") from None
            except pd.errors.ParserError as e:
                raise InputError(f"CSV could not be parsed: {e}", file=str(path),
                                 expected="comma-separated values, one record per line") from None
        elif ext == ".xlsx":
            df = pd.read_excel(path, dtype=str if as_text else None, engine="openpyxl")
        elif ext == ".parquet":
            df = pd.read_parquet(path)
        elif ext == ".dta":
            df = pd.read_stata(path, convert_categoricals=True)
        else:  # .sav
            import pyreadstat
            df, _ = pyreadstat.read_sav(str(path), apply_value_formats=True)
    except InputError:
        raise
    except Exception as e:  # a corrupt binary file
        raise InputError(f"file could not be read as {ext}: {type(e).__name__}: {e}",
                         file=str(path)) from None
    df.columns = [str(c).strip() for c in df.columns]
    if ext in (".csv", ".xlsx") and as_text:
        df = df.apply(lambda s: s.str.strip() if s.dtype == object else s)
        df = df.replace({"": None})
    elif ext in (".dta", ".sav"):
        # Stata and SPSS have no missing string: an empty string is a missing value
        for c in df.columns:
            if df[c].dtype == object:
                s = df[c].astype(object).map(lambda v: v.strip() if isinstance(v, str) else v)
                df[c] = s.where(s != "", None)
    return df


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


def atomic_write_csv(df: pd.DataFrame, path, float_format: str | None = "%.10g") -> None:
    """CSV with LF line ends, no index, fixed float format; atomic."""
    _atomic(path, lambda tmp: df.to_csv(tmp, index=False, lineterminator="\n",
                                        float_format=float_format))


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
