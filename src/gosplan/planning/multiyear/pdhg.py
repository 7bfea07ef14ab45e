"""A five-year PDHG of our own (``method="pdhg"``): restarted, adaptive primal–dual
hybrid gradient (the PDLP algorithm of Applegate et al.) on the window LP written in
its own structure.

The LP of :func:`gosplan.planning.multiyear.primal_dual.compact_lp` with capacity
``K_t`` eliminated (``K_{t+1} = (1-δ) K_t + g_t``), in three blocks of columns per
year, old output ``xo_t``, modern output ``xn_t`` and builds ``g_t`` (``n`` each):

* balance ``(I - A)(xo_t + xn_t) - B g_t >= y_t`` (duals ``p_t``, the prices),
* modern capacity ``K_t(g) - xn_t >= -(1-δ)^t K0`` for ``t >= 1`` (rents ``r_t``),
* terminal capacity ``K_T(g) >= need - (1-δ)^T K0`` (value ``q``),
* [labour cap], [trade balance]: one row a year each,
* ``0 <= xo_t <= U_t`` (old capacity, held back by ``tighten``), ``0 <= xn_0 <= K0``,
  ``xn, g >= 0``; objective ``Σ w_t l·(xo_t + (1-π) xn_t)``.

Every year's products with ``A`` and ``B`` are taken at once, as one sparse matrix
times a dense block of ``T`` columns (``(I - A) X`` for all years costs about three
single products, where a generic solver passes over the stacked matrix with ``T``
copies of ``A``), the capacity rows are cumulative sums.  Diagonal preconditioning
(Pock–Chambolle, ``α = 1``), adaptive steps, averaging, restarts on the KKT error
and the primal weight follow PDLP's defaults.  Like PDLP it stops at an iteration
or time limit with an approximate primal and dual, which :mod:`.primal_dual`'s
callers turn into a certified bound (the prices) and a repaired plan (the builds).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numba
import numpy as np
import scipy.sparse as sp

from gosplan.planning.multiyear.ascent import _chain
from gosplan.planning.multiyear.lp import terminal_need, year_targets
from gosplan.planning.multiyear.model import Model, Window
from gosplan.planning.multiyear.primal_dual import TIGHTEN, PrimalDualResult

#: iterations between restart checks (PDLP checks every 64)
CHECK = 64
#: restart criteria on the KKT error (PDLP's defaults): sufficient, necessary, artificial
BETA_SUFFICIENT, BETA_NECESSARY, ARTIFICIAL = 0.2, 0.8, 0.36
#: smoothing of the primal weight at restarts
THETA = 0.5
#: iterations on the feasibility problem (no objective) after the main run, from its
#: primal and a zero dual (the primal weight does not matter there): the builds' side
POLISH = 40


@numba.njit(nogil=True, cache=True, boundscheck=False)
def _primal_step(
    z: np.ndarray,
    KTy: np.ndarray,
    c: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    tau: float,
    zn: np.ndarray,
) -> float:  # pragma: no cover - compiled
    """``zn = clip(z - tau (c - Kᵀy), lo, hi)``; returns ``‖zn - z‖²``."""
    acc = 0.0
    for i in range(z.shape[0]):
        v = z[i] - tau * (c[i] - KTy[i])
        v = min(max(v, lo[i]), hi[i])
        d = v - z[i]
        acc += d * d
        zn[i] = v
    return acc


@numba.njit(nogil=True, cache=True, boundscheck=False)
def _dual_step(
    y: np.ndarray, b: np.ndarray, Kzn: np.ndarray, Kz: np.ndarray, sig: float, yn: np.ndarray
) -> tuple[float, float]:  # pragma: no cover - compiled
    """``yn = max(0, y + sig (b - 2 K zn + K z))``; returns ``‖yn - y‖²`` and
    ``(yn - y)·(K zn - K z)``."""
    acc = 0.0
    inter = 0.0
    for i in range(y.shape[0]):
        v = max(y[i] + sig * (b[i] - 2.0 * Kzn[i] + Kz[i]), 0.0)
        d = v - y[i]
        acc += d * d
        inter += d * (Kzn[i] - Kz[i])
        yn[i] = v
    return acc, inter


@numba.njit(nogil=True, cache=True, boundscheck=False)
def _accumulate(s: np.ndarray, x: np.ndarray, w: float) -> None:  # pragma: no cover
    """``s += w x``."""
    for i in range(s.shape[0]):
        s[i] += w * x[i]


class _Spmm:
    """``M @ X`` for a CSR ``M`` and a dense block ``X`` (``n × T``, C order): scipy's
    compiled multi-vector kernel on row blocks of equal nonzeros, in threads (it
    releases the GIL), as :func:`gosplan.core.operators.make_apply` does for one vector."""

    def __init__(self, M: Any) -> None:
        from gosplan.core.operators import _pool, _threads

        self.M = M
        n = M.shape[0]
        nt = _threads() if n >= 50_000 else 1
        ip = M.indptr
        cuts = np.searchsorted(ip, np.linspace(0, int(ip[-1]), nt + 1)).astype(np.int64)
        cuts[0], cuts[-1] = 0, n
        self.blocks = [(int(cuts[t]), int(cuts[t + 1])) for t in range(nt) if cuts[t + 1] > cuts[t]]
        self.pool = _pool() if len(self.blocks) > 1 else None
        try:
            from scipy.sparse import _sparsetools

            self.kernel: Any = _sparsetools.csr_matvecs
        except (ImportError, AttributeError):  # pragma: no cover - scipy's private module
            self.kernel = None

    def _part(self, X: np.ndarray, out: np.ndarray, lo: int, hi: int) -> None:
        M = self.M
        y = out[lo:hi]
        y.fill(0.0)
        self.kernel(
            hi - lo,
            M.shape[1],
            X.shape[1],
            M.indptr[lo : hi + 1],
            M.indices,
            M.data,
            X.ravel(),
            y.ravel(),
        )

    def into(self, X: np.ndarray, out: np.ndarray) -> None:
        """``out[:] = M @ X`` (``out`` C-contiguous, ``n × T``)."""
        X = np.ascontiguousarray(X, dtype=float)
        if self.kernel is None:
            out[:] = np.asarray(self.M @ X)
        elif self.pool is None:
            self._part(X, out, 0, self.M.shape[0])
        else:
            futs = [self.pool.submit(self._part, X, out, lo, hi) for lo, hi in self.blocks]
            for f in futs:
                f.result()

    def __matmul__(self, X: np.ndarray) -> np.ndarray:
        out = np.empty((self.M.shape[0], X.shape[1]))
        self.into(X, out)
        return out


class _Op:
    """The window LP's matrix as products with its blocks (``absolute``: ``|K|``)."""

    def __init__(self, m: Model, T: int, w: np.ndarray, *, absolute: bool = False) -> None:
        n = m.A.shape[0]
        A = sp.csr_array(m.A)
        M = sp.csr_array(sp.identity(n, format="csr") - A)
        self.n, self.T, self.w = n, T, w
        self.sg = 1.0 if absolute else -1.0
        if absolute:
            M = abs(M)
        self.M, self.MT = _Spmm(M), _Spmm(sp.csr_array(M.T))
        self.B: _Spmm | None = None
        self.BT: _Spmm | None = None
        if m.B is not None:
            B = sp.csr_array(m.B)
            if absolute:
                B = abs(B)
            self.B, self.BT = _Spmm(B), _Spmm(sp.csr_array(B.T))
        self.s = None if m.s is None else np.asarray(m.s, dtype=float)
        self.kap = None if m.kappa is None else np.asarray(m.kappa, dtype=float)
        self.keep = (1.0 - m.delta)[:, None]
        self.lab = np.asarray(m.labour, dtype=float)
        self.ln = (1.0 - m.pi) * self.lab
        self.imp = None if m.imports is None else np.asarray(m.imports, dtype=float)
        self.has_lab = m.max_labour is not None
        self.extra = T * (int(self.has_lab) + int(self.imp is not None))
        nT = n * T
        self.ncol = 3 * nT
        self.nrow = 2 * nT + n + self.extra

    def split_z(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        nT = self.n * self.T
        sh = (self.n, self.T)
        return z[:nT].reshape(sh), z[nT : 2 * nT].reshape(sh), z[2 * nT :].reshape(sh)

    def split_y(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        nT, n = self.n * self.T, self.n
        sh = (n, self.T)
        return (
            y[:nT].reshape(sh),
            y[nT : 2 * nT].reshape(sh),
            y[2 * nT : 2 * nT + n],
            y[2 * nT + n :],
        )

    def _goods(self, G: np.ndarray) -> np.ndarray:
        if self.B is not None:
            return np.asarray(self.B @ G)
        assert self.s is not None and self.kap is not None
        s, kap = (abs(self.s), abs(self.kap)) if self.sg > 0 else (self.s, self.kap)
        return np.outer(s, kap @ G)

    def _goods_t(self, P: np.ndarray) -> np.ndarray:
        if self.BT is not None:
            return np.asarray(self.BT @ P)
        assert self.s is not None and self.kap is not None
        s, kap = (abs(self.s), abs(self.kap)) if self.sg > 0 else (self.s, self.kap)
        return np.outer(kap, s @ P)

    def apply(self, z: np.ndarray) -> np.ndarray:
        """``K z`` (rows: balance, modern capacity, terminal, [labour], [trade])."""
        XO, XN, G = self.split_z(z)
        sg = self.sg
        out = np.empty(self.nrow)
        P, R, Q, E = self.split_y(out)
        X = XO + XN
        self.M.into(X, P)
        if sg < 0:
            P -= self._goods(G)
        else:
            P += self._goods(G)
        Kg = np.zeros(self.n)
        R[:, 0] = 0.0
        for t in range(self.T):
            if t > 0:
                R[:, t] = Kg + sg * XN[:, t]
            Kg = self.keep[:, 0] * Kg + G[:, t]
        Q[:] = Kg
        k = 0
        lab, ln = (abs(self.lab), abs(self.ln)) if sg > 0 else (self.lab, self.ln)
        if self.has_lab:
            E[k : k + self.T] = sg * (lab @ XO + ln @ XN)
            k += self.T
        if self.imp is not None:
            imp = abs(self.imp) if sg > 0 else self.imp
            E[k : k + self.T] = sg * (imp @ X)
        return out

    def adjoint(self, y: np.ndarray) -> np.ndarray:
        """``Kᵀ y`` in the columns ``xo, xn, g``."""
        P, R, Q, E = self.split_y(y)
        sg = self.sg
        out = np.empty(self.ncol)
        XO, XN, G = self.split_z(out)
        self.MT.into(P, XO)
        XN[:] = XO
        if sg < 0:
            XN[:, 1:] -= R[:, 1:]
        else:
            XN[:, 1:] += R[:, 1:]
        k = 0
        lab, ln = (abs(self.lab), abs(self.ln)) if sg > 0 else (self.lab, self.ln)
        if self.has_lab:
            XO += sg * np.outer(lab, E[k : k + self.T])
            XN += sg * np.outer(ln, E[k : k + self.T])
            k += self.T
        if self.imp is not None:
            imp = abs(self.imp) if sg > 0 else self.imp
            XO += sg * np.outer(imp, E[k : k + self.T])
            XN += sg * np.outer(imp, E[k : k + self.T])
        if self.BT is not None:
            self.BT.into(P, G)
        else:
            G[:] = self._goods_t(P)
        if sg < 0:
            np.negative(G, out=G)
        S = Q.copy()  # value of capacity at the end of year s: S_{s+1}
        for s in range(self.T - 1, -1, -1):
            G[:, s] += S
            if s > 0:
                S = R[:, s] + self.keep[:, 0] * S
        return out


@dataclass
class _LP:
    op: _Op
    c: np.ndarray
    b: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    scale: float  # objective scale (the LP's costs are multiplied by it)

    @property
    def fin_hi(self) -> np.ndarray:
        if not hasattr(self, "_fin"):
            self._fin = np.isfinite(self.hi)
        return self._fin


def structured_lp(
    m: Model, t0: int, T: int, K0: np.ndarray, tighten: tuple[float, float] = TIGHTEN
) -> _LP:
    """The window LP in :class:`_Op`'s columns and rows (all rows ``K z >= b``)."""
    w = np.array([1.0 / m.able[t0 + t] if m.able is not None else 1.0 for t in range(T)])
    op = _Op(m, T, w)
    keep = 1.0 - m.delta
    K0 = np.asarray(K0, dtype=float)
    c = np.empty(op.ncol)
    CO, CN, CG = op.split_z(c)
    CO[:] = np.outer(op.lab, w)
    CN[:] = np.outer(op.ln, w)
    CG[:] = 0.0
    scale = 1.0 / max(float(np.abs(c).max()), 1e-300)
    c *= scale
    lo = np.zeros(op.ncol)
    hi = np.full(op.ncol, np.inf)
    HO, HN, _ = op.split_z(hi)
    for t in range(T):
        HO[:, t] = m.C0 * keep ** (t0 + t) * (1.0 - (tighten[0] if t == 0 else tighten[1]))
    HN[:, 0] = K0
    b = np.zeros(op.nrow)
    P, R, Q, E = op.split_y(b)
    for t in range(T):
        P[:, t] = year_targets(m, t0 + t, margin=0.0)
        if t > 0:
            R[:, t] = -(keep**t) * K0
    Q[:] = terminal_need(m, t0, T, margin=0.0) - keep**T * K0
    k = 0
    if op.has_lab:
        assert m.max_labour is not None
        E[k : k + T] = -np.asarray(m.max_labour[t0 : t0 + T], dtype=float)
        k += T
    if m.imports is not None:
        E[k : k + T] = -np.array([float(m.targets(t0 + t)["exports"].sum()) for t in range(T)])
    return _LP(op=op, c=c, b=b, lo=lo, hi=hi, scale=scale)


def _start(lp: _LP, m: Model, t0: int, start: Window | None, prices: np.ndarray | None) -> Any:
    """Primal from the plan ``start`` (clipped to the bounds), dual from balance prices
    (years × products, objective units) completed like the certified bound."""
    op, T, n = lp.op, lp.op.T, lp.op.n
    z = np.zeros(op.ncol)
    if start is not None and start.xo.shape == (T, n):
        XO, XN, G = op.split_z(z)
        XO[:] = start.xo.T
        XN[:] = start.xn.T
        G[:] = np.maximum(start.g.T, 0.0)
    z = np.clip(z, lp.lo, lp.hi)
    y = np.zeros(op.nrow)
    if prices is not None:
        parts = SimpleNamespace(m=m, T=T, l=m.labour, w=op.w, keep=1.0 - m.delta, ln=op.ln)
        Pr = np.maximum(np.asarray(prices, dtype=float), 0.0)
        r, kappa, _ = _chain(parts, Pr)
        P, R, Q, _E = op.split_y(y)
        P[:] = Pr.T * lp.scale
        R[:, 1:] = np.maximum(r[1:].T, 0.0) * lp.scale
        Q[:] = np.maximum(kappa[T - 1], 0.0) * lp.scale
    return z, y


def _errors(
    lp: _LP, z: np.ndarray, y: np.ndarray, Kz: np.ndarray, KTy: np.ndarray
) -> tuple[float, float, float, float]:
    """``(‖primal residual‖, ‖dual residual‖, primal objective, dual objective)`` of
    ``(z, y)``: the dual residual is the reduced costs of the wrong sign where a bound
    is infinite; the dual objective takes the others at their bounds."""
    rp = np.maximum(lp.b - Kz, 0.0)
    lam = lp.c - KTy
    neg = np.minimum(lam, 0.0)
    fin = lp.fin_hi
    rd = neg[~fin]
    dual_obj = float(lp.b @ y) + float(np.maximum(lam, 0.0) @ lp.lo) + float(neg[fin] @ lp.hi[fin])
    return float(np.sqrt(rp @ rp)), float(np.sqrt(rd @ rd)), float(lp.c @ z), dual_obj


def _kkt(
    lp: _LP, z: np.ndarray, y: np.ndarray, Kz: np.ndarray, KTy: np.ndarray, omega: float
) -> float:
    """PDLP's weighted KKT error of ``(z, y)`` in the scaled problem."""
    rp, rd, po, do = _errors(lp, z, y, Kz, KTy)
    return float(np.sqrt((omega * rp) ** 2 + (rd / omega) ** 2 + (po - do) ** 2))


def _relative(lp: _LP, z: np.ndarray, y: np.ndarray, Kz: np.ndarray, KTy: np.ndarray) -> float:
    """The largest of PDLP's relative errors: gap over the objectives, primal residual
    over ``1 + ‖b‖``, dual residual over ``1 + ‖c‖`` (a stopping rule that does not
    depend on the machine's load, unlike a time limit)."""
    rp, rd, po, do = _errors(lp, z, y, Kz, KTy)
    return max(
        abs(po - do) / (abs(po) + abs(do) + 1e-300),
        rp / (1.0 + float(np.linalg.norm(lp.b))),
        rd / (1.0 + float(np.linalg.norm(lp.c))),
    )


def _scaling(m: Model, lp: _LP, equilibrate: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column scales ``dr, dc``: ``equilibrate`` rounds of l1 equilibration (rows
    and columns by 1/sqrt of their l1 norms in the scaled matrix, Ruiz-like), the last
    of which is Pock–Chambolle's (α = 1), so that ``‖diag(dr) K diag(dc)‖ <= 1``."""
    op = lp.op
    aop = _Op(m, op.T, op.w, absolute=True)
    dr, dc = np.ones(op.nrow), np.ones(op.ncol)
    for _ in range(max(1, equilibrate)):
        rows = dr * aop.apply(dc)
        cols = dc * aop.adjoint(dr)
        dr = dr / np.sqrt(np.where(rows > 0, rows, 1.0))
        dc = dc / np.sqrt(np.where(cols > 0, cols, 1.0))
    return dr, dc


def _iterate(
    slp: _LP,
    K: Any,
    KT: Any,
    z: np.ndarray,
    y: np.ndarray,
    iterations: int,
    deadline: float,
    omega: float | None = None,
    tol: float = 0.0,
    history: list[tuple[int, float]] | None = None,
) -> tuple[np.ndarray, np.ndarray, int, int]:
    """PDLP's iterations on the scaled LP ``slp`` (products ``K``, ``KT``) from ``(z, y)``
    until ``iterations`` or the ``deadline``: the adaptive step, the step-weighted
    averages, the restart check every :data:`CHECK` iterations (to the average or the
    last iterate, whichever has the smaller KKT error) and the primal weight.  Returns
    the better of the last iterate and the average, the iterations and the restarts.

    Long because the step, the averages and the restart check share the iterates and
    their products, which each step updates in place."""
    c, b, lo, hi = slp.c, slp.b, slp.lo, slp.hi
    Kz, KTy = K(z), KT(y)
    cn, bn = float(np.linalg.norm(c)), float(np.linalg.norm(b))
    if omega is None:
        omega = cn / bn if cn > 0 and bn > 0 else 1.0
    eta = 0.9  # ‖K‖ <= 1 after the scaling; the adaptive rule takes it from there
    # averages and restart state
    zs_ = np.zeros_like(z)
    ys_ = np.zeros_like(y)
    wsum = 0.0
    z_last, y_last = z.copy(), y.copy()
    kkt_last = _kkt(slp, z, y, Kz, KTy, omega)
    kkt_prev = np.inf
    since = 0
    total = 0
    k_step = 0
    restarts = 0
    zn = np.empty_like(z)
    yn = np.empty_like(y)
    while total < iterations and time.perf_counter() < deadline:
        # one adaptive step (PDLP): retried with a smaller η where it would overshoot
        while True:
            k_step += 1
            dz2 = _primal_step(z, KTy, c, lo, hi, eta / omega, zn)
            Kzn = K(zn)
            dy2, inter = _dual_step(y, b, Kzn, Kz, eta * omega, yn)
            inter = abs(inter)
            nrm = omega * dz2 + dy2 / omega
            eta_max = nrm / (2.0 * inter) if inter > 0 else np.inf
            eta_new = min(
                (1.0 - (k_step + 1) ** -0.3) * eta_max, (1.0 + (k_step + 1) ** -0.6) * eta
            )
            if eta <= eta_max:
                break
            eta = eta_new
        step = eta
        eta = eta_new
        z, zn = zn, z
        y, yn = yn, y
        Kz = Kzn
        KTy = KT(y)
        _accumulate(zs_, z, step)
        _accumulate(ys_, y, step)
        wsum += step
        total += 1
        since += 1
        if since % CHECK and total < iterations:
            continue
        # the average's products: two more products every CHECK iterations, where
        # carrying their averages along would cost two passes every iteration
        za, ya = zs_ / wsum, ys_ / wsum
        Kza, KTya = K(za), KT(ya)
        k_cur = _kkt(slp, z, y, Kz, KTy, omega)
        k_avg = _kkt(slp, za, ya, Kza, KTya, omega)
        use_avg = k_avg < k_cur
        k_cand = min(k_avg, k_cur)
        if tol > 0 or history is not None:
            rel = _relative(slp, za, ya, Kza, KTya) if use_avg else _relative(slp, z, y, Kz, KTy)
            if history is not None:
                history.append((total, rel))
            if rel <= tol:
                if use_avg:
                    z, y = za, ya
                return z, y, total, restarts
        restart = (
            k_cand <= BETA_SUFFICIENT * kkt_last
            or (k_cand <= BETA_NECESSARY * kkt_last and k_cand > kkt_prev)
            or since >= ARTIFICIAL * total
        )
        kkt_prev = k_cand
        if not restart:
            continue
        if use_avg:
            z, y, Kz, KTy = za, ya, Kza, KTya
            zn, yn = np.empty_like(z), np.empty_like(y)
        dzn = float(np.linalg.norm(z - z_last))
        dyn = float(np.linalg.norm(y - y_last))
        if dzn > 0 and dyn > 0:
            omega = float(np.exp(THETA * np.log(dyn / dzn) + (1 - THETA) * np.log(omega)))
        z_last, y_last = z.copy(), y.copy()
        kkt_last = _kkt(slp, z, y, Kz, KTy, omega)
        kkt_prev = np.inf
        zs_[:] = 0.0
        ys_[:] = 0.0
        wsum = 0.0
        since = 0
        restarts += 1
    if wsum > 0:
        za, ya = zs_ / wsum, ys_ / wsum
        Kza, KTya = K(za), KT(ya)
        if _kkt(slp, za, ya, Kza, KTya, omega) < _kkt(slp, z, y, Kz, KTy, omega):
            z, y = za, ya
    return z, y, total, restarts


def pdhg_window(
    m: Model,
    t0: int,
    T: int,
    K0: np.ndarray,
    *,
    seconds: float,
    iterations: int = 100_000,
    start: Window | None = None,
    prices: np.ndarray | None = None,
    tighten: tuple[float, float] = TIGHTEN,
    equilibrate: int = 1,
    polish: int = POLISH,
    tol: float = 0.0,
    history: list[tuple[int, float]] | None = None,
) -> PrimalDualResult:
    """Restarted adaptive PDHG on the LP of years ``t0 … t0+T-1`` for at most
    ``seconds`` or ``iterations`` or until its relative error (:func:`_relative`, at a
    restart check) is at most ``tol``, from the plan ``start`` and balance prices
    ``prices`` (years × products, objective units; default: the modern technique's
    labour values, :func:`gosplan.planning.multiyear.primal_dual.modern_labour_prices`);
    then ``polish`` iterations on the feasibility problem.  ``history`` collects
    ``(iteration, relative error)`` at every check."""
    from gosplan.planning.multiyear.primal_dual import modern_labour_prices

    t_start = time.perf_counter()
    lp = structured_lp(m, t0, T, K0, tighten)
    op = lp.op
    if prices is None:
        prices = modern_labour_prices(m, t0, T)
    z0, y0 = _start(lp, m, t0, start, prices)
    dr, dc = _scaling(m, lp, equilibrate)
    c = lp.c * dc
    b = lp.b * dr
    lo, hi = lp.lo / dc, lp.hi / dc
    slp = _LP(op=op, c=c, b=b, lo=lo, hi=hi, scale=lp.scale)

    def K(zs: np.ndarray) -> np.ndarray:
        out = op.apply(dc * zs)
        out *= dr
        return out

    def KT(ys: np.ndarray) -> np.ndarray:
        out = op.adjoint(dr * ys)
        out *= dc
        return out

    z, y, total, restarts = _iterate(
        slp, K, KT, z0 / dc, y0 / dr, iterations, t_start + seconds, tol=tol, history=history
    )
    reason = (
        "iteration limit"
        if total >= iterations
        else "time limit"
        if time.perf_counter() >= t_start + seconds
        else f"relative error <= {tol:g}"
    )
    zo, yo = z * dc, y * dr / lp.scale
    if polish:  # the feasibility problem (no objective) from the primal: the plan's side
        flp = _LP(op=op, c=np.zeros_like(c), b=b, lo=lo, hi=hi, scale=lp.scale)
        zp, _, _, _ = _iterate(flp, K, KT, z, np.zeros_like(y), polish, np.inf, omega=1.0)
        zo = zp * dc
    _, _, G = op.split_z(zo)
    P, _, _, _ = op.split_y(yo)
    obj = float(lp.c @ zo) / lp.scale
    return PrimalDualResult(
        p=np.maximum(P.T, 0.0).copy(),
        g=np.maximum(G.T, 0.0).copy(),
        iterations=total,
        polish_iterations=polish,
        seconds=time.perf_counter() - t_start,
        termination=f"{reason}, {restarts} restarts",
        objective=obj,
        x=None,
    )
