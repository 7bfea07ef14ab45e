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
    csv_rows,
    describe_column,
    prefix_message,
    workbook_sheets,
)

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
    """Long because it walks the IOT sheet in the order of its layout (product rows,
    final-demand columns, primary rows, totals within rounding, capital), each check
    raising with the row and column it is at; the steps share the grid positions
    found on the way.
    """
    sheet = "IOT"
    grid = _sheet(p, sheet)
    head, codes, names = _layout(p, sheet, grid)
    n = len(codes)
    first = head + 2
    # product rows: codes in column A matching the column codes, in order
    for i, code in enumerate(codes):
        r = first + i
        got = _code(_cell(grid, r, 0))
        if got != code:
            raise ReaderError(
                p,
                f"expected the row of product {code!r} ({names[i]!r}) to match "
                f"column {i + 1} of the table, found {got!r}: the table is not "
                f"product × product in the same order (or is truncated)",
                sheet=sheet,
                row=r + 1,
                column="A",
            )
    labels_row = head + 1
    # final-demand columns
    fd_cols: list[tuple[int, str, str]] = []
    total_demand_col = None
    for c in range(2 + n, len(grid[labels_row])):
        lab = clean_label(_cell(grid, labels_row, c))
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
            p,
            f"expected the final-demand columns (households, NPISH, "
            f"government, GFCF, valuables, inventories, exports) and 'Total "
            f"Demand for Products at Basic Prices' after the {n} products; "
            f"found {[f[1] for f in fd_cols]}",
            sheet=sheet,
            row=labels_row + 1,
        )

    def number(r: int, c: int, what: str) -> float:
        row_label = clean_label(_cell(grid, r, 1)) or _code(_cell(grid, r, 0))
        head_label = codes[c - 2] if 2 <= c < 2 + n else clean_label(_cell(grid, labels_row, c))
        return as_number(
            _cell(grid, r, c),
            path=p,
            sheet=sheet,
            row=f"{r + 1} ({row_label!r})",
            column=describe_column(c, head_label),
            what=f"a number ({what})",
        )

    Z = np.array([[number(first + i, 2 + j, "domestic flow") for j in range(n)] for i in range(n)])
    fd = np.array([[number(first + i, c, lab) for c, lab, _ in fd_cols] for i in range(n)])
    total_demand = np.array([number(first + i, total_demand_col, "total demand") for i in range(n)])
    # primary rows, found by label below the products
    prim: dict[str, np.ndarray] = {}
    prim_row: dict[str, int] = {}
    for r in range(first + n, min(len(grid), first + n + 30)):
        lab = clean_label(_cell(grid, r, 1)).lower()
        for key, start in PRIMARY_ROWS.items():
            if key not in prim and lab.startswith(start):
                prim[key] = np.array([number(r, 2 + j, lab) for j in range(n)])
                prim_row[key] = r
    missing = [PRIMARY_ROWS[k] for k in PRIMARY_ROWS if k not in prim]
    if missing:
        raise ReaderError(
            p,
            f"rows {missing} not found below the products (the labour row "
            f"is 'Compensation of employees')",
            sheet=sheet,
            row=first + n + 1,
        )
    # checks, within the rounding of the published figures
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
    inputs = (
        prim["intermediate"]
        + prim["imports"]
        + prim["product_taxes"]
        + prim["production_taxes"]
        + prim["compensation"]
        + prim["surplus"]
    )
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
            row=first + i + 1,
            column=describe_column(total_demand_col),
        )
    imports = _imports(p, codes, prim["imports"])
    labels = _labels(codes, names)
    fd_frame = pd.DataFrame(fd, index=labels, columns=[lab for _, lab, _ in fd_cols])
    purposes = {lab: purpose for _, lab, purpose in fd_cols}
    meta = EconomyMeta(
        source=f"ONS, UK input–output analytical tables ({p.name}), sheet "
        f"'IOT' (domestic use, basic prices, product by product)"
    )
    meta.note("labour: 'Compensation of employees' (money wages, not hours)")
    meta.note("imports: sheet 'Imports PxP' (imported use, basic prices, product by product)")
    year = _year(p, grid)
    kwargs: dict[str, object] = {}
    K: np.ndarray | None = None
    if capital is not None:
        K, share = read_capital_stock(capital, codes=codes, output=prim["output"])
        kwargs["capital"] = K
        meta.note(
            f"capital stock from {Path(capital).name}: assets put on the products that "
            f"make them and industries on the products they make, split by output "
            f"(see read_capital_stock); {share:.1%} of the file's total stock placed"
        )
    if depreciation is not None:
        rates, unmatched = read_depreciation_rates(depreciation, names=names)
        if K is not None:
            used = [i for i in unmatched if K[i].sum() > 0]
            if used:
                raise ReaderError(
                    depreciation,
                    f"no depreciation rate for capital good(s) {[labels[i] for i in used]}",
                )
        kwargs["depreciation"] = rates
        meta.note(
            f"depreciation rates per product from {Path(depreciation).name}, lines "
            f"aligned to products by name"
            + (
                f"; no line for {[labels[i] for i in unmatched]} (rate 0: not capital goods)"
                if unmatched
                else ""
            )
        )
    return Economy.from_flows(
        Z,
        prim["output"],
        prim["compensation"],
        products=labels,
        final_demand=fd_frame,
        purposes=purposes,
        imports=imports,
        compensation=prim["compensation"],
        surplus=prim["surplus"],
        zero_output=zero_output,
        labour_unit=LABOUR_UNIT,
        labour_kind="wages",
        money_unit=MONEY_UNIT,
        output_unit=MONEY_UNIT,
        name="United Kingdom",
        year=year,
        kind="product",
        meta=meta,
        **kwargs,
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


# ---------------------------------------------------------------------------- capital
def read_depreciation_rates(
    path: str | os.PathLike[str], *, names: list[str]
) -> tuple[np.ndarray, list[int]]:
    """Depreciation rates from ``deprates.csv``, put on the table's products.

    The file has the heading ``PRODUCT, Deprate`` and one line per product,
    named in capitals after the *activity* (``MANUFACTURE OF TEXTILES`` for
    the IOT's ``Textiles``), in the IOT's order but not one-to-one (the 2015
    file has no line for owner-occupiers' housing, and a nameless last line).
    Lines are therefore aligned to products by their words, keeping the order
    (a global sequence alignment); a rate is the wear per year of that product
    when it serves as fixed capital (``Economy.depreciation``).  A decimal
    comma (``0,5``) is read as a point; a rate must lie in [0, 1].

    Returns the rates (0 where no line matches) and the indices of the
    products that got no line.
    """
    p = check_exists(path)
    rows = csv_rows(p)
    if not rows or [clean_label(c).lower() for c in rows[0][:2]] != ["product", "deprate"]:
        raise ReaderError(p, "expected the heading 'PRODUCT,Deprate'", row=1)
    body = [(i + 2, r) for i, r in enumerate(rows[1:]) if r and clean_label(r[0])]
    if not body:
        raise ReaderError(p, "no named product lines below the heading", row=2)
    rates = []
    for line, r in body:
        raw = r[1] if len(r) > 1 else ""
        text = raw.replace(",", ".") if isinstance(raw, str) else raw
        x = as_number(
            text,
            path=p,
            sheet=None,
            row=f"{line} ({clean_label(r[0])!r})",
            column="B (Deprate)",
            what="a depreciation rate",
        )
        if not 0.0 <= x <= 1.0:
            raise ReaderError(
                p,
                f"depreciation rate {x:g} is outside [0, 1]",
                row=f"{line} ({clean_label(r[0])!r})",
                column="B (Deprate)",
            )
        rates.append(x)
    match = _align([_words(nm) for nm in names], [_words(r[0]) for _, r in body])
    out = np.zeros(len(names))
    missing = []
    for i, k in enumerate(match):
        if k is None:
            missing.append(i)
        else:
            out[i] = rates[k]
    unmatched = sorted(set(range(len(body))) - {k for k in match if k is not None})
    if unmatched:
        line, r = body[unmatched[0]]
        raise ReaderError(
            p,
            f"{len(unmatched)} line(s) match no product of the table, the "
            f"first {clean_label(r[0])!r}",
            row=line,
        )
    return out, missing


_STOP = {
    "of",
    "and",
    "the",
    "in",
    "on",
    "or",
    "a",
    "for",
    "to",
    "by",
    "except",
    "excluding",
    "manufacture",
    "production",
    "products",
    "product",
    "services",
    "service",
    "activities",
    "activity",
    "related",
    "other",
    "&",
    "-",
    "non",
    "market",
    "npish",
}


def _words(name: object) -> frozenset[str]:
    text = re.sub(r"[^a-z0-9./]+", " ", str(name).lower())
    words = {w[:6] for w in text.split() if w not in _STOP}
    tags = {t for t in ("non", "npish") if re.search(rf"\b{t}", str(name).lower())}
    return frozenset(words | {f"#{t}" for t in tags})


def _similarity(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def _align(products: list[frozenset[str]], lines: list[frozenset[str]]) -> list[int | None]:
    """Order-keeping alignment of lines to products maximising word overlap."""
    n, m = len(products), len(lines)
    score = np.zeros((n + 1, m + 1))
    move = np.zeros((n + 1, m + 1), dtype=np.int8)  # 0 match, 1 skip product, 2 skip line
    score[1:, 0] = -0.05 * np.arange(1, n + 1)
    score[0, 1:] = -0.05 * np.arange(1, m + 1)
    move[1:, 0], move[0, 1:] = 1, 2
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            sim = _similarity(products[i - 1], lines[j - 1])
            options = (
                score[i - 1, j - 1] + (sim if sim > 0 else -0.5),
                score[i - 1, j] - 0.05,
                score[i, j - 1] - 0.05,
            )
            k = int(np.argmax(options))
            score[i, j], move[i, j] = options[k], k
    out: list[int | None] = [None] * n
    i, j = n, m
    while i > 0 or j > 0:
        k = move[i, j]
        if k == 0:
            out[i - 1] = j - 1
            i, j = i - 1, j - 1
        elif k == 1:
            i -= 1
        else:
            j -= 1
    return out


#: asset rows of the capital-stock matrix -> product codes of the capital goods
ASSETS: dict[str, tuple[str, ...]] = {
    "dwellings": ("41-43",),
    "other buildings and structures": ("41-43",),
    "transport equipment": ("29", "30.1", "30.3", "30OTHER"),
    "computer hardware": ("26",),
    "telecommunications equipment": ("26",),
    "cultivated biological resources": ("01",),
    "research & development": ("72",),
    "computer software and databases": ("62",),
    "other machinery, equipment and weapons systems": ("28", "27", "25.4"),
    # not a row of the file: 'Intellectual property products' less R&D and software
    # (mineral exploration; entertainment, literary and artistic originals)
    "other intellectual property products": ("71", "59-60", "90"),
}


def read_capital_stock(
    path: str | os.PathLike[str], *, codes: list[str], output: np.ndarray
) -> tuple[np.ndarray, float]:
    """Capital stock (£ million), capital good × using product, from the researcher's CSV.

    The file has one row per asset (``Dwellings``, ``Other buildings and
    structures``, ``Transport equipment``, ``Computer hardware``, …, with
    subtotal rows ``ICT equipment``, ``Intellectual property products``,
    ``Machinery, equipment and weapons systems``, ``Total assets``, which are
    skipped) and one column per industry, headed ``CODE: name`` at several
    levels of aggregation (``TOTAL``, sections ``A``, divisions ``01`` and
    groups ``10-12``).  The finest columns that do not overlap are used
    (a column is used when no finer column inside it exists).  An asset's
    stock goes to the products that make it (:data:`ASSETS`; split by their
    output when several); an industry's stock goes to the products whose code
    falls in its division range, split by output.  ``g``/``n`` products
    (government, NPISH) share their division's stock the same way.

    Returns the matrix (£ million, capital good × using product) and the share
    of the file's ``TOTAL`` stock it places (stock of industries the finest
    columns miss, e.g. section T, is lost).

    Long because the file's asset rows, subtotals and product columns are checked in one
    pass, each error naming the row and column; most of the length is this docstring.
    """
    p = check_exists(path)
    rows = csv_rows(p)
    if len(rows) < 3 or clean_label(rows[0][0]).lower() != "industry":
        raise ReaderError(
            p, "expected a heading line starting with 'Industry' and asset rows", row=1
        )
    heads = [clean_label(h) for h in rows[0][1:]]
    ranges: list[tuple[int, int, int]] = []  # (column, first division, last division)
    total_col = None
    for c, h in enumerate(heads):
        code = h.split(":", 1)[0].strip().upper() if ":" in h else h.strip().upper()
        if code == "TOTAL":
            total_col = c
            continue
        span = _span(code)
        if span is not None and all(span != (lo, hi) for _, lo, hi in ranges):
            ranges.append((c, *span))
    # keep the finest: drop a range that contains another listed range
    finest = [
        (c, lo, hi)
        for c, lo, hi in ranges
        if not any((lo <= lo2 and hi2 <= hi and (lo2, hi2) != (lo, hi)) for _, lo2, hi2 in ranges)
    ]
    division = np.array([_division(code) for code in codes])
    n = len(codes)
    pos = {c: i for i, c in enumerate(codes)}
    K = np.zeros((n, n))
    covered = np.zeros(n, dtype=bool)
    body = [(line, clean_label(r[0]).lower(), list(r)) for line, r in enumerate(rows[1:], 2)]
    ipp = next(((line, r) for line, a, r in body if a == "intellectual property products"), None)
    if ipp is not None:
        parts = [
            r
            for _, a, r in body
            if a in ("research & development", "computer software and databases")
        ]
        rest = ["other intellectual property products"]
        for c in range(1, len(ipp[1])):
            where = describe_column(c, heads[c - 1] if c - 1 < len(heads) else None)
            whole = as_number(
                ipp[1][c],
                path=p,
                sheet=None,
                row=ipp[0],
                column=where,
                what="a capital stock",
                empty=0.0,
            )
            sub = sum(
                as_number(
                    r[c] if c < len(r) else "",
                    path=p,
                    sheet=None,
                    row=ipp[0],
                    column=where,
                    what="a capital stock",
                    empty=0.0,
                )
                for r in parts
            )
            rest.append(str(max(whole - sub, 0.0)))
        body.append((ipp[0], "other intellectual property products", rest))
    file_total = 0.0
    for line, asset, r in body:
        if asset not in ASSETS:
            continue
        if total_col is not None:
            file_total += as_number(
                r[total_col + 1] if total_col + 1 < len(r) else "",
                path=p,
                sheet=None,
                row=f"{line} ({asset!r})",
                column=describe_column(total_col + 1, "TOTAL"),
                what="a capital stock",
                empty=0.0,
            )
        makers = np.array([pos[c] for c in ASSETS[asset] if c in pos], dtype=int)
        if makers.size == 0:
            raise ReaderError(
                p,
                f"none of the products {ASSETS[asset]} that make asset {asset!r} is in the table",
                row=line,
            )
        w_make = (
            output[makers] / output[makers].sum()
            if output[makers].sum() > 0
            else np.full(len(makers), 1.0 / len(makers))
        )
        for c, lo, hi in finest:
            stock = as_number(
                r[c + 1] if c + 1 < len(r) else "",
                path=p,
                sheet=None,
                row=f"{line} ({asset!r})",
                column=describe_column(c + 1, heads[c]),
                what="a capital stock",
                empty=0.0,
            )
            if stock < 0:
                raise ReaderError(
                    p,
                    f"negative capital stock {stock:g}",
                    row=f"{line} ({asset!r})",
                    column=describe_column(c + 1, heads[c]),
                )
            users = np.flatnonzero((division >= lo) & (division <= hi) & (output > 0))
            if users.size == 0:
                continue
            covered[users] = True
            w_use = output[users] / output[users].sum()
            K[np.ix_(makers, users)] += stock * np.outer(w_make, w_use)
    if not covered.any():
        raise ReaderError(
            p,
            "no industry column (headed 'NN: …' or 'NN-MM: …') matches the table's products",
            row=1,
        )
    placed = float(K.sum())
    return K, placed / file_total if file_total > 0 else 1.0


#: SIC 2007 sections -> range of divisions
SECTIONS = {
    "A": (1, 3),
    "B": (5, 9),
    "C": (10, 33),
    "D": (35, 35),
    "E": (36, 39),
    "F": (41, 43),
    "G": (45, 47),
    "H": (49, 53),
    "I": (55, 56),
    "J": (58, 63),
    "K": (64, 66),
    "L": (68, 68),
    "M": (69, 75),
    "N": (77, 82),
    "O": (84, 84),
    "P": (85, 85),
    "Q": (86, 88),
    "R": (90, 93),
    "S": (94, 96),
    "T": (97, 98),
    "U": (99, 99),
}


def _span(code: str) -> tuple[int, int] | None:
    """Divisions covered by a heading code: ``10-12``, ``87_88``, ``B``, ``R_T``, ``MN``."""
    m = re.fullmatch(r"(\d{2})(?:[-_](\d{2}))?", code)
    if m:
        return int(m.group(1)), int(m.group(2) or m.group(1))
    letters = [x for x in re.split(r"[-_]", code) if x]
    if len(letters) == 1 and len(letters[0]) > 1 and all(ch in SECTIONS for ch in letters[0]):
        letters = list(letters[0])  # 'MN', 'BCDE', 'GHI'
    if letters and all(x in SECTIONS for x in letters):
        return SECTIONS[letters[0]][0], SECTIONS[letters[-1]][1]
    return None


def _division(code: str) -> int:
    m = re.match(r"(\d{2})", code)
    return int(m.group(1)) if m else -1
