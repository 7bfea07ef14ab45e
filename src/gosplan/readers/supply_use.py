"""Turn a supply–use table into a symmetric input–output table.

A supply (make) table says which industry makes which product; a use table
says which product each industry uses.  A Leontief inverse needs a square
table whose rows and columns are the *same* thing (product × product, or
industry × industry).  Going from one to the other needs an assumption about
technology; the three classic ones (Eurostat *Manual of Supply, Use and
Input–Output Tables*, 2008, ch. 11; UN *Handbook on Supply and Use Tables and
Input–Output Tables*, 2018, ch. 12) are offered:

Notation: ``S`` supply, products × industries (``S[p, j]`` = output of product
``p`` by industry ``j``, basic prices); ``U`` use of products by industries;
``q = S 1`` product output; ``g = Sᵀ 1`` industry output; ``h`` a vector by
industry (hours, persons, compensation ...).

``technology="industry"`` (default; Eurostat model B, product × product)
    Every product an industry makes is made with that industry's average
    input structure.  ``Z = U diag(g)⁻¹ Sᵀ``: industry ``j``'s inputs are
    split over its products in proportion to their share of its output.
    Hours likewise: hours by product ``= (h / g) Sᵀ``.  Works for any shape
    (more products than industries), never gives a negative number, and
    keeps every row balance (``Z 1 + final demand = q``) and every total
    (output, intermediate use, hours).

``technology="product"`` (model A, product × product)
    Every product has one input structure wherever it is made:
    ``A = U S⁻¹`` and ``l = h S⁻¹``.  Needs a square, invertible supply
    table, and commonly gives negative coefficients where a secondary
    product's input structure clashes with that of the industry making it;
    those are refused (:class:`~gosplan.errors.ValidationError` naming the
    coefficients), never silently clipped.

``technology="sales"`` (fixed product-sales structure, model D, industry × industry)
    Each product's sales structure is the same whichever industry made it:
    ``Z = S diag(q)⁻¹ U`` (flows of industries' output to industries), final
    demand ``S diag(q)⁻¹ E``; vectors by industry stay as they are.  Works for
    any shape, never negative.

The transformation is pure arithmetic on arrays: no files, no economies.
:func:`make_symmetric` returns a :class:`SymmetricTable`; readers pass it to
:meth:`gosplan.Economy.from_flows` and copy :attr:`SymmetricTable.note` into
``meta.history``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from gosplan.errors import ValidationError

Technology = Literal["industry", "product", "sales"]
TECHNOLOGIES: tuple[str, ...] = ("industry", "product", "sales")

_DESCRIPTION = {
    "industry": "industry technology assumption (Eurostat model B, product × product): "
    "each industry's inputs and {vectors} are split over its products in "
    "proportion to their value in its output",
    "product": "product technology assumption (Eurostat model A, product × product): "
    "A = U S^-1, {vectors} l = h S^-1",
    "sales": "fixed product-sales structure (Eurostat model D, industry × industry): "
    "Z = S diag(q)^-1 U; {vectors} stay by industry",
}


@dataclass(frozen=True)
class SymmetricTable:
    """A square input–output table obtained from a supply–use table.

    ``flows[i, j]`` is the input of row-item ``i`` into column-item ``j`` (money),
    ``output`` the gross output of each item; ``vectors`` holds the
    industry vectors (labour, compensation, ...) carried over to the same items
    (totals per item, not per unit).  ``imports`` is imported use on the same
    footing as ``flows`` (or ``None``); ``final_demand`` has one row per item.
    """

    flows: np.ndarray
    output: np.ndarray
    labels: list[str]
    kind: Literal["product", "industry"]
    technology: str
    vectors: dict[str, np.ndarray] = field(default_factory=dict)
    final_demand: pd.DataFrame | None = None
    imports: np.ndarray | None = None
    note: str = ""


def _matrix(M: Any, name: str, shape: tuple[int, int] | None = None) -> np.ndarray:
    arr = np.asarray(M.to_numpy() if isinstance(M, pd.DataFrame) else M, dtype=np.float64)
    if arr.ndim != 2:
        raise ValidationError(
            f"`{name}` of make_symmetric must be a matrix; got shape {arr.shape}."
        )
    if shape is not None and arr.shape != shape:
        raise ValidationError(
            f"`{name}` of make_symmetric must have shape {shape} "
            f"(products × industries as the supply table); got {arr.shape}."
        )
    bad = ~np.isfinite(arr)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ValidationError(
            f"`{name}` of make_symmetric has a NaN or infinite value at row {i}, column {j}."
        )
    return arr


def _inverse_or_zero(v: np.ndarray) -> np.ndarray:
    out = np.zeros_like(v)
    nz = v != 0
    out[nz] = 1.0 / v[nz]
    return out


def make_symmetric(
    supply: Any,
    use: Any,
    *,
    products: Sequence[str],
    industries: Sequence[str],
    vectors: Mapping[str, Any] | None = None,
    final_demand: pd.DataFrame | None = None,
    imported_use: Any = None,
    technology: str = "industry",
    negative_supply: Literal["error", "move"] = "error",
) -> SymmetricTable:
    """Make a symmetric table from supply ``S`` and use ``U`` (both products × industries).

    Parameters
    ----------
    supply
        Output of each product (rows) by each industry (columns), basic prices.
    use
        Domestic intermediate use of each product (rows) by each industry
        (columns), basic prices.
    products, industries
        Labels of the rows and the columns.
    vectors
        Industry vectors to carry over (e.g. ``{"labour": hours, "compensation": ...}``),
        each with one entry per industry.  Totals are preserved.
    final_demand
        Final demand of each product (rows) by category (columns).
    imported_use
        Imported intermediate use, products × industries; transformed like ``use``.
    technology
        ``"industry"`` (default), ``"product"`` or ``"sales"``; see the module docstring.
    negative_supply
        Some publishers record negative entries in the supply table (an
        industry's negative output of a product, e.g. IBGE's trade margins on
        resale).  ``"error"`` (default) refuses them; ``"move"`` moves each one
        to the use table as a positive input of that product into that
        industry (the usual treatment, UN *Handbook* 2018, §12.4): the
        industry's output and inputs both grow by the amount, product balances
        still hold, and the amount moved is stated in :attr:`SymmetricTable.note`.

    Raises
    ------
    ValidationError
        Unknown technology, shapes that disagree, NaN, negative supply or use,
        an industry with inputs or hours but no output, a singular supply table
        or negative coefficients under the product technology (named).
    """
    if technology not in TECHNOLOGIES:
        raise ValidationError(
            f"The 'technology' parameter of make_symmetric must be one of {TECHNOLOGIES}; "
            f"got {technology!r}."
        )
    S, U, Mi, vecs, E, moved = _checked_inputs(
        supply,
        use,
        products=products,
        industries=industries,
        vectors=vectors,
        final_demand=final_demand,
        imported_use=imported_use,
        negative_supply=negative_supply,
    )
    products = [str(p) for p in products]
    industries = [str(j) for j in industries]
    q, g = _outputs(S, U, Mi, vecs, industries)
    described = ", ".join(vecs) if vecs else "industry vectors"
    note = (
        f"supply–use table ({S.shape[0]} products × {S.shape[1]} industries) made "
        "symmetric under the " + _DESCRIPTION[technology].format(vectors=described) + moved
    )
    columns = None if final_demand is None else list(final_demand.columns)
    if technology == "industry":
        W = _inverse_or_zero(g)[:, None] * S.T  # industries × products: j's output shares
        fd = None if E is None else pd.DataFrame(E, index=products, columns=columns)
        return SymmetricTable(
            U @ W,
            q,
            products,
            "product",
            technology,
            {key: arr @ W for key, arr in vecs.items()},
            fd,
            None if Mi is None else Mi @ W,
            note,
        )
    if technology == "sales":
        D = S.T * _inverse_or_zero(q)[None, :]  # industries × products: market shares
        fd = None if E is None else pd.DataFrame(D @ E, index=industries, columns=columns)
        return SymmetricTable(
            D @ U,
            g,
            industries,
            "industry",
            technology,
            dict(vecs),
            fd,
            None if Mi is None else D @ Mi,
            note,
        )
    fd = None if E is None else pd.DataFrame(E, index=products, columns=columns)
    return _product_technology(S, U, Mi, vecs, q, products, fd, note)


def _checked_inputs(
    supply: Any,
    use: Any,
    *,
    products: Sequence[str],
    industries: Sequence[str],
    vectors: Mapping[str, Any] | None,
    final_demand: pd.DataFrame | None,
    imported_use: Any,
    negative_supply: str,
) -> tuple[
    np.ndarray, np.ndarray, np.ndarray | None, dict[str, np.ndarray], np.ndarray | None, str
]:
    """``make_symmetric``'s arguments checked and as float arrays: ``S, U, Mi, vectors,
    final demand, note on moved negative supply``."""
    S = _matrix(supply, "supply")
    m, k = S.shape
    products = [str(p) for p in products]
    industries = [str(j) for j in industries]
    if len(products) != m or len(industries) != k:
        raise ValidationError(
            f"make_symmetric: the supply table is {m} products × {k} industries but "
            f"{len(products)} product and {len(industries)} industry labels were given."
        )
    U = _matrix(use, "use", (m, k))
    Mi = None if imported_use is None else _matrix(imported_use, "imported_use", (m, k))
    moved = ""
    if negative_supply not in ("error", "move"):
        raise ValidationError(
            f"The 'negative_supply' parameter of make_symmetric must be 'error' or 'move'; "
            f"got {negative_supply!r}."
        )
    if negative_supply == "move" and (S < 0).any():
        negs = np.where(S < 0, -S, 0.0)
        moved = (
            f"; {int((S < 0).sum())} negative supply entr(y/ies) totalling "
            f"{negs.sum():,.6g} moved to the use table as inputs of the industries "
            f"concerned"
        )
        S = S + negs
        U = U + negs
    for name, X in (("supply", S), ("use", U), ("imported_use", Mi)):
        if X is not None and (X < 0).any():
            i, j = np.argwhere(X < 0)[0]
            raise ValidationError(
                f"`{name}` of make_symmetric is negative ({X[i, j]:g}) for product "
                f"{products[i]!r}, industry {industries[j]!r}; a supply–use table has no "
                f"negative flows between products and industries."
            )
    vecs: dict[str, np.ndarray] = {}
    for key, v in (vectors or {}).items():
        arr = np.asarray(v, dtype=np.float64).ravel()
        if arr.shape != (k,):
            raise ValidationError(
                f"make_symmetric: vector {key!r} must have one entry per industry ({k}); "
                f"got {arr.shape[0]}."
            )
        if not np.isfinite(arr).all():
            j = int(np.flatnonzero(~np.isfinite(arr))[0])
            raise ValidationError(
                f"make_symmetric: vector {key!r} is NaN or infinite for industry {industries[j]!r}."
            )
        vecs[key] = arr
    E = None
    if final_demand is not None:
        if final_demand.shape[0] != m:
            raise ValidationError(
                f"make_symmetric: `final_demand` must have one row per product ({m}); got "
                f"{final_demand.shape[0]}."
            )
        E = final_demand.to_numpy(dtype=np.float64)
        if not np.isfinite(E).all():
            i, j = np.argwhere(~np.isfinite(E))[0]
            raise ValidationError(
                f"make_symmetric: `final_demand` is NaN or infinite for product "
                f"{products[i]!r}, category {final_demand.columns[j]!r}."
            )
    return S, U, Mi, vecs, E, moved


def _outputs(
    S: np.ndarray,
    U: np.ndarray,
    Mi: np.ndarray | None,
    vecs: Mapping[str, np.ndarray],
    industries: Sequence[str],
) -> tuple[np.ndarray, np.ndarray]:
    """Product outputs ``q`` and industry outputs ``g``; an industry that makes nothing
    may have nothing else either."""
    k = S.shape[1]
    q = S.sum(axis=1)
    g = S.sum(axis=0)
    idle = g <= 0
    if idle.any():
        used = idle & (
            (U.sum(axis=0) > 0) | (np.zeros(k, bool) if Mi is None else Mi.sum(axis=0) > 0)
        )
        for arr in vecs.values():
            used |= idle & (arr != 0)
        if used.any():
            j = int(np.flatnonzero(used)[0])
            raise ValidationError(
                f"make_symmetric: industry {industries[j]!r} makes nothing (zero output in "
                f"the supply table) but has inputs or "
                f"{', '.join(vecs) or 'other entries'}; they could not be carried over."
            )
    return q, g


def _product_technology(
    S: np.ndarray,
    U: np.ndarray,
    Mi: np.ndarray | None,
    vecs: Mapping[str, np.ndarray],
    q: np.ndarray,
    products: list[str],
    fd: pd.DataFrame | None,
    note: str,
) -> SymmetricTable:
    """``A S = U`` solved for ``A`` (never inverted); refused where it goes negative."""
    m, k = S.shape
    technology = "product"
    if m != k:
        raise ValidationError(
            f"make_symmetric: the product technology needs a square supply table; this one "
            f"is {m} products × {k} industries. Use technology='industry' or 'sales'."
        )
    try:
        # A S = U  <=>  S^T A^T = U^T ; solve, never invert
        At = np.linalg.solve(S.T, U.T)
        St_vecs = np.linalg.solve(S.T, np.column_stack([*vecs.values(), np.zeros(k)]))
        It = None if Mi is None else np.linalg.solve(S.T, Mi.T)
    except np.linalg.LinAlgError:
        raise ValidationError(
            "make_symmetric: the supply table is singular, so the product technology "
            "assumption has no solution. Use technology='industry'."
        ) from None
    A = At.T
    scale = max(float(np.abs(A).max()), 1.0)
    tiny = 1e-12 * scale
    A[np.abs(A) < tiny] = 0.0
    neg = A < 0
    if neg.any():
        idx = np.argwhere(neg)
        order = np.argsort(A[neg])
        shown = [f"A[{products[i]!r}, {products[j]!r}] = {A[i, j]:.4g}" for i, j in idx[order][:8]]
        raise ValidationError(
            f"make_symmetric: the product technology assumption gives {int(neg.sum())} "
            f"negative coefficient(s): {'; '.join(shown)}"
            f"{' ...' if neg.sum() > 8 else ''}. Use technology='industry' (never negative)."
        )
    out_vecs = {}
    for c, key in enumerate(vecs):
        per_unit = St_vecs[:, c]
        per_unit[np.abs(per_unit) < 1e-12 * max(float(np.abs(per_unit).max()), 1e-300)] = 0.0
        bad = per_unit < 0
        if bad.any() and (vecs[key] >= 0).all():
            shown_p = [products[i] for i in np.flatnonzero(bad)[:8]]
            raise ValidationError(
                f"make_symmetric: the product technology assumption gives negative "
                f"{key!r} per unit for product(s) {shown_p}. Use technology='industry'."
            )
        out_vecs[key] = per_unit * q
    imp = None
    if It is not None:
        Ic = It.T
        Ic[np.abs(Ic) < tiny] = 0.0
        if (Ic < 0).any():
            i, j = np.argwhere(Ic < 0)[0]
            raise ValidationError(
                f"make_symmetric: the product technology assumption gives a negative "
                f"imported-input coefficient for product {products[i]!r} into "
                f"{products[j]!r} ({Ic[i, j]:.4g}). Use technology='industry'."
            )
        imp = Ic * q[None, :]
    return SymmetricTable(
        A * q[None, :], q, products, "product", technology, out_vecs, fd, imp, note
    )
