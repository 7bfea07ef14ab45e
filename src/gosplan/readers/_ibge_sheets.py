"""The sheets of IBGE's supply–use workbooks as labelled blocks (:mod:`gosplan.readers.ibge`).

:func:`product_block` reads a products × headings table, :func:`va_block` the value
added by activity; each number is checked where it is read, errors naming workbook,
sheet, row and column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gosplan.errors import ReaderError
from gosplan.readers._excel import Grid, as_number, clean_label, describe_column, workbook_sheets


def sheet_grid(path: Path, name: str) -> Grid:
    book = workbook_sheets(path)
    if name not in book:
        raise ReaderError(path, f"no sheet named {name!r}; the sheets are {list(book)}")
    return book[name]


@dataclass
class Block:
    """A table of a sheet: labelled rows × labelled columns of numbers."""

    codes: list[str]
    rows: list[str]
    columns: list[str]
    values: np.ndarray
    row_numbers: list[int]  # spreadsheet rows (1-based)
    first_col: int


def cell(grid: Grid, r: int, c: int) -> object:
    row = grid[r] if r < len(grid) else []
    return row[c] if c < len(row) else ""


def product_block(path: Path, sheet: str, *, what: str, total_col: bool = True) -> Block:
    """Rows = products (code and description), columns = the headings of row 4."""
    grid = sheet_grid(path, sheet)
    head = None
    for r in range(min(len(grid), 12)):
        first = clean_label(cell(grid, r, 0)).lower()
        if first.startswith("código") or first.startswith("descrição"):
            head = r
            break
    if head is None:
        raise ReaderError(
            path,
            "no heading row starting with 'Código do produto' or "
            "'Descrição do produto' in the first 12 rows",
            sheet=sheet,
        )
    has_code = clean_label(cell(grid, head, 0)).lower().startswith("código")
    desc_col = 1 if has_code else 0
    first_col = desc_col + 1
    hdr = head + 1
    ncols = max((len(grid[r]) for r in range(hdr, min(len(grid), hdr + 1))), default=0)
    columns: list[str] = []
    for c in range(first_col, ncols):
        lab = clean_label(cell(grid, hdr, c))
        if not lab or (total_col and lab.lower().startswith("total")):
            break
        columns.append(lab)
    if not columns:
        raise ReaderError(path, f"no column headings for {what}", sheet=sheet, row=hdr + 1)
    codes: list[str] = []
    rows: list[str] = []
    numbers: list[int] = []
    r = hdr + 1
    while r < len(grid) and not clean_label(cell(grid, r, desc_col)):
        r += 1
    while r < len(grid):
        desc = clean_label(cell(grid, r, desc_col))
        code = clean_label(cell(grid, r, 0)) if has_code else ""
        if not desc or desc.lower().startswith("total") or code.lower().startswith("total"):
            break
        codes.append(code)
        rows.append(desc)
        numbers.append(r)
        r += 1
    if not rows:
        raise ReaderError(
            path, f"no product rows for {what} below the headings", sheet=sheet, row=hdr + 2
        )
    values = np.empty((len(rows), len(columns)))
    for i, rr in enumerate(numbers):
        for j in range(len(columns)):
            c = first_col + j
            values[i, j] = as_number(
                cell(grid, rr, c),
                path=path,
                sheet=sheet,
                row=f"{rr + 1} ({rows[i]!r})",
                column=describe_column(c, columns[j]),
                what=f"a number ({what})",
            )
    return Block(codes, rows, columns, values, [n + 1 for n in numbers], first_col)


def va_block(path: Path) -> Block:
    """Sheet ``VA``: rows = value-added items, columns = activities."""
    sheet = "VA"
    grid = sheet_grid(path, sheet)
    head = None
    for r in range(min(len(grid), 12)):
        if clean_label(cell(grid, r, 0)).lower().startswith("operações"):
            head = r
            break
    if head is None:
        raise ReaderError(path, "no heading row starting with 'Operações'", sheet=sheet)
    hdr = head + 1
    columns: list[str] = []
    for c in range(1, len(grid[hdr])):
        lab = clean_label(cell(grid, hdr, c))
        if not lab or lab.lower().startswith("total"):
            break
        columns.append(lab)
    rows: list[str] = []
    numbers: list[int] = []
    for r in range(hdr + 1, len(grid)):
        raw = cell(grid, r, 0)
        lab = str(raw) if raw is not None else ""
        if lab.strip().lower().startswith("fonte"):
            break
        if lab.strip() and any(str(cell(grid, r, c)).strip() for c in range(1, 3)):
            rows.append(lab.rstrip())
            numbers.append(r)
    values = np.empty((len(rows), len(columns)))
    for i, rr in enumerate(numbers):
        for j in range(len(columns)):
            values[i, j] = as_number(
                cell(grid, rr, 1 + j),
                path=path,
                sheet=sheet,
                row=f"{rr + 1} ({rows[i].strip()!r})",
                column=describe_column(1 + j, columns[j]),
                what="a number (value added)",
            )
    return Block([], rows, columns, values, [n + 1 for n in numbers], 1)


def va_row(path: Path, va: Block, *, starts: str, indented: bool = False) -> np.ndarray:
    for i, lab in enumerate(va.rows):
        if (lab != lab.lstrip()) == indented and " ".join(lab.split()).lower().startswith(
            starts.lower()
        ):
            return va.values[i]
    raise ReaderError(
        path,
        f"no row {starts!r} in the value-added block; rows are {[r.strip() for r in va.rows]}",
        sheet="VA",
    )


def columns_by_heading(
    path: Path, block: Block, sheet: str, wanted: Sequence[tuple[str, str]]
) -> dict[str, np.ndarray]:
    low = [c.lower() for c in block.columns]
    out: dict[str, np.ndarray] = {}
    for heading, key in wanted:
        hits = [j for j, c in enumerate(low) if c.startswith(heading)]
        if not hits:
            raise ReaderError(
                path, f"no column headed {heading!r}; the headings are {block.columns}", sheet=sheet
            )
        out[key] = block.values[:, hits[0]]
    return out


def same_rows(path: Path, sheet: str, block: Block, ref: Block, what: str) -> int:
    """Check ``block`` has the products of ``ref`` in order; return how many are worded apart.

    IBGE rewords a few labels between sheets (commas, renamed products at
    level 51), so rows are matched by position and only the count is binding.
    """
    if len(block.rows) != len(ref.rows):
        diff = next(
            (i for i, (a, b) in enumerate(zip(block.rows, ref.rows, strict=False)) if a != b),
            min(len(block.rows), len(ref.rows)),
        )
        got = block.rows[diff] if diff < len(block.rows) else "(no row)"
        exp = ref.rows[diff] if diff < len(ref.rows) else "(no row)"
        raise ReaderError(
            path,
            f"the products of {what} differ from those of the supply "
            f"table: expected {exp!r}, found {got!r} "
            f"({len(block.rows)} rows vs {len(ref.rows)})",
            sheet=sheet,
            row=block.row_numbers[diff] if diff < len(block.row_numbers) else None,
        )
    return int(sum(a != b for a, b in zip(block.rows, ref.rows, strict=True)))


def tolerance(*arrays: np.ndarray) -> np.ndarray:
    """Rounding slack of published figures: 0.5 per term for integers, else relative 1e-6."""
    scale = sum(np.abs(a) for a in arrays)
    return np.maximum(0.5 * (len(arrays) + 1), 1e-6 * scale)
