"""UK input–output tables 1984 and 1995 (CSO/ONS): the CSV files ``UK-1984.csv``, ``UK-1995.csv``.

Layout (see ``docs/readers.md``): the first row holds the column headings,
the first column the row labels.  The first ``n`` rows after the heading are
the industries, up to the first row whose label begins with ``Total``
(``Total intermediate`` in 1984, ``Total consumption`` in 1995); the first
``n`` columns after the labels are the same industries, in the same order.
Then come

* columns: in 1984 ``Adjusts`` (a column with no matching row), ``Total``,
  the final demand ``Consumers' expenditure``, ``GGFC``, ``GDFCF``, ``Stocks``,
  ``Exports``, ``TOTAL Final Demand`` and ``TOTAL``; in 1995 only ``FISIM`` (a
  column with no matching row) — that table has no final-demand columns;
* rows: the intermediate total, imports, taxes, ``Income from employment`` /
  ``Compensation of employees`` (→ labour, as wages), ``Gross profits etc`` /
  ``Gross Operating Surplus`` (→ surplus), other primary inputs, and
  ``Total inputs`` / ``Total output`` (→ gross output).

Figures are whole £ million.  Every column is checked: its flows must add up to
the intermediate total, and that plus the primary rows to the total inputs,
within the rounding of whole numbers; a column that does not is named.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from gosplan.core.economy import Economy, EconomyMeta, ZeroOutput
from gosplan.errors import ReaderError, ValidationError
from gosplan.readers._excel import (
    as_number,
    clean_label,
    csv_rows,
    describe_column,
    prefix_message,
    rounding_tolerance,
)

#: final-demand column headings (lower case) and the purposes they serve
FINAL_DEMAND = {
    "consumers' expenditure": "personal",
    "ggfc": "social",  # general government final consumption
    "gdfcf": "investment",  # gross domestic fixed capital formation
    "stocks": "stocks",
    "exports": "exports",
}
LABOUR_ROWS = ("Income from employment", "Compensation of employees")
SURPLUS_ROWS = ("Gross profits etc", "Gross Operating Surplus")
TOTAL_ROWS = ("Total inputs", "Total output")


def read_uk_io(path: str | os.PathLike[str], *, zero_output: ZeroOutput = "drop") -> Economy:
    """Read a UK input–output CSV table (1984 or 1995 layout) as an Economy.

    Labour is the row ``Income from employment`` (1984) or ``Compensation of
    employees`` (1995): money wages, not hours, so ``labour_kind == "wages"``
    and ``labour_unit == "GBP million of wages"``; labour values are then in
    £ of wages per £ of output.  Gross output is the ``Total inputs`` /
    ``Total output`` row; ``surplus`` the gross profits / operating surplus
    row.  The table gives only each industry's total imports, not what was
    imported: they are kept on the diagonal of ``imports`` so that
    ``imports_per_unit`` is right (noted in ``meta.history``).  Final demand is
    read from its columns (1984) or, where the table has none (1995), implied
    as gross output less intermediate sales.  Industries without output are
    dropped (``zero_output="drop"``) or refused (``"error"``).  The year is
    taken from the file name.

    Long because it is one pass down the CSV in the order of its layout (heading, flow
    block, labour and surplus rows, column and row totals), each check raising with the
    line and column it is at; the steps share the row index built at the top.
    """
    p = Path(path)
    rows = csv_rows(p)
    if len(rows) < 3:
        raise ReaderError(
            p,
            f"the file has {len(rows)} line(s); expected a heading line, "
            f"industry rows and the primary-input rows (empty or truncated?)",
        )
    head = [clean_label(c) for c in rows[0]]
    body = [r for r in rows[1:] if any(str(c).strip() for c in r)]
    labels = [clean_label(r[0]) if r else "" for r in body]
    n = next((i for i, lab in enumerate(labels) if lab.lower().startswith("total")), None)
    if n is None or n == 0:
        raise ReaderError(
            p,
            "no row labelled 'Total …' after the industry rows (expected "
            "'Total intermediate' or 'Total consumption'): the table ends "
            "early or is truncated",
            column="A",
        )
    products = labels[:n]
    dup = sorted({x for x in products if products.count(x) > 1})
    if dup or "" in products:
        raise ReaderError(
            p,
            f"the industry labels in column A must be distinct and non-empty; "
            f"repeated or empty: {dup or ['']}",
            column="A",
        )
    width = len(head)
    if width < n + 1:
        raise ReaderError(
            p,
            f"line 1 has {width - 1} column headings but there are {n} "
            f"industry rows; the flow block must be square",
            row=1,
        )
    # lines in the file (1-based) of each body row, for messages
    line_of = [i + 2 for i, r in enumerate(rows[1:]) if any(str(c).strip() for c in r)]

    def number(i: int, j: int) -> float:
        r = body[i]
        cell = r[j] if j < len(r) else None
        return as_number(
            cell,
            path=p,
            sheet=None,
            row=f"{line_of[i]} ({labels[i]!r})",
            column=describe_column(j, head[j] if j < width else None),
            what="a number",
        )

    M = np.array([[number(i, j) for j in range(1, width)] for i in range(len(body))])
    extra = head[n + 1 :]
    fd_idx = {c: n + k for k, c in enumerate(extra) if c.lower() in FINAL_DEMAND}
    total_idx = [n + k for k, c in enumerate(extra) if c.lower().startswith("total")]
    dummy_idx = [
        n + k
        for k, c in enumerate(extra)
        if c.lower() not in FINAL_DEMAND and not c.lower().startswith("total")
    ]

    Z = M[:n, :n]
    neg = np.argwhere(Z < 0)
    if neg.size:
        i, j = (int(v) for v in neg[0])
        raise ReaderError(
            p,
            f"negative flow {Z[i, j]:g} from {products[i]!r} to "
            f"{products[j]!r}; intermediate flows cannot be negative",
            row=f"{line_of[i]} ({products[i]!r})",
            column=describe_column(j + 1, head[j + 1]),
        )

    def find_row(names: tuple[str, ...], what: str) -> int:
        low = [lab.lower() for lab in labels]
        for name in names:
            if name.lower() in low[n:]:
                return n + low[n:].index(name.lower())
        raise ReaderError(
            p,
            f"no row {' or '.join(repr(x) for x in names)} ({what}) below the "
            f"industries; rows found there: {labels[n:]}",
            column="A",
        )

    t_int = n
    t_tot = find_row(TOTAL_ROWS, "gross output")
    r_lab = find_row(LABOUR_ROWS, "labour")
    r_sur = find_row(SURPLUS_ROWS, "surplus")
    if not t_int < r_lab < t_tot or not t_int < r_sur < t_tot:
        raise ReaderError(
            p,
            f"the labour and surplus rows must lie between {labels[t_int]!r} and {labels[t_tot]!r}",
            row=line_of[r_lab],
        )
    primary = list(range(t_int + 1, t_tot))
    r_imp = [i for i in primary if "import" in labels[i].lower()]

    # ---- every column adds up (industries and the columns without a row)
    for j in [*range(n), *dummy_idx]:
        col = describe_column(j + 1, head[j + 1])
        flows = M[:n, j]
        if abs(flows.sum() - M[t_int, j]) > rounding_tolerance(flows, M[t_int, j]):
            raise ReaderError(
                p,
                f"the flows into {head[j + 1]!r} add up to {flows.sum():g}, "
                f"but the row {labels[t_int]!r} says {M[t_int, j]:g}",
                row=f"{line_of[t_int]} ({labels[t_int]!r})",
                column=col,
            )
        parts = np.concatenate([[M[t_int, j]], M[primary, j]])
        if abs(parts.sum() - M[t_tot, j]) > rounding_tolerance(parts, M[t_tot, j]):
            raise ReaderError(
                p,
                f"the inputs of {head[j + 1]!r} ({labels[t_int]!r} "
                f"{M[t_int, j]:g} plus the primary rows "
                f"{M[primary, j].sum():g}) add up to {parts.sum():g}, but "
                f"{labels[t_tot]!r} says {M[t_tot, j]:g}",
                row=f"{line_of[t_tot]} ({labels[t_tot]!r})",
                column=col,
            )
    # ---- rows add up where the table has row totals
    _check_rows(p, n, head, labels, line_of, M, fd_idx, total_idx, dummy_idx)

    m = re.search(r"(1[89]\d\d|20\d\d)", p.name)
    year = int(m.group(1)) if m else None
    meta = EconomyMeta(source=f"UK input-output table {p.name} (CSO/ONS), {n} industries")
    x = M[t_tot, :n]
    wages = M[r_lab, :n]
    for j in dummy_idx:
        meta.note(
            f"column {head[j + 1]!r} has no matching row (not an industry): left out; "
            f"its inputs were {M[:n, j].sum():g} of intermediate products, "
            f"{M[r_lab, j]:g} of {labels[r_lab]!r} and {M[r_sur, j]:g} of "
            f"{labels[r_sur]!r} (total {M[t_tot, j]:g})"
        )
    if fd_idx:
        fd = pd.DataFrame({c: M[:n, j] for c, j in fd_idx.items()})
        purposes = {c: FINAL_DEMAND[c.lower()] for c in fd_idx}
        meta.note(f"final demand from the columns {list(fd_idx)}")
    else:
        implied = x - Z.sum(axis=1) - (M[:n, dummy_idx].sum(axis=1) if dummy_idx else 0.0)
        name = "final demand (implied: output less intermediate sales)"
        fd = pd.DataFrame({name: implied})
        purposes = {name: "other"}
        meta.note(
            f"the table has no final-demand columns: final demand implied as gross "
            f"output less intermediate sales; it is negative for "
            f"{int((implied < 0).sum())} industries whose intermediate sales exceed "
            f"their output"
        )
    imports = np.diag(M[r_imp, :n].sum(axis=0)) if r_imp else None
    if r_imp:
        meta.note(
            f"imports: the row(s) {[labels[i] for i in r_imp]} give each industry's total "
            f"imports only; they are kept on the diagonal of `imports` (imports per unit "
            f"are right; which product was imported is not known)"
        )
    taxes = [i for i in primary if "tax" in labels[i].lower()]
    if taxes:
        meta.note(
            f"taxes less subsidies ({[labels[i] for i in taxes]}) total "
            f"{M[taxes, :n].sum():,.0f} GBP million; not part of the Economy"
        )
    meta.note(
        f"labour: the row {labels[r_lab]!r}, GBP million of wages (the table has no "
        f"hours); gross output: {labels[t_tot]!r}; surplus: {labels[r_sur]!r}"
    )
    try:
        return Economy.from_flows(
            Z,
            x,
            wages,
            products=products,
            final_demand=fd,
            purposes=purposes,
            imports=imports,
            compensation=wages,
            surplus=M[r_sur, :n],
            zero_output=zero_output,
            labour_unit="GBP million of wages",
            labour_kind="wages",
            money_unit="GBP million",
            name="UK",
            year=year,
            kind="industry",
            meta=meta,
        )
    except ValidationError as exc:
        prefix_message(exc, p.name)
        raise


def _check_rows(
    p: Path,
    n: int,
    head: list[str],
    labels: list[str],
    line_of: list[int],
    M: np.ndarray,
    fd_idx: dict[str, int],
    total_idx: list[int],
    dummy_idx: list[int],
) -> None:
    """Where the table has row totals (1984), every industry's row must add up to them.

    The total column before final demand sums the intermediate sales, the one
    naming final demand sums final demand, and one after it sums both.
    """
    fd_cols = list(fd_idx.values())
    first_fd = min(fd_cols) if fd_cols else None
    t_int = next((t for t in total_idx if first_fd is None or t < first_fd), None)
    t_fd = next((t for t in total_idx if "final demand" in head[t + 1].lower()), None)
    checks: list[tuple[int, list[int]]] = []
    if t_int is not None:
        checks.append((t_int, [*range(n), *[j for j in dummy_idx if j < t_int]]))
    if t_fd is not None and fd_cols:
        checks.append((t_fd, fd_cols))
    if t_int is not None and t_fd is not None:
        checks += [(t, [t_int, t_fd]) for t in total_idx if t > t_fd]
    for tj, cols in checks:
        for i in range(n):
            parts = M[i, cols]
            if abs(parts.sum() - M[i, tj]) > rounding_tolerance(parts, M[i, tj]):
                raise ReaderError(
                    p,
                    f"the row of {labels[i]!r} adds up to {parts.sum():g} "
                    f"over its columns, but its {head[tj + 1]!r} column says "
                    f"{M[i, tj]:g}",
                    row=f"{line_of[i]} ({labels[i]!r})",
                    column=describe_column(tj + 1, head[tj + 1]),
                )


__all__ = ["FINAL_DEMAND", "read_uk_io"]
