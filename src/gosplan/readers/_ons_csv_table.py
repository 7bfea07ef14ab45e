"""The layout of the researcher's ONS CSV extracts (:mod:`gosplan.readers.ons_csv`).

:class:`Table` holds the square block of products and the rows below it as numbers,
each error naming line and column; :func:`final_demand` finds the final-demand columns
after the products, :func:`note_derived` checks the extract's derived columns.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

from gosplan.core.economy import EconomyMeta
from gosplan.errors import ReaderError
from gosplan.readers._excel import as_number, describe_column
from gosplan.readers.ons import FINAL_DEMAND

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


def label(value: object) -> str:
    """A heading or row label: stray bytes (U+FFFD, NBSP) dropped, whitespace collapsed."""
    text = str(value or "").replace("\ufffd", " ").replace("\xa0", " ")
    return " ".join(text.split())


class Primary(NamedTuple):
    """The rows below the products: the two totals with their row, and the inputs that
    add up to output (imports, taxes, compensation, surplus)."""

    intermediate: tuple[int, np.ndarray]
    output: tuple[int, np.ndarray]
    imports: np.ndarray
    taxes: np.ndarray
    compensation: np.ndarray
    surplus: np.ndarray


class Table:
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

    def nonnegative_block(self, what: str) -> np.ndarray:
        """The square block, refused at its first negative entry (``what`` says what an
        entry is and why it cannot be negative)."""
        B = self.block()
        if (B < 0).any():
            i, j = (int(v) for v in np.argwhere(B < 0)[0])
            raise self.fail(i, j, what.format(B[i, j]))
        return B

    def primary(self) -> Primary:
        """The rows below the products, each where it was found."""
        intermediate = self.row("intermediate")
        imports = self.row("imports")[1]
        compensation = self.row("compensation")[1]
        surplus = self.row("surplus")[1]
        output = self.row("output")
        return Primary(intermediate, output, imports, self.taxes(), compensation, surplus)

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


def final_demand(t: Table) -> tuple[list[tuple[int, str, str]], dict[str, int], np.ndarray]:
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


def note_derived(
    t: Table,
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
