"""A researcher's CSV extracts of the ONS UK input–output analytical tables (2015).

Beside the ONS workbook (read by :mod:`gosplan.readers.ons`), ``shared/data/uk-2015``
holds CSV files a researcher cut from the same release.  Two of them are whole
tables and are read here:

``domesticiot.csv`` — domestic use, product × product, whole £ million
    Line 1: ``Product``, the 129 products (named after their *activities*:
    ``Crop And Animal Production, …``), then ``Total Intermediate Demand``,
    ``Households``, ``PublicSector`` (= NPISH + central government + local
    authorities, not read), ``Non-Profit Institutions Serving Households``,
    ``Central Government``, ``Local Authorities``, ``Gross Fixed Capital
    Formation``, ``Valuables``, ``Changes in Inventories``, four ``Exports of …``,
    ``Total Exports`` and ``Total Demand for Products at Basic Prices``.  Then
    one line per product, in the heading's order, and the rows ``Total
    Consumption``, ``Imports of goods and services``, two taxes-less-subsidies
    rows, **``labour``**, ``Gross operating surplus`` and ``Output``.
    The ``labour`` row is the workbook's *compensation of employees*, rounded to
    £ million (it equals ``read_ons``'s to ±0.5 in every column): money wages,
    not hours.
``Amatrix2015.csv`` — coefficients (per £ of output), rounded to 0.001
    Line 1: ``Product`` and the 129 products (named as *products*; one heading
    has a stray byte, ``Natural Gas \\ufffd& Mining``); one line per product,
    then ``Total Consumption``, ``Imports of goods and services``, the two tax
    rows, ``Compensation of employees``, ``Gross operating surplus`` and
    ``Total Output`` (all 1).  It has no gross output: that is taken from
    ``domesticiot.csv`` beside it when present.

Imported use comes from ``importuse.csv`` beside the file (product codes in
column A, the 129 column codes in line 1), fixed capital from
``capitalstockmatrix2015.csv`` / ``deprates.csv`` via
:func:`gosplan.readers.ons_capital.read_capital_stock` and
:func:`gosplan.readers.ons_capital.read_depreciation_rates`.
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
    as_number,
    check_exists,
    csv_rows,
    describe_column,
    prefix_message,
    rounding_tolerance,
)
from gosplan.readers._ons_csv_table import Table, final_demand, label, note_derived
from gosplan.readers.ons import LABOUR_UNIT, MONEY_UNIT
from gosplan.readers.ons_capital import fixed_capital

Maybe = str | os.PathLike[str] | bool | None


def file_kind(path: str | os.PathLike[str]) -> str | None:
    """``"flows"`` for ``domesticiot*.csv``, ``"coefficients"`` for ``amatrix*.csv``, else None."""
    name = Path(path).name.lower()
    if re.fullmatch(r"domesticiot.*\.csv", name):
        return "flows"
    if re.fullmatch(r"amatrix.*\.csv", name):
        return "coefficients"
    return None


def read_ons_csv(
    path: str | os.PathLike[str],
    *,
    imports: Maybe = None,
    capital: str | os.PathLike[str] | None = None,
    depreciation: str | os.PathLike[str] | None = None,
    flows: Maybe = None,
    zero_output: ZeroOutput = "drop",
) -> Economy:
    """Read ``domesticiot.csv`` (flows) or ``Amatrix2015.csv`` (coefficients) as an Economy.

    Parameters
    ----------
    path
        The extract; which one it is comes from its name (``domesticiot*.csv``,
        ``amatrix*.csv``) or, failing that, from its rows (``Output`` vs
        ``Total Output`` all ones).
    imports
        ``importuse.csv`` (imported use by product code, £ million); ``None``
        takes the one beside ``path`` if there is one, ``False`` none.  Its
        ``Total`` line must match the table's imports row within rounding.
    capital, depreciation
        ``capitalstockmatrix2015.csv`` and ``deprates.csv``, as for
        :func:`gosplan.readers.ons.read_ons`.  The capital matrix needs the
        products' codes, which only ``importuse.csv`` carries, and gross output.
    flows
        For the coefficient file only: ``domesticiot.csv`` whose ``Output`` row
        gives gross output (``None``: the one beside it, if any; ``False``: no
        gross output).
    zero_output
        Products without output are dropped (default) or refused.

    Labour is compensation of employees (£ million; ``labour_kind ==
    "wages"``): labour values are £ of wages per £ of output.
    """
    p = check_exists(path)
    try:
        rows = csv_rows(p)
        kind = file_kind(p) or _sniff(p, rows)
        if kind == "flows":
            return _read_flows(p, rows, imports, capital, depreciation, zero_output)
        return _read_coefficients(p, rows, imports, capital, depreciation, flows, zero_output)
    except ReaderError:
        raise
    except GosplanError as exc:
        prefix_message(exc, f"file {str(p)!r}")
        raise


def _sniff(p: Path, rows: list[tuple[str, ...]]) -> str:
    low = {label(r[0]).lower() for r in rows if r}
    if "labour" in low or "output" in low:
        return "flows"
    if "total output" in low and "compensation of employees" in low:
        return "coefficients"
    raise ReaderError(
        p,
        "neither the researcher's domesticiot.csv (rows 'labour', 'Output') "
        "nor Amatrix2015.csv (rows 'Compensation of employees', 'Total "
        "Output')",
        column="A",
    )


def _year(p: Path) -> int | None:
    for text in (p.name, p.parent.name):
        m = re.search(r"(19|20)\d{2}", text)
        if m:
            return int(m.group(0))
    return None


# ---------------------------------------------------------------------------- flows
def _read_flows(
    p: Path,
    rows: list[tuple[str, ...]],
    imports: Maybe,
    capital: str | os.PathLike[str] | None,
    depreciation: str | os.PathLike[str] | None,
    zero_output: ZeroOutput,
) -> Economy:
    t = Table(p, rows)
    n = t.n
    Z = t.nonnegative_block("negative flow {:g}; intermediate flows cannot be negative")
    pr = t.primary()
    (r_out, x), imp_row, wages, surplus = pr.output, pr.imports, pr.compensation, pr.surplus
    _check_flow_columns(t, Z, pr.intermediate, pr.output, (imp_row, pr.taxes, wages, surplus))
    fd_cols, derived, fd = final_demand(t)
    meta = EconomyMeta(
        source=f"ONS UK input–output analytical tables, researcher's CSV "
        f"extract {p.name} (domestic use, basic prices, product by "
        f"product, whole GBP million)"
    )
    _check_flow_rows(t, Z, fd, x, r_out)
    note_derived(t, fd, fd_cols, derived, x, meta)
    meta.note(
        "labour: the row 'labour', which is compensation of employees (GBP million, "
        "rounded; the ONS workbook's row 'Compensation of employees'): money wages, "
        "not hours"
    )
    M, codes = _imports_beside(p, imports, n, imp_row, meta)
    kwargs = _capital(p, capital, depreciation, codes, x, t.products, meta)
    fd_frame = pd.DataFrame(fd, index=t.products, columns=[lab for _, lab, _ in fd_cols])
    return Economy.from_flows(
        Z,
        x,
        wages,
        products=t.products,
        final_demand=fd_frame,
        purposes={lab: pu for _, lab, pu in fd_cols},
        imports=M if M is not None else np.diag(imp_row),
        compensation=wages,
        surplus=surplus,
        zero_output=zero_output,
        labour_unit=LABOUR_UNIT,
        labour_kind="wages",
        money_unit=MONEY_UNIT,
        output_unit=MONEY_UNIT,
        name="United Kingdom",
        year=_year(p),
        kind="product",
        meta=meta,
        **kwargs,
    )


def _check_flow_columns(
    t: Table,
    Z: np.ndarray,
    intermediate: tuple[int, np.ndarray],
    output: tuple[int, np.ndarray],
    primary: tuple[np.ndarray, ...],
) -> None:
    """Each column's flows add up to 'Total Consumption', and that plus the ``primary``
    inputs to its output, within the rounding of whole £ million."""
    (r_int, inter), (r_out, x) = intermediate, output
    for j in range(t.n):
        if abs(Z[:, j].sum() - inter[j]) > rounding_tolerance(Z[:, j], inter[j]):
            raise t.fail(
                r_int,
                j,
                f"the flows into {t.products[j]!r} add up to "
                f"{Z[:, j].sum():g}, not to 'Total Consumption' {inter[j]:g}",
            )
        parts = np.array([inter[j], *(row[j] for row in primary)])
        if abs(parts.sum() - x[j]) > rounding_tolerance(np.r_[parts, 0.0, 0.0], x[j]):
            raise t.fail(
                r_out,
                j,
                f"the inputs of {t.products[j]!r} add up to "
                f"{parts.sum():g}, not to its output {x[j]:g}",
            )


def _check_flow_rows(t: Table, Z: np.ndarray, fd: np.ndarray, x: np.ndarray, r_out: int) -> None:
    """Each product's uses (intermediate plus final demand) add up to its output."""
    n = t.n
    for i in range(n):
        uses = np.r_[Z[i], fd[i]]
        if abs(uses.sum() - x[i]) > rounding_tolerance(uses, x[i]):
            raise t.fail(
                i,
                n - 1,
                f"the uses of {t.products[i]!r} (intermediate "
                f"{Z[i].sum():g} plus final demand {fd[i].sum():g}) add up "
                f"to {uses.sum():g}, not to its output {x[i]:g} (row "
                f"{t.labels[r_out]!r})",
            )


# ---------------------------------------------------------------------------- coefficients
#: the coefficient file's figures are rounded to 0.001
_HALF = 0.0005


def _check_coefficient_columns(
    t: Table,
    A: np.ndarray,
    intermediate: tuple[int, np.ndarray],
    output: tuple[int, np.ndarray],
    primary: tuple[np.ndarray, ...],
) -> None:
    """Each column's coefficients add up to 'Total Consumption', and that plus the
    ``primary`` inputs per unit to 1 ('Total Output'), within the file's rounding."""
    (r_int, inter), (r_out, total) = intermediate, output
    n = t.n
    for j in range(n):
        if abs(A[:, j].sum() - inter[j]) > _HALF * (n + 1):
            raise t.fail(
                r_int,
                j,
                f"the coefficients of {t.products[j]!r} add up to "
                f"{A[:, j].sum():.4g}, not to 'Total Consumption' "
                f"{inter[j]:.4g}",
            )
        parts = inter[j] + sum(row[j] for row in primary)
        if abs(total[j] - 1.0) > _HALF or abs(parts - 1.0) > _HALF * 7:
            raise t.fail(
                r_out,
                j,
                f"the inputs per unit of {t.products[j]!r} add up to "
                f"{parts:.4g} and 'Total Output' says {total[j]:g}; "
                f"a coefficient table adds up to 1 in every column",
            )


def _imports_per_unit(
    p: Path, imports: Maybe, imp_row: np.ndarray, x: np.ndarray | None, meta: EconomyMeta
) -> tuple[np.ndarray, list[str] | None]:
    """Imported use per unit of output (from ``importuse.csv`` when gross output is
    known, else the imports row on the diagonal) and the products' codes, if read."""
    M, codes = (None, None)
    if x is not None:
        # the imports row is rounded to 0.001 of output: allow that on top
        M, codes = _imports_beside(p, imports, len(imp_row), imp_row * x, meta, slack=_HALF * x)
    elif imports not in (None, False):
        raise ReaderError(
            p,
            "imported use in £ million (importuse.csv) needs gross output, "
            "which the coefficient file lacks: put domesticiot.csv beside it "
            "or pass flows=",
        )
    if M is None or x is None:
        meta.note(
            "imports: the row 'Imports of goods and services' gives each product's "
            "imported inputs per unit in total only; kept on the diagonal of `imports`"
        )
        return np.diag(imp_row), codes
    return M / np.where(x > 0, x, 1.0)[None, :], codes


def _capital_per_unit(
    p: Path,
    capital: str | os.PathLike[str] | None,
    depreciation: str | os.PathLike[str] | None,
    codes: list[str] | None,
    x: np.ndarray | None,
    products: list[str],
    meta: EconomyMeta,
) -> dict[str, object]:
    """Fixed capital per unit of output, for the coefficient file (needs gross output)."""
    if x is None:
        raise ReaderError(
            p,
            "capital stock per unit needs gross output, which the "
            "coefficient file lacks: put domesticiot.csv beside it",
        )
    kw = _capital(p, capital, depreciation, codes, x, products, meta)
    if "capital" in kw:
        kw["capital"] = np.asarray(kw["capital"]) / np.where(x > 0, x, 1.0)[None, :]
    return kw


def _read_coefficients(
    p: Path,
    rows: list[tuple[str, ...]],
    imports: Maybe,
    capital: str | os.PathLike[str] | None,
    depreciation: str | os.PathLike[str] | None,
    flows: Maybe,
    zero_output: ZeroOutput,
) -> Economy:
    t = Table(p, rows)
    n = t.n
    A = t.nonnegative_block("negative coefficient {:g}")
    pr = t.primary()
    imp_row, comp, gos = pr.imports, pr.compensation, pr.surplus
    _check_coefficient_columns(t, A, pr.intermediate, pr.output, (imp_row, pr.taxes, comp, gos))
    meta = EconomyMeta(
        source=f"ONS UK input–output analytical tables, researcher's CSV "
        f"extract {p.name} (domestic technical coefficients, product by "
        f"product, rounded to 0.001)"
    )
    meta.note(
        "labour: the row 'Compensation of employees' per GBP of output (money wages, "
        "not hours), rounded to 0.001"
    )
    x, fd, purposes = _output_beside(p, flows, n, meta)
    keep = np.ones(n, dtype=bool) if x is None else x > 0
    if x is not None and not keep.all():
        gone = [t.products[i] for i in np.flatnonzero(~keep)]
        if zero_output != "drop":
            raise ReaderError(p, f"products without output: {gone}")
        meta.note(f"dropped {len(gone)} zero-output product(s) {gone}")
    M_unit, codes = _imports_per_unit(p, imports, imp_row, x, meta)
    kwargs: dict[str, object] = {}
    if capital is not None or depreciation is not None:
        kwargs = _capital_per_unit(p, capital, depreciation, codes, x, t.products, meta)
    idx = np.flatnonzero(keep)
    sub = np.ix_(idx, idx)
    products = [t.products[i] for i in idx]
    extra: dict[str, object] = {}
    if x is not None:
        extra = {
            "output": x[idx],
            "compensation": comp[idx] * x[idx],
            "surplus": gos[idx] * x[idx],
            "purposes": purposes,
            "final_demand": None if fd is None else fd.iloc[idx],
        }
    for key in ("capital",):
        if key in kwargs:
            kwargs[key] = np.asarray(kwargs[key])[sub]
    if "depreciation" in kwargs:
        kwargs["depreciation"] = np.asarray(kwargs["depreciation"])[idx]
    return Economy.from_coefficients(
        A[sub],
        comp[idx],
        products=products,
        imports=M_unit[sub],
        labour_unit=LABOUR_UNIT,
        labour_kind="wages",
        money_unit=MONEY_UNIT,
        output_unit=MONEY_UNIT,
        name="United Kingdom",
        year=_year(p),
        kind="product",
        meta=meta,
        **extra,
        **kwargs,
    )


def _output_beside(
    p: Path, flows: Maybe, n: int, meta: EconomyMeta
) -> tuple[np.ndarray | None, pd.DataFrame | None, dict[str, str]]:
    """Gross output and final demand (£ million) from the flows file beside a coefficient file."""
    if flows is False:
        meta.note(
            "no gross output (flows=False): totals and value–price comparisons are unavailable"
        )
        return None, None, {}
    f = p.with_name("domesticiot.csv") if flows is None or flows is True else Path(flows)
    if not f.exists():
        if flows is None:
            meta.note(
                "no gross output: the coefficient file has none and no domesticiot.csv "
                "lies beside it"
            )
            return None, None, {}
        raise ReaderError(f, "no such file (wanted for gross output, row 'Output')")
    t = Table(f, csv_rows(f))
    if t.n != n:
        raise ReaderError(f, f"has {t.n} products but {p.name} has {n}: not the same table")
    _, x = t.row("output")
    fd_cols, _, fd = final_demand(t)
    meta.note(
        f"gross output (row 'Output') and final demand from {f.name} (whole GBP "
        f"million), products matched by position"
    )
    labels = [lab for _, lab, _ in fd_cols]
    return x, pd.DataFrame(fd, columns=labels), {lab: pu for _, lab, pu in fd_cols}


# ---------------------------------------------------------------------------- imports
def _imports_beside(
    p: Path,
    imports: Maybe,
    n: int,
    total: np.ndarray,
    meta: EconomyMeta,
    *,
    slack: np.ndarray | float = 0.0,
) -> tuple[np.ndarray | None, list[str] | None]:
    """Imported use (£ million, product × product) from ``importuse.csv``, and its column codes."""
    if imports is False:
        return None, None
    f = p.with_name("importuse.csv") if imports is None or imports is True else Path(imports)
    if not f.exists():
        if imports is None:
            meta.note(
                "imports: no importuse.csv beside the file; the imports row gives each "
                "product's total imported inputs only (kept on the diagonal)"
            )
            return None, None
        raise ReaderError(f, "no such file (wanted for imported use)")
    M, codes = read_import_use(f, n=n)
    gap = np.abs(M.sum(axis=0) - total)
    tol = 0.5 * (np.count_nonzero(M, axis=0) + 2) + slack + 1e-9
    if (gap > tol).any():
        j = int(np.argmax(gap - tol))
        raise ReaderError(
            f,
            f"the imported inputs into column {j + 1} ({codes[j]!r}) add up "
            f"to {M[:, j].sum():g} here but {p.name}'s imports row gives "
            f"{total[j]:g}: not the same table",
            column=describe_column(2 + j, codes[j]),
        )
    meta.note(
        f"imports: {f.name} ({int((M.sum(axis=1) > 0).sum())} products with imported "
        f"use; rows matched to the table's columns by code, columns by position); "
        f"column sums agree with the imports row within rounding (largest gap {gap.max():g})"
    )
    return M, codes


def read_import_use(path: str | os.PathLike[str], *, n: int) -> tuple[np.ndarray, list[str]]:
    """``importuse.csv``: line 1 codes of the ``n`` product columns from column C, line 2
    names, then one line per imported product (code in A, name in B) and a ``Total``
    line (checked).  Figures are whole £ million, thousands written ``2,899``.

    Returns the ``n × n`` imported-use matrix (rows put at their code's position)
    and the column codes.
    """
    p = check_exists(path)
    rows = csv_rows(p)
    if len(rows) < 4:
        raise ReaderError(
            p, f"the file has {len(rows)} line(s); expected codes, names, product lines and 'Total'"
        )
    codes = [label(c) for c in rows[0][2 : 2 + n]]
    if len(codes) < n or not all(codes) or codes[:2] != ["01", "02"]:
        raise ReaderError(
            p, f"expected {n} product codes '01', '02', … from column C", row=1, column="C"
        )
    pos = {c: j for j, c in enumerate(codes)}

    def number(line: int, r: tuple[str, ...], c: int, what: str) -> float:
        cell = r[c] if c < len(r) else ""
        text = cell.strip()
        if re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", text):
            text = text.replace(",", "")
        return as_number(
            text,
            path=p,
            sheet=None,
            row=f"{line} ({label(r[1])!r})",
            column=describe_column(c, codes[c - 2] if 2 <= c < n + 2 else None),
            what=f"a number ({what})",
        )

    M = np.zeros((n, n))
    total_line = None
    for line, r in enumerate(rows[2:], 3):
        code = label(r[0]) if r else ""
        if not code:
            if len(r) > 1 and label(r[1]).lower() == "total":
                total_line = (line, r)
            continue
        if code not in pos:
            raise ReaderError(
                p, f"imported product {code!r} is not among the column codes", row=line, column="A"
            )
        M[pos[code]] = [number(line, r, 2 + j, "imported use") for j in range(n)]
    if total_line is None:
        raise ReaderError(p, "no line 'Total' below the imported products", column="B")
    line, r = total_line
    tot = np.array([number(line, r, 2 + j, "total") for j in range(n)])
    gap = np.abs(M.sum(axis=0) - tot)
    tol = 0.5 * (np.count_nonzero(M, axis=0) + 1) + 1e-9
    if (gap > tol).any():
        j = int(np.argmax(gap - tol))
        raise ReaderError(
            p,
            f"the imports into {codes[j]!r} add up to {M[:, j].sum():g}, "
            f"not to the 'Total' {tot[j]:g}",
            row=line,
            column=describe_column(2 + j, codes[j]),
        )
    return M, codes


def _capital(
    p: Path,
    capital: str | os.PathLike[str] | None,
    depreciation: str | os.PathLike[str] | None,
    codes: list[str] | None,
    x: np.ndarray,
    products: list[str],
    meta: EconomyMeta,
) -> dict[str, object]:
    """Fixed capital from the CSV extracts beside the file (:func:`ons_capital.fixed_capital`)."""
    if capital is not None and codes is None:
        raise ReaderError(
            p,
            "the capital-stock matrix is put on products by their codes "
            "('01', '41-43', …), which only importuse.csv carries (line "
            "1): keep it beside the file",
        )
    return fixed_capital(
        capital,
        depreciation,
        codes=codes,
        output=x,
        names=products,
        labels=products,
        meta=meta,
        codes_from="; codes from importuse.csv",
    )


__all__ = ["file_kind", "read_import_use", "read_ons_csv"]
