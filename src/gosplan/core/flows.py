"""From flows to coefficients: the arithmetic behind :meth:`Economy.from_flows`.

Flows ``Z`` (money), gross output ``x`` and total labour become technical
coefficients ``A = Z diag(x)^-1`` and labour per unit ``labour / x``; imports and
capital are divided by output likewise.  Sectors without output are refused or
dropped from every table at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gosplan.core.validation import check_labels, check_matrix, check_vector
from gosplan.errors import ValidationError

if TYPE_CHECKING:
    from gosplan.core.economy import EconomyMeta, ZeroOutput


def coefficients_from_flows(
    Z: Any,
    output: Any,
    labour: Any,
    *,
    products: Sequence[str] | pd.Index | None,
    final_demand: pd.DataFrame | None,
    imports: Any,
    capital: Any,
    compensation: Any,
    surplus: Any,
    persons: Any,
    zero_output: ZeroOutput,
    meta: EconomyMeta,
    extra: dict[str, Any],
) -> dict[str, Any]:
    """The arguments of ``Economy(...)`` for the flows (see :meth:`Economy.from_flows`);
    ``extra`` are further arguments, restricted to the kept sectors where they are
    vectors (``prices``, ``depreciation``, ``capital_stock``)."""
    caller = "Economy.from_flows"
    if isinstance(Z, pd.DataFrame) and products is None:
        products = list(Z.columns)
    shape = shape_of(Z, "Z", caller)
    n = shape[0]
    if shape != (n, n):
        raise ValidationError(f"`Z` of {caller} must be square; got shape {shape}.")
    labels = check_labels(products, n=n, caller=caller)
    Zm = check_matrix(Z, name="Z", caller=caller, labels=list(labels))
    x = check_vector(output, name="output", n=n, caller=caller, labels=list(labels))
    lab = check_vector(labour, name="labour", n=n, caller=caller, labels=list(labels))
    zero = x <= 0
    if zero.any():
        if zero_output != "drop":
            names = list(labels[zero])
            raise ValidationError(
                f"{len(names)} sector(s) have zero gross output, so their coefficients "
                f"are undefined: {names[:10]}. Pass zero_output='drop' to remove them."
            )
        idx = _kept(Zm, labels, zero, meta)
        Zm, x, lab, labels = Zm[idx][:, idx], x[idx], lab[idx], labels[idx]
        if final_demand is not None:
            final_demand = final_demand.iloc[idx]
        imports, capital = take(imports, idx, square=True), take(capital, idx, square=True)
        compensation, surplus, persons = (take(v, idx) for v in (compensation, surplus, persons))
        for key in ("prices", "depreciation", "capital_stock"):
            if extra.get(key) is not None:
                extra[key] = take(extra[key], idx)
    inv_x = sp.diags_array(1.0 / x)
    A = sp.csr_array(Zm @ inv_x)
    imp = None
    if imports is not None:
        Im = check_matrix(
            imports, name="imports", shape=Zm.shape, caller=caller, labels=list(labels)
        )
        imp = sp.csr_array(Im @ inv_x)
    cap = None
    if capital is not None:
        Km = check_matrix(
            capital, name="capital", shape=Zm.shape, caller=caller, labels=list(labels)
        )
        cap = sp.csr_array(Km @ inv_x)
    meta.note("technical coefficients A = Z diag(x)^-1; labour per unit = labour / x")
    return dict(
        A=A,
        labour=lab / x,
        products=labels,
        output=x,
        final_demand=final_demand,
        imports=imp,
        capital=cap,
        compensation=compensation,
        surplus=surplus,
        persons=persons,
        meta=meta,
        **extra,
    )


def _kept(Zm: Any, labels: pd.Index, zero: np.ndarray, meta: EconomyMeta) -> np.ndarray:
    """The sectors with output; the dropped ones, and what they delivered to the others
    (lost with them), noted in ``meta``."""
    names = list(labels[zero])
    keep = ~zero
    n = len(labels)
    lost = (
        float(Zm.toarray()[np.ix_(zero, keep)].sum())
        if n <= 5000
        else float(Zm[zero][:, keep].sum())
    )
    meta.note(
        f"dropped {len(names)} zero-output sector(s) {names}; their deliveries to "
        f"other sectors ({lost:g}) were removed"
    )
    return np.flatnonzero(keep)


def shape_of(M: Any, name: str, caller: str) -> tuple[int, int]:
    """The shape of a two-dimensional ``M`` (refused otherwise, naming ``name`` and ``caller``)."""
    shape = M.shape if hasattr(M, "shape") else np.shape(M)
    if len(shape) != 2:
        raise ValidationError(
            f"`{name}` of {caller} must be a two-dimensional matrix; got shape {tuple(shape)}."
        )
    return int(shape[0]), int(shape[1])


def take(v: Any, idx: np.ndarray, square: bool = False) -> Any:
    """``v`` (a vector, or with ``square`` a matrix) restricted to the products ``idx``."""
    if v is None:
        return None
    if square:
        M = sp.csr_array(v) if sp.issparse(v) else sp.csr_array(np.asarray(v, dtype=float))
        return sp.csr_array(M[idx][:, idx])
    return np.asarray(v, dtype=float)[idx]
