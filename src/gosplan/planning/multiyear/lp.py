"""One window of years as one sparse LP (HiGHS simplex, IPM or PDLP)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from gosplan.core.methods import METHODS
from gosplan.core.result import Status
from gosplan.planning.highs import INF, solve_lp
from gosplan.planning.multiyear.model import Model, Window
from gosplan.planning.multiyear.steady import leontief_solve, stationary_output

LP_METHODS = METHODS["receding_horizon_plan"]


@dataclass
class WindowLP:
    """The LP of a window: ``min cost·x`` s.t. ``rlo <= A x <= rhi``, ``lo <= x <= hi``.

    Columns per year ``t`` (``per`` of them, from ``per * t``): ``xo``, ``xn``,
    ``g``, ``K_{t+1}`` (``n`` each) and, in the aggregate capital form, one
    investment total ``I_t``.  Rows per year: ``n`` balances, [one
    ``I_t - κ·g_t = 0``], ``n`` capacity dynamics, [``n`` rows ``xn_t <= K_t``
    for ``t > 0``], [a labour cap], [a trade balance].
    """

    cost: np.ndarray
    A: Any
    rlo: np.ndarray
    rhi: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    per: int

    def row_groups(self, m: Model, T: int) -> list[dict[str, int]]:
        """Start row of each group per year: keys balance, agg, dyn, cap, labour, trade."""
        n = m.A.shape[0]
        out = []
        pos = 0
        for t in range(T):
            g: dict[str, int] = {"balance": pos}
            pos += n
            if m.B is None:
                g["agg"] = pos
                pos += 1
            g["dyn"] = pos
            pos += n
            if t > 0:
                g["cap"] = pos
                pos += n
            if m.max_labour is not None:
                g["labour"] = pos
                pos += 1
            if m.imports is not None:
                g["trade"] = pos
                pos += 1
            out.append(g)
        return out


def year_targets(m: Model, year: int, *, margin: float = 1e-7) -> np.ndarray:
    """The year's total target ``y`` plus ``margin`` of each row's scale (so that a
    solver's feasibility tolerance can never leave a target short)."""
    y = m.targets(year).sum(axis=1).to_numpy()
    return y + margin * np.maximum(y, m.C0) if margin else y


def terminal_need(m: Model, t0: int, T: int, *, margin: float = 2e-7) -> np.ndarray:
    """Lower bound on ``K_T``: the capacity left must let the economy go on growing at
    ``g``: ``K_T + C0 (1-δ)^{t0+T} >= (1+g) x_ss``, with ``x_ss`` the output that delivers
    the last year's targets while adding capacity at ``δ + g``."""
    y_last = year_targets(m, t0 + T - 1, margin=margin)
    x_ss = stationary_output(m.A, m.B, m.s, m.kappa, m.delta + m.terminal_growth, y_last)
    return np.maximum((1 + m.terminal_growth) * x_ss - m.C0 * (1.0 - m.delta) ** (t0 + T), 0.0)


def window_lp(m: Model, t0: int, T: int, K0: np.ndarray, *, margins: bool = True) -> WindowLP:
    """The sparse LP for years ``t0 … t0+T-1`` starting with modern capacity ``K0``.

    ``margins=False`` drops the small safety margins on targets and terminal
    capacity (the LP whose optimum a certified bound refers to)."""
    n = m.A.shape[0]
    agg = m.B is None
    s_vec = np.zeros(0) if m.s is None else m.s
    kap = np.zeros(0) if m.kappa is None else m.kappa
    per = 4 * n + (1 if agg else 0)  # xo, xn, g, K_{t+1}, [I]
    ncol = per * T
    I_n = sp.identity(n, format="csc")
    ImA = sp.csc_array(I_n - m.A)
    cols_lo = np.zeros(ncol)
    cols_hi = np.full(ncol, INF)
    cost = np.zeros(ncol)
    rows: list[Any] = []
    rlo: list[np.ndarray] = []
    rhi: list[np.ndarray] = []

    def off(t: int, k: int) -> int:
        return per * t + k * n

    def row_block(entries: list[tuple[int, Any]], nrows: int) -> Any:
        """Sparse rows with blocks placed at column offsets."""
        mats = []
        for start, M in entries:
            M = sp.coo_array(M)
            mats.append((M.row, M.col + start, M.data))
        r = np.concatenate([a for a, _, _ in mats])
        c = np.concatenate([b for _, b, _ in mats])
        v = np.concatenate([d for _, _, d in mats])
        return sp.csr_array((v, (r, c)), shape=(nrows, ncol))

    lab_new = (1.0 - m.pi) * m.labour
    for t in range(T):
        yr = t0 + t
        w = 1.0 / m.able[yr] if m.able is not None else 1.0
        cost[off(t, 0) : off(t, 0) + n] = w * m.labour
        cost[off(t, 1) : off(t, 1) + n] = w * lab_new
        cols_hi[off(t, 0) : off(t, 0) + n] = m.C0 * (1.0 - m.delta) ** yr
        if t == 0:
            cols_hi[off(t, 1) : off(t, 1) + n] = K0
        y = year_targets(m, yr, margin=1e-7 if margins else 0.0)
        # balance: (I-A)(xo+xn) - B g [- s I] >= y
        ent: list[tuple[int, Any]] = [(off(t, 0), ImA), (off(t, 1), ImA)]
        if agg:
            ent.append((per * t + 4 * n, sp.csc_array(-s_vec[:, None])))
        else:
            ent.append((off(t, 2), -sp.csc_array(m.B)))
        rows.append(row_block(ent, n))
        rlo.append(y)
        rhi.append(np.full(n, INF))
        if agg:
            # I_t - kappa . g_t = 0
            rows.append(
                row_block(
                    [
                        (per * t + 4 * n, sp.csc_array(np.ones((1, 1)))),
                        (off(t, 2), sp.csc_array(-kap[None, :])),
                    ],
                    1,
                )
            )
            rlo.append(np.zeros(1))
            rhi.append(np.zeros(1))
        # K_{t+1} - (1-δ) K_t - g_t = 0  (K_t constant K0 when t == 0)
        ent = [(off(t, 3), I_n), (off(t, 2), -I_n)]
        if t > 0:
            ent.append((off(t - 1, 3), sp.diags_array(-(1.0 - m.delta))))
            rhs = np.zeros(n)
        else:
            rhs = (1.0 - m.delta) * K0
        rows.append(row_block(ent, n))
        rlo.append(rhs)
        rhi.append(rhs)
        # xn_t <= K_t  (t > 0)
        if t > 0:
            rows.append(row_block([(off(t, 1), I_n), (off(t - 1, 3), -I_n)], n))
            rlo.append(np.full(n, -INF))
            rhi.append(np.zeros(n))
        if m.max_labour is not None:
            rows.append(
                row_block(
                    [
                        (off(t, 0), sp.csc_array(m.labour[None, :])),
                        (off(t, 1), sp.csc_array(lab_new[None, :])),
                    ],
                    1,
                )
            )
            rlo.append(np.array([-INF]))
            rhi.append(np.array([m.max_labour[yr]]))
        if m.imports is not None:
            e = float(m.targets(yr)["exports"].sum())
            rows.append(
                row_block(
                    [
                        (off(t, 0), sp.csc_array(m.imports[None, :])),
                        (off(t, 1), sp.csc_array(m.imports[None, :])),
                    ],
                    1,
                )
            )
            rlo.append(np.array([-INF]))
            rhi.append(np.array([e]))
    # terminal: a bound on K_T (no coupling row)
    last = T - 1
    cols_lo[off(last, 3) : off(last, 3) + n] = terminal_need(
        m, t0, T, margin=2e-7 if margins else 0.0
    )
    A = sp.vstack(rows, format="csc")
    return WindowLP(
        cost=cost,
        A=A,
        rlo=np.concatenate(rlo),
        rhi=np.concatenate(rhi),
        lo=cols_lo,
        hi=cols_hi,
        per=per,
    )


def solve_window(
    m: Model, t0: int, T: int, K0: np.ndarray, method: str, time_limit: float | None
) -> Window:
    """The LP for years ``t0 … t0+T-1`` starting with modern capacity ``K0``."""
    n = m.A.shape[0]
    agg = m.B is None
    s_vec = np.zeros(0) if m.s is None else m.s
    kap = np.zeros(0) if m.kappa is None else m.kappa
    lp = window_lp(m, t0, T, K0)
    per = lp.per

    def off(t: int, k: int) -> int:
        return per * t + k * n

    # tight primal tolerance: every year's balance must hold to ~1e-9 of the flows
    sol = solve_lp(
        lp.cost,
        lp.A,
        lp.rlo,
        lp.rhi,
        lp.lo,
        lp.hi,
        method=method,
        time_limit=time_limit,
        tol=1e-8 if method == "pdlp" else None,
        options=None if method == "pdlp" else {"primal_feasibility_tolerance": 1e-10},
    )
    x = np.maximum(sol.x, 0.0) if sol.status == Status.OPTIMAL else sol.x
    xo = np.stack([x[off(t, 0) : off(t, 0) + n] for t in range(T)])
    xn = np.stack([x[off(t, 1) : off(t, 1) + n] for t in range(T)])
    g = np.stack([x[off(t, 2) : off(t, 2) + n] for t in range(T)])
    Kend = np.stack([x[off(t, 3) : off(t, 3) + n] for t in range(T)])
    K = np.vstack([K0[None, :], Kend[:-1]])
    if method == "pdlp" and sol.status == Status.OPTIMAL:
        # PDLP meets the rows to a relative tolerance: top up each year's small deficits
        # exactly (extra output on old capacity, through one sparse Leontief solve)
        for t in range(T):
            y = m.targets(t0 + t).sum(axis=1).to_numpy()
            goods = m.B @ g[t] if m.B is not None else s_vec * float(kap @ g[t])
            net = (xo[t] + xn[t]) - m.A @ (xo[t] + xn[t]) - goods
            d = np.maximum(y - net, 0.0)
            if d.any():
                xo[t] = xo[t] + np.maximum(np.asarray(leontief_solve(m.A, d, rtol=1e-12).x), 0.0)
    # balance rows are the first n rows of each year's group; find their positions
    duals = np.full((T, n), np.nan)
    if sol.dual_valid:
        pos = 0
        for t in range(T):
            # the objective weighs year t by 1 / able-bodied: back to labour units
            duals[t] = sol.row_dual[pos : pos + n] * (m.able[t0 + t] if m.able is not None else 1.0)
            pos += n + (1 if agg else 0) + n + (n if t > 0 else 0)
            pos += (1 if m.max_labour is not None else 0) + (1 if m.imports is not None else 0)
    return Window(
        xo=xo,
        xn=xn,
        g=g,
        K=K,
        duals=duals,
        status=sol.status,
        message=sol.message,
        objective=sol.objective,
        nit=sol.nit,
        backend_status=sol.backend_status,
        backend_message=sol.backend_message,
    )


def first_year_hint(m: Model, t0: int, K0: np.ndarray) -> str:
    """Name the sectors whose capacity cannot even deliver the year's targets."""
    y = m.targets(t0).sum(axis=1).to_numpy()
    need = np.asarray(leontief_solve(m.A, y, rtol=1e-10).x)
    cap = m.C0 * (1.0 - m.delta) ** t0 + K0
    over = np.flatnonzero(need > cap * (1 + 1e-9))
    if not len(over):
        return (
            "The targets fit the initial capacity, so the binding limit is the investment "
            "needed for later years (or max_week / balanced_trade)."
        )
    order = over[np.argsort(-(need[over] / cap[over]))][:5]
    named = ", ".join(
        f"{m.products[i]!r} (needs {need[i] / cap[i]:.0%} of its capacity)" for i in order
    )
    return (
        f"In year {t0} the targets alone need more than the existing capacity of: {named}. "
        "Raise capacity (lower `utilisation`) or let those targets grow into it."
    )
