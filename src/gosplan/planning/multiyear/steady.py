"""Leontief solves of the multi-year model and its steady state (stationary output)."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from gosplan.core.linsolve import solve_leontief
from gosplan.core.methods import DIRECT_LIMIT
from gosplan.errors import ValidationError

#: up to this many products the heuristics' Leontief solves use a sparse LU, above it
#: the threaded BiCGSTAB of gosplan.core.kernels (no fill-in)


def leontief_solve(M: Any, b: np.ndarray, *, rtol: float, x0: np.ndarray | None = None) -> Any:
    """``(I - M) x = b``: sparse LU for small tables, else BiCGSTAB on the threaded
    mat-vec of :mod:`gosplan.core.kernels` (no fill-in), falling back to GMRES."""
    if M.shape[0] <= DIRECT_LIMIT:
        return solve_leontief(M, b, method="direct", tol=rtol)
    res = solve_leontief(M, b, method="bicgstab-parallel", tol=rtol, x0=x0)
    return res if res.success else solve_leontief(M, b, method="gmres", tol=rtol, x0=res.x)


def stationary_output(
    A: Any,
    B: Any | None,
    s: np.ndarray | None,
    kappa: np.ndarray | None,
    rate: np.ndarray,
    y: np.ndarray,
) -> np.ndarray:
    """Output that delivers ``y`` and adds capacity at ``rate`` per year (replacement and
    growth): ``x = A x + B diag(rate) x + y``.  With the aggregate form ``B = s κᵀ`` the
    rank-one term is handled by Sherman–Morrison (no dense matrix)."""
    if B is not None:
        M = sp.csr_array(A + sp.csr_array(B) @ sp.diags_array(rate))
        res = leontief_solve(M, y, rtol=1e-11)
        if not res.success:
            raise ValidationError(
                "multi_year_plan: the technology with capital formation at the stated rates "
                f"is not productive ({res.message})."
            )
        return np.asarray(res.x)
    z = np.asarray(leontief_solve(A, y, rtol=1e-11).x)
    if s is None or kappa is None:
        return z
    u = np.asarray(leontief_solve(A, s, rtol=1e-11).x)
    w = kappa * rate
    denom = 1.0 - float(w @ u)
    if denom <= 0:
        raise ValidationError(
            "multi_year_plan: capital formation at the stated rates needs more than the whole "
            "net product (capital_output_ratio × (depreciation + growth) too high)."
        )
    return z + (float(w @ z) / denom) * u


def leontief_solver(A: Any, *, transpose: bool = False) -> Any:
    """``(b, rtol, x0) -> (I - A)⁻¹ b`` (or ``(I - Aᵀ)⁻¹ b``): one sparse LU for small
    tables, else the threaded BiCGSTAB of :func:`leontief_solve` per call, from ``x0``."""
    n = A.shape[0]
    if n <= DIRECT_LIMIT:
        from scipy.sparse.linalg import splu

        lu = splu(sp.csc_matrix(sp.identity(n, format="csc") - (A.T if transpose else A)))
        return lambda b, rtol=1e-12, x0=None: lu.solve(np.asarray(b, dtype=float))
    M = sp.csr_array(A.T) if transpose else sp.csr_array(A)

    def solve(b: np.ndarray, rtol: float = 1e-12, x0: np.ndarray | None = None) -> np.ndarray:
        # BiCGSTAB on the threaded mat-vec, warm-started from the last round's answer
        res = leontief_solve(M, np.asarray(b, dtype=float), rtol=rtol, x0=x0)
        if not res.success:
            raise ValidationError(f"multi_year_plan: Leontief solve failed ({res.message}).")
        return np.asarray(res.x)

    return solve
