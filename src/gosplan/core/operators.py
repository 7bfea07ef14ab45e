"""The sparse operators of the Leontief solvers: ``(I - M) x`` on many threads.

:func:`operator_for` picks, for a CSR or CSC ``M``, the fastest ``apply(x, out)``
(``out = (I - M) x``): :func:`make_apply` runs scipy's compiled CSR mat-vec on row
blocks of equal nonzeros in threads (it releases the GIL), :func:`make_apply_csc`
scatters the columns of a CSC ``M`` (the free transposed view of a CSR ``A``), in one
flat pass or by destination blocks, whichever the call's first mat-vecs find faster
(:class:`Fastest`).  The numba kernels :func:`csr_matvec` and :func:`leontief_apply`
are the fallback.  Why these choices: :mod:`gosplan.core.kernels` and ``BENCHMARKS.md``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numba
import numpy as np
import scipy.sparse as sp

Apply = Callable[[np.ndarray, np.ndarray], None]

_CHUNKS = 256  # row chunks per mat-vec: load balance across threads


@numba.njit(cache=True, inline="always")
def _row_dot(
    indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, x: np.ndarray, i: int
) -> float:  # pragma: no cover - compiled
    """Row ``i`` of ``M`` times ``x``, for CSR arrays of ``M``."""
    s = 0.0
    for p in range(np.int64(indptr[i]), np.int64(indptr[i + 1])):
        # an unsigned index skips numba's negative-index wraparound: ~1.4x faster
        s += data[p] * x[np.uint64(indices[p])]
    return s


@numba.njit(parallel=True, cache=True, boundscheck=False)
def csr_matvec(
    indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, x: np.ndarray, out: np.ndarray
) -> None:  # pragma: no cover - compiled
    """``out = M x`` for CSR arrays of ``M`` (parallel over row chunks)."""
    n = out.shape[0]
    step = (n + _CHUNKS - 1) // _CHUNKS
    for c in numba.prange(_CHUNKS):
        lo = c * step
        hi = min(n, lo + step)
        for i in range(lo, hi):
            out[i] = _row_dot(indptr, indices, data, x, i)


@numba.njit(parallel=True, cache=True, boundscheck=False)
def leontief_apply(
    indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, x: np.ndarray, out: np.ndarray
) -> None:  # pragma: no cover - compiled
    """``out = x - M x`` (the operator ``I - M``), fused."""
    n = out.shape[0]
    step = (n + _CHUNKS - 1) // _CHUNKS
    for c in numba.prange(_CHUNKS):
        lo = c * step
        hi = min(n, lo + step)
        for i in range(lo, hi):
            out[i] = x[i] - _row_dot(indptr, indices, data, x, i)


def csr_parts(M: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(indptr, indices, data)`` of ``M`` as CSR (converting only if it is not CSR)."""
    if not (sp.issparse(M) and M.format == "csr"):
        M = sp.csr_array(M)
    return M.indptr, M.indices, M.data


def _threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


_POOL: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=_threads(), thread_name_prefix="gosplan-matvec")
    return _POOL


def _sparsetools_matvec() -> Callable[..., None] | None:
    try:
        from scipy.sparse import _sparsetools

        fn: Callable[..., None] = _sparsetools.csr_matvec
        return fn
    except (ImportError, AttributeError):
        return None


def make_apply(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray) -> Apply:
    """``apply(x, out)``: ``out = (I - M) x``, multi-threaded over row blocks.

    Each thread runs scipy's own compiled CSR mat-vec (``_sparsetools.csr_matvec``,
    which releases the GIL) on a block of rows with equal numbers of nonzeros,
    then ``x - Mx`` on its slice.  scipy's kernel measured ~1.3x less CPU per
    mat-vec than a numba loop here; numba's parallel kernel is the fallback
    should scipy's private module change.
    """
    kernel = _sparsetools_matvec()
    n = int(indptr.shape[0] - 1)
    nt = _threads() if n >= 50_000 else 1
    if kernel is None or indptr.dtype != indices.dtype:

        def apply_numba(x: np.ndarray, out: np.ndarray) -> None:
            leontief_apply(indptr, indices, data, x, out)

        return apply_numba
    targets = np.linspace(0, int(indptr[-1]), nt + 1)
    cuts = np.searchsorted(indptr, targets).astype(np.int64)
    cuts[0], cuts[-1] = 0, n
    blocks = [(int(cuts[t]), int(cuts[t + 1])) for t in range(nt) if cuts[t + 1] > cuts[t]]
    ncol = n

    def part(x: np.ndarray, out: np.ndarray, lo: int, hi: int) -> None:
        y = out[lo:hi]
        y.fill(0)
        kernel(hi - lo, ncol, indptr[lo : hi + 1], indices, data, x, y)
        np.subtract(x[lo:hi], y, out=y)

    if len(blocks) == 1:

        def apply_one(x: np.ndarray, out: np.ndarray) -> None:
            part(x, out, 0, n)

        return apply_one
    pool = _pool()

    def apply(x: np.ndarray, out: np.ndarray) -> None:
        futs = [pool.submit(part, x, out, lo, hi) for lo, hi in blocks]
        for f in futs:
            f.result()

    return apply


def make_apply_csc(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    *,
    threads: int | None = None,
    sorted_indices: bool | None = None,
) -> Apply:
    """``apply(x, out)``: ``out = (I - M) x`` for ``M`` given by its CSC arrays; no copy.

    For labour values ``M = A.T``, and the CSC arrays of ``A.T`` are the CSR
    arrays of ``A``: the row-scatter kernel of a CSR ``A``.  Each thread owns
    a block of *destination* rows ``[lo, hi)`` with equal numbers of
    nonzeros, so no two threads write the same entry: no private buffers,
    no reduction.  With sorted indices each column's entries for a block are
    one contiguous run, found once by binary search (``(threads - 1) * n``
    offsets in the dtype of ``indptr``: 4 bytes per product on two threads,
    about 1 % of the matrix); with unsorted indices every thread reads every
    column and keeps its own rows (slower, still no copy).  Each thread
    writes ``out[lo:hi] = x[lo:hi]`` and then subtracts its scatter, fused.
    ``threads`` overrides the thread count (tests use it at small sizes);
    ``sorted_indices`` spares the check when the caller knows.

    One thread runs :func:`scatter_flat` (one pass over the nonzeros, no
    offsets, sorted or not).  With several threads the blocked scatter and
    :func:`scatter_flat` are both kept and the first mat-vecs of each call
    time them (:class:`Fastest`): on the shared 2-core machine either won,
    depending on the load of the moment (medians at load 11-12: 3e5 products,
    flat 53 ms, blocked 63 ms; 1e6, flat 548 ms, blocked 380 ms, the two-thread
    gather of a CSC ``A`` 719 ms); both compute the same ``x - M x``, so the
    trials are useful work.
    """
    n = int(indptr.shape[0] - 1)
    nt = threads if threads is not None else (_threads() if n >= 50_000 else 1)
    nt = max(1, min(nt, n))

    def flat(x: np.ndarray, out: np.ndarray) -> None:
        scatter_flat(indptr, indices, data, x, out)

    if nt == 1:
        return flat
    bounds = _destination_blocks(indices, n, nt)
    nb = len(bounds) - 1
    if sorted_indices is None:
        sorted_indices = bool(indices_sorted(indptr, indices))
    if sorted_indices:
        cuts = [indptr[:-1]]
        for b in bounds[1:-1]:
            c = np.empty(n, dtype=indptr.dtype)
            halves = [(0, n // 2), (n // 2, n)] if nb > 1 else [(0, n)]
            futs = [_pool().submit(_run_starts, indptr, indices, b, c, lo, hi) for lo, hi in halves]
            for f in futs:
                f.result()
            cuts.append(c)
        cuts.append(indptr[1:])

        def part(x: np.ndarray, out: np.ndarray, k: int) -> None:
            scatter_runs(indices, data, cuts[k], cuts[k + 1], x, out, bounds[k], bounds[k + 1])
    else:

        def part(x: np.ndarray, out: np.ndarray, k: int) -> None:
            scatter_filter(indptr, indices, data, x, out, bounds[k], bounds[k + 1])

    if nb == 1:
        return flat

    def apply(x: np.ndarray, out: np.ndarray) -> None:
        pool = _pool()
        futs = [pool.submit(part, x, out, k) for k in range(nb)]
        for f in futs:
            f.result()

    return Fastest({"blocked": apply, "flat": flat})


class Fastest:
    """An ``Apply`` that times its candidates (which compute the same thing) on its
    first calls, ``trials`` each in turn, and then keeps the one whose fastest call
    was fastest; ``chosen`` names it (``""`` while still trying)."""

    def __init__(self, candidates: dict[str, Apply], trials: int = 2) -> None:
        self.candidates = candidates
        self.trials = trials
        self.seconds: dict[str, list[float]] = {k: [] for k in candidates}
        self.chosen = ""
        self._order = list(candidates)
        self._calls = 0

    def __call__(self, x: np.ndarray, out: np.ndarray) -> None:
        if self.chosen:
            self.candidates[self.chosen](x, out)
            return
        name = self._order[self._calls % len(self._order)]
        self._calls += 1
        t0 = time.perf_counter()
        self.candidates[name](x, out)
        self.seconds[name].append(time.perf_counter() - t0)
        if self._calls >= self.trials * len(self._order):
            self.chosen = min(self._order, key=lambda k: min(self.seconds[k]))


@numba.njit(nogil=True, cache=True, boundscheck=False)
def scatter_runs(
    indices: np.ndarray,
    data: np.ndarray,
    start: np.ndarray,
    stop: np.ndarray,
    x: np.ndarray,
    out: np.ndarray,
    lo: int,
    hi: int,
) -> None:  # pragma: no cover - compiled
    """``out[lo:hi] = x[lo:hi] - (M x)[lo:hi]`` where column ``j``'s entries in rows
    ``[lo, hi)`` are ``start[j] .. stop[j]`` (sorted CSC indices); releases the GIL.

    The position ``p`` is unsigned: with a signed one numba wraps negative
    indices of ``indices`` and ``data`` (two selects per nonzero) and LLVM
    unrolls the loop behind a remainder loop that short runs pay for; measured
    1.3-2x faster at 3e5-1e6 products (load 11-12)."""
    one = np.uint64(1)
    for i in range(lo, hi):
        out[i] = x[i]
    for j in range(x.shape[0]):
        xj = x[j]
        p = np.uint64(start[j])
        end = np.uint64(stop[j])
        while p < end:
            out[np.uint64(indices[p])] -= data[p] * xj
            p += one


@numba.njit(nogil=True, cache=True, boundscheck=False)
def scatter_flat(
    indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, x: np.ndarray, out: np.ndarray
) -> None:  # pragma: no cover - compiled
    """``out = x - M x`` for the CSC arrays of ``M``, one thread, any index order.

    One counted loop over the nonzeros (unsigned, as in :func:`scatter_runs`);
    the column advances inside it, so no work is per column: on one thread
    about as fast as :func:`scatter_runs` on one block."""
    n = x.shape[0]
    for i in range(n):
        out[i] = x[i]
    if n == 0:
        return
    j = 0
    nxt = np.uint64(indptr[1])
    xj = x[0]
    for p in range(np.uint64(indptr[0]), np.uint64(indptr[n])):
        while p >= nxt:
            j += 1
            nxt = np.uint64(indptr[j + 1])
            xj = x[j]
        out[np.uint64(indices[p])] -= data[p] * xj


@numba.njit(nogil=True, cache=True, boundscheck=False)
def scatter_filter(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    x: np.ndarray,
    out: np.ndarray,
    lo: int,
    hi: int,
) -> None:  # pragma: no cover - compiled
    """As :func:`scatter_runs` for unsorted indices: every column read, own rows kept."""
    for i in range(lo, hi):
        out[i] = x[i]
    ulo = np.uint64(lo)
    width = np.uint64(hi - lo)
    for j in range(x.shape[0]):
        xj = x[j]
        for p in range(np.uint64(indptr[j]), np.uint64(indptr[j + 1])):
            k = np.uint64(indices[p])
            if k - ulo < width:  # lo <= k < hi in one unsigned comparison
                out[k] -= data[p] * xj


@numba.njit(nogil=True, cache=True)
def _run_starts(
    indptr: np.ndarray, indices: np.ndarray, bound: int, out: np.ndarray, lo: int, hi: int
) -> None:  # pragma: no cover - compiled
    """``out[j]`` for ``lo <= j < hi``: first position in column ``j`` whose row is
    ``>= bound`` (sorted indices); serial and GIL-free, so threads can share the work
    (numba's own parallel loop measured several times slower on the shared cores)."""
    for j in range(lo, hi):
        a = np.int64(indptr[j])
        b = np.int64(indptr[j + 1])
        while a < b:
            m = (a + b) >> 1
            if indices[m] < bound:
                a = m + 1
            else:
                b = m
        out[j] = a


def _destination_blocks(indices: np.ndarray, n: int, nt: int) -> list[int]:
    """Row boundaries ``0 = b_0 < … < b_k = n`` splitting the nonzeros about evenly,
    from a strided sample of the row indices (no array of length ``nnz`` or ``n``)."""
    if nt <= 1 or indices.size == 0:
        return [0, n]
    step = max(1, indices.size // 20_000)
    sample = np.sort(indices[::step])
    qs = np.linspace(0, sample.size, nt + 1)[1:-1].astype(np.int64)
    inner = sorted({int(sample[min(q, sample.size - 1)]) for q in qs} - {0, n})
    return [0, *inner, n]


@numba.njit(cache=True)
def indices_sorted(indptr: np.ndarray, indices: np.ndarray) -> bool:  # pragma: no cover
    """Whether each column's (or row's) indices are in non-decreasing order."""
    for j in range(indptr.shape[0] - 1):
        for p in range(np.int64(indptr[j]) + 1, np.int64(indptr[j + 1])):
            if indices[p] < indices[p - 1]:
                return False
    return True


def operator_for(M: Any, data: np.ndarray | None = None) -> Apply:
    """The parallel ``(I - M)`` operator for a CSR or CSC ``M`` (others become CSR).

    ``data`` replaces ``M.data`` (the float32 copy of the mixed method).
    """
    if sp.issparse(M) and M.format == "csc":
        # scipy computes has_sorted_indices once (compiled) and caches it on the matrix
        return make_apply_csc(
            M.indptr,
            M.indices,
            M.data if data is None else data,
            sorted_indices=bool(M.has_sorted_indices),
        )
    indptr, indices, d = csr_parts(M)
    return make_apply(indptr, indices, d if data is None else data)
