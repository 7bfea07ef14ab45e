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
from importlib import resources
from pathlib import Path

import numpy as np

from gosplan.core.economy import Economy, EconomyMeta, ZeroOutput
from gosplan.errors import GosplanError, ReaderError, ValidationError
from gosplan.readers._excel import (
    describe_column,
    prefix_message,
)
from gosplan.readers._ibge_prices import basic_prices, check_totals
from gosplan.readers._ibge_sheets import (
    Block,
    columns_by_heading,
    product_block,
    same_rows,
    tolerance,
    va_block,
    va_row,
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
    level: int = 68, *, directory: str | os.PathLike[str] | None = None
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


# ---------------------------------------------------------------------------- reader
def read_ibge(
    *,
    year: int | None = None,
    level: int = 68,
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
    supply, offer, imports_b, use, demand, va, reworded = _blocks(tab1, tab2, level, packaged)
    industries = supply.columns
    S = supply.values
    U_pm = use.values
    o = columns_by_heading(tab1, offer, "oferta", SUPPLY_COLUMNS)
    imports = imports_b.values.sum(axis=1)  # CIF/FOB adjustment, goods, services
    fd_cols, E_pm, purposes = _final_demand(tab2, demand)
    total_use = columns_by_heading(tab2, demand, "demanda", (("demanda total", "t"),))["t"]
    check_totals(tab1, tab2, supply, U_pm, E_pm, total_use, o, imports)
    U, M_use, E, negatives = basic_prices(tab1, tab2, supply, use, U_pm, E_pm, fd_cols, o, imports)
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
    reworded += int(sum(a != b for a, b in zip(use.columns, industries, strict=True)))
    meta = _meta(tab1, tab2, year, level, reworded, negatives, sym.note, sym.kind)
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


def _blocks(
    tab1: Path, tab2: Path, level: int, packaged: bool
) -> tuple[Block, Block, Block, Block, Block, Block, int]:
    """The blocks of the two workbooks (supply, supply by valuation, imports,
    intermediate use, final demand, value added), checked to share their products and
    activities, and how many product labels are worded apart between sheets."""
    supply = product_block(tab1, "producao", what="production of the activities")
    offer = product_block(tab1, "oferta", what="supply by valuation", total_col=False)
    imports_b = product_block(tab1, "importacao", what="imports", total_col=False)
    use = product_block(tab2, "CI", what="intermediate consumption")
    demand = product_block(tab2, "demanda", what="final demand", total_col=False)
    va = va_block(tab2)
    reworded = (
        same_rows(tab1, "oferta", offer, supply, "the supply by valuation")
        + same_rows(tab1, "importacao", imports_b, supply, "the imports")
        + same_rows(tab2, "CI", use, supply, "intermediate consumption")
        + same_rows(tab2, "demanda", demand, supply, "final demand")
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
    return supply, offer, imports_b, use, demand, va, reworded


def _meta(
    tab1: Path,
    tab2: Path,
    year: int,
    level: int,
    reworded: int,
    negatives: int,
    sym_note: str,
    kind: str,
) -> EconomyMeta:
    """Where the economy came from and each assumption the reader made."""
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
    if reworded:
        meta.note(
            f"{reworded} product/activity label(s) are worded differently between "
            f"IBGE's sheets; rows and columns matched by position, labels taken from "
            f"the supply table ('producao')"
        )
    if negatives:
        meta.note(f"{negatives} negative domestic-use cell(s) of rounding size set to 0")
    meta.note(sym_note)
    meta.note(
        f"labour: {LABOUR_ROW!r} (persons employed, jobs) by activity, carried to "
        f"{kind}s with the same assumption; not hours"
    )
    meta.note(
        "final demand at purchasers' prices less margins, taxes and imports (basic "
        "prices, domestic output); changes in stocks kept at purchasers' prices"
    )
    return meta


def _final_demand(tab2: Path, demand: Block) -> tuple[list[str], np.ndarray, dict[str, str]]:
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


def _activities(
    tab2: Path, va: Block, S: np.ndarray, industries: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Persons employed, compensation and surplus by activity, after checking the
    value-added block's output against the supply table's."""
    m = S.shape[0]
    g_pub = va_row(tab2, va, starts="Valor da produção")
    g = S.sum(axis=0)
    gap = np.abs(g - g_pub)
    tol = tolerance(g, g_pub) * m**0.5
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
    persons = va_row(tab2, va, starts=LABOUR_ROW)
    compensation = va_row(tab2, va, starts="Remunerações")
    surplus = va_row(tab2, va, starts="Excedente operacional bruto")
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
