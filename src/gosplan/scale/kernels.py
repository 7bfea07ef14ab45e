"""Re-export of :mod:`gosplan.core.kernels` (the kernels belong to the core's solvers)."""

from gosplan.core.kernels import (
    bicgstab_core,
    csr_matvec,
    csr_parts,
    leontief_apply,
    make_apply,
    make_apply_csc,
    negative_row,
    operator_for,
    solve_bicgstab,
    solve_jacobi_parallel,
)

__all__ = [
    "bicgstab_core",
    "csr_matvec",
    "csr_parts",
    "leontief_apply",
    "make_apply",
    "make_apply_csc",
    "negative_row",
    "operator_for",
    "solve_bicgstab",
    "solve_jacobi_parallel",
]
