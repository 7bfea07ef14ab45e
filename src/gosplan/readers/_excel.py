"""Helpers shared by the readers: opening workbooks and CSV files, reading cells as numbers.

Every failure becomes a :class:`~gosplan.errors.ReaderError` naming the file,
sheet, row and column (rows and columns as a spreadsheet shows them: rows
from 1, columns as letters).
"""

from __future__ import annotations

import csv
import io
import math
import numbers
import os
import sys
import zipfile
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from gosplan.core.validation import MAX_MAGNITUDE
from gosplan.errors import ReaderError

Cell = Any
Grid = list[tuple[Cell, ...]]


def column_letter(index: int) -> str:
    """Spreadsheet letter of a 0-based column index (0 -> A, 26 -> AA)."""
    letters = ""
    i = index + 1
    while i > 0:
        i, rem = divmod(i - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def describe_column(index: int, heading: object = None) -> str:
    """``"F ('C10-C12')"``: the letter and, where known, the heading of a column."""
    letter = column_letter(index)
    if heading is None or heading == "":
        return letter
    return f"{letter} ({str(heading).strip()!r})"


def _stamp(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return str(path.resolve()), st.st_mtime_ns, st.st_size


def check_exists(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    if not p.exists():
        raise ReaderError(p, "no such file")
    if p.is_dir():
        raise ReaderError(p, "is a directory, not a file")
    return p


def workbook_sheets(
    path: str | os.PathLike[str], *, sheets: Sequence[str] | None = None
) -> dict[str, Grid]:
    """Every sheet (or those named in ``sheets``) of an Excel workbook as a list of row
    tuples (values, not formulas): ``.xls`` via xlrd, anything else via openpyxl.

    This is the one workbook loader of the readers.  Parsed workbooks are cached
    by (path, modification time, size), so reading several years from one file
    parses it once.  A workbook that cannot be opened, or breaks off, is a
    :class:`ReaderError` that says so.
    """
    p = check_exists(path)
    wanted = None if sheets is None else tuple(sheets)
    if p.suffix.lower() == ".xls":
        return _xls_sheets_cached(*_stamp(p), wanted)
    return _xlsx_sheets_cached(*_stamp(p), wanted)


@lru_cache(maxsize=8)
def _xlsx_sheets_cached(
    path: str, _mtime: int, _size: int, wanted: tuple[str, ...] | None
) -> dict[str, Grid]:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, EOFError) as exc:
        raise ReaderError(
            path, f"cannot be opened as an .xlsx workbook (truncated or corrupt?): {exc}"
        ) from None
    out: dict[str, Grid] = {}
    try:
        for name in wb.sheetnames:
            if wanted is not None and name not in wanted:
                continue
            try:
                out[name] = list(wb[name].iter_rows(values_only=True))
            except (
                zipfile.BadZipFile,
                KeyError,
                OSError,
                EOFError,
                ValueError,
                SyntaxError,
            ) as exc:  # xml's ParseError is a SyntaxError
                raise ReaderError(
                    path,
                    f"the sheet's XML is damaged and could not be read to the end "
                    f"(truncated or corrupt?): {exc}",
                    sheet=name,
                ) from None
        return out
    finally:
        wb.close()


@lru_cache(maxsize=8)
def _xls_sheets_cached(
    path: str, _mtime: int, _size: int, wanted: tuple[str, ...] | None
) -> dict[str, Grid]:
    import xlrd

    book = open_xls(path, on_demand=True)  # xlrd's warnings go to standard error
    try:
        out: dict[str, Grid] = {}
        for name in book.sheet_names():
            if wanted is None or name in wanted:
                sh = book.sheet_by_name(name)
                out[name] = [tuple(sh.row_values(r)) for r in range(sh.nrows)]
        return out
    except (xlrd.XLRDError, AssertionError, IndexError, ValueError, EOFError) as exc:
        raise ReaderError(
            path,
            f"the workbook is damaged and could not be read to the end "
            f"(truncated or corrupt?): {exc}",
        ) from None
    finally:
        book.release_resources()


def excel_rows(path: str | os.PathLike[str], sheet: str | int | None = None) -> tuple[str, Grid]:
    """One sheet of an Excel workbook (``.xlsx`` via openpyxl, ``.xls`` via xlrd).

    ``sheet`` is a name or 0-based position; ``None`` takes the first sheet.
    """
    p = check_exists(path)
    sheets = workbook_sheets(p)
    names = list(sheets)
    if not names:
        raise ReaderError(p, "the workbook has no sheets")
    if sheet is None:
        name = names[0]
    elif isinstance(sheet, int):
        if not 0 <= sheet < len(names):
            raise ReaderError(
                p, f"there is no sheet number {sheet}; the workbook has {len(names)}: {names}"
            )
        name = names[sheet]
    else:
        if sheet not in sheets:
            raise ReaderError(p, f"no sheet named {sheet!r}; the sheets are {names}")
        name = sheet
    return name, sheets[name]


class _XlrdLog(io.TextIOBase):
    """Where xlrd writes its warnings: to standard error, naming the file, never to
    standard output (where they would mix with the results)."""

    def __init__(self, path: object) -> None:
        self.path = str(path)
        self._buf = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._buf += text
        while "\n" in self._buf:
            line, self._buf = self._buf.split("\n", 1)
            if line.strip():
                sys.stderr.write(
                    f"warning: reading {self.path!r}: xlrd says "
                    f"{line.strip().lstrip('*').strip()}\n"
                )
        return len(text)


def open_xls(path: str | os.PathLike[str], **kwargs: Any) -> Any:
    """``xlrd.open_workbook`` with its warnings sent to standard error (see :class:`_XlrdLog`);
    a file xlrd cannot open is a :class:`ReaderError`."""
    import xlrd

    try:
        return xlrd.open_workbook(str(path), logfile=_XlrdLog(path), **kwargs)
    except (xlrd.XLRDError, OSError, AssertionError, IndexError, ValueError, EOFError) as exc:
        raise ReaderError(
            path, f"cannot be opened as an .xls workbook (truncated or corrupt?): {exc}"
        ) from None


def csv_text(path: str | os.PathLike[str]) -> str:
    """A CSV file's text: UTF-8 (with or without BOM), UTF-16 (with a BOM, or recognisably
    ASCII in UTF-16 without one), else Windows-1252."""
    from gosplan.core.validation import decode_text
    from gosplan.errors import ValidationError

    p = check_exists(path)
    try:
        return decode_text(p.read_bytes(), what="the file", fallbacks=("cp1252", "latin-1"))
    except ValidationError as exc:
        raise ReaderError(p, str(exc)) from None


#: delimiters a CSV file may use
DELIMITERS = ",;\t"


def sniff_delimiter(lines: Sequence[str]) -> str:
    """The delimiter (of ``, ; tab``) that splits the lines that are not ``#`` comments into
    the most fields, consistently; a comma when none splits anything."""
    sample = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")][:20]
    if not sample:
        return ","

    def score(d: str) -> tuple[int, int]:
        counts = [len(r) for r in csv.reader(sample, delimiter=d)]
        return (min(counts) > 1, sum(counts))

    return max(DELIMITERS, key=score)


def csv_rows(path: str | os.PathLike[str]) -> Grid:
    """All rows of a CSV file as tuples of strings.

    The encoding is read from a byte order mark (UTF-8 or UTF-16), else UTF-8,
    else Windows-1252; the delimiter (comma, semicolon or tab) is the one that
    splits the heading and data rows (``#`` comment lines are skipped) into the
    most fields.
    """
    text = csv_text(path)
    delimiter = sniff_delimiter(text.splitlines())
    return [tuple(r) for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]


def as_number(
    value: Cell,
    *,
    path: object,
    sheet: str | None,
    row: int | str,
    column: int | str,
    what: str = "a number",
    empty: float | None = None,
) -> float:
    """``value`` as a finite float, or a ReaderError saying where and what was found.

    ``empty`` is returned for a blank cell when given; otherwise a blank is an error.
    """
    if isinstance(value, bool):
        raise ReaderError(
            path,
            f"expected {what}, found the truth value {value!r}",
            sheet=sheet,
            row=row,
            column=column,
        )
    if value is None or (isinstance(value, str) and value.strip() == ""):
        if empty is not None:
            return empty
        raise ReaderError(
            path, f"expected {what}, found an empty cell", sheet=sheet, row=row, column=column
        )
    if isinstance(value, numbers.Real):
        x = float(value)
    elif isinstance(value, str):
        try:
            x = float(value.strip().replace("\u2212", "-"))
        except ValueError:
            raise ReaderError(
                path,
                f"expected {what}, found the text {value.strip()!r}",
                sheet=sheet,
                row=row,
                column=column,
            ) from None
    else:
        raise ReaderError(
            path, f"expected {what}, found {value!r}", sheet=sheet, row=row, column=column
        )
    if not math.isfinite(x):
        raise ReaderError(
            path,
            f"expected {what}, found {x!r} (not a finite number)",
            sheet=sheet,
            row=row,
            column=column,
        )
    if abs(x) > MAX_MAGNITUDE:
        raise ReaderError(
            path,
            f"expected {what}, found {x:g}, beyond {MAX_MAGNITUDE:g} in "
            f"magnitude (no real table holds such numbers; check the units "
            f"or a typo)",
            sheet=sheet,
            row=row,
            column=column,
        )
    return x


def rounding_tolerance(terms: np.ndarray, total: float) -> float:
    """How far the sum of published figures may stray from their published total.

    Figures printed as whole numbers are each off by at most 0.5 (a printed 0
    may be up to 0.49), so a sum of ``m`` of them and its rounded total can
    differ by up to ``(m + 1) / 2``.  Figures with decimals get a relative
    tolerance of 1e-6 of the magnitudes involved (plus a small absolute slack).
    """
    t = np.asarray(terms, dtype=float)
    nz = t[t != 0]
    if np.all(nz == np.round(nz)) and float(total) == round(float(total)):
        return 0.5 * (t.size + 1)
    scale = float(np.abs(nz).sum()) + abs(float(total))
    return 1e-6 * scale + 1e-6


def clean_label(value: Cell) -> str:
    """A cell as a label: whitespace runs collapsed, ends stripped."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


def find_label(labels: Sequence[str], *candidates: str) -> int | None:
    """Index of the first label equal (case-insensitively) to one of ``candidates``."""
    low = [lab.lower() for lab in labels]
    for c in candidates:
        if c.lower() in low:
            return low.index(c.lower())
    return None


def prefix_message(exc: BaseException, where: str) -> None:
    """Prefix ``where`` (e.g. the file name) to an exception's message, keeping its type."""
    if exc.args and isinstance(exc.args[0], str):
        exc.args = (f"{where}: {exc.args[0]}", *exc.args[1:])
