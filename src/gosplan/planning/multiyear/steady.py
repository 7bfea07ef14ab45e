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


def stationary_solver(
    A: Any,
    B: Any | None,
    s: np.ndarray | None,
    kappa: np.ndarray | None,
    rate: np.ndarray,
) -> Any:
    """``y -> x`` with ``x = A x + B diag(rate) x + y`` (:func:`stationary_output`) for
    one right-hand side ``(n,)`` or a block ``(k, n)``; the matrix is built once."""
    if B is not None:
        M = sp.csr_array(A + sp.csr_array(B) @ sp.diags_array(rate))
        solve = leontief_solver(M, csr=True)

        def run(y: np.ndarray) -> np.ndarray:
            try:
                return np.asarray(solve(y, 1e-11))
            except (ValidationError, RuntimeError) as exc:
                raise ValidationError(
                    "multi_year_plan: the technology with capital formation at the stated "
                    f"rates is not productive ({exc})."
                ) from None

        return run
    L = leontief_solver(A)
    u: np.ndarray | None = None
    w = np.zeros(A.shape[0])
    denom = 1.0
    if s is not None and kappa is not None:
        u = np.asarray(L(s, 1e-11))
        w = kappa * rate
        denom = 1.0 - float(w @ u)
        if denom <= 0:
            raise ValidationError(
                "multi_year_plan: capital formation at the stated rates needs more than the "
                "whole net product (capital_output_ratio × (depreciation + growth) too high)."
            )

    def run_agg(y: np.ndarray) -> np.ndarray:
        z = np.asarray(L(y, 1e-11))
        if u is None:
            return z
        return z + np.multiply.outer((z @ w) / denom, u).reshape(z.shape)

    return run_agg


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
    rank-one term is handled by Sherman–Morrison (no dense matrix).  ``y`` may be a
    block ``(k, n)`` of right-hand sides."""
    return np.asarray(stationary_solver(A, B, s, kappa, rate)(y))


def leontief_solver(A: Any, *, transpose: bool = False, csr: bool = False) -> Any:
    """``(b, rtol, x0) -> (I - A)⁻¹ b`` (or ``(I - Aᵀ)⁻¹ b``) for ``b`` of shape ``(n,)``
    or a block ``(k, n)``: one sparse LU for small tables, else, with the operators
    built once for every call, the fused threaded BiCGSTAB of :mod:`gosplan.core.kernels`
    for one right-hand side and the block BiCGSTAB of
    :class:`~gosplan.planning.multiyear.blocksolve.BlockSolver` for a block (all its
    columns sharing each mat-vec), from ``x0``.  ``csr``: ``A`` is already a CSR array
    (no conversion)."""
    n = A.shape[0]
    if n <= DIRECT_LIMIT:
        from scipy.sparse.linalg import splu

        lu = splu(sp.csc_matrix(sp.identity(n, format="csc") - (A.T if transpose else A)))

        def direct(b: np.ndarray, rtol: float = 1e-12, x0: np.ndarray | None = None) -> Any:
            b = np.asarray(b, dtype=float)
            return lu.solve(b) if b.ndim == 1 else np.ascontiguousarray(lu.solve(b.T).T)

        return direct
    from gosplan.core.kernels import solve_bicgstab
    from gosplan.core.operators import operator_for
    from gosplan.planning.multiyear.blocksolve import BlockSolver

    # the CSR arrays of Aᵀ are the CSC arrays of A: a CSC A gives the transpose for free
    M = sp.csr_array(A.T if transpose else (A if csr else sp.csr_array(A)))
    op = BlockSolver(M)
    apply = operator_for(M)  # one right-hand side: the fused solver of core.kernels

    def solve(b: np.ndarray, rtol: float = 1e-12, x0: np.ndarray | None = None) -> np.ndarray:
        b = np.asarray(b, dtype=float)
        if b.ndim == 1:
            res = solve_bicgstab(M, b, rtol=rtol, x0=x0, apply=apply)
            if not res.success:
                raise ValidationError(f"multi_year_plan: Leontief solve failed ({res.message}).")
            return np.asarray(res.x)
        try:
            return op.solve(b, rtol, x0)
        except RuntimeError as exc:
            raise ValidationError(f"multi_year_plan: Leontief solve failed ({exc}).") from None

    return solve
