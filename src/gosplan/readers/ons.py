"""ONS UK input–output analytical tables (IOATs), the publisher's ``.xls`` workbook.

Read from the workbook ``ons-detailed-ioats-2015-bb18.xls`` (2015, consistent
with Blue Book 2018; Office for National Statistics, OGL v3):

sheet ``IOT`` — *Input-Output table (domestic use, basic prices, product by product)*, £ million
    row 6: product codes (``01`` … ``97``, then the general-government ``…g``
    and NPISH ``…n`` products: 129 in all) from column C; row 7: their names,
    then the final-demand headings (``Households``, ``Non-Profit Institutions
    Serving Households``, ``Central Government``, ``Local Authorities``,
    ``Gross Fixed Capital Formation``, ``Valuables``, ``Changes in
    Inventories``, four ``Exports of …`` columns) and ``Total Demand for
    Products at Basic Prices``.  One row per product (code in column A, name
    in B) down to ``Total Consumption``; then ``Imports of goods and
    services``, the two taxes-less-subsidies rows, ``Compensation of
    employees``, ``Gross operating surplus and mixed income`` and ``Total
    Output``.
sheet ``Imports PxP`` — imported use, same columns; rows only for the 105
    products that are imported (codes matched to ``IOT``'s rows).

The table is already product × product (ONS made it symmetric), so no
technology assumption is made here.  Labour is *compensation of employees*,
the only labour measure in the tables: money wages, not hours
(``labour_kind == "wages"``).  Every column is checked: flows add up to
``Total Consumption`` and that plus the primary rows to ``Total Output``;
every row: flows plus final demand add up to total demand.

Optionally, fixed capital from the researcher's CSV extracts beside it
(``capital=`` the capital-stock matrix by asset and industry,
``depreciation=`` the depreciation rate per product); see :func:`read_ons`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from gosplan.core.economy import Economy, EconomyMeta, ZeroOutput
from gosplan.errors import GosplanError, ReaderError
from gosplan.readers._excel import (
    Grid,
    as_number,
    check_exists,
    clean_label,
    describe_column,
    prefix_message,
    workbook_sheets,
)
from gosplan.readers.ons_capital import (
    ASSETS,
    SECTIONS,
    fixed_capital,
    read_capital_stock,
    read_depreciation_rates,
)

__all__ = [
    "ASSETS",
    "FINAL_DEMAND",
    "LABOUR_UNIT",
    "MONEY_UNIT",
    "PRIMARY_ROWS",
    "SECTIONS",
    "read_capital_stock",
    "read_depreciation_rates",
    "read_ons",
]

MONEY_UNIT = "GBP million"
LABOUR_UNIT = "GBP million of compensation of employees"

#: final-demand headings (lower case, start) -> purpose
FINAL_DEMAND: tuple[tuple[str, str], ...] = (
    ("households", "personal"),
    ("non-profit institutions", "social"),
    ("central government", "social"),
    ("local authorities", "social"),
    ("gross fixed capital formation", "investment"),
    ("valuables", "stocks"),
    ("changes in inventories", "stocks"),
    ("exports", "exports"),
)
PRIMARY_ROWS = {
    "intermediate": "total consumption",
    "imports": "imports of goods and services",
    "product_taxes": "taxes less subsidies on products",
    "production_taxes": "taxes less subsidies on production",
    "compensation": "compensation of employees",
    "surplus": "gross operating surplus",
    "output": "total output",
}

#: the primary rows that add up to a product's total output
_INPUT_ROWS = (
    "intermediate",
    "imports",
    "product_taxes",
    "production_taxes",
    "compensation",
    "surplus",
)

#: the sheets the reader uses (the workbook has more)
_SHEETS = ("IOT", "Imports PxP")


def _sheet(path: Path, name: str) -> Grid:
    if path.suffix.lower() not in (".xls", ".xlsx"):
        raise ReaderError(path, "expected the ONS workbook (.xls, or .xlsx of the same layout)")
    book = workbook_sheets(path, sheets=_SHEETS)
    if name not in book:
        raise ReaderError(
            path,
            f"no sheet named {name!r} (is this the ONS input–output analytical tables workbook?)",
        )
    return book[name]


def _cell(grid: Grid, r: int, c: int) -> object:
    if r >= len(grid):
        return ""
    row = grid[r]
    return row[c] if c < len(row) else ""


def _code(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value).strip()


def _layout(path: Path, sheet: str, grid: Grid) -> tuple[int, list[str], list[str]]:
    """Row index of the codes heading, product codes (columns) and names."""
    for r in range(min(len(grid), 20)):
        if _code(_cell(grid, r, 2)) == "01" and _code(_cell(grid, r, 3)) == "02":
            codes: list[str] = []
            names: list[str] = []
            c = 2
            while c < len(grid[r]) and _code(grid[r][c]):
                codes.append(_code(grid[r][c]))
                names.append(clean_label(_cell(grid, r + 1, c)))
                c += 1
            return r, codes, names
    raise ReaderError(
        path,
        "no heading row with product codes '01', '02', … from column C in the first 20 rows",
        sheet=sheet,
    )


def read_ons(
    path: str | os.PathLike[str],
    *,
    capital: str | os.PathLike[str] | None = None,
    depreciation: str | os.PathLike[str] | None = None,
    zero_output: ZeroOutput = "drop",
) -> Economy:
    """Read the ONS input–output analytical tables workbook as an Economy.

    Parameters
    ----------
    path
        ``ons-detailed-ioats-2015-bb18.xls`` (or another year's IOAT ``.xls`` of
        the same layout).
    capital
        Optional ``capitalstockmatrix2015.csv``: net capital stock (£ million) by
        asset (rows) and industry (columns, SIC 2007 sections/divisions); see
        :func:`read_capital_stock` for how it is put on products.
    depreciation
        Optional ``deprates.csv``: one depreciation rate per product, in the
        order of the IOT's products.
    zero_output
        Products with no output (some government/NPISH variants) are dropped
        (default) or refused.

    Labour is compensation of employees (£ million; ``labour_kind ==
    "wages"``): labour values are then £ of wages per £ of output.
    """
    p = check_exists(path)
    try:
        return _read(p, capital, depreciation, zero_output)
    except ReaderError:
        raise
    except GosplanError as exc:
        prefix_message(exc, f"file {str(p)!r}")
        raise


def _read(
    p: Path,
    capital: str | os.PathLike[str] | None,
    depreciation: str | os.PathLike[str] | None,
    zero_output: ZeroOutput,
) -> Economy:
    """Walk the IOT sheet in the order of its layout (product rows, final-demand columns,
    primary rows, totals within rounding, capital), each check raising with the row and
    column it is at."""
    t = _Iot(p, _sheet(p, "IOT"))
    t.check_product_rows()
    fd_cols, total_demand_col = t.final_demand_columns()
    n = len(t.codes)
    Z = np.array(
        [[t.number(t.first + i, 2 + j, "domestic flow") for j in range(n)] for i in range(n)]
    )
    fd = np.array([[t.number(t.first + i, c, lab) for c, lab, _ in fd_cols] for i in range(n)])
    total_demand = np.array(
        [t.number(t.first + i, total_demand_col, "total demand") for i in range(n)]
    )
    prim, prim_row = t.primary_rows()
    t.check_totals(Z, fd, total_demand, total_demand_col, prim, prim_row)
    labels = _labels(t.codes, t.names)
    meta = EconomyMeta(
        source=f"ONS, UK input–output analytical tables ({p.name}), sheet "
        f"'IOT' (domestic use, basic prices, product by product)"
    )
    meta.note("labour: 'Compensation of employees' (money wages, not hours)")
    meta.note("imports: sheet 'Imports PxP' (imported use, basic prices, product by product)")
    kwargs = fixed_capital(
        capital,
        depreciation,
        codes=t.codes,
        output=prim["output"],
        names=t.names,
        labels=labels,
        meta=meta,
    )
    return Economy.from_flows(
        Z,
        prim["output"],
        prim["compensation"],
        products=labels,
        final_demand=pd.DataFrame(fd, index=labels, columns=[lab for _, lab, _ in fd_cols]),
        purposes={lab: purpose for _, lab, purpose in fd_cols},
        imports=_imports(p, t.codes, prim["imports"]),
        compensation=prim["compensation"],
        surplus=prim["surplus"],
        zero_output=zero_output,
        labour_unit=LABOUR_UNIT,
        labour_kind="wages",
        money_unit=MONEY_UNIT,
        output_unit=MONEY_UNIT,
        name="United Kingdom",
        year=_year(p, t.grid),
        kind="product",
        meta=meta,
        **kwargs,
    )


class _Iot:
    """The IOT sheet with the positions found on the way: the codes heading, the first
    product row, the products' codes and names."""

    sheet = "IOT"

    def __init__(self, p: Path, grid: Grid) -> None:
        self.p, self.grid = p, grid
        self.head, self.codes, self.names = _layout(p, self.sheet, grid)
        self.first = self.head + 2
        self.labels_row = self.head + 1

    def number(self, r: int, c: int, what: str) -> float:
        """The number at row ``r``, column ``c`` (errors name both by label)."""
        grid, codes, n = self.grid, self.codes, len(self.codes)
        row_label = clean_label(_cell(grid, r, 1)) or _code(_cell(grid, r, 0))
        head_label = (
            codes[c - 2] if 2 <= c < 2 + n else clean_label(_cell(grid, self.labels_row, c))
        )
        return as_number(
            _cell(grid, r, c),
            path=self.p,
            sheet=self.sheet,
            row=f"{r + 1} ({row_label!r})",
            column=describe_column(c, head_label),
            what=f"a number ({what})",
        )

    def check_product_rows(self) -> None:
        """Product rows carry codes in column A matching the column codes, in order."""
        for i, code in enumerate(self.codes):
            r = self.first + i
            got = _code(_cell(self.grid, r, 0))
            if got != code:
                raise ReaderError(
                    self.p,
                    f"expected the row of product {code!r} ({self.names[i]!r}) to match "
                    f"column {i + 1} of the table, found {got!r}: the table is not "
                    f"product × product in the same order (or is truncated)",
                    sheet=self.sheet,
                    row=r + 1,
                    column="A",
                )

    def final_demand_columns(self) -> tuple[list[tuple[int, str, str]], int]:
        """``(column, label, purpose)`` of each final-demand column, and the total-demand
        column after them."""
        n, row = len(self.codes), self.labels_row
        fd_cols: list[tuple[int, str, str]] = []
        total_demand_col = None
        for c in range(2 + n, len(self.grid[row])):
            lab = clean_label(_cell(self.grid, row, c))
            low = lab.lower()
            if low.startswith("total demand"):
                total_demand_col = c
                break
            for start, purpose in FINAL_DEMAND:
                if low.startswith(start):
                    fd_cols.append((c, lab, purpose))
                    break
        if total_demand_col is None or len(fd_cols) < 8:
            raise ReaderError(
                self.p,
                f"expected the final-demand columns (households, NPISH, "
                f"government, GFCF, valuables, inventories, exports) and 'Total "
                f"Demand for Products at Basic Prices' after the {n} products; "
                f"found {[f[1] for f in fd_cols]}",
                sheet=self.sheet,
                row=row + 1,
            )
        return fd_cols, total_demand_col

    def primary_rows(self) -> tuple[dict[str, np.ndarray], dict[str, int]]:
        """The primary rows (:data:`PRIMARY_ROWS`), found by label below the products,
        and the row each was found at."""
        n, first = len(self.codes), self.first
        prim: dict[str, np.ndarray] = {}
        prim_row: dict[str, int] = {}
        for r in range(first + n, min(len(self.grid), first + n + 30)):
            lab = clean_label(_cell(self.grid, r, 1)).lower()
            for key, start in PRIMARY_ROWS.items():
                if key not in prim and lab.startswith(start):
                    prim[key] = np.array([self.number(r, 2 + j, lab) for j in range(n)])
                    prim_row[key] = r
        missing = [PRIMARY_ROWS[k] for k in PRIMARY_ROWS if k not in prim]
        if missing:
            raise ReaderError(
                self.p,
                f"rows {missing} not found below the products (the labour row "
                f"is 'Compensation of employees')",
                sheet=self.sheet,
                row=first + n + 1,
            )
        return prim, prim_row

    def check_totals(
        self,
        Z: np.ndarray,
        fd: np.ndarray,
        total_demand: np.ndarray,
        total_demand_col: int,
        prim: dict[str, np.ndarray],
        prim_row: dict[str, int],
    ) -> None:
        """Columns add up to their totals and rows to total demand, within the rounding
        of the published figures."""
        p, codes, sheet, n = self.p, self.codes, self.sheet, len(self.codes)
        col_gap = np.abs(Z.sum(axis=0) - prim["intermediate"])
        tol = 1e-6 * (np.abs(Z).sum(axis=0) + np.abs(prim["intermediate"])) + 0.5 * (n + 1) * 1e-3
        if (col_gap > np.maximum(tol, 1.0)).any():
            j = int(np.argmax(col_gap - tol))
            raise ReaderError(
                p,
                f"the flows into {codes[j]!r} add up to {Z[:, j].sum():,.6g}, not "
                f"to 'Total Consumption' {prim['intermediate'][j]:,.6g}",
                sheet=sheet,
                row=prim_row["intermediate"] + 1,
                column=describe_column(2 + j, codes[j]),
            )
        inputs = np.sum([prim[k] for k in _INPUT_ROWS], axis=0)
        gap = np.abs(inputs - prim["output"])
        if (gap > np.maximum(1.0, 1e-6 * np.abs(prim["output"]))).any():
            j = int(np.argmax(gap))
            raise ReaderError(
                p,
                f"the inputs of {codes[j]!r} add up to {inputs[j]:,.6g}, not to "
                f"its 'Total Output' {prim['output'][j]:,.6g}",
                sheet=sheet,
                row=prim_row["output"] + 1,
                column=describe_column(2 + j, codes[j]),
            )
        row_total = Z.sum(axis=1) + fd.sum(axis=1)
        gap = np.abs(row_total - total_demand)
        if (gap > np.maximum(1.0, 1e-6 * np.abs(total_demand))).any():
            i = int(np.argmax(gap))
            raise ReaderError(
                p,
                f"the uses of {codes[i]!r} add up to {row_total[i]:,.6g}, not to "
                f"its total demand {total_demand[i]:,.6g}",
                sheet=sheet,
                row=self.first + i + 1,
                column=describe_column(total_demand_col),
            )


def _labels(codes: list[str], names: list[str]) -> list[str]:
    return [f"{c} {nm}".strip() for c, nm in zip(codes, names, strict=True)]


def _year(p: Path, grid: Grid) -> int | None:
    m = re.match(r"\s*(\d{4})", str(_cell(grid, 0, 0)))
    if m:
        return int(m.group(1))
    m = re.search(r"(19|20)\d{2}", p.name)
    return int(m.group(0)) if m else None


def _imports(p: Path, codes: list[str], total: np.ndarray) -> np.ndarray:
    sheet = "Imports PxP"
    grid = _sheet(p, sheet)
    head, cols, _ = _layout(p, sheet, grid)
    if cols != codes:
        raise ReaderError(
            p,
            f"the product columns of {sheet!r} differ from those of 'IOT' "
            f"({len(cols)} vs {len(codes)})",
            sheet=sheet,
            row=head + 1,
        )
    pos = {c: i for i, c in enumerate(codes)}
    n = len(codes)
    M = np.zeros((n, n))
    r = head + 2
    seen = 0
    while r < len(grid):
        code = _code(_cell(grid, r, 0))
        if not code:
            break
        if code not in pos:
            raise ReaderError(
                p,
                f"imported product {code!r} is not a product of 'IOT'",
                sheet=sheet,
                row=r + 1,
                column="A",
            )
        for j in range(n):
            M[pos[code], j] = as_number(
                _cell(grid, r, 2 + j),
                path=p,
                sheet=sheet,
                row=f"{r + 1} ({code!r})",
                column=describe_column(2 + j, codes[j]),
                what="a number (imported use)",
            )
        seen += 1
        r += 1
    if seen == 0:
        raise ReaderError(p, "no product rows", sheet=sheet, row=head + 3)
    gap = np.abs(M.sum(axis=0) - total)
    if (gap > np.maximum(1.0, 1e-6 * np.abs(total))).any():
        j = int(np.argmax(gap))
        raise ReaderError(
            p,
            f"imported inputs into {codes[j]!r} add up to {M[:, j].sum():,.6g} "
            f"here but 'IOT' gives {total[j]:,.6g}",
            sheet=sheet,
            column=describe_column(2 + j, codes[j]),
        )
    return M
