"""Validation at the entry points of the numerical core.

Internals trust their input; public functions call these checks once.  Each
message says which argument of which function is wrong, what was expected,
what was got, and where possible how to fix it.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from collections.abc import Iterable, Sequence
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gosplan.errors import ValidationError


def closest(name: str, choices: Iterable[str]) -> str:
    """`` Did you mean 'x'?`` for the closest of ``choices``, or an empty string."""
    found = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1, cutoff=0.5)
    return f" Did you mean {found[0]!r}?" if found else ""


SparseMatrix: TypeAlias = Any  # scipy.sparse csr_array / csc_array (scipy ships no stubs)

#: the largest magnitude a table's entry may have.  No statistics office publishes
#: numbers near it (world output is about 1e14 US dollars, 1e18 in the smallest
#: currency units); beyond it sums and products overflow float64 (about 1.8e308)
#: and a solver answers with NaN or a meaningless spectral radius.
MAX_MAGNITUDE = 1e100


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
    huge = np.abs(arr) > MAX_MAGNITUDE
    if huge.any():
        raise ValidationError(
            f"{_where(name, caller)} has values beyond {MAX_MAGNITUDE:g} in magnitude at "
            f"{_first_bad(huge, labels)} (first: {arr[huge][0]:g}); no real table holds such "
            "numbers and they overflow the arithmetic. Check the units or a typo."
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
            f"{_where(name, caller)} must have shape {shape} to match the products; got {M.shape}."
        )
    M.sum_duplicates()
    data = M.data
    bad = ~np.isfinite(data)
    if bad.any():
        i, j = _coords_of(M, int(np.flatnonzero(bad)[0]))
        raise ValidationError(_cell_message(name, caller, "NaN or infinite", i, j, labels))
    if (np.abs(data) > MAX_MAGNITUDE).any():
        k = int(np.flatnonzero(np.abs(data) > MAX_MAGNITUDE)[0])
        i, j = _coords_of(M, k)
        cell = _cell_message(name, caller, "", i, j, labels).split(" value at ", 1)[1]
        raise ValidationError(
            f"{_where(name, caller)} has a value beyond {MAX_MAGNITUDE:g} in magnitude "
            f"({data[k]:g}) at {cell} No real table holds such numbers and they overflow the "
            "arithmetic. Check the units or a typo."
        )
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


# --------------------------------------------------------------------------- scalars
def check_number(
    value: Any,
    *,
    name: str,
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
    hi_open: bool = False,
    integer: bool = False,
    caller: str | None = None,
    hint: str = "",
) -> float:
    """Return ``value`` as a finite float within the stated bounds, or say why not.

    ``lo``/``hi`` are inclusive unless ``lo_open``/``hi_open``; ``integer``
    requires a whole number.  Text is parsed (``"1e400"`` is infinite and
    refused); booleans are refused.  ``hint`` is appended to the message (e.g.
    ``"(e.g. 0.02 for 2 %)"``).
    """
    where = _where(name, caller)
    tail = f" {hint}" if hint else ""
    if isinstance(value, bool):
        raise ValidationError(f"{where} must be a number; got the truth value {value!r}.{tail}")
    try:
        x = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise ValidationError(f"{where} must be a number; got {value!r}.{tail}") from None
    if not math.isfinite(x):
        raise ValidationError(f"{where} must be a finite number; got {value!r}.{tail}")
    if integer and not x.is_integer():
        raise ValidationError(f"{where} must be a whole number; got {value!r}.{tail}")
    low_bad = lo is not None and (x <= lo if lo_open else x < lo)
    high_bad = hi is not None and (x >= hi if hi_open else x > hi)
    if low_bad or high_bad:
        raise ValidationError(
            f"{where} must be {describe_bounds(lo, hi, lo_open, hi_open)}; got {value!r}.{tail}"
        )
    return x


def describe_bounds(
    lo: float | None, hi: float | None, lo_open: bool = False, hi_open: bool = False
) -> str:
    """``"at least 0"``, ``"above 0 and at most 1"``, ... for messages."""

    def num(x: float) -> str:
        return f"{int(x):,}" if float(x).is_integer() and abs(x) < 1e15 else f"{x:g}"

    parts = []
    if lo is not None:
        parts.append(f"{'above' if lo_open else 'at least'} {num(lo)}")
    if hi is not None:
        parts.append(f"{'below' if hi_open else 'at most'} {num(hi)}")
    return " and ".join(parts) or "a number"


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|[+-]\d{2}:?\d{2})?"
)


def parse_iso_date(value: Any, *, name: str, caller: str | None = None) -> dt.date:
    """``YYYY-MM-DD`` as a date; anything else (``08/01/2024``, which is read
    month-first in one country and day-first in another) is refused."""
    text = str(value).strip() if value is not None else ""
    if not _ISO_DATE.fullmatch(text):
        raise ValidationError(
            f"{_where(name, caller)} must be an ISO date YYYY-MM-DD; got {value!r}"
            + (
                " (a date with slashes is ambiguous: 08/01/2024 is 1 August in one country "
                "and 8 January in another)."
                if "/" in text
                else "."
            )
        )
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ValidationError(f"{_where(name, caller)}: {value!r} is not a date ({exc}).") from None


def parse_iso_datetime(value: Any, *, name: str, caller: str | None = None) -> dt.datetime:
    """An ISO date or date-time (``YYYY-MM-DD[THH:MM[:SS]][Z|±HH:MM]``) as a naive UTC
    datetime; other spellings are refused as ambiguous."""
    text = str(value).strip() if value is not None else ""
    if not _ISO_DATETIME.fullmatch(text):
        raise ValidationError(
            f"{_where(name, caller)} must be an ISO date or date-time (YYYY-MM-DD or "
            f"YYYY-MM-DDTHH:MM:SS); got {value!r}."
        )
    try:
        ts = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValidationError(
            f"{_where(name, caller)}: {value!r} is not a date-time ({exc})."
        ) from None
    if ts.tzinfo is not None:
        ts = ts.astimezone(dt.UTC).replace(tzinfo=None)
    return ts


# --------------------------------------------------------------------------- text
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def text_encoding(data: bytes) -> str | None:
    """The encoding a byte order mark (or the NUL bytes of UTF-16 without one) announces,
    else None (the caller's default)."""
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return enc
    head = data[:200]
    if len(head) >= 4 and head.count(0) >= len(head) // 3:
        # ASCII text in UTF-16: every other byte is NUL
        return "utf-16-le" if head[1] == 0 else "utf-16-be"
    return None


def decode_text(data: bytes, *, what: str, fallbacks: Sequence[str] = ("utf-8",)) -> str:
    """Bytes of a text file as text: UTF-8 (with or without BOM) or UTF-16 (with a BOM or
    recognisably ASCII in UTF-16), else each of ``fallbacks``; a message names ``what``."""
    enc = text_encoding(data)
    tries = [enc] if enc else ["utf-8-sig", *[f for f in fallbacks if f != "utf-8"]]
    for e in tries:
        try:
            return data.decode(e)
        except UnicodeDecodeError:
            continue
    raise ValidationError(
        f"{what} is not text in UTF-8 or UTF-16 (tried {tries}); save it as UTF-8."
    )
