"""IBGE's use table from purchasers' to basic prices, domestic only (:mod:`gosplan.readers.ibge`).

:func:`check_totals` checks the published tables add up; :func:`basic_prices` moves
margins, taxes and imports out of each use cell the way IBGE estimates its
input–output matrices (Guilhoto & Sesso 2005; see the reader's docstring).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gosplan.errors import ReaderError
from gosplan.readers._excel import describe_column
from gosplan.readers._ibge_sheets import Block, tolerance


def check_totals(
    tab1: Path,
    tab2: Path,
    supply: Block,
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
        tol = tolerance(lhs, rhs) * (m if what == "intermediate plus final use" else 1) ** 0.5
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


def basic_prices(
    tab1: Path,
    tab2: Path,
    supply: Block,
    use: Block,
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
    _add_margins(tab1, share1, o, remove)
    dom = X - remove
    # products the reader cannot allocate (no use but margins/taxes/imports) are caught here
    gap = np.abs(dom.sum(axis=1) - q)
    tol = tolerance(dom.sum(axis=1), q) * m**0.5
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
    U, negatives = _clip_rounding(tab2, U, U_pm, supply, use)
    E = pd.DataFrame(dom[:, k:], columns=fd_cols)
    return U, M_use, E, negatives


def _add_margins(
    tab1: Path, share: np.ndarray, o: dict[str, np.ndarray], remove: np.ndarray
) -> None:
    """Add to ``remove`` the trade and transport margins spread over each product's uses
    (``share``), re-entered as purchases of the margin products (negative margin
    entries) in proportion to their share of the margin."""
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
        spread = share * np.where(makers, 0.0, mg)[:, None]
        remove += spread
        prop = mg[makers] / mg[makers].sum()
        remove[makers] -= prop[:, None] * spread.sum(axis=0)[None, :]


def _clip_rounding(
    tab2: Path, U: np.ndarray, U_pm: np.ndarray, supply: Block, use: Block
) -> tuple[np.ndarray, int]:
    """Negative domestic-use cells of rounding size set to zero (and how many); a larger
    one is refused, naming the product and activity."""
    neg = U < 0
    if not neg.any():
        return U, 0
    industries = supply.columns
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
    return np.where(neg, 0.0, U), int(neg.sum())
