"""The generic layout: an input–output table anyone can prepare by hand, as CSV or Excel.

Example (``tests/data/generic/toy.csv``; the full rules are in ``docs/readers.md``)::

    # name: Toyland
    # year: 2024
    # labour_unit: hours
    # money_unit: EUR
    product,grain,tools,bread,fd:personal,fd:social:schools,fd:investment,fd:exports
    grain,10,0,40,20,5,0,25
    tools,5,2,4,0,1,6,2
    bread,0,0,2,60,10,0,8
    labour,30,12,40
    output,100,20,80
    imports,3,1,2
    compensation,40,10,20
    surplus,42,7,12

* Lines whose first cell starts with ``#`` before the heading are settings
  (``# key: value``; keys ``name``, ``year``, ``labour_unit``, ``labour_kind``,
  ``money_unit``, ``kind``) or free comments (no ``word:`` prefix); after the
  heading they are comments.
* The heading row names the products, in order, then final-demand columns
  ``fd:<purpose>`` or ``fd:<purpose>:<label>`` with a purpose from
  :data:`gosplan.core.economy.PURPOSES`.
* The next rows are the products, labelled in the first column exactly as in
  the heading and in the same order: flows (money) from the row's product to
  the column's, and its final demand.
* Then named rows, one value per product column: ``labour`` (required: total
  labour of each sector, in ``labour_unit``), and optionally ``output`` (gross
  output; default: intermediate sales plus final demand), ``imports`` (total
  imported inputs of each sector), ``compensation``, ``surplus``,
  ``capital_stock``, ``persons``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gosplan.core.economy import PURPOSES, Economy, EconomyMeta, ZeroOutput
from gosplan.errors import ReaderError, ValidationError
from gosplan.readers._excel import (
    Grid,
    as_number,
    check_exists,
    clean_label,
    csv_rows,
    describe_column,
    excel_rows,
    prefix_message,
)

#: settings allowed in ``# key: value`` lines, with their defaults
SETTINGS: dict[str, str] = {
    "name": "",
    "year": "",
    "labour_unit": "hours",
    "labour_kind": "hours",
    "money_unit": "",
    "kind": "product",
}
#: the named rows allowed below the products; ``labour`` is required
NAMED_ROWS = ("labour", "output", "imports", "compensation", "surplus", "capital_stock", "persons")
_SETTING = re.compile(r"#\s*([A-Za-z_]+)\s*:\s*(.*)$")


def read_generic(
    path: str | os.PathLike[str],
    *,
    sheet: str | int | None = None,
    zero_output: ZeroOutput = "error",
) -> Economy:
    """Read a table in the documented generic layout (``.csv``, ``.xlsx`` or ``.xls``).

    ``sheet`` picks the worksheet of a workbook (name or 0-based position;
    default the first).  Sectors with zero output are refused
    (``zero_output="error"``, default) or dropped (``"drop"``).
    See the module docstring and ``docs/readers.md`` for the layout.
    """
    p = check_exists(path)
    if p.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        sheet_name, grid = excel_rows(p, sheet)
        where: str | None = sheet_name
    else:
        if sheet is not None:
            raise ReaderError(p, f"sheet={sheet!r} was given but a CSV file has no sheets")
        grid, where = csv_rows(p), None
    return _parse(p, where, grid, zero_output)


def _cells(r: tuple[Any, ...]) -> list[Any]:
    """A row without its trailing blank cells."""
    out = list(r)
    while out and (out[-1] is None or (isinstance(out[-1], str) and not out[-1].strip())):
        out.pop()
    return out


def _parse(p: Path, sheet: str | None, grid: Grid, zero_output: ZeroOutput) -> Economy:
    """Settings, heading, flow block, named rows, output: each a function below."""
    settings = dict(SETTINGS)
    meta = EconomyMeta(source=f"generic table {p.name}" + (f", sheet {sheet!r}" if sheet else ""))
    rows = [(i + 1, _cells(r)) for i, r in enumerate(grid)]
    rows = [(i, r) for i, r in rows if r]
    settings, k = _settings(p, sheet, rows, settings)
    head_line, head = rows[k]
    heads = [clean_label(c) for c in head]
    products, fd_cols = _heading(p, sheet, head_line, heads)
    n = len(products)
    if n == 0:
        raise ReaderError(p, "the heading row names no products", sheet=sheet, row=head_line)
    body = [(i, r) for i, r in rows[k + 1 :] if not clean_label(r[0]).startswith("#")]
    if len(body) < n:
        raise ReaderError(
            p,
            f"the heading names {n} products but only {len(body)} row(s) follow (truncated?)",
            sheet=sheet,
        )
    Z, fd = _flows(p, sheet, heads, body[:n], products, fd_cols)
    named = _named_rows(p, sheet, heads, body[n:], products)
    if "labour" not in named:
        raise ReaderError(
            p,
            f"no 'labour' row below the products (the total labour of each "
            f"sector, in {settings['labour_unit']!r}); rows found there: "
            f"{[clean_label(r[0]) for _, r in body[n:]]}",
            sheet=sheet,
        )
    if "output" in named:
        x = named["output"]
        gap = Z.sum(axis=1) + fd.sum(axis=1) - x
        if fd_cols and np.abs(gap).max() > 1e-9 * max(1.0, float(np.abs(x).max())):
            meta.note(
                f"the rows do not add up to output for "
                f"{int((np.abs(gap) > 1e-9 * max(1.0, float(np.abs(x).max()))).sum())} "
                f"product(s): output taken from the 'output' row"
            )
    else:
        if not fd_cols:
            raise ReaderError(
                p,
                "without an 'output' row, gross output is intermediate sales "
                "plus final demand, but there are no fd:<purpose> columns",
                sheet=sheet,
            )
        x = Z.sum(axis=1) + fd.sum(axis=1)
        meta.note("gross output = intermediate sales + final demand (no 'output' row)")
    year = _checked_settings(p, sheet, settings)
    imports = np.diag(named["imports"]) if "imports" in named else None
    if imports is not None:
        meta.note(
            "imports: each sector's total imported inputs, kept on the diagonal of "
            "`imports` (which product was imported is not given)"
        )
    final = pd.DataFrame(fd, columns=[f[1] for f in fd_cols]) if fd_cols else None
    try:
        return Economy.from_flows(
            Z,
            x,
            named["labour"],
            products=products,
            final_demand=final,
            purposes={f[1]: f[2] for f in fd_cols},
            imports=imports,
            compensation=named.get("compensation"),
            surplus=named.get("surplus"),
            persons=named.get("persons"),
            capital_stock=named.get("capital_stock"),
            zero_output=zero_output,
            labour_unit=settings["labour_unit"],
            labour_kind=settings["labour_kind"],
            money_unit=settings["money_unit"],
            name=settings["name"] or p.stem,
            year=year,
            kind=settings["kind"],
            meta=meta,
        )
    except ValidationError as exc:
        prefix_message(exc, p.name)
        raise


def _settings(
    p: Path, sheet: str | None, rows: list[tuple[int, list[Any]]], settings: dict[str, str]
) -> tuple[dict[str, str], int]:
    """The ``# key: value`` lines at the top, and the index of the first other row."""
    k = 0
    while k < len(rows) and clean_label(rows[k][1][0]).startswith("#"):
        line, r = rows[k]
        text = " ".join(clean_label(c) for c in r if clean_label(c))
        m = _SETTING.match(text)
        if m:
            key, value = m.group(1).lower(), m.group(2).strip()
            if key not in SETTINGS:
                raise ReaderError(
                    p,
                    f"unknown setting {key!r}; the settings are "
                    f"{list(SETTINGS)} (write free comments without a "
                    f"'word:' prefix)",
                    sheet=sheet,
                    row=line,
                    column="A",
                )
            settings[key] = value
        k += 1
    if k >= len(rows):
        raise ReaderError(
            p,
            "no heading row (products, then fd:<purpose> columns) was found; "
            "the file is empty or holds only comments",
            sheet=sheet,
        )
    return settings, k


def _heading(
    p: Path, sheet: str | None, head_line: int, heads: list[str]
) -> tuple[list[str], list[tuple[int, str, str]]]:
    """Products, then ``fd:<purpose>[:<label>]`` columns as (index, label, purpose)."""
    products: list[str] = []
    fd_cols: list[tuple[int, str, str]] = []  # (column index, label, purpose)
    for j in range(1, len(heads)):
        h = heads[j]
        col = describe_column(j, h)
        if h.lower().startswith("fd:"):
            parts = [x.strip() for x in h.split(":")]
            purpose = parts[1].lower() if len(parts) > 1 else ""
            if purpose not in PURPOSES or len(parts) > 3:
                raise ReaderError(
                    p,
                    f"final-demand heading {h!r} must be fd:<purpose> or "
                    f"fd:<purpose>:<label> with a purpose from {PURPOSES}",
                    sheet=sheet,
                    row=head_line,
                    column=col,
                )
            label = parts[2] if len(parts) == 3 and parts[2] else purpose
            if any(label == f[1] for f in fd_cols):
                raise ReaderError(
                    p,
                    f"two final-demand columns are called {label!r}; give "
                    f"them labels (fd:{purpose}:<label>)",
                    sheet=sheet,
                    row=head_line,
                    column=col,
                )
            fd_cols.append((j, label, purpose))
        else:
            if fd_cols:
                raise ReaderError(
                    p,
                    f"product column {h!r} comes after a final-demand column; "
                    f"products come first, then fd:… columns",
                    sheet=sheet,
                    row=head_line,
                    column=col,
                )
            if not h:
                raise ReaderError(
                    p,
                    "empty column heading among the products",
                    sheet=sheet,
                    row=head_line,
                    column=col,
                )
            if h in products:
                raise ReaderError(
                    p,
                    f"product {h!r} appears twice in the heading",
                    sheet=sheet,
                    row=head_line,
                    column=col,
                )
            products.append(h)
    return products, fd_cols


def _number(
    p: Path,
    sheet: str | None,
    heads: list[str],
    line: int,
    r: list[Any],
    j: int,
    what: str,
    empty: float | None = None,
) -> float:
    return as_number(
        r[j] if j < len(r) else None,
        path=p,
        sheet=sheet,
        row=line,
        column=describe_column(j, heads[j] if j < len(heads) else None),
        what=what,
        empty=empty,
    )


def _flows(
    p: Path,
    sheet: str | None,
    heads: list[str],
    body: list[tuple[int, list[Any]]],
    products: list[str],
    fd_cols: list[tuple[int, str, str]],
) -> tuple[np.ndarray, np.ndarray]:
    """The flow block (one row per product, in the heading's order) and final demand."""
    n = len(products)
    Z = np.zeros((n, n))
    fd = np.zeros((n, len(fd_cols)))
    for i in range(n):
        line, r = body[i]
        label = clean_label(r[0])
        if label != products[i]:
            raise ReaderError(
                p,
                f"row {i + 1} of the flow block should be product "
                f"{products[i]!r} (rows in the order of the heading), found "
                f"{label!r}",
                sheet=sheet,
                row=line,
                column="A",
            )
        for j in range(n):
            v = _number(
                p,
                sheet,
                heads,
                line,
                r,
                j + 1,
                f"a flow from {label!r} to {products[j]!r} (write 0 for none)",
            )
            if v < 0:
                raise ReaderError(
                    p,
                    f"negative flow {v:g} from {label!r} to {products[j]!r}; "
                    f"flows cannot be negative",
                    sheet=sheet,
                    row=line,
                    column=describe_column(j + 1, products[j]),
                )
            Z[i, j] = v
        for b, (j, fl, _) in enumerate(fd_cols):
            fd[i, b] = _number(
                p, sheet, heads, line, r, j, f"final demand {fl!r} for {label!r}", empty=0.0
            )
        if len(r) > len(heads):
            raise ReaderError(
                p,
                f"row of {label!r} has {len(r) - 1} values but the heading "
                f"names {len(heads) - 1} columns",
                sheet=sheet,
                row=line,
                column=describe_column(len(heads)),
            )
    return Z, fd


def _named_rows(
    p: Path,
    sheet: str | None,
    heads: list[str],
    rows: list[tuple[int, list[Any]]],
    products: list[str],
) -> dict[str, np.ndarray]:
    """The rows below the products (labour, output, imports, ...), by key."""
    n = len(products)
    named: dict[str, np.ndarray] = {}
    for line, r in rows:
        label = clean_label(r[0])
        key = label.lower().replace(" ", "_")
        if key not in NAMED_ROWS:
            raise ReaderError(
                p,
                f"unknown row {label!r} below the products; allowed: "
                f"{list(NAMED_ROWS)} (a product row must be named in the "
                f"heading too)",
                sheet=sheet,
                row=line,
                column="A",
            )
        if key in named:
            raise ReaderError(p, f"row {label!r} appears twice", sheet=sheet, row=line, column="A")
        named[key] = np.array(
            [
                _number(p, sheet, heads, line, r, j + 1, f"{key} of {products[j]!r}")
                for j in range(n)
            ]
        )
        neg = np.flatnonzero(named[key] < 0)
        if neg.size and key != "surplus":
            j = int(neg[0])
            raise ReaderError(
                p,
                f"{key} of {products[j]!r} is negative ({named[key][j]:g})",
                sheet=sheet,
                row=line,
                column=describe_column(j + 1, products[j]),
            )
    return named


def _checked_settings(p: Path, sheet: str | None, settings: dict[str, str]) -> int | None:
    """The settings' values checked; returns the year (if set)."""
    year: int | None = None
    if settings["year"]:
        try:
            year = int(settings["year"])
        except ValueError:
            raise ReaderError(
                p, f"setting year must be a whole number; got {settings['year']!r}", sheet=sheet
            ) from None
    if settings["labour_kind"] not in ("hours", "persons", "wages"):
        raise ReaderError(
            p,
            f"setting labour_kind must be hours, persons or wages; got {settings['labour_kind']!r}",
            sheet=sheet,
        )
    if settings["kind"] not in ("product", "industry"):
        raise ReaderError(
            p, f"setting kind must be product or industry; got {settings['kind']!r}", sheet=sheet
        )
    return year


__all__ = ["NAMED_ROWS", "SETTINGS", "read_generic"]
