"""Multi-threaded sparse kernels and the large-economy Leontief solver.

Why this solver (measured, see ``BENCHMARKS.md``)
-------------------------------------------------
On product-level economies (``log2 n + 5`` inputs per product, spectral
radius 0.7) the Neumann/Jacobi series needs about 65 sweeps for a relative
residual of 1e-10, because its rate is the Perron root.  The rest of the
spectrum of such matrices is much smaller than the Perron root, and a Krylov
method exploits that: BiCGSTAB reaches the same residual in about 21 mat-vecs.
A sparse mat-vec here is limited by the latency of gathering ``x[indices]``,
not by streaming bandwidth.  The two cores are used by running scipy's own
compiled CSR kernel on two row blocks of equal nonzeros in two threads (it
releases the GIL); a numba loop measured ~1.3x more CPU per mat-vec.  The
vector updates of BiCGSTAB are fused serial numba kernels: nothing calls BLAS
(whose spinning threads, next to the mat-vec threads, halved the speed in
measurements) and no OpenMP barrier waits on a descheduled thread when the
machine is shared.

The float64 guarantee
---------------------
:func:`solve_bicgstab` iterates on ``(I - M) x = b`` and stops on the
recursively updated residual; it then recomputes ``b - (I - M) x`` in
float64 against the float64 ``M`` and, if that true residual is above
``rtol * ||b||``, restarts from ``x`` (iterative refinement).  With
``precision="mixed"`` the inner iterations use a float32 copy of ``M.data``
(sharing ``indptr`` and ``indices``: +4 bytes per nonzero, a third of the CSR)
and float32 vectors; each outer step solves the correction equation to about
1e-5 and the outer loop stops only when the float64 residual is met.

Non-negativity certificate
--------------------------
For ``M >= 0`` and ``b >= 0`` the solution ``sum_k M^k b`` is non-negative
exactly when the series converges (spectral radius below one).  A Krylov
method can converge to a negative "solution" of a non-productive system, so
a result with a clearly negative entry is reported as ``BREAKDOWN``, naming
the row: an error, never a number.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

import numba
import numpy as np
import scipy.sparse as sp

from gosplan.core.result import SolveResult, Status

Precision = Literal["double", "mixed"]
Callback = Callable[[int, float], Any]
Apply = Callable[[np.ndarray, np.ndarray], None]

_CHUNKS = 256  # row chunks per mat-vec: load balance across threads


# ----------------------------------------------------------------------------- kernels


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
            s = 0.0
            for p in range(np.int64(indptr[i]), np.int64(indptr[i + 1])):
                # an unsigned index skips numba's negative-index wraparound: ~1.4x faster
                s += data[p] * x[np.uint64(indices[p])]
            out[i] = s


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
            s = 0.0
            for p in range(np.int64(indptr[i]), np.int64(indptr[i + 1])):
                # an unsigned index skips numba's negative-index wraparound: ~1.4x faster
                s += data[p] * x[np.uint64(indices[p])]
            out[i] = x[i] - s


@numba.njit(cache=True)
def _jacobi_update(x: np.ndarray, b: np.ndarray, t: np.ndarray) -> float:  # pragma: no cover
    """Given ``t = (I - M) x``: ``x += b - t`` (so ``x = b + M x``); returns ``||b - t||^2``."""
    acc = 0.0
    for i in range(x.shape[0]):
        r = b[i] - t[i]
        x[i] += r
        acc += r * r
    return acc


@numba.njit(cache=True)
def _dot(a: np.ndarray, b: np.ndarray) -> float:  # pragma: no cover - compiled
    acc = 0.0
    for i in range(a.shape[0]):
        acc += float(a[i]) * float(b[i])
    return acc


@numba.njit(cache=True)
def _dot2(t: np.ndarray, s: np.ndarray) -> tuple[float, float]:  # pragma: no cover
    ts = 0.0
    tt = 0.0
    for i in range(t.shape[0]):
        ti = float(t[i])
        ts += ti * float(s[i])
        tt += ti * ti
    return ts, tt


@numba.njit(cache=True)
def _axpy_norm(
    r: np.ndarray, alpha: float, v: np.ndarray, out: np.ndarray
) -> float:  # pragma: no cover - compiled
    """``out = r - alpha v``; returns ``||out||^2``."""
    acc = 0.0
    for i in range(r.shape[0]):
        w = r[i] - alpha * v[i]
        out[i] = w
        acc += float(w) * float(w)
    return acc


@numba.njit(cache=True)
def _update_x(
    x: np.ndarray, alpha: float, p: np.ndarray, omega: float, s: np.ndarray
) -> None:  # pragma: no cover - compiled
    for i in range(x.shape[0]):
        x[i] += alpha * p[i] + omega * s[i]


@numba.njit(cache=True)
def _update_r(
    s: np.ndarray, omega: float, t: np.ndarray, rh: np.ndarray, r: np.ndarray
) -> tuple[float, float]:  # pragma: no cover - compiled
    """``r = s - omega t``; returns ``(||r||^2, r . rh)``."""
    nn = 0.0
    rr = 0.0
    for i in range(s.shape[0]):
        w = s[i] - omega * t[i]
        r[i] = w
        nn += float(w) * float(w)
        rr += float(w) * float(rh[i])
    return nn, rr


@numba.njit(cache=True)
def _update_p(
    r: np.ndarray, beta: float, p: np.ndarray, omega: float, v: np.ndarray
) -> None:  # pragma: no cover - compiled
    for i in range(r.shape[0]):
        p[i] = r[i] + beta * (p[i] - omega * v[i])


# ----------------------------------------------------------------------------- operators


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
    """
    n = int(indptr.shape[0] - 1)
    nt = threads if threads is not None else (_threads() if n >= 50_000 else 1)
    nt = max(1, min(nt, n))
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

        def apply_one(x: np.ndarray, out: np.ndarray) -> None:
            part(x, out, 0)

        return apply_one

    def apply(x: np.ndarray, out: np.ndarray) -> None:
        pool = _pool()
        futs = [pool.submit(part, x, out, k) for k in range(nb)]
        for f in futs:
            f.result()

    return apply


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
    ``[lo, hi)`` are ``start[j] .. stop[j]`` (sorted CSC indices); releases the GIL."""
    for i in range(lo, hi):
        out[i] = x[i]
    for j in range(x.shape[0]):
        xj = x[j]
        for p in range(np.int64(start[j]), np.int64(stop[j])):
            # an unsigned index skips numba's negative-index wraparound
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
        for p in range(np.int64(indptr[j]), np.int64(indptr[j + 1])):
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


# ----------------------------------------------------------------------------- BiCGSTAB


class _Stop(Exception):
    pass


def bicgstab_core(
    apply: Apply,
    b: np.ndarray,
    x: np.ndarray,
    tol_abs: float,
    max_mv: int,
    *,
    callback: Callable[[int, float], None] | None = None,
    bnorm: float = 1.0,
    counter: list[int] | None = None,
) -> tuple[bool, float]:
    """BiCGSTAB on ``apply`` in place on ``x`` (dtype of ``x``), from ``x``.

    Stops when the recursive residual is below ``tol_abs`` or after ``max_mv``
    operator applications.  Returns ``(converged, ||r||)``.  A breakdown
    (vanishing ``rho`` or ``omega``) ends the call with ``converged=False``;
    the caller restarts from the current ``x``.  All vector work is fused
    numba kernels (no BLAS).
    """
    dt = x.dtype
    n = b.shape[0]
    counter = counter if counter is not None else [0]
    r = np.empty(n, dtype=dt)
    apply(x, r)
    counter[0] += 1
    r = (b - r).astype(dt, copy=False)
    rnorm = math.sqrt(_dot(r, r))
    if rnorm <= tol_abs:
        return True, rnorm
    rh = r.copy()
    p = r.copy()
    v = np.empty(n, dtype=dt)
    s = np.empty(n, dtype=dt)
    t = np.empty(n, dtype=dt)
    rho = _dot(r, rh)
    while counter[0] < max_mv:
        apply(p, v)
        counter[0] += 1
        den = _dot(rh, v)
        if den == 0.0 or not math.isfinite(den):
            return False, rnorm
        alpha = rho / den
        snorm = math.sqrt(_axpy_norm(r, alpha, v, s))
        if snorm <= tol_abs:
            _update_x(x, alpha, p, 0.0, s)
            return True, snorm
        apply(s, t)
        counter[0] += 1
        ts, tt = _dot2(t, s)
        if tt == 0.0 or ts == 0.0:
            _update_x(x, alpha, p, 0.0, s)
            return False, snorm
        omega = ts / tt
        _update_x(x, alpha, p, omega, s)
        nn, rho_new = _update_r(s, omega, t, rh, r)
        rnorm = math.sqrt(nn)
        if callback is not None:
            callback(counter[0], rnorm / bnorm)
        if not math.isfinite(rnorm):
            return False, rnorm
        if rnorm <= tol_abs:
            return True, rnorm
        if rho_new == 0.0:
            return False, rnorm
        beta = (rho_new / rho) * (alpha / omega)
        rho = rho_new
        _update_p(r, beta, p, omega, v)
    return False, rnorm


def solve_bicgstab(
    M: Any,
    b: np.ndarray,
    *,
    rtol: float = 1e-10,
    maxiter: int | None = None,
    callback: Callback | None = None,
    x0: np.ndarray | None = None,
    precision: Precision = "double",
    apply: Apply | None = None,
    method_name: str | None = None,
) -> SolveResult:
    """Solve ``(I - M) x = b`` with parallel BiCGSTAB; float64 residual guaranteed.

    ``maxiter`` bounds the number of operator applications (mat-vecs),
    default ``max(200, 20 * log(1/rtol))``.  ``apply`` replaces the local
    operator (the Dask engine passes its distributed one); the final residual
    check always uses ``apply`` in float64.  Stopping test:
    ``||b - (I - M) x|| <= rtol * ||b||`` in the 2-norm, in float64.
    """
    t0 = time.perf_counter()
    name = method_name or (
        "bicgstab-parallel"
        if precision == "double"
        else "bicgstab-mixed (float32 + float64 refinement)"
    )
    b = np.ascontiguousarray(b, dtype=np.float64)
    n = b.shape[0]
    bnorm = float(math.sqrt(_dot(b, b)))
    scale = bnorm if bnorm > 0 else 1.0
    max_mv = maxiter if maxiter is not None else max(200, int(20 * math.log(1.0 / rtol)))
    if apply is None:
        if not (sp.issparse(M) and M.format in ("csr", "csc")):
            M = sp.csr_array(M)
        apply64 = operator_for(M)
        apply32 = operator_for(M, M.data.astype(np.float32)) if precision == "mixed" else None
    else:
        apply64 = apply
        apply32 = None
    x = b.copy() if x0 is None else np.array(x0, dtype=np.float64)
    counter = [0]
    outer = 0
    stopped = False
    r64 = np.empty(n)
    relres = float("inf")

    def cb(k: int, rel: float) -> None:
        if callback is not None:
            try:
                callback(k, rel)
            except StopIteration:
                raise _Stop() from None

    try:
        while True:
            if apply32 is None:
                # float64 BiCGSTAB in place on x; after the first pass, a restart from x
                bicgstab_core(
                    apply64,
                    b,
                    x,
                    0.5 * rtol * scale,
                    max_mv,
                    callback=cb,
                    bnorm=scale,
                    counter=counter,
                )
            apply64(x, r64)
            counter[0] += 1
            np.subtract(b, r64, out=r64)
            rn = math.sqrt(_dot(r64, r64))
            relres = rn / scale
            if not math.isfinite(relres) or relres <= rtol or counter[0] >= max_mv:
                break
            outer += 1
            if outer > 30:
                break
            if apply32 is not None:
                # correction equation in float32, to ~1e-5 of its right-hand side
                d32 = np.zeros(n, dtype=np.float32)
                r32 = r64.astype(np.float32)
                inner_tol = max(rtol * scale, 1e-5 * rn)
                bicgstab_core(
                    apply32, r32, d32, inner_tol, max_mv, callback=cb, bnorm=scale, counter=counter
                )
                x += d32
    except _Stop:
        stopped = True
        apply64(x, r64)
        np.subtract(b, r64, out=r64)
        relres = math.sqrt(_dot(r64, r64)) / scale
    seconds = time.perf_counter() - t0
    extra = {
        "seconds": seconds,
        "matvecs": counter[0],
        "refinements": outer,
        "precision": precision,
        "stopped": stopped,
    }
    if not math.isfinite(relres):
        return SolveResult(
            x=x,
            status=Status.BREAKDOWN,
            nit=counter[0],
            residual=float("inf"),
            method=name,
            extra=extra,
            message="BiCGSTAB diverged: the technology is not productive (spectral radius >= 1).",
        )
    neg = negative_row(x, b)
    if neg is not None:
        return SolveResult(
            x=x,
            status=Status.BREAKDOWN,
            nit=counter[0],
            residual=relres,
            method=name,
            extra=extra,
            message=f"The solution has a negative entry (row {neg}: {x[neg]:.3g}) although "
            "the matrix and right-hand side are non-negative: the technology is not "
            "productive (spectral radius >= 1).",
        )
    if relres <= rtol and not stopped:
        return SolveResult(
            x=x, status=Status.OPTIMAL, nit=counter[0], residual=relres, method=name, extra=extra
        )
    return SolveResult(
        x=x,
        status=Status.ITERATION_LIMIT,
        nit=counter[0],
        residual=relres,
        method=name,
        extra=extra,
        message=(
            "stopped by the callback"
            if stopped
            else f"BiCGSTAB used its budget of {max_mv} mat-vecs"
        )
        + f" with relative residual {relres:.3g} > {rtol:.3g}.",
    )


def negative_row(x: np.ndarray, b: np.ndarray) -> int | None:
    """Index of a clearly negative entry of ``x`` when ``b >= 0``, else None."""
    if b.size == 0 or b.min() < 0:
        return None
    xmax = float(np.abs(x).max()) if x.size else 0.0
    bad = np.flatnonzero(x < -1e-8 * max(xmax, 1e-300))
    return int(bad[0]) if bad.size else None


def solve_jacobi_parallel(
    M: Any,
    b: np.ndarray,
    *,
    rtol: float = 1e-10,
    maxiter: int = 10_000,
    callback: Callback | None = None,
    x0: np.ndarray | None = None,
) -> SolveResult:
    """The Neumann series ``x <- b + M x`` on the multi-threaded operator.

    Each sweep is one parallel ``(I - M) x`` and one fused update that also
    yields the residual of the previous iterate, so the stopping test costs
    nothing extra; the final residual is recomputed in float64.
    """
    t0 = time.perf_counter()
    if not (sp.issparse(M) and M.format in ("csr", "csc")):
        M = sp.csr_array(M)
    apply = operator_for(M)
    b = np.ascontiguousarray(b, dtype=np.float64)
    bnorm = math.sqrt(_dot(b, b))
    scale = bnorm if bnorm > 0 else 1.0
    x = b.copy() if x0 is None else np.array(x0, dtype=np.float64)
    t = np.empty_like(x)
    nit = 0
    prev = float("inf")
    stalled = 0
    status = Status.ITERATION_LIMIT
    while nit < maxiter:
        apply(x, t)
        d = math.sqrt(_jacobi_update(x, b, t))  # residual of x before the update
        if not math.isfinite(d):
            return SolveResult(
                x=x,
                status=Status.BREAKDOWN,
                nit=nit,
                residual=float("inf"),
                method="jacobi-parallel",
                message="The series diverged: the technology is not "
                "productive (spectral radius >= 1).",
            )
        if d <= rtol * scale:  # x was converged; it is now one sweep better still
            status = Status.OPTIMAL
            break
        nit += 1
        stalled = stalled + 1 if d >= prev else 0
        if stalled >= 50:
            return SolveResult(
                x=x,
                status=Status.BREAKDOWN,
                nit=nit,
                residual=d / scale,
                method="jacobi-parallel",
                message="The series stopped contracting: the spectral radius is at or above one.",
            )
        prev = d
        if callback is not None:
            try:
                callback(nit, d / scale)
            except StopIteration:
                break
    apply(x, t)
    relres = float(np.linalg.norm(b - t)) / scale
    if status == Status.OPTIMAL and relres > rtol:
        status = Status.ITERATION_LIMIT
    return SolveResult(
        x=x,
        status=status,
        nit=nit,
        residual=relres,
        method="jacobi-parallel",
        extra={"seconds": time.perf_counter() - t0},
        message=""
        if status == Status.OPTIMAL
        else f"Jacobi stopped after {nit} sweeps with relative residual {relres:.3g} > {rtol:.3g}.",
    )


__all__ = [
    "bicgstab_core",
    "csr_matvec",
    "csr_parts",
    "indices_sorted",
    "leontief_apply",
    "make_apply",
    "make_apply_csc",
    "negative_row",
    "operator_for",
    "scatter_filter",
    "scatter_runs",
    "solve_bicgstab",
    "solve_jacobi_parallel",
]
