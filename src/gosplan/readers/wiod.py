"""WIOD 2016 national input–output tables (``XXX_NIOT_nov16.xlsx``) with Socio-Economic Accounts.

What is read where (sheet ``National IO-tables``; see ``docs/readers.md``):

* row 1: headings ``Year, Code, Description, Origin``, then one column per
  industry (ISIC Rev. 4 codes ``A01 … U``), then the final-demand columns
  ``CONS_h, CONS_np, CONS_g, GFCF, INVEN, EXP`` and ``GO`` (gross output);
  row 2: the industries' names.
* per year, 56 rows with ``Origin == "Domestic"`` (domestic use: industry ×
  industry flows → ``A``), 56 rows with ``Origin == "Imports"`` (imported use →
  ``imports``) and rows with ``Origin == "TOT"`` (``II_fob``, ``TXSP``, …, ``VA``,
  ``GO``).  Values are millions of US dollars.

Hours come from the Socio-Economic Accounts ``sea.csv`` (by default beside the
table): ``H_EMPE``, millions of hours worked by employees.  Self-employed work
is not in ``H_EMPE``; with ``hours="persons"`` (default) each industry's hours
are scaled by ``EMP / EMPE`` (persons engaged over employees), i.e. the
self-employed are assumed to work as many hours as employees of their industry.
``hours="employees"`` keeps employees' hours only.

SEA money figures are in millions of national currency; they are converted to
US dollars with ``NOMEXCH`` (national currency per dollar) after checking that
the SEA's gross output divided by ``NOMEXCH`` matches the table's.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gosplan.core.economy import Economy, EconomyMeta, ZeroOutput
from gosplan.errors import ReaderError, ValidationError
from gosplan.readers._excel import (
    Grid,
    as_number,
    check_exists,
    clean_label,
    describe_column,
    prefix_message,
    workbook_sheets,
)
from gosplan.readers.wiod_sea import HoursMode, read_sea, sea_labour

SHEET = "National IO-tables"
#: the years of the WIOD 2016 release
YEARS = range(2000, 2015)
#: WIOD final-demand columns and the :data:`gosplan.core.economy.PURPOSES` they serve
FINAL_DEMAND = {
    "CONS_h": "personal",  # final consumption expenditure by households
    "CONS_np": "social",  # ... by non-profit organisations serving households
    "CONS_g": "social",  # ... by government
    "GFCF": "investment",  # gross fixed capital formation
    "INVEN": "stocks",  # changes in inventories and valuables
    "EXP": "exports",
}
_HEAD = ("Year", "Code", "Description", "Origin")


def wiod_code(label: str) -> str:
    """The ISIC code of a WIOD product label (``"C10-C12 Manufacture of …"`` -> ``"C10-C12"``)."""
    return label.split(" ", 1)[0]


def read_wiod(
    path: str | os.PathLike[str],
    *,
    year: int | None = None,
    sea: str | os.PathLike[str] | None = None,
    hours: HoursMode = "persons",
    zero_output: ZeroOutput = "drop",
    country: str | None = None,
) -> Economy:
    """Read one country-year of a WIOD 2016 national IO table as an industry × industry Economy.

    Parameters
    ----------
    path
        ``XXX_NIOT_nov16.xlsx``; ``XXX`` (the country) is taken from the name.
    year
        2000–2014; ``None`` takes the latest year in the file (noted in history).
    sea
        The Socio-Economic Accounts CSV; default ``sea.csv`` beside ``path``.
    hours
        ``"persons"``: employees' hours scaled by ``EMP/EMPE`` to cover the
        self-employed (default); ``"employees"``: employees' hours only.
    zero_output
        ``"drop"`` (default) removes industries without output (e.g. ``U``),
        noting it in ``meta.history``; ``"error"`` refuses them.
    country
        If given, the three-letter code the file must hold (checked against
        the file name); needed when the file was renamed.

    Products are labelled ``"<code> <name>"`` (e.g. ``"C10-C12 Manufacture of
    food products, beverages and tobacco products"``); :func:`wiod_code`
    recovers the code.  Labour is in million hours (``labour_unit``), money in
    ``"USD million"``; ``compensation``/``surplus`` are SEA ``LAB``/``CAP``
    with ``hours="persons"`` and ``COMP``/``VA − COMP`` with
    ``hours="employees"``; ``capital_stock`` is SEA ``K``; ``persons`` is
    ``EMP`` (thousands of persons engaged).
    """
    p = check_exists(path)
    ctry = _country(p, country)
    _check_options(p, year, hours, zero_output)
    table = _read_table(p, year)
    y = table.year
    sea_path = _sea_path(p, sea)
    meta = EconomyMeta(
        source=f"WIOD 2016 national IO table {p.name} (sheet {SHEET!r}), {ctry} {y}; "
        f"hours from Socio-Economic Accounts {sea_path.name}"
    )
    if year is None:
        meta.note(f"no year asked for: took the latest in the file, {y}")
    meta.note(
        f"read {len(table.codes)} industries of {p.name}, {y}: domestic use block as "
        f"inter-industry flows, imported use block as imports (USD million)"
    )
    lab = sea_labour(sea_path, ctry, y, table.codes, table.x, hours, meta)
    try:
        return Economy.from_flows(
            table.Z,
            table.x,
            lab["hours"],
            products=table.labels,
            final_demand=pd.DataFrame(table.fd, columns=list(FINAL_DEMAND)),
            purposes=dict(FINAL_DEMAND),
            imports=table.M,
            compensation=lab.get("compensation"),
            surplus=lab.get("surplus"),
            persons=lab["persons"],
            capital_stock=lab.get("capital_stock"),
            zero_output=zero_output,
            labour_unit="million hours",
            labour_kind="hours",
            money_unit="USD million",
            name=ctry,
            year=y,
            kind="industry",
            meta=meta,
        )
    except ValidationError as exc:
        prefix_message(exc, f"{p.name}, {ctry} {y}")
        raise


def _check_options(p: Path, year: int | None, hours: str, zero_output: str) -> None:
    """Refuse an unknown ``hours`` or ``zero_output`` and a year outside the release."""
    if hours not in ("persons", "employees"):
        raise ValidationError(
            f"The 'hours' parameter of read_wiod must be 'persons' or 'employees'; got {hours!r}."
        )
    if zero_output not in ("drop", "error"):
        raise ValidationError(
            f"The 'zero_output' parameter of read_wiod must be 'drop' or 'error'; "
            f"got {zero_output!r}."
        )
    if year is not None and (isinstance(year, bool) or int(year) not in YEARS):
        raise ReaderError(
            p,
            f"year {year} is outside the WIOD 2016 release, which covers "
            f"{YEARS.start}–{YEARS.stop - 1}",
        )


def _country(p: Path, country: str | None) -> str:
    m = re.match(r"([A-Za-z]{3})_NIOT", p.name)
    from_name = m.group(1).upper() if m else None
    if country is not None:
        c = country.strip().upper()
        if from_name is not None and c != from_name:
            raise ReaderError(
                p, f"the file name says country {from_name}, but country={country!r} was asked for"
            )
        return c
    if from_name is None:
        raise ReaderError(
            p,
            "cannot tell the country from the file name (expected "
            "XXX_NIOT_nov16.xlsx); pass country='XXX'",
        )
    return from_name


def _sea_path(p: Path, sea: str | os.PathLike[str] | None) -> Path:
    sea_path = Path(sea) if sea is not None else p.parent / "sea.csv"
    if not sea_path.is_file():
        raise ReaderError(
            sea_path,
            "the WIOD Socio-Economic Accounts (hours worked) are "
            "needed for labour and this file does not exist; pass "
            "sea='path/to/sea.csv'",
        )
    return sea_path


class _Table:
    """One country-year of the national table, as arrays."""

    def __init__(
        self,
        year: int,
        codes: list[str],
        labels: list[str],
        Z: np.ndarray,
        M: np.ndarray,
        fd: np.ndarray,
        x: np.ndarray,
    ) -> None:
        self.year, self.codes, self.labels = year, codes, labels
        self.Z, self.M, self.fd, self.x = Z, M, fd, x


def _year_of(cell: Any) -> int | None:
    if isinstance(cell, bool):
        return None
    if isinstance(cell, int | float) and float(cell).is_integer():
        return int(cell)
    if isinstance(cell, str) and cell.strip().isdigit():
        return int(cell.strip())
    return None


def _read_table(p: Path, year: int | None) -> _Table:
    """Walk the sheet in the order of its layout (headings, year rows, the Domestic,
    Imports and TOT blocks, output), each check raising with the sheet, row and column
    it is at."""
    grid, sheet = _find_sheet(p)
    head, fd_cols, go_col, ind_cols, codes, labels = _headings(p, sheet, grid)
    year = _pick_year(p, sheet, grid, year)
    rows = _rows_of_year(p, sheet, grid, year)
    n = len(codes)
    blocks = _use_blocks(p, sheet, rows, year, codes, ind_cols, head)
    Z, M = blocks["Domestic"], blocks["Imports"]
    dom = [rows["Domestic"][c] for c in codes]
    fd = _cells(p, sheet, dom, fd_cols, head, "final demand", allow_negative=True)
    x = _cells(p, sheet, dom, [go_col], head, "gross output")[:, 0]
    tot = rows["TOT"]
    if "GO" not in tot:
        raise ReaderError(
            p,
            f"year {year}: no TOT row 'GO' (output at basic prices); the "
            f"table is incomplete or truncated",
            sheet=sheet,
        )
    x_col = _cells(p, sheet, [tot["GO"]], ind_cols, head, "gross output")[0]
    primary = [tot[c] for c in tot if c not in ("GO", "II_fob")]
    prim = (
        _cells(p, sheet, primary, ind_cols, head, "primary input", allow_negative=True).sum(axis=0)
        if primary
        else np.zeros(n)
    )
    _check_balances(
        p, sheet, year, codes, head, ind_cols, go_col, tot["GO"][0], Z, M, fd, x, x_col, prim
    )
    return _Table(year, codes, labels, Z, M, fd, x)


def _find_sheet(p: Path) -> tuple[Grid, str]:
    """The sheet of the national table (by name, else by its headings)."""
    sheets = workbook_sheets(p)
    grid = sheets.get(SHEET)
    sheet = SHEET
    if grid is None:
        for name, g in sheets.items():
            if g and tuple(clean_label(c) for c in g[0][:4]) == _HEAD:
                grid, sheet = g, name
                break
    if grid is None:
        raise ReaderError(
            p,
            f"no sheet {SHEET!r} (nor any sheet headed {', '.join(_HEAD)}); "
            f"the sheets are {list(sheets)}",
        )
    if len(grid) < 3:
        raise ReaderError(
            p,
            f"the sheet has {len(grid)} row(s); a national table has a "
            f"heading row, a row of names and data rows (truncated?)",
            sheet=sheet,
        )
    return grid, sheet


def _headings(
    p: Path, sheet: str, grid: Grid
) -> tuple[list[str], list[int], int, list[int], list[str], list[str]]:
    """Row 1's headings, the final-demand columns, the gross-output column, the industry
    columns, the industries' codes and their labels (code and the name of row 2)."""
    head = [clean_label(c) for c in grid[0]]
    if tuple(head[:4]) != _HEAD:
        raise ReaderError(
            p, f"expected the headings {list(_HEAD)} in A1:D1, found {head[:4]}", sheet=sheet, row=1
        )
    missing = [c for c in (*FINAL_DEMAND, "GO") if c not in head]
    if missing:
        raise ReaderError(
            p,
            f"row 1 lacks the column heading(s) {missing} (final demand "
            f"and gross output); found {head[4:]}",
            sheet=sheet,
            row=1,
        )
    fd_cols = [head.index(c) for c in FINAL_DEMAND]
    go_col = head.index("GO")
    first_fd = min(fd_cols)
    ind_cols = list(range(4, first_fd))
    codes = [head[j] for j in ind_cols]
    if not codes or any(c == "" for c in codes) or len(set(codes)) != len(codes):
        raise ReaderError(
            p,
            f"the industry headings in row 1 (columns E to "
            f"{describe_column(first_fd - 1)}) must be distinct codes; "
            f"found {codes}",
            sheet=sheet,
            row=1,
        )
    names_row = grid[1]
    labels = []
    for j, c in zip(ind_cols, codes, strict=True):
        name = clean_label(names_row[j]) if j < len(names_row) else ""
        labels.append(f"{c} {name}" if name else c)

    return head, fd_cols, go_col, ind_cols, codes, labels


def _pick_year(p: Path, sheet: str, grid: Grid, year: int | None) -> int:
    """``year`` if the sheet holds it, else the latest the sheet holds when ``year`` is None."""
    years: set[int] = set()
    for i, r in enumerate(grid[2:], start=3):
        if not r or all(c is None for c in r):
            continue
        ry = _year_of(r[0])
        if ry is None:
            raise ReaderError(
                p,
                f"expected a year in column A, found {r[0]!r}",
                sheet=sheet,
                row=i,
                column="A (Year)",
            )
        years.add(ry)
    if not years:
        raise ReaderError(p, "the sheet has no data rows (truncated?)", sheet=sheet)
    if year is None:
        year = max(years)
    elif year not in years:
        raise ReaderError(
            p,
            f"the sheet holds no rows for year {year}; it has years {sorted(years)} (truncated?)",
            sheet=sheet,
        )
    return year


def _rows_of_year(
    p: Path, sheet: str, grid: Grid, year: int
) -> dict[str, dict[str, tuple[int, tuple[Any, ...]]]]:
    """The rows of ``year`` by Origin (``Domestic``, ``Imports``, ``TOT``) and code."""
    rows: dict[str, dict[str, tuple[int, tuple[Any, ...]]]] = {
        "Domestic": {},
        "Imports": {},
        "TOT": {},
    }
    for i, r in enumerate(grid[2:], start=3):
        if not r or _year_of(r[0]) != year:
            continue
        origin = clean_label(r[3]) if len(r) > 3 else ""
        code = clean_label(r[1]) if len(r) > 1 else ""
        if origin not in rows:
            raise ReaderError(
                p,
                f"expected Origin 'Domestic', 'Imports' or 'TOT', found {origin!r}",
                sheet=sheet,
                row=i,
                column="D (Origin)",
            )
        if code in rows[origin]:
            raise ReaderError(
                p,
                f"a second {origin} row for {code!r} in year {year} (the "
                f"first is row {rows[origin][code][0]})",
                sheet=sheet,
                row=i,
            )
        rows[origin][code] = (i, r)

    return rows


def _use_blocks(
    p: Path,
    sheet: str,
    rows: dict[str, dict[str, tuple[int, tuple[Any, ...]]]],
    year: int,
    codes: list[str],
    ind_cols: list[int],
    head: list[str],
) -> dict[str, np.ndarray]:
    """The domestic and imported use blocks, one row per industry of row 1."""
    blocks = {}
    for origin, what in (("Domestic", "domestic use"), ("Imports", "imported use")):
        got = rows[origin]
        lacking = [c for c in codes if c not in got]
        if lacking:
            raise ReaderError(
                p,
                f"year {year}: no {origin} row (the {what} block) for "
                f"industr{'y' if len(lacking) == 1 else 'ies'} {lacking[:8]}; "
                f"the table is incomplete or truncated",
                sheet=sheet,
            )
        extra = [c for c in got if c not in codes]
        if extra:
            i0 = got[extra[0]][0]
            raise ReaderError(
                p,
                f"year {year}: {origin} row for {extra[0]!r}, which is not "
                f"one of the industries of row 1",
                sheet=sheet,
                row=i0,
                column="B (Code)",
            )
        blocks[origin] = _block(p, sheet, [got[c] for c in codes], ind_cols, head, what)
    return blocks


def _cells(
    p: Path,
    sheet: str,
    rows: list[tuple[int, tuple[Any, ...]]],
    cols: list[int],
    head: list[str],
    what: str,
    allow_negative: bool = False,
) -> np.ndarray:
    out = np.empty((len(rows), len(cols)))
    for a, (i, r) in enumerate(rows):
        for b, j in enumerate(cols):
            cell = r[j] if j < len(r) else None
            v = as_number(
                cell,
                path=p,
                sheet=sheet,
                row=i,
                column=describe_column(j, head[j]),
                what=f"a number ({what} of {clean_label(r[1])!r})",
            )
            if v < 0 and not allow_negative:
                raise ReaderError(
                    p,
                    f"negative {what} {v:g} of {clean_label(r[1])!r} "
                    f"(for {head[j]!r}); flows cannot be negative",
                    sheet=sheet,
                    row=i,
                    column=describe_column(j, head[j]),
                )
            out[a, b] = v
    return out


def _block(
    p: Path,
    sheet: str,
    rows: list[tuple[int, tuple[Any, ...]]],
    cols: list[int],
    head: list[str],
    what: str,
) -> np.ndarray:
    return _cells(p, sheet, rows, cols, head, f"{what} flow")


def _check_balances(
    p: Path,
    sheet: str,
    year: int,
    codes: list[str],
    head: list[str],
    ind_cols: list[int],
    go_col: int,
    go_row: int,
    Z: np.ndarray,
    M: np.ndarray,
    fd: np.ndarray,
    x: np.ndarray,
    x_col: np.ndarray,
    prim: np.ndarray,
) -> None:
    """A table whose blocks were misread does not add up; say where it fails."""
    for i, c in enumerate(codes):
        if abs(x[i] - x_col[i]) > 1e-6 * abs(x[i]) + 1e-3:
            raise ReaderError(
                p,
                f"year {year}: gross output of {c!r} is {x[i]:.6g} in column "
                f"GO but {x_col[i]:.6g} in row GO",
                sheet=sheet,
                row=go_row,
                column=describe_column(ind_cols[i], c),
            )
    row_gap = Z.sum(axis=1) + fd.sum(axis=1) - x
    row_tol = 1e-6 * (Z.sum(axis=1) + np.abs(fd).sum(axis=1) + x) + 1e-3
    bad = np.flatnonzero(np.abs(row_gap) > row_tol)
    if bad.size:
        i = int(bad[0])
        raise ReaderError(
            p,
            f"year {year}: the domestic use of {codes[i]!r} (intermediate "
            f"{Z[i].sum():.6g} + final {fd[i].sum():.6g}) does not add up to "
            f"its gross output {x[i]:.6g}",
            sheet=sheet,
            column=describe_column(go_col, "GO"),
        )
    col_gap = Z.sum(axis=0) + M.sum(axis=0) + prim - x_col
    col_tol = 1e-5 * (Z.sum(axis=0) + M.sum(axis=0) + np.abs(prim) + x_col) + 1e-2
    bad = np.flatnonzero(np.abs(col_gap) > col_tol)
    if bad.size:
        j = int(bad[0])
        raise ReaderError(
            p,
            f"year {year}: the inputs of {codes[j]!r} (domestic "
            f"{Z[:, j].sum():.6g} + imported {M[:, j].sum():.6g} + primary "
            f"{prim[j]:.6g}) do not add up to its gross output {x_col[j]:.6g}",
            sheet=sheet,
            row=go_row,
            column=describe_column(ind_cols[j], codes[j]),
        )


__all__ = ["FINAL_DEMAND", "YEARS", "read_sea", "read_wiod", "wiod_code"]
