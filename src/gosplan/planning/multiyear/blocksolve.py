"""Leontief solves with several right-hand sides at once (block BiCGSTAB).

The heuristics of the multi-year plan solve ``(I - M) x = b`` for one
right-hand side a year, again and again with the same ``M``.  A sparse
mat-vec on a product-level table is limited by the latency of gathering
``x[indices]``, not by arithmetic: gathering a row of ``k`` values (``X`` kept
``n × k``, row-major) costs little more than gathering one value while the
block fits the cache a single vector fits, so ``k`` solves run in lockstep
(one BiCGSTAB per column, each with its own scalars, sharing every mat-vec).
At 10⁶ products the block of 5 no longer fits (40 MB) and a step costs 3–5
single mat-vecs on the 2-core machine: there the gain is the solves saved by
the callers, and the operator kept across calls.

:class:`BlockSolver` keeps the operator of one matrix (its CSR arrays, the row
blocks of the two threads) across calls, so nothing is converted or set up per
solve.  Columns stop as soon as their own residual meets ``rtol``; the float64
residual is recomputed at the end and the solve restarted from there (iterative
refinement) if it is not met.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numba
import numpy as np
import scipy.sparse as sp

_POOL: ThreadPoolExecutor | None = None


def _threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=_threads(), thread_name_prefix="gosplan-block")
    return _POOL


#: widest block one kernel call gathers (wider blocks are split into groups of columns)
WIDTH = 8
_KERNELS: dict[int, Any] = {}


def _kernel(k: int) -> Any:
    """``f(indptr, indices, data, X, Y, lo, hi, c0, diag)``: ``Y[i, c0:c0+k] = diag *
    X[i, c0:c0+k] - (M X)[i, c0:c0+k]`` for rows ``lo..hi``, with ``k`` accumulators in
    registers (``diag`` 1: the Leontief operator ``I - M``; 0: ``-M``).

    Written out for each width (a loop over ``k`` columns kept in memory measured
    ~1.8x slower at 10⁶ products): the source is generated, compiled once a process."""
    if k not in _KERNELS:
        acc = [f"a{c}" for c in range(k)]
        src = "\n".join(
            [
                "def f(indptr, indices, data, X, Y, lo, hi, c0, diag):",
                "    for i in range(lo, hi):",
                *(f"        a{c} = diag * X[i, c0 + {c}]" for c in range(k)),
                "        for jj in range(indptr[i], indptr[i + 1]):",
                "            v = data[jj]",
                "            j = indices[jj]",
                *(f"            a{c} -= v * X[j, c0 + {c}]" for c in range(k)),
                *(f"        Y[i, c0 + {c}] = {acc[c]}" for c in range(k)),
            ]
        )
        ns: dict[str, Any] = {}
        exec(compile(src, f"<block kernel {k}>", "exec"), ns)
        _KERNELS[k] = numba.njit(nogil=True, boundscheck=False)(ns["f"])
    return _KERNELS[k]


def _apply_rows(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    X: np.ndarray,
    Y: np.ndarray,
    lo: int,
    hi: int,
    diag: float = 1.0,
) -> None:
    """``Y[lo:hi] = diag X[lo:hi] - (M X)[lo:hi]`` for ``M`` in CSR, ``X`` row-major."""
    k = X.shape[1]
    for c0 in range(0, k, WIDTH):
        w = min(WIDTH, k - c0)
        _kernel(w)(indptr, indices, data, X, Y, lo, hi, c0, diag)


@numba.njit(nogil=True, cache=True, boundscheck=False)
def _apply_rows1(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    lo: int,
    hi: int,
) -> None:  # pragma: no cover - compiled
    """The one-column case of :func:`_apply_rows` (a scalar accumulator)."""
    for i in range(lo, hi):
        acc = 0.0
        for jj in range(indptr[i], indptr[i + 1]):
            acc += data[jj] * x[indices[jj]]
        y[i] = x[i] - acc


class BlockSolver:
    """``(I - M)⁻¹`` applied to blocks of right-hand sides, for one sparse ``M >= 0``.

    ``M`` is taken as CSR (a CSC matrix is converted once; pass ``A.T`` of a CSC ``A``
    to get a free CSR view).  :meth:`solve` takes ``(k, n)`` or ``(n,)`` arrays."""

    def __init__(self, M: Any) -> None:
        M = sp.csr_array(M)
        if not M.has_canonical_format:
            M.sum_duplicates()
        self.n = int(M.shape[0])
        self.shape = M.shape
        self.indptr, self.indices, self.data = M.indptr, M.indices, M.data
        nt = _threads() if self.n >= 50_000 else 1
        targets = np.linspace(0, int(self.indptr[-1]), nt + 1)
        cuts = np.searchsorted(self.indptr, targets).astype(np.int64)
        cuts[0], cuts[-1] = 0, self.n
        self.blocks = [(int(cuts[t]), int(cuts[t + 1])) for t in range(nt) if cuts[t + 1] > cuts[t]]
        self.matvecs = 0

    def apply(self, X: np.ndarray, out: np.ndarray) -> None:
        """``out = (I - M) X`` (``X``: ``(n,)`` or ``(n, k)`` C-contiguous)."""
        self.matvecs += 1
        if X.ndim == 1:
            self._run(_apply_rows1, X, out)
        else:
            self._run(_apply_rows, X, out, 1.0)

    def _run(self, kern: Any, X: np.ndarray, out: np.ndarray, *extra: float) -> None:
        def part(lo: int, hi: int) -> None:
            kern(self.indptr, self.indices, self.data, X, out, lo, hi, *extra)

        if len(self.blocks) == 1:
            part(0, self.n)
            return
        futs = [_pool().submit(part, lo, hi) for lo, hi in self.blocks]
        for f in futs:
            f.result()

    def solve(
        self,
        b: np.ndarray,
        rtol: float = 1e-12,
        x0: np.ndarray | None = None,
        maxiter: int = 400,
    ) -> np.ndarray:
        """``x = (I - M)⁻¹ b`` column by column to ``||b - (I - M) x|| <= rtol ||b||``.

        ``b`` and ``x0``: ``(n,)`` or ``(k, n)`` (the plan's years × products layout);
        the answer has the same shape.  Raises ``RuntimeError`` if a column does not
        converge within ``maxiter`` mat-vecs, or (``M >= 0``, ``b >= 0``) converges to a
        negative solution: ``M`` is not productive."""
        b = np.asarray(b, dtype=np.float64)
        one = b.ndim == 1
        Bm = np.ascontiguousarray(b.reshape(1, -1).T if one else b.T)
        if x0 is None:
            X = Bm.copy()
        else:
            x0 = np.asarray(x0, dtype=np.float64)
            X = np.ascontiguousarray(x0.reshape(1, -1).T if x0.ndim == 1 else x0.T)
        X = self._solve(Bm, X, rtol, maxiter)
        return X[:, 0].copy() if one else np.ascontiguousarray(X.T)

    def _op(self, X: np.ndarray, out: np.ndarray) -> None:
        if X.shape[1] == 1:
            self.apply(X[:, 0], out[:, 0])
        else:
            self.apply(X, out)

    def _solve(self, Bm: np.ndarray, X: np.ndarray, rtol: float, maxiter: int) -> np.ndarray:
        k = Bm.shape[1]
        bn = np.sqrt(np.einsum("ij,ij->j", Bm, Bm))
        tol = rtol * np.where(bn > 0, bn, 1.0)
        R = np.empty_like(X)
        used = 0
        for _ in range(30):  # refinement: restart from X on the float64 residual
            self._op(X, R)
            used += 1
            np.subtract(Bm, R, out=R)
            rn = np.sqrt(np.einsum("ij,ij->j", R, R))
            if not np.all(np.isfinite(rn)):
                raise RuntimeError("block BiCGSTAB diverged: the technology is not productive")
            active = rn > tol
            if not active.any():
                self._check_sign(Bm, X)
                return X
            if used >= maxiter:
                break
            cols = np.flatnonzero(active)
            sub = cols.size < k
            Xa = np.ascontiguousarray(X[:, cols]) if sub else X
            Ra = np.ascontiguousarray(R[:, cols]) if sub else R
            used += self._bicgstab(Xa, Ra, 0.5 * tol[cols], maxiter - used)
            if sub:
                X[:, cols] = Xa
        raise RuntimeError(
            f"block BiCGSTAB: relative residual {float(np.max(rn / np.where(bn > 0, bn, 1))):.3g}"
            f" > {rtol:.3g} after {used} mat-vecs"
        )

    @staticmethod
    def _check_sign(Bm: np.ndarray, X: np.ndarray) -> None:
        """For ``M >= 0`` and ``b >= 0`` the solution is ``Σ Mᵏ b >= 0`` exactly when the
        series converges: a clearly negative entry means the technology is not productive
        (a Krylov method converges to the negative solution all the same)."""
        for c in range(Bm.shape[1]):
            b, x = Bm[:, c], X[:, c]
            if b.size and b.min() >= 0:
                xmax = float(np.abs(x).max())
                bad = np.flatnonzero(x < -1e-8 * max(xmax, 1e-300))
                if bad.size:
                    raise RuntimeError(
                        f"the solution has a negative entry (row {int(bad[0])}) although the "
                        "matrix and right-hand side are non-negative: the technology is not "
                        "productive (spectral radius >= 1)"
                    )

    def _bicgstab(self, X: np.ndarray, R: np.ndarray, tol: np.ndarray, budget: int) -> int:
        """BiCGSTAB in place on ``X`` from residual ``R``, one per column; mat-vecs used."""
        k = X.shape[1]
        Rh = R.copy()
        P = np.zeros_like(X)
        V = np.zeros_like(X)
        S = np.empty_like(X)
        Tm = np.empty_like(X)
        rho = np.ones(k)
        alpha = np.ones(k)
        omega = np.ones(k)
        live = np.ones(k, dtype=bool)
        used = 0

        def cdot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            return np.einsum("ij,ij->j", a, b)

        def safe(num: np.ndarray, den: np.ndarray) -> np.ndarray:
            ok = live & (den != 0) & np.isfinite(den)
            return np.where(ok, num / np.where(ok, den, 1.0), 0.0)

        while used + 2 <= budget:
            rho_new = cdot(Rh, R)
            beta = safe(rho_new * alpha, rho * omega)
            P -= omega * V
            P *= beta
            P += R
            self._op(P, V)
            alpha = safe(rho_new, cdot(Rh, V))
            rho = np.where(live, rho_new, 1.0)
            np.multiply(V, alpha, out=S)
            np.subtract(R, S, out=S)
            sn = np.sqrt(cdot(S, S))
            done_s = live & (sn <= tol)
            self._op(S, Tm)
            used += 2
            tt = cdot(Tm, Tm)
            omega = np.where(done_s, 0.0, safe(cdot(Tm, S), tt))
            X += alpha * P + omega * S
            np.multiply(Tm, omega, out=R)
            np.subtract(S, R, out=R)
            rn = np.sqrt(cdot(R, R))
            if not np.all(np.isfinite(rn)):
                raise RuntimeError("block BiCGSTAB diverged: the technology is not productive")
            # a column whose residual is met, or whose recursion broke down (a restart
            # from the true residual follows), stops: its scalars are 0 from now on
            live &= ~(done_s | (rn <= tol) | (omega == 0) | (alpha == 0))
            alpha = np.where(live, alpha, 0.0)
            omega = np.where(live, omega, 1.0)
            if not live.any():
                break
            if math.isnan(float(rn.sum())):
                break
        return used
