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
from gosplan.readers.ons import FINAL_DEMAND, LABOUR_UNIT, MONEY_UNIT
from gosplan.readers.ons_capital import read_capital_stock, read_depreciation_rates

#: primary rows below the products: key -> accepted labels (lower case)
FLOW_ROWS = {
    "intermediate": ("total consumption",),
    "imports": ("imports of goods and services",),
    "compensation": ("labour", "compensation of employees"),
    "surplus": ("gross operating surplus", "gross operating surplus and mixed income"),
    "output": ("output", "total output"),
}
TAX_PREFIX = "taxes less subsidies"
#: derived columns of domesticiot.csv: checked or noted, never read as final demand
DERIVED = ("publicsector", "total exports", "total demand")

Maybe = str | os.PathLike[str] | bool | None


def label(value: object) -> str:
    """A heading or row label: stray bytes (U+FFFD, NBSP) dropped, whitespace collapsed."""
    text = str(value or "").replace("\ufffd", " ").replace("\xa0", " ")
    return " ".join(text.split())


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


# ---------------------------------------------------------------------------- layout
class _Table:
    """The square block and the rows below it, as numbers, with where each came from."""

    def __init__(self, p: Path, rows: list[tuple[str, ...]]) -> None:
        if len(rows) < 3 or label(rows[0][0]).lower() != "product":
            raise ReaderError(
                p,
                "expected a heading line starting with 'Product' and the "
                "product lines below it (is this the researcher's "
                "domesticiot.csv or Amatrix2015.csv?)",
                row=1,
                column="A",
            )
        self.p = p
        self.head = [label(h) for h in rows[0]]
        self.body = [
            (line, list(r)) for line, r in enumerate(rows[1:], 2) if any(str(c).strip() for c in r)
        ]
        labels = [label(r[0]) for _, r in self.body]
        low = [lab.lower() for lab in labels]
        n = next((i for i, lab in enumerate(low) if lab == "total consumption"), None)
        if n is None or n == 0:
            raise ReaderError(
                p,
                "no line 'Total Consumption' after the product lines: the "
                "table ends early or is truncated",
                column="A",
            )
        self.n = n
        self.products = labels[:n]
        if self.head[1 : n + 1] != self.products:
            j = next(
                (
                    j
                    for j in range(n)
                    if j + 1 >= len(self.head) or self.head[j + 1] != self.products[j]
                ),
                0,
            )
            raise ReaderError(
                p,
                f"the table is not square: line {self.body[j][0]} is "
                f"{self.products[j]!r} but column {j + 1} is headed "
                f"{self.head[j + 1] if j + 1 < len(self.head) else None!r}",
                row=self.body[j][0],
                column=describe_column(j + 1),
            )
        dup = sorted({x for x in self.products if self.products.count(x) > 1})
        if dup:
            raise ReaderError(p, f"product names repeated: {dup}", column="A")
        self.labels = labels
        self.low = low

    def number(self, i: int, c: int, what: str, empty: float | None = None) -> float:
        line, r = self.body[i]
        cell = r[c] if c < len(r) else ""
        head = self.head[c] if c < len(self.head) else None
        return as_number(
            cell,
            path=self.p,
            sheet=None,
            row=f"{line} ({self.labels[i]!r})",
            column=describe_column(c, head),
            what=f"a number ({what})",
            empty=empty,
        )

    def block(self) -> np.ndarray:
        n = self.n
        return np.array([[self.number(i, 1 + j, "flow") for j in range(n)] for i in range(n)])

    def row(self, key: str) -> tuple[int, np.ndarray]:
        names = FLOW_ROWS[key]
        for i in range(self.n, len(self.body)):
            if self.low[i] in names:
                return i, np.array([self.number(i, 1 + j, self.labels[i]) for j in range(self.n)])
        raise ReaderError(
            self.p,
            f"no row {' or '.join(repr(x) for x in names)} below the "
            f"products; rows found there: {self.labels[self.n :]}",
            column="A",
        )

    def taxes(self) -> np.ndarray:
        out = np.zeros(self.n)
        for i in range(self.n, len(self.body)):
            if self.low[i].startswith(TAX_PREFIX):
                out += [self.number(i, 1 + j, self.labels[i]) for j in range(self.n)]
        return out

    def fail(self, i: int, j: int, reason: str) -> ReaderError:
        return ReaderError(
            self.p,
            reason,
            row=f"{self.body[i][0]} ({self.labels[i]!r})",
            column=describe_column(1 + j, self.head[1 + j]),
        )


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
    t = _Table(p, rows)
    n = t.n
    Z = t.block()
    if (Z < 0).any():
        i, j = (int(v) for v in np.argwhere(Z < 0)[0])
        raise t.fail(i, j, f"negative flow {Z[i, j]:g}; intermediate flows cannot be negative")
    r_int, inter = t.row("intermediate")
    _, imp_row = t.row("imports")
    _, wages = t.row("compensation")
    _, surplus = t.row("surplus")
    r_out, x = t.row("output")
    taxes = t.taxes()
    # columns add up, within the rounding of whole £ million
    for j in range(n):
        if abs(Z[:, j].sum() - inter[j]) > rounding_tolerance(Z[:, j], inter[j]):
            raise t.fail(
                r_int,
                j,
                f"the flows into {t.products[j]!r} add up to "
                f"{Z[:, j].sum():g}, not to 'Total Consumption' {inter[j]:g}",
            )
        parts = np.array([inter[j], imp_row[j], taxes[j], wages[j], surplus[j]])
        if abs(parts.sum() - x[j]) > rounding_tolerance(np.r_[parts, 0.0, 0.0], x[j]):
            raise t.fail(
                r_out,
                j,
                f"the inputs of {t.products[j]!r} add up to "
                f"{parts.sum():g}, not to its output {x[j]:g}",
            )
    fd_cols, derived, fd = _final_demand(t)
    meta = EconomyMeta(
        source=f"ONS UK input–output analytical tables, researcher's CSV "
        f"extract {p.name} (domestic use, basic prices, product by "
        f"product, whole GBP million)"
    )
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
    _note_derived(t, fd, fd_cols, derived, x, meta)
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


def _final_demand(t: _Table) -> tuple[list[tuple[int, str, str]], dict[str, int], np.ndarray]:
    """The component final-demand columns after the products (column, heading, purpose),
    the researcher's derived columns (not read), and the figures."""
    n = t.n
    fd_cols: list[tuple[int, str, str]] = []
    derived: dict[str, int] = {}
    for c in range(n + 1, len(t.head)):
        low = t.head[c].lower()
        hit = next((d for d in DERIVED if low.startswith(d)), None)
        if hit:
            derived[hit] = c
            continue
        purpose = next((pu for start, pu in FINAL_DEMAND if low.startswith(start)), None)
        if purpose:
            fd_cols.append((c, t.head[c], purpose))
    if len(fd_cols) < 8:
        raise ReaderError(
            t.p,
            f"expected the final-demand columns (households, NPISH, "
            f"government, GFCF, valuables, inventories, exports) after the "
            f"{n} products; found {[f[1] for f in fd_cols]}",
            row=1,
        )
    fd = np.array([[t.number(i, c, lab) for c, lab, _ in fd_cols] for i in range(n)])
    return fd_cols, derived, fd


def _note_derived(
    t: _Table,
    fd: np.ndarray,
    fd_cols: list[tuple[int, str, str]],
    derived: dict[str, int],
    x: np.ndarray,
    meta: EconomyMeta,
) -> None:
    """Check the researcher's derived columns; note (not refuse) rows where they slip."""
    names = [lab.lower() for _, lab, _ in fd_cols]
    notes = []
    if "publicsector" in derived:
        c = derived["publicsector"]
        parts = [
            k
            for k, nm in enumerate(names)
            if nm.startswith(("non-profit", "central government", "local authorities"))
        ]
        bad = [
            t.products[i]
            for i in range(t.n)
            if abs(t.number(i, c, "PublicSector", empty=0.0) - fd[i, parts].sum()) > 2
        ]
        notes.append(
            "'PublicSector' (= NPISH + central government + local authorities) not "
            "read" + (f"; it differs from that sum for {bad}" if bad else "")
        )
    if "total exports" in derived:
        c = derived["total exports"]
        parts = [k for k, nm in enumerate(names) if nm.startswith("exports")]
        bad = [
            t.products[i]
            for i in range(t.n)
            if abs(t.number(i, c, "Total Exports", empty=0.0) - fd[i, parts].sum()) > 2.5
        ]
        notes.append(
            "'Total Exports' not read"
            + (
                f"; it is not the sum of the four export columns for {bad} (a slip in the "
                f"extract: the workbook's figures are the four columns)"
                if bad
                else ""
            )
        )
    if "total demand" in derived:
        c = derived["total demand"]
        bad = [
            t.products[i]
            for i in range(t.n)
            if abs(t.number(i, c, "Total Demand", empty=0.0) - x[i]) > 0.5
        ]
        notes.append(
            "'Total Demand for Products at Basic Prices' not read (rows are checked "
            "against 'Output')" + (f"; it differs from output for {bad}" if bad else "")
        )
    for note in notes:
        meta.note(note)


# ---------------------------------------------------------------------------- coefficients
def _read_coefficients(
    p: Path,
    rows: list[tuple[str, ...]],
    imports: Maybe,
    capital: str | os.PathLike[str] | None,
    depreciation: str | os.PathLike[str] | None,
    flows: Maybe,
    zero_output: ZeroOutput,
) -> Economy:
    t = _Table(p, rows)
    n = t.n
    A = t.block()
    if (A < 0).any():
        i, j = (int(v) for v in np.argwhere(A < 0)[0])
        raise t.fail(i, j, f"negative coefficient {A[i, j]:g}")
    r_int, inter = t.row("intermediate")
    _, imp_row = t.row("imports")
    _, comp = t.row("compensation")
    _, gos = t.row("surplus")
    r_out, total = t.row("output")
    taxes = t.taxes()
    half = 0.0005  # the file's figures are rounded to 0.001
    for j in range(n):
        if abs(A[:, j].sum() - inter[j]) > half * (n + 1):
            raise t.fail(
                r_int,
                j,
                f"the coefficients of {t.products[j]!r} add up to "
                f"{A[:, j].sum():.4g}, not to 'Total Consumption' "
                f"{inter[j]:.4g}",
            )
        parts = inter[j] + imp_row[j] + taxes[j] + comp[j] + gos[j]
        if abs(total[j] - 1.0) > half or abs(parts - 1.0) > half * 7:
            raise t.fail(
                r_out,
                j,
                f"the inputs per unit of {t.products[j]!r} add up to "
                f"{parts:.4g} and 'Total Output' says {total[j]:g}; "
                f"a coefficient table adds up to 1 in every column",
            )
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
    M, codes = (None, None)
    if x is not None:
        # the imports row is rounded to 0.001 of output: allow that on top
        M, codes = _imports_beside(p, imports, n, imp_row * x, meta, slack=half * x)
    elif imports not in (None, False):
        raise ReaderError(
            p,
            "imported use in £ million (importuse.csv) needs gross output, "
            "which the coefficient file lacks: put domesticiot.csv beside it "
            "or pass flows=",
        )
    if M is None or x is None:
        M_unit = np.diag(imp_row)
        meta.note(
            "imports: the row 'Imports of goods and services' gives each product's "
            "imported inputs per unit in total only; kept on the diagonal of `imports`"
        )
    else:
        M_unit = M / np.where(x > 0, x, 1.0)[None, :]
    kwargs: dict[str, object] = {}
    if capital is not None or depreciation is not None:
        if x is None:
            raise ReaderError(
                p,
                "capital stock per unit needs gross output, which the "
                "coefficient file lacks: put domesticiot.csv beside it",
            )
        kw = _capital(p, capital, depreciation, codes, x, t.products, meta)
        if "capital" in kw:
            kw["capital"] = np.asarray(kw["capital"]) / np.where(x > 0, x, 1.0)[None, :]
        kwargs.update(kw)
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
    t = _Table(f, csv_rows(f))
    if t.n != n:
        raise ReaderError(f, f"has {t.n} products but {p.name} has {n}: not the same table")
    _, x = t.row("output")
    fd_cols, _, fd = _final_demand(t)
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


# ---------------------------------------------------------------------------- capital
def _capital(
    p: Path,
    capital: str | os.PathLike[str] | None,
    depreciation: str | os.PathLike[str] | None,
    codes: list[str] | None,
    x: np.ndarray,
    names: list[str],
    meta: EconomyMeta,
) -> dict[str, object]:
    out: dict[str, object] = {}
    K = None
    if capital is not None:
        if codes is None:
            raise ReaderError(
                p,
                "the capital-stock matrix is put on products by their codes "
                "('01', '41-43', …), which only importuse.csv carries (line "
                "1): keep it beside the file",
            )
        K, share = read_capital_stock(capital, codes=codes, output=x)
        out["capital"] = K
        meta.note(
            f"capital stock from {Path(capital).name} (see read_capital_stock; codes "
            f"from importuse.csv); {share:.1%} of the file's total stock placed"
        )
    if depreciation is not None:
        rates, unmatched = read_depreciation_rates(depreciation, names=names)
        if K is not None:
            used = [names[i] for i in unmatched if K[i].sum() > 0]
            if used:
                raise ReaderError(depreciation, f"no depreciation rate for capital good(s) {used}")
        out["depreciation"] = rates
        meta.note(
            f"depreciation rates per product from {Path(depreciation).name}, lines "
            f"aligned to products by name"
            + (f"; no line for {[names[i] for i in unmatched]} (rate 0)" if unmatched else "")
        )
    return out


__all__ = ["file_kind", "read_import_use", "read_ons_csv"]
