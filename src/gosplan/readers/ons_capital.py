"""Fixed capital beside the ONS tables: the capital-stock matrix and depreciation rates.

The researcher's CSV extracts read with the ONS workbook (:func:`gosplan.readers.ons.read_ons`
takes them as ``capital=`` and ``depreciation=``): :func:`read_capital_stock` puts the
stock by asset and industry on the table's products, :func:`read_depreciation_rates`
aligns the rate per activity to the products by their words.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from gosplan.core.economy import EconomyMeta
from gosplan.errors import ReaderError
from gosplan.readers._excel import as_number, check_exists, clean_label, csv_rows, describe_column


def fixed_capital(
    capital: str | os.PathLike[str] | None,
    depreciation: str | os.PathLike[str] | None,
    *,
    codes: list[str] | None,
    output: np.ndarray,
    names: list[str],
    labels: list[str],
    meta: EconomyMeta,
    codes_from: str = "",
) -> dict[str, object]:
    """``capital=`` and ``depreciation=`` for an Economy of the ONS tables, from the
    optional CSV extracts, each noted in ``meta``.

    ``codes`` are the products' codes (needed to place the capital stock), ``names`` the
    names the depreciation lines are aligned to, ``labels`` how errors and notes name
    products; ``codes_from`` says where the codes came from, when not the table itself.
    """
    out: dict[str, object] = {}
    K: np.ndarray | None = None
    if capital is not None:
        if codes is None:
            raise ReaderError(capital, "the products' codes are needed to place the capital stock")
        K, share = read_capital_stock(capital, codes=codes, output=output)
        out["capital"] = K
        meta.note(
            f"capital stock from {Path(capital).name}: assets put on the products that "
            f"make them and industries on the products they make, split by output "
            f"(see read_capital_stock{codes_from}); {share:.1%} of the file's total stock placed"
        )
    if depreciation is not None:
        rates, unmatched = read_depreciation_rates(depreciation, names=names)
        if K is not None:
            used = [labels[i] for i in unmatched if K[i].sum() > 0]
            if used:
                raise ReaderError(depreciation, f"no depreciation rate for capital good(s) {used}")
        out["depreciation"] = rates
        meta.note(
            f"depreciation rates per product from {Path(depreciation).name}, lines "
            f"aligned to products by name"
            + (
                f"; no line for {[labels[i] for i in unmatched]} (rate 0: not capital goods)"
                if unmatched
                else ""
            )
        )
    return out


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

    Over 80 lines because of this docstring; the steps are :func:`_industry_columns`,
    :func:`_other_ipp` and one pass over the asset rows.

    """
    p = check_exists(path)
    rows = csv_rows(p)
    if len(rows) < 3 or clean_label(rows[0][0]).lower() != "industry":
        raise ReaderError(
            p, "expected a heading line starting with 'Industry' and asset rows", row=1
        )
    heads = [clean_label(h) for h in rows[0][1:]]
    finest, total_col = _industry_columns(heads)
    division = np.array([_division(code) for code in codes])
    n = len(codes)
    pos = {c: i for i, c in enumerate(codes)}
    K = np.zeros((n, n))
    covered = np.zeros(n, dtype=bool)
    body = [(line, clean_label(r[0]).lower(), list(r)) for line, r in enumerate(rows[1:], 2)]
    body += _other_ipp(p, heads, body)
    file_total = 0.0
    for line, asset, r in body:
        if asset not in ASSETS:
            continue
        where = f"{line} ({asset!r})"

        def stock(c: int, head: str | None, *, where: str = where, r: list[str] = r) -> float:
            return as_number(
                r[c] if c < len(r) else "",
                path=p,
                sheet=None,
                row=where,
                column=describe_column(c, head),
                what="a capital stock",
                empty=0.0,
            )

        if total_col is not None:
            file_total += stock(total_col + 1, "TOTAL")
        makers = np.array([pos[c] for c in ASSETS[asset] if c in pos], dtype=int)
        if makers.size == 0:
            raise ReaderError(
                p,
                f"none of the products {ASSETS[asset]} that make asset {asset!r} is in the table",
                row=line,
            )
        w_make = _shares(output[makers])
        for c, lo, hi in finest:
            amount = stock(c + 1, heads[c])
            if amount < 0:
                raise ReaderError(
                    p,
                    f"negative capital stock {amount:g}",
                    row=where,
                    column=describe_column(c + 1, heads[c]),
                )
            users = np.flatnonzero((division >= lo) & (division <= hi) & (output > 0))
            if users.size == 0:
                continue
            covered[users] = True
            K[np.ix_(makers, users)] += amount * np.outer(w_make, _shares(output[users]))
    if not covered.any():
        raise ReaderError(
            p,
            "no industry column (headed 'NN: …' or 'NN-MM: …') matches the table's products",
            row=1,
        )
    placed = float(K.sum())
    return K, placed / file_total if file_total > 0 else 1.0


def _shares(output: np.ndarray) -> np.ndarray:
    """Each product's share of ``output`` (equal shares when it sums to zero)."""
    total = output.sum()
    return output / total if total > 0 else np.full(len(output), 1.0 / len(output))


def _industry_columns(heads: list[str]) -> tuple[list[tuple[int, int, int]], int | None]:
    """The finest industry columns ``(column, first division, last division)`` that do not
    overlap (a column is kept when no finer listed column lies inside it), and the
    ``TOTAL`` column."""
    ranges: list[tuple[int, int, int]] = []
    total_col = None
    for c, h in enumerate(heads):
        code = h.split(":", 1)[0].strip().upper() if ":" in h else h.strip().upper()
        if code == "TOTAL":
            total_col = c
            continue
        span = _span(code)
        if span is not None and all(span != (lo, hi) for _, lo, hi in ranges):
            ranges.append((c, *span))
    finest = [
        (c, lo, hi)
        for c, lo, hi in ranges
        if not any((lo <= lo2 and hi2 <= hi and (lo2, hi2) != (lo, hi)) for _, lo2, hi2 in ranges)
    ]
    return finest, total_col


def _other_ipp(
    p: os.PathLike[str], heads: list[str], body: list[tuple[int, str, list[str]]]
) -> list[tuple[int, str, list[str]]]:
    """The row ``other intellectual property products``: the subtotal of intellectual
    property less its research and software rows (none when the file has no subtotal)."""
    ipp = next(((line, r) for line, a, r in body if a == "intellectual property products"), None)
    if ipp is None:
        return []
    parts = [
        r for _, a, r in body if a in ("research & development", "computer software and databases")
    ]
    line, row = ipp
    rest = ["other intellectual property products"]
    for c in range(1, len(row)):
        where = describe_column(c, heads[c - 1] if c - 1 < len(heads) else None)

        def num(text: str, *, where: str = where) -> float:
            return as_number(
                text, path=p, sheet=None, row=line, column=where, what="a capital stock", empty=0.0
            )

        sub = sum(num(r[c] if c < len(r) else "") for r in parts)
        rest.append(str(max(num(row[c]) - sub, 0.0)))
    return [(line, "other intellectual property products", rest)]


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
