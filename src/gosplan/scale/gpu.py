"""Re-export of :mod:`gosplan.core.gpu` (the GPU path belongs to the core's solvers)."""

from gosplan.core.gpu import CudaUnavailable, bicgstab_generic, cuda_backend, solve_gpu

__all__ = ["CudaUnavailable", "bicgstab_generic", "cuda_backend", "solve_gpu"]
