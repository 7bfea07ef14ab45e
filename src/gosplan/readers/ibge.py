"""IBGE Brazilian supply–use tables (Tabelas de Recursos e Usos), as shipped in ``iotbr``.

The Brazilian statistics office (IBGE, Sistema de Contas Nacionais) publishes
for every year two workbooks per level of detail; the PyPI package ``iotbr``
carries them unchanged under ``iotbr/IBGE/nivel_<L>_..._xls/``:

``<L>_tab1_<YEAR>.xls`` (Tabela 1, *Recursos de bens e serviços*)
    sheet ``oferta``: per product, total supply at purchasers' prices, trade
    and transport margins, import duty, IPI, ICMS, other taxes less
    subsidies, total supply at basic prices; sheet ``producao``: the supply
    (make) table, products × activities, basic prices; sheet ``importacao``:
    imports of each product (CIF/FOB adjustment and goods/services in
    separate columns before 2010).
``<L>_tab2_<YEAR>.xls`` (Tabela 2, *Usos de bens e serviços*)
    sheet ``CI``: intermediate use, products × activities, purchasers' prices;
    sheet ``demanda``: final demand by category, purchasers' prices; sheet
    ``VA``: value added by activity, with ``Remunerações`` (compensation),
    ``Excedente operacional bruto e rendimento misto bruto`` (surplus),
    ``Valor da produção`` (output) and ``Fator trabalho (ocupações)``
    (persons employed: jobs, not hours).

Levels 12 and 51 cover 2000–2021, levels 20 and 68 2010–2021; levels 51 and 68
have more products (107, 128) than activities.  Money is millions of reais at
current prices.

The use table is at purchasers' prices and includes imports, while a
Leontief model needs domestic flows at basic prices.  The reader moves
margins, taxes and imports out of each use cell the way IBGE's own
input–output matrices are estimated from these tables (Guilhoto & Sesso,
"Estimação da matriz insumo-produto a partir de dados preliminares das
contas nacionais", *Economia Aplicada* 9(2), 2005):

* trade and transport margins, IPI, ICMS and other net taxes of product ``i``
  are spread over all its uses except changes in stocks, in proportion to
  those uses; the margins come back as purchases of the margin products
  (the rows whose margin column is negative), in proportion to their share
  of the margin;
* imports and import duty of product ``i`` are spread over all its uses
  except stocks and exports (exports are taken to be domestic);
* what is left is domestic use at basic prices; its row sums equal each
  product's domestic output (checked, within rounding).

The supply–use table is then made symmetric (:mod:`gosplan.readers.supply_use`,
industry technology by default) and persons employed, compensation and
surplus are carried from activities to products the same way.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from gosplan.core.economy import Economy, EconomyMeta, ZeroOutput
from gosplan.errors import GosplanError, ReaderError, ValidationError
from gosplan.readers._excel import (
    Grid,
    as_number,
    clean_label,
    describe_column,
    prefix_message,
    workbook_sheets,
)
from gosplan.readers.supply_use import TECHNOLOGIES, make_symmetric

LEVELS = (12, 20, 51, 68)
_FIRST_YEAR = {12: 2000, 20: 2010, 51: 2000, 68: 2010}
_DIRS = {
    12: "nivel_12_2000_2021_xls",
    20: "nivel_20_2010_2021_xls",
    51: "nivel_51_2000_2021_xls",
    68: "nivel_68_2010_2021_xls",
}

#: final-demand headings (lower case, start of the text) -> (column name, purpose)
FINAL_DEMAND: tuple[tuple[str, str, str], ...] = (
    ("exportação", "exports", "exports"),
    ("consumo do governo", "government consumption", "social"),
    ("consumo da administração", "government consumption", "social"),
    ("consumo das isflsf", "NPISH consumption", "social"),
    ("consumo das famílias", "household consumption", "personal"),
    ("formação bruta de capital fixo", "gross fixed capital formation", "investment"),
    ("variação de estoque", "changes in inventories", "stocks"),
)
#: supply-sheet headings -> key
SUPPLY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("oferta total a preço de consumidor", "total_pm"),
    ("margem de comércio", "trade"),
    ("margem de transporte", "transport"),
    ("imposto de importação", "import_duty"),
    ("ipi", "ipi"),
    ("icms", "icms"),
    ("outros impostos menos subsídios", "other_taxes"),
    ("oferta total a preço básico", "total_pb"),
)
LABOUR_ROW = "Fator trabalho (ocupações)"
LABOUR_UNIT = "persons employed (jobs)"
MONEY_UNIT = "BRL million"


def _package_dir() -> Path:
    try:
        return Path(str(resources.files("iotbr.IBGE")))
    except ModuleNotFoundError:
        raise ReaderError(
            "iotbr",
            "the package `iotbr`, which ships IBGE's tables, is not installed; `pip install iotbr`",
        ) from None


def _check_level(level: int) -> int:
    if level not in LEVELS:
        raise ValidationError(
            f"The 'level' parameter of read_ibge must be one of {LEVELS} (activities); "
            f"got {level!r}."
        )
    return int(level)


def available_years(
    level: int = 20, *, directory: str | os.PathLike[str] | None = None
) -> list[int]:
    """Years for which both IBGE workbooks of ``level`` are present (sorted)."""
    level = _check_level(level)
    d = Path(directory) if directory is not None else _package_dir() / _DIRS[level]
    years = set()
    for f in d.glob(f"{level}_tab1_*.xls*"):
        m = re.fullmatch(rf"{level}_tab1_(\d{{4}})\.(xlsx?)", f.name)
        if m and (d / f"{level}_tab2_{m.group(1)}.{m.group(2)}").exists():
            years.add(int(m.group(1)))
    return sorted(years)


# ---------------------------------------------------------------------------- sheets
def _sheet(path: Path, name: str) -> Grid:
    book = workbook_sheets(path)
    if name not in book:
        raise ReaderError(path, f"no sheet named {name!r}; the sheets are {list(book)}")
    return book[name]


@dataclass
class _Block:
    """A table of a sheet: labelled rows × labelled columns of numbers."""

    codes: list[str]
    rows: list[str]
    columns: list[str]
    values: np.ndarray
    row_numbers: list[int]  # spreadsheet rows (1-based)
    first_col: int


def _cell(grid: Grid, r: int, c: int) -> object:
    row = grid[r] if r < len(grid) else []
    return row[c] if c < len(row) else ""


def _product_block(path: Path, sheet: str, *, what: str, total_col: bool = True) -> _Block:
    """Rows = products (code and description), columns = the headings of row 4."""
    grid = _sheet(path, sheet)
    head = None
    for r in range(min(len(grid), 12)):
        first = clean_label(_cell(grid, r, 0)).lower()
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
    has_code = clean_label(_cell(grid, head, 0)).lower().startswith("código")
    desc_col = 1 if has_code else 0
    first_col = desc_col + 1
    hdr = head + 1
    ncols = max((len(grid[r]) for r in range(hdr, min(len(grid), hdr + 1))), default=0)
    columns: list[str] = []
    for c in range(first_col, ncols):
        lab = clean_label(_cell(grid, hdr, c))
        if not lab or (total_col and lab.lower().startswith("total")):
            break
        columns.append(lab)
    if not columns:
        raise ReaderError(path, f"no column headings for {what}", sheet=sheet, row=hdr + 1)
    codes: list[str] = []
    rows: list[str] = []
    numbers: list[int] = []
    r = hdr + 1
    while r < len(grid) and not clean_label(_cell(grid, r, desc_col)):
        r += 1
    while r < len(grid):
        desc = clean_label(_cell(grid, r, desc_col))
        code = clean_label(_cell(grid, r, 0)) if has_code else ""
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
                _cell(grid, rr, c),
                path=path,
                sheet=sheet,
                row=f"{rr + 1} ({rows[i]!r})",
                column=describe_column(c, columns[j]),
                what=f"a number ({what})",
            )
    return _Block(codes, rows, columns, values, [n + 1 for n in numbers], first_col)


def _va_block(path: Path) -> _Block:
    """Sheet ``VA``: rows = value-added items, columns = activities."""
    sheet = "VA"
    grid = _sheet(path, sheet)
    head = None
    for r in range(min(len(grid), 12)):
        if clean_label(_cell(grid, r, 0)).lower().startswith("operações"):
            head = r
            break
    if head is None:
        raise ReaderError(path, "no heading row starting with 'Operações'", sheet=sheet)
    hdr = head + 1
    columns: list[str] = []
    for c in range(1, len(grid[hdr])):
        lab = clean_label(_cell(grid, hdr, c))
        if not lab or lab.lower().startswith("total"):
            break
        columns.append(lab)
    rows: list[str] = []
    numbers: list[int] = []
    for r in range(hdr + 1, len(grid)):
        raw = _cell(grid, r, 0)
        lab = str(raw) if raw is not None else ""
        if lab.strip().lower().startswith("fonte"):
            break
        if lab.strip() and any(str(_cell(grid, r, c)).strip() for c in range(1, 3)):
            rows.append(lab.rstrip())
            numbers.append(r)
    values = np.empty((len(rows), len(columns)))
    for i, rr in enumerate(numbers):
        for j in range(len(columns)):
            values[i, j] = as_number(
                _cell(grid, rr, 1 + j),
                path=path,
                sheet=sheet,
                row=f"{rr + 1} ({rows[i].strip()!r})",
                column=describe_column(1 + j, columns[j]),
                what="a number (value added)",
            )
    return _Block([], rows, columns, values, [n + 1 for n in numbers], 1)


def _va_row(path: Path, va: _Block, *, starts: str, indented: bool = False) -> np.ndarray:
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


def _columns_by_heading(
    path: Path, block: _Block, sheet: str, wanted: Sequence[tuple[str, str]]
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


def _same_rows(path: Path, sheet: str, block: _Block, ref: _Block, what: str) -> int:
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


def _tolerance(*arrays: np.ndarray) -> np.ndarray:
    """Rounding slack of published figures: 0.5 per term for integers, else relative 1e-6."""
    scale = sum(np.abs(a) for a in arrays)
    return np.maximum(0.5 * (len(arrays) + 1), 1e-6 * scale)


# ---------------------------------------------------------------------------- reader
def read_ibge(
    *,
    year: int | None = None,
    level: int = 20,
    technology: str = "industry",
    directory: str | os.PathLike[str] | None = None,
    zero_output: ZeroOutput = "drop",
) -> Economy:
    """Read IBGE's supply–use tables for ``year`` at ``level`` activities as an Economy.

    Parameters
    ----------
    year
        Reference year; ``None`` takes the latest available.
    level
        12, 20, 51 or 68 activities (the published levels of detail).
    technology
        How the supply–use table is made symmetric: ``"industry"`` (default;
        product × product, never negative), ``"product"`` (product × product;
        only for square levels 12 and 20, refused if it gives negative
        coefficients) or ``"sales"`` (industry × industry).  See
        :mod:`gosplan.readers.supply_use`.
    directory
        A folder holding ``<level>_tab1_<year>.xls`` and ``<level>_tab2_<year>.xls``
        (IBGE's file names; ``.xlsx`` copies are read too); default: the copy
        inside the ``iotbr`` package.  ``level`` then only names the files.
    zero_output
        Products without domestic output (only imported) are dropped (default)
        or refused (``"error"``).

    Labour is persons employed (``Fator trabalho (ocupações)``: jobs, not
    hours; ``labour_kind == "persons"``), carried from activities to products
    with the same technology assumption as the flows; labour values are then
    persons (jobs) per million reais of output.  Imported inputs are kept in
    ``imports``; final demand at basic prices, domestic output only, by the
    purposes of :data:`gosplan.core.economy.PURPOSES`.
    """
    level = _check_level(level)
    if technology not in TECHNOLOGIES:
        raise ValidationError(
            f"The 'technology' parameter of read_ibge must be one of {TECHNOLOGIES}; "
            f"got {technology!r}."
        )
    d = Path(directory) if directory is not None else _package_dir() / _DIRS[level]
    years = available_years(level, directory=d)
    if year is None:
        if not years:
            raise ReaderError(
                d, f"no IBGE workbooks {level}_tab1_YEAR.xls / {level}_tab2_YEAR.xls in this folder"
            )
        year = years[-1]
    if year not in years:
        raise ReaderError(
            d, f"no IBGE tables for {year} at level {level}; available years: {years or 'none'}"
        )
    ext = "xls" if (d / f"{level}_tab1_{year}.xls").exists() else "xlsx"
    tab1 = d / f"{level}_tab1_{year}.{ext}"
    tab2 = d / f"{level}_tab2_{year}.{ext}"
    try:
        return _read(
            tab1,
            tab2,
            year=int(year),
            level=level,
            technology=technology,
            zero_output=zero_output,
            packaged=directory is None,
        )
    except ReaderError:
        raise
    except GosplanError as exc:
        prefix_message(exc, f"IBGE tables {tab1.name}/{tab2.name}")
        raise


def _read(
    tab1: Path,
    tab2: Path,
    *,
    year: int,
    level: int,
    technology: str,
    zero_output: ZeroOutput,
    packaged: bool,
) -> Economy:
    """Read the two workbooks: blocks, published totals, basic prices, activities, then
    :func:`make_symmetric`; each step is a function below."""
    supply = _product_block(tab1, "producao", what="production of the activities")
    offer = _product_block(tab1, "oferta", what="supply by valuation", total_col=False)
    imports_b = _product_block(tab1, "importacao", what="imports", total_col=False)
    use = _product_block(tab2, "CI", what="intermediate consumption")
    demand = _product_block(tab2, "demanda", what="final demand", total_col=False)
    va = _va_block(tab2)
    reworded = (
        _same_rows(tab1, "oferta", offer, supply, "the supply by valuation")
        + _same_rows(tab1, "importacao", imports_b, supply, "the imports")
        + _same_rows(tab2, "CI", use, supply, "intermediate consumption")
        + _same_rows(tab2, "demanda", demand, supply, "final demand")
    )
    industries = supply.columns
    if len(use.columns) != len(industries) or len(va.columns) != len(industries):
        bad, sheet, path = (
            (use, "CI", tab2) if len(use.columns) != len(industries) else (va, "VA", tab2)
        )
        raise ReaderError(
            path,
            f"the activities differ from those of the supply table "
            f"({len(bad.columns)} vs {len(industries)}): "
            f"{bad.columns[:3]}... vs {industries[:3]}...",
            sheet=sheet,
        )
    if packaged and len(industries) != level:
        raise ReaderError(
            tab1,
            f"expected {level} activities (level {level}); found {len(industries)}",
            sheet="producao",
        )
    S = supply.values
    U_pm = use.values
    o = _columns_by_heading(tab1, offer, "oferta", SUPPLY_COLUMNS)
    imports = imports_b.values.sum(axis=1)  # CIF/FOB adjustment, goods, services
    fd_cols, E_pm, purposes = _final_demand(tab2, demand)
    total_use = _columns_by_heading(tab2, demand, "demanda", (("demanda total", "t"),))["t"]
    _check_totals(tab1, tab2, supply, U_pm, E_pm, total_use, o, imports)
    U, M_use, E, negatives = _basic_prices(tab1, tab2, supply, use, U_pm, E_pm, fd_cols, o, imports)
    persons, compensation, surplus = _activities(tab2, va, S, industries)
    labels = _unique_labels(supply.codes, supply.rows)
    try:
        sym = make_symmetric(
            S,
            U,
            products=labels,
            industries=industries,
            vectors={"labour": persons, "compensation": compensation, "surplus": surplus},
            final_demand=E,
            imported_use=M_use,
            technology=technology,
            negative_supply="move",
        )
    except ValidationError as exc:
        raise ReaderError(tab1, str(exc)) from None
    meta = EconomyMeta(
        source=f"IBGE, Sistema de Contas Nacionais, Tabelas de Recursos e Usos "
        f"{year}, {level} activities ({tab1.name}, {tab2.name}; via the "
        f"iotbr package)"
    )
    meta.note(
        "use table moved from purchasers' to basic prices, domestic only: margins, "
        "IPI/ICMS/other taxes spread over uses except stocks, imports and import duty "
        "over uses except stocks and exports, in proportion to purchasers'-price uses "
        "(Guilhoto & Sesso 2005); margins re-entered as purchases of the margin products"
    )
    reworded += int(sum(a != b for a, b in zip(use.columns, industries, strict=True)))
    if reworded:
        meta.note(
            f"{reworded} product/activity label(s) are worded differently between "
            f"IBGE's sheets; rows and columns matched by position, labels taken from "
            f"the supply table ('producao')"
        )
    if negatives:
        meta.note(f"{negatives} negative domestic-use cell(s) of rounding size set to 0")
    meta.note(sym.note)
    meta.note(
        f"labour: {LABOUR_ROW!r} (persons employed, jobs) by activity, carried to "
        f"{sym.kind}s with the same assumption; not hours"
    )
    meta.note(
        "final demand at purchasers' prices less margins, taxes and imports (basic "
        "prices, domestic output); changes in stocks kept at purchasers' prices"
    )
    name = "Brazil"
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
        persons=sym.vectors["labour"],
        zero_output=zero_output,
        labour_unit=LABOUR_UNIT,
        labour_kind="persons",
        money_unit=MONEY_UNIT,
        output_unit=MONEY_UNIT,
        name=name,
        year=year,
        kind=sym.kind,
        meta=meta,
    )


def _final_demand(tab2: Path, demand: _Block) -> tuple[list[str], np.ndarray, dict[str, str]]:
    """Final-demand columns by name (exports of goods and of services summed), their
    values at purchasers' prices, and the purpose of each."""
    fd_cols: list[str] = []
    fd_vals: list[np.ndarray] = []
    purposes: dict[str, str] = {}
    low = [c.lower() for c in demand.columns]
    for j, c in enumerate(low):
        for heading, name, purpose in FINAL_DEMAND:
            if c.startswith(heading):
                if name in fd_cols:  # exports of goods and of services (before 2010)
                    fd_vals[fd_cols.index(name)] = (
                        fd_vals[fd_cols.index(name)] + demand.values[:, j]
                    )
                else:
                    fd_cols.append(name)
                    fd_vals.append(demand.values[:, j].copy())
                    purposes[name] = purpose
                break
    missing = [
        n
        for n in (
            "exports",
            "household consumption",
            "changes in inventories",
            "gross fixed capital formation",
        )
        if n not in fd_cols
    ]
    if missing:
        raise ReaderError(
            tab2,
            f"final-demand columns {missing} not found; the headings are {demand.columns}",
            sheet="demanda",
        )
    return fd_cols, np.column_stack(fd_vals), purposes


def _check_totals(
    tab1: Path,
    tab2: Path,
    supply: _Block,
    U_pm: np.ndarray,
    E_pm: np.ndarray,
    total_use: np.ndarray,
    o: dict[str, np.ndarray],
    imports: np.ndarray,
) -> None:
    """The published table adds up, within rounding; else the product that does not."""
    S = supply.values
    m = S.shape[0]
    q = S.sum(axis=1)
    checks = [
        (
            "intermediate plus final use",
            U_pm.sum(axis=1) + E_pm.sum(axis=1),
            total_use,
            tab2,
            "demanda",
        ),
        ("total supply at purchasers' prices", o["total_pm"], total_use, tab1, "oferta"),
        ("output plus imports", q + imports, o["total_pb"], tab1, "oferta"),
        (
            "basic-price supply plus margins and taxes",
            o["total_pb"]
            + o["trade"]
            + o["transport"]
            + o["import_duty"]
            + o["ipi"]
            + o["icms"]
            + o["other_taxes"],
            o["total_pm"],
            tab1,
            "oferta",
        ),
    ]
    for what, lhs, rhs, path, sheet in checks:
        gap = np.abs(lhs - rhs)
        tol = _tolerance(lhs, rhs) * (m if what == "intermediate plus final use" else 1) ** 0.5
        if (gap > tol).any():
            i = int(np.argmax(gap - tol))
            raise ReaderError(
                path,
                f"the table does not add up for product "
                f"{supply.rows[i]!r}: {what} is {lhs[i]:,.6g} but should "
                f"be {rhs[i]:,.6g}",
                sheet=sheet,
                row=supply.row_numbers[i],
            )


def _basic_prices(
    tab1: Path,
    tab2: Path,
    supply: _Block,
    use: _Block,
    U_pm: np.ndarray,
    E_pm: np.ndarray,
    fd_cols: list[str],
    o: dict[str, np.ndarray],
    imports: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame, int]:
    """Uses from purchasers' to basic prices, domestic only: ``U``, imported use, final
    demand, and how many rounding-size negative cells were set to zero."""
    S = supply.values
    m = S.shape[0]
    q = S.sum(axis=1)
    industries = supply.columns
    k = len(industries)
    X = np.column_stack([U_pm, E_pm])  # all uses, purchasers' prices
    stocks = fd_cols.index("changes in inventories")
    exports = fd_cols.index("exports")
    base1 = X.copy()
    base1[:, k + stocks] = 0.0
    base2 = base1.copy()
    base2[:, k + exports] = 0.0
    s1 = base1.sum(axis=1)
    s2 = base2.sum(axis=1)
    share1 = np.divide(base1, s1[:, None], out=np.zeros_like(base1), where=s1[:, None] != 0)
    share2 = np.divide(base2, s2[:, None], out=np.zeros_like(base2), where=s2[:, None] != 0)
    taxes = o["ipi"] + o["icms"] + o["other_taxes"]
    remove = share1 * taxes[:, None] + share2 * (imports + o["import_duty"])[:, None]
    imported = share2 * imports[:, None]
    for key in ("trade", "transport"):
        mg = o[key]
        makers = mg < 0
        if not makers.any():
            if np.abs(mg).sum() > 0:
                raise ReaderError(
                    tab1,
                    f"the {key} margin column has no negative entry, so "
                    f"no product supplies the margin",
                    sheet="oferta",
                )
            continue
        spread = share1 * np.where(makers, 0.0, mg)[:, None]
        remove += spread
        prop = mg[makers] / mg[makers].sum()
        remove[makers] -= prop[:, None] * spread.sum(axis=0)[None, :]
    dom = X - remove
    # products the reader cannot allocate (no use but margins/taxes/imports) are caught here
    gap = np.abs(dom.sum(axis=1) - q)
    tol = _tolerance(dom.sum(axis=1), q) * m**0.5
    if (gap > tol).any():
        i = int(np.argmax(gap - tol))
        raise ReaderError(
            tab2,
            f"domestic use at basic prices of {supply.rows[i]!r} adds up "
            f"to {dom[i].sum():,.6g}, not its output {q[i]:,.6g}: margins, "
            f"taxes or imports exceed its uses",
            sheet="CI",
            row=supply.row_numbers[i],
        )
    U = dom[:, :k]
    M_use = imported[:, :k]
    neg = U < 0
    if neg.any():
        scale = np.maximum(np.abs(U_pm), 1.0)
        rel = np.where(neg, -U / scale, 0.0)
        if rel.max() > 1e-9:
            ri, ci = (int(t) for t in np.unravel_index(int(np.argmax(rel)), rel.shape))
            raise ReaderError(
                tab2,
                f"taking margins, taxes and imports out of the use of "
                f"{supply.rows[ri]!r} by {industries[ci]!r} leaves "
                f"{U[ri, ci]:,.6g} (negative)",
                sheet="CI",
                row=supply.row_numbers[ri],
                column=describe_column(use.first_col + ci, industries[ci]),
            )
        U = np.where(neg, 0.0, U)
    E = pd.DataFrame(dom[:, k:], columns=fd_cols)
    return U, M_use, E, int(neg.sum())


def _activities(
    tab2: Path, va: _Block, S: np.ndarray, industries: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Persons employed, compensation and surplus by activity, after checking the
    value-added block's output against the supply table's."""
    m = S.shape[0]
    g_pub = _va_row(tab2, va, starts="Valor da produção")
    g = S.sum(axis=0)
    gap = np.abs(g - g_pub)
    tol = _tolerance(g, g_pub) * m**0.5
    if (gap > tol).any():
        j = int(np.argmax(gap - tol))
        raise ReaderError(
            tab2,
            f"the output of activity {industries[j]!r} is "
            f"{g_pub[j]:,.6g} in the value-added block but the supply "
            f"table gives {g[j]:,.6g}",
            sheet="VA",
            column=describe_column(1 + j, industries[j]),
        )
    persons = _va_row(tab2, va, starts=LABOUR_ROW)
    compensation = _va_row(tab2, va, starts="Remunerações")
    surplus = _va_row(tab2, va, starts="Excedente operacional bruto")
    for name, v in (("persons employed", persons), ("compensation", compensation)):
        if (v < 0).any():
            j = int(np.flatnonzero(v < 0)[0])
            raise ReaderError(
                tab2,
                f"{name} of activity {industries[j]!r} is negative ({v[j]:g})",
                sheet="VA",
                column=describe_column(1 + j, industries[j]),
            )
    return persons, compensation, surplus


def _unique_labels(codes: list[str], rows: list[str]) -> list[str]:
    if len(set(rows)) == len(rows):
        return list(rows)
    return [f"{c} {r}".strip() for c, r in zip(codes, rows, strict=True)]
