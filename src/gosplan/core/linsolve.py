"""Sparse solvers for the Leontief systems ``(I - A) x = y`` and ``v (I - A) = l``.

Never forms a dense inverse.  Every solver returns a :class:`SolveResult`
whose ``residual`` is recomputed in float64 as ``||b - (I - M) x|| / ||b||``.

Methods
-------
``"direct"``
    Sparse LU factorisation (``scipy.sparse.linalg.splu``).  Exact to rounding;
    the right choice for published tables (tens to a few thousand sectors).
``"jacobi"``
    The Neumann/power series ``x_{k+1} = b + M x_k``: one sparse mat-vec per
    sweep, converges at the rate of the spectral radius of ``M``.
``"gmres"`` / ``"bicgstab"``
    Krylov methods from ``scipy.sparse.linalg`` with a Jacobi preconditioner;
    for large economies whose spectral radius is close to one.
``"bicgstab-parallel"``
    BiCGSTAB with multi-threaded (numba) fused kernels and float64 residual
    refinement (:mod:`gosplan.core.kernels`): about 21 mat-vecs where the
    series needs 65 at spectral radius 0.7; the large-economy default.
``"mixed"``
    The same with a float32 copy of the coefficients (+4 bytes per nonzero)
    for the inner iterations, and float64 residual correction outside.
``"jacobi-parallel"``
    The Neumann series with one fused multi-threaded sweep per step.
``"cuda"``
    BiCGSTAB on a CUDA GPU through CuPy or PyTorch, where one is importable
    (:mod:`gosplan.core.gpu`); float64 throughout.
``"auto"``
    ``direct`` up to 500 products (every published table; sparse LU of a
    product-level matrix fills in catastrophically: 0.1 s at 1 000 synthetic
    products where BiCGSTAB takes 2 ms, 9 s at 5 000, minutes at 20 000),
    otherwise ``bicgstab-parallel``, falling back to ``gmres`` and
    then (up to 20 000 products) ``direct`` if it stops short.

Layouts (:func:`transposed_for`)
--------------------------------
Labour values solve with ``M = Aᵀ``.  For a column-major (CSC) ``A`` that is a
free CSR view and the threaded row-gather kernels run on it
(``"transposed-view"``).  For a row-major (CSR) ``A`` it is a free CSC view:
the parallel methods run the row-scatter kernels of
:func:`gosplan.core.kernels.make_apply_csc` on ``A``'s own arrays
(``"csr-kernel"``: no copy; the faster of a flat one-thread and a blocked
multi-thread scatter, timed on the first mat-vecs), scipy's methods
and the LU use the view as it is (``"transposed-view"``), and the GPU path,
or a CSR ``A`` with unsorted column indices of at most ``CONVERT_LIMIT``
nonzeros, gets a CSR copy of ``Aᵀ`` (``"converted"``: +1x the matrix).

The stopping test of the iterative methods is
``||b - (I - M) x|| <= rtol * ||b||`` in the 2-norm.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from gosplan.core.methods import DIRECT_LIMIT, METHODS
from gosplan.core.result import SolveResult, Status

DIRECT_FALLBACK_LIMIT = 20_000
#: a CSR ``A`` with unsorted indices is copied to the CSR of ``Aᵀ`` up to this many nonzeros
#: (above it the scatter kernel filters rows instead: no copy, slower)
CONVERT_LIMIT = 50_000_000
PARALLEL_METHODS = ("bicgstab-parallel", "mixed", "jacobi-parallel")
LAYOUT_PATHS = ("transposed-view", "csr-kernel", "converted")

Callback = Callable[[int, float], Any]


def leontief_residual(M: Any, x: np.ndarray, b: np.ndarray, bnorm: float) -> float:
    """The relative residual ``||b - (I - M) x|| / ||b||`` of ``x``, in float64 (absolute
    when ``b`` is zero).  ``M`` is a matrix or a callable returning ``M @ x`` (the Dask
    engine passes its distributed mat-vec); every Leontief solver's final check."""
    Mx = M(x) if callable(M) else M @ x
    r = b - (x - Mx)
    return float(np.linalg.norm(r) / bnorm) if bnorm > 0 else float(np.linalg.norm(r))


def series_diverged(
    x: np.ndarray, *, nit: int, method: str, residual: float = float("inf"), stalled: bool = False
) -> SolveResult:
    """The BREAKDOWN result of a Neumann (Jacobi) series that diverged or, with
    ``stalled``, stopped contracting: the technology is not productive."""
    return SolveResult(
        x=x,
        status=Status.BREAKDOWN,
        nit=nit,
        residual=residual,
        method=method,
        message="The series stopped contracting: the spectral radius is at or above one."
        if stalled
        else "The series diverged: the technology is not productive (spectral radius >= 1).",
    )


def series_result(
    x: np.ndarray,
    *,
    nit: int,
    relres: float,
    rtol: float,
    method: str,
    extra: dict[str, Any] | None = None,
) -> SolveResult:
    """The result of a Neumann (Jacobi) series that stopped: OPTIMAL when the float64
    residual ``relres`` meets ``rtol``, else ITERATION_LIMIT saying how far it got."""
    ok = relres <= rtol
    return SolveResult(
        x=x,
        status=Status.OPTIMAL if ok else Status.ITERATION_LIMIT,
        nit=nit,
        residual=relres,
        method=method,
        extra=extra or {},
        message=""
        if ok
        else f"Jacobi stopped after {nit} sweeps with relative residual {relres:.3g} > {rtol:.3g}.",
    )


def transposed_for(A: sp.csr_array | sp.csc_array, method: str = "auto") -> tuple[Any, str]:
    """``(M, layout_path)``: the operand ``M = Aᵀ`` for ``method`` and how it was obtained.

    ``layout_path`` is ``"transposed-view"`` (a free view, the solver reads it
    as it is), ``"csr-kernel"`` (a CSR ``A``: the free CSC view, on which the
    parallel methods run the row-scatter kernel) or ``"converted"`` (a CSR copy
    of ``Aᵀ``); see the module docstring for when each is chosen.
    """
    if A.format == "csc":
        return A.T, "transposed-view"
    A = sp.csr_array(A)  # COO, dense: the row-major form (a no-op for CSR)
    n = A.shape[0]
    parallel = method in PARALLEL_METHODS or (method == "auto" and n > DIRECT_LIMIT)
    # scipy checks sortedness once (compiled) and caches the flag on A itself
    sorted_ = bool(A.has_sorted_indices)
    if method == "cuda" or (parallel and not sorted_ and A.nnz <= CONVERT_LIMIT):
        return sp.csr_array(A.T), "converted"
    M = A.T
    M.has_sorted_indices = sorted_  # the view shares A's arrays: no second check
    return M, ("csr-kernel" if parallel else "transposed-view")


def solve_leontief(
    M: sp.csr_array | sp.csc_array,
    b: np.ndarray,
    *,
    method: str = "auto",
    tol: float = 1e-10,
    maxiter: int | None = None,
    callback: Callback | None = None,
    x0: np.ndarray | None = None,
    rtol: float | None = None,
) -> SolveResult:
    """Solve ``(I - M) x = b`` for a non-negative square sparse ``M``.

    For labour values pass ``M = A.T`` and ``b = l``; for gross outputs pass
    ``M = A`` and ``b = y``.  The iterative methods stop when
    ``||b - (I - M) x|| <= tol * ||b||``.  ``callback(nit, relres)`` is called
    after each sweep of an iterative method; raising ``StopIteration`` in it
    stops the solve, which then reports ``ITERATION_LIMIT``.  ``rtol`` is the
    deprecated name of ``tol``.
    """
    if rtol is not None:
        warnings.warn(
            "solve_leontief(rtol=...) is deprecated; use tol=...", DeprecationWarning, stacklevel=2
        )
        tol = rtol
    rtol = tol  # the kernels below call it rtol, as scipy does
    if method not in METHODS["solve_leontief"]:
        raise ValueError(f"`method` must be one of {METHODS['solve_leontief']}; got {method!r}.")
    n = M.shape[0]
    b = np.asarray(b, dtype=np.float64)
    bnorm = float(np.linalg.norm(b))
    if method == "auto":
        if n <= DIRECT_LIMIT:
            return _direct(M, b, bnorm)
        from gosplan.core.kernels import solve_bicgstab

        res = solve_bicgstab(M, b, rtol=rtol, maxiter=maxiter, callback=callback, x0=x0)
        if res.success or res.status == Status.BREAKDOWN or res.extra.get("stopped"):
            return res
        res = _krylov(M, b, bnorm, rtol, maxiter, callback, "gmres", res.x)
        if res.success or n > DIRECT_FALLBACK_LIMIT:
            return res
        return _direct(M, b, bnorm)
    if method in ("bicgstab-parallel", "mixed"):
        from gosplan.core.kernels import solve_bicgstab

        return solve_bicgstab(
            M,
            b,
            rtol=rtol,
            maxiter=maxiter,
            callback=callback,
            x0=x0,
            precision="mixed" if method == "mixed" else "double",
        )
    if method == "jacobi-parallel":
        from gosplan.core.kernels import solve_jacobi_parallel

        return solve_jacobi_parallel(
            M, b, rtol=rtol, maxiter=maxiter or 10_000, callback=callback, x0=x0
        )
    if method == "cuda":
        from gosplan.core.gpu import solve_gpu

        return solve_gpu(M, b, rtol=rtol, maxiter=maxiter, x0=x0)
    if method == "direct":
        return _direct(M, b, bnorm)
    if method == "jacobi":
        return _jacobi(M, b, bnorm, rtol, maxiter or 10_000, callback, x0)
    return _krylov(M, b, bnorm, rtol, maxiter, callback, method, x0)


def _direct(M: Any, b: np.ndarray, bnorm: float) -> SolveResult:
    n = M.shape[0]
    K = (sp.identity(n, format="csc") - sp.csc_array(M)).tocsc()
    t0 = time.perf_counter()
    try:
        lu = spla.splu(K)
        x = lu.solve(b)
    except RuntimeError as exc:  # exactly singular
        return SolveResult(
            x=np.full(n, np.nan),
            status=Status.BREAKDOWN,
            nit=0,
            residual=float("inf"),
            method="direct",
            message=f"I - A is singular: {exc}",
            backend_message=str(exc),
        )
    if not np.all(np.isfinite(x)):
        return SolveResult(
            x=x,
            status=Status.BREAKDOWN,
            nit=0,
            residual=float("inf"),
            method="direct",
            message="The LU solve produced non-finite values: I - A is (nearly) singular.",
        )
    res = leontief_residual(M, x, b, bnorm)
    # one step of iterative refinement keeps the float64 residual at rounding level
    if res > 1e-14:
        x = x + lu.solve(b - (x - M @ x))
        res = leontief_residual(M, x, b, bnorm)
    return SolveResult(
        x=x,
        status=Status.OPTIMAL,
        nit=1,
        residual=res,
        method="direct (sparse LU)",
        extra={"seconds": time.perf_counter() - t0},
    )


def _jacobi(
    M: Any,
    b: np.ndarray,
    bnorm: float,
    rtol: float,
    maxiter: int,
    callback: Callback | None,
    x0: np.ndarray | None,
) -> SolveResult:
    """Neumann series; the update ``M x`` is also the residual's main term."""
    x = b.copy() if x0 is None else np.asarray(x0, dtype=np.float64).copy()
    tol = rtol * bnorm if bnorm > 0 else rtol
    nit = 0
    rnorm = float("inf")
    prev = float("inf")
    stalled = 0
    while nit < maxiter:
        Mx = M @ x
        r = b + Mx - x  # residual of the current iterate
        rnorm = float(np.linalg.norm(r))
        if not np.isfinite(rnorm):
            return series_diverged(x, nit=nit, method="jacobi")
        if rnorm <= tol:
            break
        x = x + r  # == b + M x
        nit += 1
        if rnorm >= prev:
            stalled += 1
            if stalled >= 50:
                return series_diverged(
                    x, nit=nit, method="jacobi", residual=rnorm / (bnorm or 1.0), stalled=True
                )
        else:
            stalled = 0
        prev = rnorm
        if callback is not None:
            try:
                callback(nit, rnorm / (bnorm or 1.0))
            except StopIteration:
                break
    relres = leontief_residual(M, x, b, bnorm)
    return series_result(x, nit=nit, relres=relres, rtol=rtol, method="jacobi")


def _krylov(
    M: Any,
    b: np.ndarray,
    bnorm: float,
    rtol: float,
    maxiter: int | None,
    callback: Callback | None,
    method: str,
    x0: np.ndarray | None,
) -> SolveResult:
    n = M.shape[0]
    diag = 1.0 - M.diagonal()
    if np.any(diag <= 0):
        return SolveResult(
            x=np.full(n, np.nan),
            status=Status.BREAKDOWN,
            nit=0,
            residual=float("inf"),
            method=method,
            message="A diagonal coefficient is >= 1: a product uses at least "
            "one unit of itself per unit made.",
        )
    inv_diag = 1.0 / diag
    op = spla.LinearOperator((n, n), matvec=lambda v: v - M @ v, dtype=np.float64)
    pre = spla.LinearOperator((n, n), matvec=lambda v: inv_diag * v, dtype=np.float64)
    count = [0]

    def cb(arg: Any) -> None:
        count[0] += 1
        if callback is not None:
            callback(count[0], float("nan"))

    solver = spla.gmres if method == "gmres" else spla.bicgstab
    kwargs: dict[str, Any] = {
        "rtol": rtol,
        "atol": 0.0,
        "M": pre,
        "x0": x0,
        "maxiter": maxiter or 1000,
        "callback": cb,
    }
    if method == "gmres":
        kwargs["callback_type"] = "pr_norm"
        kwargs["restart"] = 50
    try:
        x, info = solver(op, b, **kwargs)
    except StopIteration:
        x, info = (x0 if x0 is not None else np.zeros(n)), 1
    relres = leontief_residual(M, x, b, bnorm)
    if relres <= rtol:
        status = Status.OPTIMAL
    elif info > 0:
        status = Status.ITERATION_LIMIT
    else:
        status = Status.BREAKDOWN
    return SolveResult(
        x=x,
        status=status,
        nit=count[0],
        residual=relres,
        method=method,
        backend_status=int(info),
        message=""
        if status == Status.OPTIMAL
        else f"{method} stopped with relative residual {relres:.3g} > {rtol:.3g} (info={info}).",
    )
