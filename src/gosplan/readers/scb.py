"""Statistics Sweden (SCB) supply and use tables: the workbook ``scb-nrio-sut-*.xlsx``.

One sheet per year (named ``2008`` … ``2016``); in each, four blocks, each
starting with its title in column A:

``Insatsmatris - inhemsk - produkt x bransch`` (domestic use)
    heading row: industry codes (``A01`` … ``T-U``, 59) from column C, then
    ``Summa``; then, further right, the final demand of domestic products
    (``Hushållens konsumtionsutgifter``, ``HIO:s konsumtionsutgifter``,
    ``Offentliga konsumtionsutgifter``, ``Näringslivets fasta
    bruttoinvesteringar``, ``Offentliga fasta bruttoinvesteringar``,
    ``Lagerinvestering``, ``Investering i värdeföremål``, ``Export``) with its
    own product-code column; one row per product (codes in column B), then a
    carbon-dioxide row that is not a product.
``Övriga variabler bransch`` (other variables by industry)
    rows ``Produktionsvärde`` (gross output), ``Insatsförbrukning``,
    ``Förädlingsvärde``, ``Import``, taxes, ``Egentlig lön`` (wages),
    ``Arbetsgivares sociala avgifter``, ``Kapitalförslitning`` (depreciation),
    ``Driftsöverskott …, netto``, ``Antal sysselsatta`` (persons employed),
    ``Arbetade timmar (10K)`` (hours worked, in tens of thousands).
``Insatsmatris - import - produkt x bransch`` (imported use), same layout.
``Tillförselmatris - inhemsk produktion - produkt x bransch`` (supply of
    domestic production), products × industries.

Money is millions of Swedish kronor (SEK million), current basic prices.
Labour is the hours row, converted to hours (× 10 000).  The gross-output
row a few rows above it is never taken for hours: the row is found by its
label, and hours per person employed must be plausible (500–3 000 a year).

The supply–use table is made symmetric with
:func:`gosplan.readers.supply_use.make_symmetric` (industry technology by
default); hours, persons, compensation and surplus go from industries to
products the same way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gosplan.core.economy import Economy, EconomyMeta, ZeroOutput
from gosplan.errors import GosplanError, ReaderError, ValidationError
from gosplan.readers._excel import (
    Grid,
    as_number,
    check_exists,
    clean_label,
    describe_column,
    prefix_message,
    workbook_sheets,
)
from gosplan.readers.supply_use import TECHNOLOGIES, make_symmetric

MONEY_UNIT = "SEK million"
HOURS_ROW = "Arbetade timmar (10K)"
HOURS_SCALE = 10_000.0  # the row is in tens of thousands of hours
TITLES = {
    "use": "Insatsmatris - inhemsk",
    "other": "Övriga variabler",
    "imports": "Insatsmatris - import",
    "supply": "Tillförselmatris",
}
#: final-demand headings (start of the text, lower case) -> (column name, purpose)
FINAL_DEMAND: tuple[tuple[str, str, str], ...] = (
    ("hushållens konsumtionsutgifter", "household consumption", "personal"),
    ("hio:s konsumtionsutgifter", "NPISH consumption", "social"),
    ("offentliga konsumtionsutgifter", "government consumption", "social"),
    ("näringslivets fasta bruttoinvesteringar", "business GFCF", "investment"),
    ("offentliga fasta bruttoinvesteringar", "government GFCF", "investment"),
    ("lagerinvestering", "changes in inventories", "stocks"),
    ("investering i värdeföremål", "acquisitions of valuables", "stocks"),
    ("export", "exports", "exports"),
)
_NOT_PRODUCTS = ("summa", "koldioxid", "co2")


def available_years(path: str | os.PathLike[str]) -> list[int]:
    """The years (sheet names) the workbook holds."""
    sheets = workbook_sheets(check_exists(path))
    return sorted(int(s) for s in sheets if s.strip().isdigit())


@dataclass
class _Matrix:
    products: list[str]
    industries: list[str]
    values: np.ndarray
    title_row: int  # 0-based
    first_row: int  # 0-based row of the first product


def _cell(grid: Grid, r: int, c: int) -> object:
    if r >= len(grid):
        return None
    row = grid[r]
    return row[c] if c < len(row) else None


def _find_title(path: Path, sheet: str, grid: Grid, key: str) -> int:
    title = TITLES[key]
    for r in range(len(grid)):
        if clean_label(_cell(grid, r, 0)).lower().startswith(title.lower()):
            return r
    raise ReaderError(
        path,
        f"no block titled {title!r}… in column A (expected the "
        f"{'hours and other variables' if key == 'other' else key} block)",
        sheet=sheet,
    )


def _industries(path: Path, sheet: str, grid: Grid, r: int) -> list[str]:
    out: list[str] = []
    c = 2
    while True:
        lab = clean_label(_cell(grid, r, c))
        if not lab or lab.lower() == "summa":
            break
        out.append(lab)
        c += 1
    if not out:
        raise ReaderError(
            path, "no industry codes in the heading row (from column C)", sheet=sheet, row=r + 1
        )
    return out


def _matrix(path: Path, sheet: str, grid: Grid, key: str, what: str) -> _Matrix:
    t = _find_title(path, sheet, grid, key)
    industries = _industries(path, sheet, grid, t + 1)
    products: list[str] = []
    r = t + 2
    while r < len(grid):
        lab = clean_label(_cell(grid, r, 1))
        if not lab or lab.lower().startswith(_NOT_PRODUCTS):
            break
        products.append(lab)
        r += 1
    if not products:
        raise ReaderError(
            path, f"no product rows below the heading of the {what} block", sheet=sheet, row=t + 3
        )
    vals = np.empty((len(products), len(industries)))
    for i in range(len(products)):
        rr = t + 2 + i
        for j in range(len(industries)):
            vals[i, j] = as_number(
                _cell(grid, rr, 2 + j),
                path=path,
                sheet=sheet,
                row=f"{rr + 1} ({products[i]!r})",
                column=describe_column(2 + j, industries[j]),
                what=f"a number ({what} of product {products[i]!r} by {industries[j]!r})",
            )
    return _Matrix(products, industries, vals, t, t + 2)


def _other_rows(
    path: Path, sheet: str, grid: Grid, industries: list[str]
) -> tuple[dict[str, tuple[int, np.ndarray]], int]:
    t = _find_title(path, sheet, grid, "other")
    heads = _industries(path, sheet, grid, t + 1)
    if heads != industries:
        raise ReaderError(
            path,
            f"the industries of the other-variables block differ from "
            f"those of the use table: {heads[:5]}… vs {industries[:5]}…",
            sheet=sheet,
            row=t + 2,
        )
    rows: dict[str, tuple[int, np.ndarray]] = {}
    r = t + 2
    while r < len(grid):
        lab = clean_label(_cell(grid, r, 1))
        if not lab:
            break
        vals = np.empty(len(industries))
        for j in range(len(industries)):
            vals[j] = as_number(
                _cell(grid, r, 2 + j),
                path=path,
                sheet=sheet,
                row=f"{r + 1} ({lab!r})",
                column=describe_column(2 + j, industries[j]),
                what=f"a number ({lab} of {industries[j]!r})",
            )
        rows[lab] = (r, vals)
        r += 1
    return rows, t


def _row(
    path: Path,
    sheet: str,
    rows: dict[str, tuple[int, np.ndarray]],
    label: str,
    what: str,
    title_row: int,
) -> tuple[int, np.ndarray]:
    for lab, v in rows.items():
        if lab.lower().startswith(label.lower()):
            return v
    raise ReaderError(
        path,
        f"no row {label!r} ({what}) in the block 'Övriga variabler "
        f"bransch'; its rows are {list(rows)}",
        sheet=sheet,
        row=title_row + 1,
    )


def _final_demand(
    path: Path, sheet: str, grid: Grid, use: _Matrix
) -> tuple[pd.DataFrame, dict[str, str]]:
    hdr = use.title_row + 1
    heads = grid[hdr] if hdr < len(grid) else ()
    cols: list[tuple[int, str, str]] = []
    for c in range(2 + len(use.industries), len(heads)):
        lab = clean_label(heads[c]).lower()
        if cols and lab == "summa":
            break
        for start, name, purpose in FINAL_DEMAND:
            if lab.startswith(start):
                cols.append((c, name, purpose))
                break
    names = [n for _, n, _ in cols]
    missing = [n for _, n, _ in FINAL_DEMAND if n not in names]
    if missing:
        raise ReaderError(
            path,
            f"final-demand columns {missing} not found in the heading "
            f"row of the domestic use block",
            sheet=sheet,
            row=hdr + 1,
        )
    label_col = cols[0][0] - 1
    data = np.empty((len(use.products), len(cols)))
    for i, p in enumerate(use.products):
        rr = use.first_row + i
        lab = clean_label(_cell(grid, rr, label_col))
        if lab != p:
            raise ReaderError(
                path,
                f"the final-demand block lists product {lab!r} where the use table has {p!r}",
                sheet=sheet,
                row=rr + 1,
                column=describe_column(label_col),
            )
        for k, (c, name, _) in enumerate(cols):
            data[i, k] = as_number(
                _cell(grid, rr, c),
                path=path,
                sheet=sheet,
                row=f"{rr + 1} ({p!r})",
                column=describe_column(c, name),
                what=f"a number (final demand {name} of {p!r})",
            )
    fd = pd.DataFrame(data, index=use.products, columns=names)
    return fd, {n: p for _, n, p in cols}


def read_scb(
    path: str | os.PathLike[str],
    *,
    year: int | None = None,
    technology: str = "industry",
    zero_output: ZeroOutput = "drop",
) -> Economy:
    """Read one year of the SCB supply–use workbook as a symmetric Economy.

    ``year`` picks the sheet (default: the latest).  ``technology`` is the
    assumption that makes the table symmetric: ``"industry"`` (default,
    product × product, never negative), ``"product"`` (refused, naming the
    coefficients, where it gives negative ones) or ``"sales"`` (industry ×
    industry); see :mod:`gosplan.readers.supply_use`.  Labour is hours worked
    (``Arbetade timmar (10K)`` × 10 000), ``labour_unit == "hours"``, so labour
    values are hours per SEK million of output.  Products with no domestic
    output are dropped (``zero_output="drop"``) or refused (``"error"``).
    """
    p = check_exists(path)
    if technology not in TECHNOLOGIES:
        raise ValidationError(
            f"The 'technology' parameter of read_scb must be one of {TECHNOLOGIES}; "
            f"got {technology!r}."
        )
    sheets = workbook_sheets(p)
    years = sorted(int(s) for s in sheets if s.strip().isdigit())
    if not years:
        raise ReaderError(p, f"no sheet named after a year; the sheets are {list(sheets)}")
    if year is None:
        year = years[-1]
    if int(year) not in years:
        raise ReaderError(p, f"no sheet for {year}; the workbook has {years}")
    sheet = next(s for s in sheets if s.strip() == str(year))
    try:
        return _read(p, sheet, sheets[sheet], int(year), technology, zero_output)
    except ReaderError:
        raise
    except GosplanError as exc:
        prefix_message(exc, f"file {str(p)!r}, sheet {sheet!r}")
        raise


def _read(
    p: Path, sheet: str, grid: Grid, year: int, technology: str, zero_output: ZeroOutput
) -> Economy:
    """Long because it checks the supply, use and hours blocks against one another in the
    order of the workbook, each error naming the sheet, row and column, before
    handing the checked arrays to make_symmetric.
    """
    use = _matrix(p, sheet, grid, "use", "domestic use")
    imp = _matrix(p, sheet, grid, "imports", "imported use")
    sup = _matrix(p, sheet, grid, "supply", "supply")
    for m, name in ((imp, "imported use"), (sup, "supply")):
        if m.products != use.products or m.industries != use.industries:
            which = "products" if m.products != use.products else "industries"
            a, b = getattr(m, which), getattr(use, which)
            k = next(
                (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                min(len(a), len(b)),
            )
            raise ReaderError(
                p,
                f"the {which} of the {name} block differ from those of the "
                f"domestic use block ({len(a)} vs {len(b)}; first difference "
                f"at position {k + 1})",
                sheet=sheet,
                row=m.title_row + 2,
            )
    industries, products = use.industries, use.products
    other, other_t = _other_rows(p, sheet, grid, industries)
    r_out, output = _row(p, sheet, other, "Produktionsvärde", "gross output", other_t)
    _, hours10k = _row(p, sheet, other, HOURS_ROW, "hours worked, tens of thousands", other_t)
    _, persons = _row(p, sheet, other, "Antal sysselsatta", "persons employed", other_t)
    _, wages = _row(p, sheet, other, "Egentlig lön", "wages", other_t)
    _, social = _row(
        p,
        sheet,
        other,
        "Arbetsgivares sociala avgifter",
        "employers' social contributions",
        other_t,
    )
    _, depr = _row(p, sheet, other, "Kapitalförslitning", "consumption of fixed capital", other_t)
    _, net_surplus = _row(p, sheet, other, "Driftsöverskott", "net operating surplus", other_t)
    r_hours = _row(p, sheet, other, HOURS_ROW, "hours", other_t)[0]
    for name, v, rr in (("hours worked", hours10k, r_hours),):
        if (v < 0).any():
            j = int(np.flatnonzero(v < 0)[0])
            raise ReaderError(
                p,
                f"{name} of industry {industries[j]!r} is negative ({v[j]:g})",
                sheet=sheet,
                row=rr + 1,
                column=describe_column(2 + j, industries[j]),
            )
    hours = hours10k * HOURS_SCALE
    per_person = hours.sum() / max(persons.sum(), 1.0)
    if not 500.0 <= per_person <= 3000.0:
        raise ReaderError(
            p,
            f"the row {HOURS_ROW!r} gives {per_person:,.0f} hours a year per "
            f"person employed (expected 500–3 000): is it really hours worked "
            f"in tens of thousands?",
            sheet=sheet,
            row=r_hours + 1,
        )
    fd, purposes = _final_demand(p, sheet, grid, use)
    meta = EconomyMeta(
        source=f"Statistics Sweden (SCB), supply and use tables {year}, {p.name}, sheet {sheet!r}"
    )
    # industries blanked out of every matrix (the 2016 sheet has imputed rents L68A so)
    S, U, M = sup.values, use.values, imp.values
    blank = (S.sum(axis=0) == 0) & (U.sum(axis=0) == 0) & (M.sum(axis=0) == 0) & (hours == 0)
    g = S.sum(axis=0)
    gap = np.abs(g - output)
    bad = (gap > 0.5 * (len(products) + 1)) & ~blank
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        raise ReaderError(
            p,
            f"the supply table gives industry {industries[j]!r} an output of "
            f"{g[j]:,.0f} but 'Produktionsvärde' says {output[j]:,.0f}",
            sheet=sheet,
            row=r_out + 1,
            column=describe_column(2 + j, industries[j]),
        )
    if (blank & (output > 0)).any():
        names = [industries[j] for j in np.flatnonzero(blank & (output > 0))]
        meta.note(
            f"industr(y/ies) {names} have no entries in the supply, domestic use and "
            f"imported use matrices and no hours, though 'Produktionsvärde' gives them "
            f"{output[blank].sum():,.0f} {MONEY_UNIT}: left out"
        )
    summa = np.array(
        [
            as_number(
                _cell(grid, use.first_row + i, 2 + len(industries)),
                path=p,
                sheet=sheet,
                row=use.first_row + i + 1,
                column=describe_column(2 + len(industries), "Summa"),
                what="a number (row total)",
            )
            for i in range(len(products))
        ]
    )
    off = np.abs(U.sum(axis=1) - summa) > 0.5 * (len(industries) + 1)
    if off.any():
        meta.note(
            f"the row totals ('Summa') of the domestic use block differ from the sum of "
            f"the cells for {int(off.sum())} product(s) (by "
            f"{(summa - U.sum(axis=1))[off].sum():,.0f} {MONEY_UNIT} in all); the cells "
            f"are used"
        )
    compensation = wages + social
    surplus = net_surplus + depr
    keep = ~blank
    try:
        sym = make_symmetric(
            S[:, keep],
            U[:, keep],
            products=products,
            industries=[j for j, k in zip(industries, keep, strict=True) if k],
            vectors={
                "labour": hours[keep],
                "persons": persons[keep],
                "compensation": compensation[keep],
                "surplus": surplus[keep],
            },
            final_demand=fd,
            imported_use=M[:, keep],
            technology=technology,
            negative_supply="move",
        )
    except ValidationError as exc:
        raise ReaderError(p, str(exc), sheet=sheet) from None
    meta.note(sym.note)
    meta.note(
        f"labour: {HOURS_ROW!r} × {HOURS_SCALE:,.0f} = hours worked by industry, "
        f"carried to {sym.kind}s with the same assumption"
    )
    meta.note(
        "compensation = 'Egentlig lön' + 'Arbetsgivares sociala avgifter'; surplus = "
        "'Driftsöverskott … netto' + 'Kapitalförslitning' (gross)"
    )
    return Economy.from_flows(
        sym.flows,
        sym.output,
        sym.vectors["labour"],
        products=sym.labels,
        final_demand=sym.final_demand,
        purposes=purposes,
        imports=sym.imports,
        compensation=sym.vectors["compensation"],
        surplus=sym.vectors["surplus"],
        persons=sym.vectors["persons"],
        zero_output=zero_output,
        labour_unit="hours",
        labour_kind="hours",
        money_unit=MONEY_UNIT,
        output_unit=MONEY_UNIT,
        name="Sweden",
        year=year,
        kind=sym.kind,
        meta=meta,
    )
