"""The large-economy solver on Dask distributed: the matrix in row blocks on the workers.

How it works
------------
:class:`DistributedMatrix` cuts a CSR matrix into row blocks, scatters each
block **once** to a worker (``client.scatter``) and keeps the futures.  A
mat-vec broadcasts the vector (``client.scatter(x, broadcast=True)``), runs
``block @ x`` on every worker (``client.submit`` on the block's future, so the
task goes where the block lives), gathers the pieces and concatenates them.
``rmatvec`` (``Mᵀ y``) works on the same row blocks: each worker returns
``block.T @ y[rows]`` and the client adds them up.  No home-made RPC: all
traffic is Dask's.

:func:`solve_leontief_distributed` runs the very same BiCGSTAB driver as the
single-machine solver (:func:`gosplan.core.kernels.solve_bicgstab`) with the
distributed operator, including the final float64 residual check, so the
result equals the single-machine one within the tolerance.
:func:`labour_values_distributed` wraps it like :func:`gosplan.labour_values`.

Where the cluster comes from
----------------------------
Pass ``client=`` (a ``distributed.Client``), or ``address=`` (a scheduler
address such as ``"tcp://10.0.0.5:8786"``; a client is opened and closed
around the solve), or neither, in which case the current default client
(``distributed.default_client()``) is used.  Workers must be able to import
gosplan (install the same environment on them).  See ``docs/scale.md``.

The planning solver (harmony) can use :class:`DistributedMatrix` directly
for its ``A x`` and ``Aᵀ y`` products.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gosplan.core.economy import Economy
from gosplan.core.linsolve import leontief_residual, series_diverged, series_result
from gosplan.core.result import SolveResult
from gosplan.errors import NotConverged, ValidationError

DistMethod = Literal["bicgstab", "jacobi"]


def _block_matvec(block: Any, x: np.ndarray) -> np.ndarray:
    return np.asarray(block @ x)


def _block_rmatvec(block: Any, y: np.ndarray, lo: int, hi: int) -> np.ndarray:
    return np.asarray(block.T @ y[lo:hi])


def _block_nbytes(block: Any) -> int:
    return int(block.data.nbytes + block.indices.nbytes + block.indptr.nbytes)


@contextmanager
def connect(client: Any = None, address: str | None = None) -> Iterator[Any]:
    """Yield a ``distributed.Client``: the one given, one opened at ``address``, or the default.

    A client opened here is closed on exit; one passed in is left open.
    """
    from distributed import Client, default_client

    if client is not None and address is not None:
        raise ValidationError("Pass either `client` or `address` to the Dask engine, not both.")
    if client is not None:
        yield client
        return
    if address is not None:
        try:
            c = Client(address, timeout="20s")
        except OSError as exc:
            raise ValidationError(
                f"Could not reach the Dask scheduler at {address!r}: {exc}. Start one with "
                "`dask scheduler` and workers with `dask worker ADDRESS` (docs/scale.md)."
            ) from None
        try:
            yield c
        finally:
            c.close()
        return
    try:
        c = default_client()
    except ValueError:
        raise ValidationError(
            "The Dask engine needs a cluster: pass `client=` (a distributed.Client), "
            "`address=` (a scheduler address like 'tcp://host:8786'), or create a Client "
            "first. For a local test: `Client(LocalCluster(n_workers=2))`."
        ) from None
    yield c


class DistributedMatrix:
    """A CSR matrix held on Dask workers in row blocks; ``matvec`` and ``rmatvec``.

    ``blocks`` defaults to the number of workers.  The blocks are scattered
    once at construction; call :meth:`release` (or use as a context manager)
    to free them.
    """

    def __init__(self, M: Any, client: Any, *, blocks: int | None = None) -> None:
        if not sp.issparse(M) or M.ndim != 2:
            raise ValidationError(
                f"DistributedMatrix needs a scipy sparse matrix; got {type(M).__name__}."
            )
        self.client = client
        self.shape = (int(M.shape[0]), int(M.shape[1]))
        workers = list(client.scheduler_info().get("workers", {}))
        if not workers:
            raise ValidationError(
                "The Dask cluster has no workers; start some with `dask worker ADDRESS`."
            )
        nb = blocks or len(workers)
        if nb < 1:
            raise ValidationError(f"`blocks` of DistributedMatrix must be >= 1; got {blocks!r}.")
        nb = min(nb, max(1, self.shape[0]))
        self.bounds = np.linspace(0, self.shape[0], nb + 1).round().astype(np.int64)
        Mr = M if M.format == "csr" else sp.csr_array(M)
        self.futures: list[Any] = []
        self.nbytes = 0
        for b in range(nb):
            lo, hi = int(self.bounds[b]), int(self.bounds[b + 1])
            blk = sp.csr_array(Mr[lo:hi])
            self.nbytes += _block_nbytes(blk)
            # round-robin placement so the blocks spread over the workers
            fut = client.scatter(blk, workers=[workers[b % len(workers)]], hash=False)
            self.futures.append(fut)
            del blk
        self.matvecs = 0

    def __enter__(self) -> DistributedMatrix:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def release(self) -> None:
        """Drop the blocks from the workers."""
        for f in self.futures:
            f.release()
        self.futures = []

    def matvec(self, x: np.ndarray) -> np.ndarray:
        """``M x`` computed block by block on the workers."""
        xf = self.client.scatter(
            np.ascontiguousarray(x, dtype=np.float64), broadcast=True, hash=False
        )
        parts = [self.client.submit(_block_matvec, f, xf, pure=False) for f in self.futures]
        out = np.concatenate(self.client.gather(parts))
        self.matvecs += 1
        return out

    def rmatvec(self, y: np.ndarray) -> np.ndarray:
        """``Mᵀ y`` from the same row blocks (each worker sends an n-vector; they are summed)."""
        yf = self.client.scatter(
            np.ascontiguousarray(y, dtype=np.float64), broadcast=True, hash=False
        )
        parts = [
            self.client.submit(
                _block_rmatvec, f, yf, int(self.bounds[b]), int(self.bounds[b + 1]), pure=False
            )
            for b, f in enumerate(self.futures)
        ]
        out = np.zeros(self.shape[1])
        for p in self.client.gather(parts):
            out += p
        self.matvecs += 1
        return out


def solve_leontief_distributed(
    M: Any,
    b: np.ndarray,
    *,
    client: Any = None,
    address: str | None = None,
    blocks: int | None = None,
    method: DistMethod = "bicgstab",
    tol: float = 1e-10,
    maxiter: int | None = None,
    rtol: float | None = None,
) -> SolveResult:
    """Solve ``(I - M) x = b`` with ``M`` in row blocks on a Dask cluster.

    Same stopping test (``tol``) and float64 residual guarantee as
    :func:`gosplan.core.linsolve.solve_leontief`; ``extra`` reports the
    seconds spent, the mat-vecs and the bytes of matrix held by the workers.
    ``rtol`` is the deprecated name of ``tol``.
    """
    if rtol is not None:
        warnings.warn(
            "solve_leontief_distributed(rtol=...) is deprecated; use tol=...",
            DeprecationWarning,
            stacklevel=2,
        )
        tol = rtol
    rtol = tol  # the kernels below call it rtol, as scipy does
    if method not in ("bicgstab", "jacobi"):
        raise ValidationError(
            f"The 'method' parameter of solve_leontief_distributed must be "
            f"'bicgstab' or 'jacobi'; got {method!r}."
        )
    from gosplan.core.kernels import solve_bicgstab

    b = np.asarray(b, dtype=np.float64)
    t0 = time.perf_counter()
    with connect(client, address) as c, DistributedMatrix(M, c, blocks=blocks) as D:
        t_scatter = time.perf_counter() - t0

        def apply(x: np.ndarray, out: np.ndarray) -> None:
            out[:] = x - D.matvec(x)

        if method == "bicgstab":
            res = solve_bicgstab(
                None, b, rtol=rtol, maxiter=maxiter, apply=apply, method_name="dask bicgstab"
            )
        else:
            res = _jacobi(D, b, rtol, maxiter or 10_000)
        extra = dict(res.extra)
        extra.update(
            {
                "scatter_seconds": t_scatter,
                "worker_bytes": D.nbytes,
                "blocks": len(D.futures),
                "seconds": time.perf_counter() - t0,
            }
        )
    return SolveResult(
        x=res.x,
        status=res.status,
        nit=res.nit,
        residual=res.residual,
        method=res.method,
        message=res.message,
        extra=extra,
    )


def _jacobi(D: DistributedMatrix, b: np.ndarray, rtol: float, maxiter: int) -> SolveResult:
    bn = float(np.linalg.norm(b)) or 1.0
    x = b.copy()
    nit = 0
    prev = float("inf")
    while nit < maxiter:
        y = b + D.matvec(x)
        d = float(np.linalg.norm(y - x))
        x = y
        nit += 1
        if not math.isfinite(d) or (nit > 50 and d >= prev):
            return series_diverged(x, nit=nit, method="dask jacobi")
        prev = d
        if d <= 0.5 * rtol * bn:
            break
    relres = leontief_residual(D.matvec, x, b, bn)
    return series_result(x, nit=nit, relres=relres, rtol=rtol, method="dask jacobi")


def labour_values_distributed(
    economy: Economy,
    *,
    client: Any = None,
    address: str | None = None,
    blocks: int | None = None,
    method: DistMethod = "bicgstab",
    tol: float = 1e-10,
    maxiter: int | None = None,
) -> Any:
    """Labour values ``v = v A + l`` solved on a Dask cluster; a :class:`LabourValues`.

    The rows of ``Aᵀ`` (the recipes) are split in ``blocks`` row blocks over
    the workers.  The result's ``residual`` is recomputed on the client in
    float64 against ``A``; a solve that stops short raises
    :class:`~gosplan.errors.NotConverged`, as with :func:`gosplan.labour_values`.
    """
    from gosplan.core.values import LabourValues

    if not (isinstance(tol, float | int) and 0 < tol < 1):
        raise ValidationError(
            f"The 'tol' parameter of labour_values_distributed must be in (0, 1); got {tol!r}."
        )
    MT = sp.csr_array(economy.A.T)
    res = solve_leontief_distributed(
        MT,
        economy.labour,
        client=client,
        address=address,
        blocks=blocks,
        method=method,
        tol=tol,
        maxiter=maxiter,
    )
    del MT
    l = economy.labour  # noqa: E741
    v = res.x
    ln = float(np.linalg.norm(l)) or 1.0
    resid = float(np.linalg.norm(v - economy.A.T @ v - l)) / ln
    if not res.success or resid > tol:
        raise NotConverged(
            f"labour values (Dask): the {res.method} solver stopped short of the tolerance "
            f"{tol:g} (relative residual {resid:.3g} after {res.nit} mat-vecs). {res.message}",
            residual=resid,
            nit=res.nit,
        )
    per = economy.output_unit
    return LabourValues(
        values=pd.Series(v, index=economy.products, name="labour value"),
        unit=f"{economy.labour_unit} per {per}" if per else economy.labour_unit,
        method=res.method,
        nit=res.nit,
        residual=resid,
        tol=float(tol),
        conventions={
            "labour": f"{economy.labour_kind} ({economy.labour_unit})",
            "depreciation": "excluded",
            "imports": "not counted (domestic labour only)",
            "engine": f"dask distributed, {res.extra.get('blocks')} row blocks",
        },
    )


__all__ = [
    "DistributedMatrix",
    "connect",
    "labour_values_distributed",
    "solve_leontief_distributed",
]
