"""Optional GPU path: the same BiCGSTAB iteration on a CUDA device.

Used by ``solve_leontief(..., method="cuda")`` and so by
``gosplan.labour_values(economy, method="cuda")``.  It needs CuPy
(``cupyx.scipy.sparse``) or PyTorch (``torch.sparse_csr_tensor``) with a
visible CUDA device; nothing else in gosplan does.  Without one it raises
:class:`CudaUnavailable`, saying what was looked for.

The iteration (:func:`bicgstab_generic`) is written against the operators
that numpy, CuPy and PyTorch arrays share (``@``, ``*``, ``+``, ``-``), so
the very same code is exercised on the CPU by the tests.  Everything runs in
float64; the final relative residual is recomputed on the host in float64
against the original matrix, as for every gosplan solver.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

from gosplan.core.kernels import negative_row
from gosplan.core.result import SolveResult, Status
from gosplan.errors import GosplanError


class CudaUnavailable(GosplanError, RuntimeError):
    """``device="cuda"`` was asked for but no CUDA array library or device is present."""


def cuda_backend() -> tuple[str, Any]:
    """``("cupy", cupy)`` or ``("torch", torch)`` with a CUDA device, else raise."""
    why: list[str] = []
    try:
        import cupy

        if cupy.cuda.runtime.getDeviceCount() > 0:
            return "cupy", cupy
        why.append("cupy: no CUDA device visible")
    except ImportError:
        why.append("cupy: not installed")
    except Exception as exc:  # CUDA driver errors come in many types
        why.append(f"cupy: {type(exc).__name__}: {exc}")
    try:
        import torch

        if torch.cuda.is_available():
            return "torch", torch
        why.append("torch: installed, but torch.cuda.is_available() is False")
    except ImportError:
        why.append("torch: not installed")
    raise CudaUnavailable(
        "method='cuda' needs CuPy or PyTorch with a CUDA GPU, and none is usable here ("
        + "; ".join(why)
        + "). Use method='bicgstab-parallel' (the CPU default for large "
        "economies), or install cupy-cuda12x or a CUDA build of torch on a machine with a GPU."
    )


def bicgstab_generic(
    matvec: Callable[[Any], Any],
    b: Any,
    x: Any,
    *,
    tol_abs: float,
    max_mv: int,
) -> tuple[Any, int, bool]:
    """BiCGSTAB for ``(I - M) x = b`` given ``matvec(v) = M v``, restarting on breakdown.

    Works on numpy, CuPy and PyTorch vectors alike.  Returns ``(x, mat-vecs,
    converged)`` where converged refers to the recursive residual.
    """
    nmv = 0

    def op(v: Any) -> Any:
        nonlocal nmv
        nmv += 1
        return v - matvec(v)

    def norm(v: Any) -> float:
        return math.sqrt(float(v @ v))

    while nmv < max_mv:
        r = b - op(x)
        rn = norm(r)
        if rn <= tol_abs:
            return x, nmv, True
        rh = r.clone() if hasattr(r, "clone") else r.copy()
        p = r
        rho = float(r @ rh)
        while nmv < max_mv:
            v = op(p)
            den = float(rh @ v)
            if den == 0.0 or not math.isfinite(den):
                break  # restart from x
            alpha = rho / den
            s = r - alpha * v
            if norm(s) <= tol_abs:
                return x + alpha * p, nmv, True
            t = op(s)
            tt = float(t @ t)
            if tt == 0.0:
                break
            omega = float(t @ s) / tt
            x = x + alpha * p + omega * s
            r = s - omega * t
            rn = norm(r)
            if not math.isfinite(rn):
                return x, nmv, False
            if rn <= tol_abs:
                return x, nmv, True
            rho_new = float(r @ rh)
            if rho_new == 0.0 or omega == 0.0:
                break
            beta = (rho_new / rho) * (alpha / omega)
            rho = rho_new
            p = r + beta * (p - omega * v)
    return x, nmv, False


def _device_matvec(
    M: sp.csr_array, name: str, lib: Any
) -> tuple[Callable[[Any], Any], Callable[[np.ndarray], Any], Callable[[Any], np.ndarray]]:
    if name == "cupy":
        import cupyx.scipy.sparse as csp

        Md = csp.csr_matrix(
            (lib.asarray(M.data), lib.asarray(M.indices), lib.asarray(M.indptr)), shape=M.shape
        )
        return (lambda v: Md @ v), lib.asarray, lib.asnumpy
    torch = lib
    dev = torch.device("cuda")
    Mt = torch.sparse_csr_tensor(
        torch.as_tensor(M.indptr.astype(np.int64), device=dev),
        torch.as_tensor(M.indices.astype(np.int64), device=dev),
        torch.as_tensor(M.data, device=dev),
        size=M.shape,
        dtype=torch.float64,
    )
    return (
        (lambda v: torch.mv(Mt, v)),
        (lambda a: torch.as_tensor(a, device=dev)),
        (lambda t: t.cpu().numpy()),
    )


def solve_gpu(
    M: Any,
    b: np.ndarray,
    *,
    rtol: float = 1e-10,
    maxiter: int | None = None,
    x0: np.ndarray | None = None,
) -> SolveResult:
    """Solve ``(I - M) x = b`` on a CUDA GPU (see module docstring)."""
    name, lib = cuda_backend()
    t0 = time.perf_counter()
    Mc = sp.csr_array(M, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    bnorm = float(np.linalg.norm(b)) or 1.0
    max_mv = maxiter if maxiter is not None else max(200, int(20 * math.log(1.0 / rtol)))
    mv, to_dev, to_host = _device_matvec(Mc, name, lib)
    xd, nmv, _ = bicgstab_generic(
        mv,
        to_dev(b),
        to_dev(b.copy() if x0 is None else x0),
        tol_abs=0.5 * rtol * bnorm,
        max_mv=max_mv,
    )
    x = to_host(xd)
    relres = float(np.linalg.norm(b - x + Mc @ x)) / bnorm
    status = (
        Status.OPTIMAL
        if relres <= rtol
        else (Status.BREAKDOWN if not math.isfinite(relres) else Status.ITERATION_LIMIT)
    )
    neg = negative_row(x, b)
    if neg is not None:
        return SolveResult(
            x=x,
            status=Status.BREAKDOWN,
            nit=nmv,
            residual=relres,
            method=f"cuda ({name}) bicgstab",
            message=f"The solution has a negative entry (row {neg}) although the matrix and "
            "right-hand side are non-negative: the technology is not productive.",
        )
    return SolveResult(
        x=x,
        status=status,
        nit=nmv,
        residual=relres,
        method=f"cuda ({name}) bicgstab",
        extra={"seconds": time.perf_counter() - t0},
        message=""
        if status == Status.OPTIMAL
        else f"BiCGSTAB on the GPU stopped with relative residual {relres:.3g} > {rtol:.3g}.",
    )


__all__ = ["CudaUnavailable", "bicgstab_generic", "cuda_backend", "solve_gpu"]
