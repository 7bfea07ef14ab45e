"""Validation at the entry points of the numerical core.

Internals trust their input; public functions call these checks once.  Each
message says which argument of which function is wrong, what was expected,
what was got, and where possible how to fix it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gosplan.errors import ValidationError

SparseMatrix: TypeAlias = Any  # scipy.sparse csr_array / csc_array (scipy ships no stubs)


def _where(name: str, caller: str | None) -> str:
    return f"`{name}` of {caller}" if caller else f"`{name}`"


def _first_bad(mask: np.ndarray, labels: Sequence[str] | None) -> str:
    idx = np.flatnonzero(mask.ravel())
    shown = idx[:5]
    if labels is not None:
        names = [repr(labels[i]) for i in shown]
    else:
        names = [str(i) for i in shown]
    more = f" and {idx.size - shown.size} more" if idx.size > shown.size else ""
    return ", ".join(names) + more


def check_vector(
    x: Any,
    *,
    name: str,
    n: int | None = None,
    caller: str | None = None,
    labels: Sequence[str] | None = None,
    allow_negative: bool = False,
) -> np.ndarray:
    """Return ``x`` as a finite float64 vector of length ``n``."""
    if isinstance(x, pd.DataFrame):
        if x.shape[1] != 1:
            raise ValidationError(
                f"{_where(name, caller)} must be one-dimensional; got a DataFrame with "
                f"{x.shape[1]} columns. Select one column."
            )
        x = x.iloc[:, 0]
    if sp.issparse(x):
        x = x.toarray()
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{_where(name, caller)} must be numeric: {exc}") from None
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.ravel()
    if arr.ndim != 1:
        raise ValidationError(
            f"{_where(name, caller)} must be a vector; got an array of shape {arr.shape}."
        )
    if n is not None and arr.shape[0] != n:
        raise ValidationError(
            f"{_where(name, caller)} must have {n} entries to match the products; "
            f"got {arr.shape[0]}. Check the product index."
        )
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ValidationError(
            f"{_where(name, caller)} contains NaN or infinite values at {_first_bad(bad, labels)}."
        )
    if not allow_negative:
        neg = arr < 0
        if neg.any():
            raise ValidationError(
                f"{_where(name, caller)} must not be negative; negative at "
                f"{_first_bad(neg, labels)}."
            )
    return arr


def check_matrix(
    A: Any,
    *,
    name: str,
    shape: tuple[int, int] | None = None,
    caller: str | None = None,
    labels: Sequence[str] | None = None,
    allow_negative: bool = False,
    fmt: str = "csr",
) -> SparseMatrix:
    """Return ``A`` as a finite float64 scipy sparse array in format ``fmt``.

    Accepts dense array-likes, DataFrames and any scipy sparse matrix/array.
    ``labels`` (column labels) are used to name offending entries.
    """
    if isinstance(A, pd.DataFrame):
        A = A.to_numpy(dtype=np.float64)
    if sp.issparse(A):
        M = sp.csr_array(A, dtype=np.float64) if fmt == "csr" else sp.csc_array(A, dtype=np.float64)
    else:
        try:
            dense = np.asarray(A, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"{_where(name, caller)} must be numeric: {exc}") from None
        if dense.ndim != 2:
            raise ValidationError(
                f"{_where(name, caller)} must be two-dimensional; got shape {dense.shape}."
            )
        bad = ~np.isfinite(dense)
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise ValidationError(_cell_message(name, caller, "NaN or infinite", i, j, labels))
        M = sp.csr_array(dense) if fmt == "csr" else sp.csc_array(dense)
    if shape is not None and M.shape != shape:
        raise ValidationError(
            f"{_where(name, caller)} must have shape {shape} to match the products; "
            f"got {M.shape}."
        )
    M.sum_duplicates()
    data = M.data
    bad = ~np.isfinite(data)
    if bad.any():
        i, j = _coords_of(M, int(np.flatnonzero(bad)[0]))
        raise ValidationError(_cell_message(name, caller, "NaN or infinite", i, j, labels))
    if not allow_negative and (data < 0).any():
        i, j = _coords_of(M, int(np.flatnonzero(data < 0)[0]))
        raise ValidationError(
            _cell_message(name, caller, "negative", i, j, labels)
            + " Coefficients of a technology must be non-negative."
        )
    M.eliminate_zeros()
    return M


def _coords_of(M: SparseMatrix, k: int) -> tuple[int, int]:
    indptr = M.indptr
    outer = int(np.searchsorted(indptr, k, side="right") - 1)
    inner = int(M.indices[k])
    return (outer, inner) if M.format == "csr" else (inner, outer)


def _cell_message(
    name: str, caller: str | None, what: str, i: int, j: int, labels: Sequence[str] | None
) -> str:
    if labels is not None:
        cell = f"row {labels[i]!r} (index {i}), column {labels[j]!r} (index {j})"
    else:
        cell = f"row {i}, column {j}"
    return f"{_where(name, caller)} has a {what} value at {cell}."


def check_labels(products: Any, *, n: int, caller: str | None = None) -> pd.Index:
    """Return product labels as a unique string ``pd.Index`` of length ``n``."""
    if products is None:
        return pd.Index([f"p{i}" for i in range(n)], name="product")
    idx = pd.Index([str(p) for p in products], name="product")
    if len(idx) != n:
        raise ValidationError(
            f"`products` of {caller or 'Economy'} has {len(idx)} labels but the matrix has "
            f"{n} rows."
        )
    if not idx.is_unique:
        dup = idx[idx.duplicated()].unique().tolist()[:5]
        raise ValidationError(f"`products` must be unique; duplicated: {dup}.")
    return idx
