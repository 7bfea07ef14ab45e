"""The forward heuristic: capacity-following balancing, then investment re-timed."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from gosplan.core.result import Status
from gosplan.errors import ValidationError
from gosplan.planning.multiyear.model import Model, Window
from gosplan.planning.multiyear.steady import leontief_solver, stationary_solver

#: methods of multi_year_plan: the LP ones, "forward" (capacity-following balancing with
#: investment re-timed), "forward-plain" (the capacity-following pass alone) and "dual"
#: (forward, then the plan recovered from the certified bound's prices where better) and
#: "primal-dual" (forward, then PDLP's plan and prices: multiyear.primal_dual)
#: "pdhg" (the capacity-following pass, then our own PDHG's: multiyear.pdhg)
FORWARD_METHODS = ("forward", "forward-plain", "dual", "primal-dual", "pdhg")


def forward_window(m: Model, t0: int, T: int, K0: np.ndarray) -> Window:
    """Capacity-following forward balancing: a fast heuristic for very large plans.

    Year by year: build just the new capacity that next year's output needs
    (the stationary output of next year's targets, growing at ``g``, less the
    capacity that will still stand), balance this year's output exactly by a
    sparse Leontief solve of targets plus those investment goods, and run
    modern capacity first (it needs less labour).  Each year costs a few
    sparse solves — O(nonzeros) per mat-vec — instead of an LP.  It does
    not bring investment forward to save labour later, so its labour is an
    upper bound on the LP optimum (about 1 % above it): ``method="forward-plain"``.
    ``method="forward"`` follows it with :func:`retime_window`.
    """
    n = m.A.shape[0]
    K = np.asarray(K0, dtype=float).copy()
    xo_l, xn_l, g_l, K_l = [], [], [], []
    status, message = Status.OPTIMAL, "Forward balancing: every year balanced exactly."
    # every year's need for capacity depends on the targets only: one block of solves
    ys, rhs = [], []
    for t in range(T):
        y = m.targets(t0 + t).sum(axis=1).to_numpy()
        ys.append(y + 1e-7 * np.maximum(y, m.C0))
        if t < T - 1:
            y_next = m.targets(t0 + t + 1).sum(axis=1).to_numpy()
            rhs.append(y_next + 2e-7 * np.maximum(y_next, m.C0))
        else:
            rhs.append(ys[t] + 1e-7 * np.maximum(ys[t], m.C0))
    needs = stationary_solver(m.A, m.B, m.s, m.kappa, m.delta + m.terminal_growth)(np.stack(rhs))
    needs[T - 1] *= 1 + m.terminal_growth
    # the builds follow from the needs and the capacity standing (no solve) ...
    gs, Ks = [], []
    for t in range(T):
        standing = m.C0 * (1.0 - m.delta) ** (t0 + t + 1) + (1.0 - m.delta) * K
        g = np.maximum(needs[t] - standing, 0.0)
        gs.append(g)
        Ks.append(K.copy())
        K = (1.0 - m.delta) * K + g
    # ... and every year's output balances targets plus capital goods: one block of solves
    try:
        X = leontief_solver(m.A)(np.stack([ys[t] + _goods(m, gs[t]) for t in range(T)]), 1e-12)
    except ValidationError as exc:
        X = None
        status, message = Status.BREAKDOWN, f"Forward balancing failed: {exc}"
    for t in range(T if X is not None else 0):
        assert X is not None
        yr = t0 + t
        x = np.maximum(X[t], 0.0)
        K = Ks[t]
        xn = np.minimum(x, K)
        xo = x - xn
        cap_old = m.C0 * (1.0 - m.delta) ** yr
        over = np.flatnonzero(xo > cap_old * (1 + 1e-9))
        xo_l.append(xo)
        xn_l.append(xn)
        g_l.append(gs[t])
        K_l.append(K.copy())
        if len(over):
            worst = over[np.argsort(-(xo[over] / np.maximum(cap_old[over], 1e-300)))][:5]
            status = Status.INFEASIBLE
            message = (
                f"Forward balancing: in year {yr} the output needed exceeds the "
                "capacity of "
                + ", ".join(repr(m.products[i]) for i in worst)
                + "; an LP method may bring investment forward."
            )
            break
    T_done = len(xo_l)
    z = np.zeros((max(T_done, 1), n))
    stack = lambda a: np.stack(a) if a else z  # noqa: E731
    labour = sum(
        float(m.labour @ xo + (1 - m.pi) * (m.labour @ xn))
        for xo, xn in zip(xo_l, xn_l, strict=True)
    )
    return Window(
        xo=stack(xo_l),
        xn=stack(xn_l),
        g=stack(g_l),
        K=stack(K_l),
        duals=np.full((max(T_done, 1), n), np.nan),
        status=status,
        message=message,
        objective=labour,
        nit=T_done,
        backend_status=0,
        backend_message="",
    )


def _goods(m: Model, g: np.ndarray) -> np.ndarray:
    """Capital goods ``B g`` used to build ``g`` (either form of ``B``)."""
    if m.B is not None:
        return np.asarray(m.B @ g)
    s = m.s if m.s is not None else np.zeros(m.A.shape[0])
    kap = m.kappa if m.kappa is not None else np.zeros(m.A.shape[0])
    return s * float(kap @ g)


def _support_min(S: sp.csc_array, f: np.ndarray, empty: float = 1.0) -> np.ndarray:
    """Smallest ``f[i]`` over the rows ``i`` of each column's pattern (``empty`` where
    the column is empty)."""
    out = np.full(S.shape[1], empty)
    nz = np.diff(S.indptr) > 0
    if S.nnz:
        out[nz] = np.minimum.reduceat(f[S.indices], S.indptr[:-1][nz])
    return out


#: rounds of :func:`_pack` and the relative residual of their solves (warm-started; only
#: the final check, which makes the result feasible, solves to 1e-12)
PACK_ITERS = 8
PACK_RTOL = 1e-5


def _pack(
    u: np.ndarray,
    w: np.ndarray,
    room: np.ndarray,
    use: Any,
    support_min: Any,
    iters: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Approximately ``max w·a`` subject to ``use(a) <= room``, ``0 <= a <= u``.

    ``use(a, rtol, x0)`` is a non-negative linear map applied through sparse
    solves (the output a year's extra investment draws from every sector:
    rounds solve to ``PACK_RTOL`` from the last round's answer, the final
    check to 1e-12), so the matrix is
    never formed.  Each round scales every candidate by the tightest ratio
    ``room / use`` among the sectors it draws from directly or through one
    round of inputs (``support_min``), raising it where there is room and
    cutting it where there is none, and the more valuable candidates (by
    ``w``) move faster; a last uniform scaling makes the result feasible
    exactly.  O(nonzeros) per round.  Returns ``(a, use(a))`` (the map is linear, so
    the last check's solve is the answer's own use)."""
    a = np.where(w > 0, u, 0.0)
    if not a.any():
        return np.zeros_like(u), np.zeros_like(u)
    room = np.maximum(room, 0.0) * (1.0 - 1e-7)
    ex = np.clip(np.sqrt(np.maximum(w, 1e-300) / float(np.median(w[a > 0]))), 0.1, 10.0)
    z = None
    for _ in range(PACK_ITERS if iters is None else iters):
        z = use(a, PACK_RTOL, z)
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.where(z > 1e-300, room / z, 1e3)
        fj = np.clip(support_min(np.minimum(f, 1e3)), 0.0, 1e3)
        a = np.minimum(u, a * np.where(fj > 1.0, fj**ex, fj ** (1.0 / ex)))
    z = use(a, 1e-12, z)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(z > 1e-300, room / z, np.inf)
    alpha = max(float(min(1.0, r.min())) if r.size else 1.0, 0.0)
    return a * alpha, z * alpha


def retime_window(m: Model, t0: int, base: Window, K0: np.ndarray, sweeps: int = 1) -> Window:
    """Improve a forward-balanced plan by re-timing investment (``method="forward"``).

    In the LP's terms a unit of modern capacity in sector ``j`` saves
    ``π l_j`` of labour for every year it stands, and holding it a year
    longer costs the depreciation ``δ_j`` of its capital goods, valued at
    ``c_j = v·B[:, j]`` (labour values ``v``).  Where ``π l_j > δ_j c_j``
    capacity is worth building early, elsewhere as late as possible.  From
    the forward plan, for each year ``s`` in turn (``sweeps`` times):

    * **delay**: move building of the sectors where early capacity does not
      pay from year ``s`` to ``s + 1`` (``g_{s+1}`` grows by ``(1-δ)`` of it,
      so the capacity from ``s + 2`` on is unchanged), as far as next year's
      spare capacity allows — this frees the capital goods of year ``s``;
    * **advance**: build the capacity of the sectors where it pays in year
      ``s`` instead of later, taking it from their latest builds (discounted
      by depreciation, so the terminal capacity is unchanged), as far as
      year ``s``'s spare old capacity allows.

    Neither move can make another year infeasible (an advance only adds
    capacity and removes investment goods later; a delay only frees year
    ``s``), and each year's spare capacity is shared by :func:`_pack`.  The
    result is balanced exactly and checked; if it is not feasible or needs
    more labour, the forward plan is kept.  Each sweep costs a few dozen
    sparse solves.
    """
    T = base.g.shape[0]
    n = m.A.shape[0]
    if T < 2 or base.status != Status.OPTIMAL or m.pi <= 0:
        return base
    d = m.delta
    keep = 1.0 - d
    L = leontief_solver(m.A)
    Lt = leontief_solver(m.A, transpose=True)
    v = np.asarray(Lt(m.labour))
    if m.B is not None:
        Bc = sp.csc_array(m.B)
        c = np.asarray(Bc.T @ v)
        Ac = sp.csc_array(m.A)

        def goods(a: np.ndarray) -> np.ndarray:
            return np.asarray(Bc @ a)

        def smin(f: np.ndarray) -> np.ndarray:
            # the smallest f over the rows of B[:, j] and of (A B)[:, j], without forming
            # A B: the rows of (A B)[:, j] are those of A[:, k] for k in B[:, j]
            h = np.minimum(f, _support_min(Ac, f, empty=np.inf))
            return _support_min(Bc, h)

        def smin2(f: np.ndarray) -> np.ndarray:
            return np.minimum(smin(f), f)
    else:
        s_vec = m.s if m.s is not None else np.zeros(n)
        kap = m.kappa if m.kappa is not None else np.zeros(n)
        c = kap * float(v @ s_vec)
        rows = np.flatnonzero((s_vec + m.A @ s_vec) > 0)

        def goods(a: np.ndarray) -> np.ndarray:
            return s_vec * float(kap @ a)

        def smin(f: np.ndarray) -> np.ndarray:
            return np.where(kap > 0, f[rows].min() if len(rows) else 1.0, 1.0)

        def smin2(f: np.ndarray) -> np.ndarray:
            return np.minimum(smin(f), f)

    def use(a: np.ndarray, rtol: float = 1e-12, x0: np.ndarray | None = None) -> np.ndarray:
        return np.asarray(L(goods(a), rtol, x0))

    def use_block(G: np.ndarray, rtol: float = 1e-12) -> np.ndarray:
        return np.asarray(L(np.stack([goods(G[i]) for i in range(len(G))]), rtol))

    p = m.pi * m.labour
    good = p > d * c
    w_adv = np.where(good, p - d * c, 0.0)
    w_del = np.where(good, 0.0, d * c - p)
    g = base.g.copy()
    ys = []
    for t in range(T):
        y = m.targets(t0 + t).sum(axis=1).to_numpy()
        ys.append(y + 1e-7 * np.maximum(y, m.C0))
    X = list(np.asarray(L(np.stack([ys[t] + goods(g[t]) for t in range(T)]), 1e-12)))

    def capacity(t: int) -> np.ndarray:
        K = np.asarray(K0, dtype=float).copy()
        for q in range(t):
            K = keep * K + g[q]
        return m.C0 * keep ** (t0 + t) + K

    for _ in range(sweeps):
        for s in range(T - 1):
            u = np.where(good, 0.0, g[s])
            if u.any():
                b, z = _pack(
                    u,
                    w_del,
                    capacity(s + 1) - X[s + 1],
                    lambda a, rtol, x0: use(keep * a, rtol, x0) + a,
                    smin2,
                )
                if b.any():
                    g[s] = np.maximum(g[s] - b, 0.0)
                    g[s + 1] = g[s + 1] + keep * b
                    X[s] = X[s] - use(b)
                    X[s + 1] = X[s + 1] + (z - b)  # use(keep b), from the pack's own check
            later = sum(g[q] / keep ** (q - s) for q in range(s + 1, T))
            u = np.where(good, later, 0.0)
            if u.any():
                a, za = _pack(u, w_adv, capacity(s) - X[s], use, smin)
                if a.any():
                    g[s] = g[s] + a
                    X[s] = X[s] + za
                    rest = a.copy()
                    takes = []
                    for q in range(T - 1, s, -1):
                        f = keep ** (q - s)
                        take = np.minimum(g[q], rest * f)
                        g[q] = g[q] - take
                        takes.append((q, take))
                        rest = rest - take / f
                    drawn = use_block(np.stack([tk for _, tk in takes]))
                    for (q, _), dq in zip(takes, drawn, strict=True):
                        X[q] = X[q] - dq
    # balance every year exactly and check the plan against the forward one
    K = np.asarray(K0, dtype=float).copy()
    xo_l, xn_l, K_l = [], [], []
    ok = True
    labour = 0.0
    try:
        Xf = np.asarray(L(np.stack([ys[t] + goods(g[t]) for t in range(T)]), 1e-12, np.stack(X)))
    except ValidationError:
        return base
    for t in range(T):
        x = np.maximum(Xf[t], 0.0)
        xn = np.minimum(x, K)
        xo = x - xn
        if np.any(xo > m.C0 * keep ** (t0 + t) * (1 + 1e-9)):
            ok = False
            break
        lab_t = float(m.labour @ xo + (1 - m.pi) * (m.labour @ xn))
        if m.max_labour is not None and lab_t > m.max_labour[t0 + t] * (1 + 1e-9):
            ok = False
            break
        if m.imports is not None and float(m.imports @ x) > float(
            m.targets(t0 + t)["exports"].sum()
        ) * (1 + 1e-9):
            ok = False
            break
        labour += lab_t
        xo_l.append(xo)
        xn_l.append(xn)
        K_l.append(K.copy())
        K = keep * K + g[t]
    K_base = keep * base.K[-1] + base.g[-1]
    if not ok or np.any(K < K_base * (1 - 1e-9)) or np.any(g < 0) or labour >= base.objective:
        return base
    moved = float(np.maximum(g - base.g, 0.0).sum())
    return Window(
        xo=np.stack(xo_l),
        xn=np.stack(xn_l),
        g=g,
        K=np.stack(K_l),
        duals=base.duals,
        status=Status.OPTIMAL,
        message=(
            "Forward balancing with investment re-timed: every year balanced "
            f"exactly; {moved:.4g} units of new capacity re-timed, "
            f"{(base.objective - labour) / base.objective:.2%} less labour "
            "than the capacity-following pass."
        ),
        objective=labour,
        nit=base.nit + sweeps,
        backend_status=0,
        backend_message="",
    )
