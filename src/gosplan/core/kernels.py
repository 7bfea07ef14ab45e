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
import time
from collections.abc import Callable
from typing import Any, Literal

import numba
import numpy as np
import scipy.sparse as sp

from gosplan.core.linsolve import series_diverged
from gosplan.core.operators import (
    Apply,
    csr_matvec,
    csr_parts,
    indices_sorted,
    leontief_apply,
    make_apply,
    make_apply_csc,
    operator_for,
    scatter_filter,
    scatter_runs,
)
from gosplan.core.result import SolveResult, Status

Precision = Literal["double", "mixed"]
Callback = Callable[[int, float], Any]

# ----------------------------------------------------------------------------- vector kernels


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
    relres, matvecs, outer, stopped = _refine(
        apply64, apply32, b, x, rtol=rtol, scale=scale, max_mv=max_mv, callback=callback
    )
    seconds = time.perf_counter() - t0
    extra = {
        "seconds": seconds,
        "matvecs": matvecs,
        "refinements": outer,
        "precision": precision,
        "stopped": stopped,
        "kernel": getattr(apply64, "chosen", ""),  # which scatter a Fastest operator kept
    }
    return _bicgstab_result(x, b, relres, rtol, matvecs, max_mv, stopped, name, extra)


def _bicgstab_result(
    x: np.ndarray,
    b: np.ndarray,
    relres: float,
    rtol: float,
    matvecs: int,
    max_mv: int,
    stopped: bool,
    name: str,
    extra: dict[str, Any],
) -> SolveResult:
    """What :func:`solve_bicgstab` reached: diverged or negative (BREAKDOWN), converged
    (OPTIMAL) or stopped short (ITERATION_LIMIT), with its float64 residual."""
    if not math.isfinite(relres):
        return SolveResult(
            x=x,
            status=Status.BREAKDOWN,
            nit=matvecs,
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
            nit=matvecs,
            residual=relres,
            method=name,
            extra=extra,
            message=f"The solution has a negative entry (row {neg}: {x[neg]:.3g}) although "
            "the matrix and right-hand side are non-negative: the technology is not "
            "productive (spectral radius >= 1).",
        )
    if relres <= rtol and not stopped:
        return SolveResult(
            x=x, status=Status.OPTIMAL, nit=matvecs, residual=relres, method=name, extra=extra
        )
    return SolveResult(
        x=x,
        status=Status.ITERATION_LIMIT,
        nit=matvecs,
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


def _refine(
    apply64: Apply,
    apply32: Apply | None,
    b: np.ndarray,
    x: np.ndarray,
    *,
    rtol: float,
    scale: float,
    max_mv: int,
    callback: Callback | None,
) -> tuple[float, int, int, bool]:
    """BiCGSTAB with iterative refinement, in place on ``x``: until the float64
    residual meets ``rtol`` (or the budget is spent).  With ``apply32`` each outer step
    solves the correction equation in float32.  Returns the relative residual, the
    mat-vecs used, the refinements and whether the callback stopped the run."""
    n = b.shape[0]
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
    return relres, counter[0], outer, stopped


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
            return series_diverged(x, nit=nit, method="jacobi-parallel")
        if d <= rtol * scale:  # x was converged; it is now one sweep better still
            status = Status.OPTIMAL
            break
        nit += 1
        stalled = stalled + 1 if d >= prev else 0
        if stalled >= 50:
            return series_diverged(
                x, nit=nit, method="jacobi-parallel", residual=d / scale, stalled=True
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
