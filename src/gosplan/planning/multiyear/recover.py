"""A plan recovered from the dual: the investments the smoothed bound points to,
balanced exactly and repaired to feasibility.

The smoothed dual ascent (:mod:`gosplan.planning.multiyear.ascent`) is the dual of
a regularised plan: its gradient in the capacity values is the capacity each sector
builds each year, ``g_t``.  Held back a little on old capacity (``TIGHTEN``), those
investments make a plan that is nearly feasible for the true limits.  Here every
year is balanced exactly by a sparse Leontief solve of the targets plus the capital
goods, ``x_t = (I - A)⁻¹ (y_t + B g_t)``, modern capacity (cheaper in labour) runs
first, and where old output would still exceed old capacity in a year ``t >= 1``
the missing capacity is built the year before (a few rounds: each adds capital
goods the year before it).  The result is checked like the forward plan; ``None``
when it is not feasible, so the caller keeps its plan.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from gosplan.core.result import Status
from gosplan.planning.multiyear.forward import _support_min
from gosplan.planning.multiyear.model import Model, Window
from gosplan.planning.multiyear.steady import leontief_solver


def _goods(m: Model, g: np.ndarray) -> np.ndarray:
    if m.B is not None:
        return np.asarray(m.B @ g)
    s = m.s if m.s is not None else np.zeros_like(g)
    kap = m.kappa if m.kappa is not None else np.zeros_like(g)
    return s * float(kap @ g)


def _goods_rows(m: Model, G: np.ndarray) -> np.ndarray:
    """:func:`_goods` of each row of ``G`` (years × products)."""
    if m.B is not None:
        return np.ascontiguousarray(np.asarray(m.B @ np.asarray(G).T).T)
    s = m.s if m.s is not None else np.zeros(G.shape[1])
    kap = m.kappa if m.kappa is not None else np.zeros(G.shape[1])
    return np.multiply.outer(np.asarray(G) @ kap, s)


def _solve_rows(L: Any, R: list[np.ndarray]) -> list[np.ndarray]:
    """``L`` of each right-hand side (the years' targets), one at a time, each
    warm-started from the year before's answer scaled to its right-hand side (the
    targets differ little from year to year: about half the mat-vecs): the fused
    single solver of :mod:`gosplan.core.kernels` measured faster than the block
    solver here (2·10⁵ products: 10 single solves 2.5 CPU-seconds, one block of 10
    5.7)."""
    out: list[np.ndarray] = []
    for r in R:
        x0 = None
        if out:
            prev, rp = out[-1], R[len(out) - 1]
            den = float(rp @ rp)
            x0 = prev * (float(r @ rp) / den) if den > 0 else None
        out.append(np.asarray(L(r, 1e-12, x0)))
    return out


def _resolve(m: Model, L: Any, g_t: np.ndarray, x_t: np.ndarray) -> np.ndarray:
    """The capital goods' output ``(I - A)⁻¹ goods(g_t)`` after a change in ``g_t``,
    warm-started from the output ``x_t`` before it: the solve starts from a residual as
    small as the change and stops at ``1e-12`` of the whole right-hand side (not of the
    change alone), so no error accumulates over the rounds' updates."""
    return np.asarray(L(_goods(m, g_t), 1e-12, x_t))


def _users_max(m: Model, theta: np.ndarray) -> np.ndarray:
    """Per product ``j``, the largest ``theta[i]`` over the products ``i`` its capital
    goods take directly or through one round of inputs (``(B + A B)[i, j] > 0``); 0
    where it takes none.  ``A, B >= 0``: the pattern of ``A B`` is that of ``B``
    composed with ``A``'s, so two passes over the columns replace the product."""
    if m.B is not None:
        Bc = sp.csc_array(m.B)
        Ac = sp.csc_array(m.A)
        t = np.clip(np.asarray(theta, dtype=float), 0.0, None)
        direct = -_support_min(Bc, -t, empty=0.0)
        through = -_support_min(Bc, _support_min(Ac, -t, empty=0.0), empty=0.0)
        return np.maximum(direct, through)
    s_vec = m.s if m.s is not None else np.zeros_like(theta)
    kap = m.kappa if m.kappa is not None else np.zeros_like(theta)
    top = float(theta[(s_vec + m.A @ s_vec) > 0].max(initial=0.0))
    return np.where(kap > 0, top, 0.0)


def _labour(m: Model, K0: np.ndarray, g: np.ndarray, X: list[np.ndarray]) -> float:
    """Labour of the plan with investments ``g`` and outputs ``X`` (modern capacity first)."""
    K = np.asarray(K0, dtype=float).copy()
    total = 0.0
    for t in range(g.shape[0]):
        xn = np.minimum(np.maximum(X[t], 0.0), K)
        total += float(m.labour @ (X[t] - xn) + (1 - m.pi) * (m.labour @ xn))
        K = (1.0 - m.delta) * K + g[t]
    return total


def _mix(
    m: Model,
    L: Any,
    K0: np.ndarray,
    g: np.ndarray,
    X: list[np.ndarray],
    fallbacks: list[np.ndarray],
    base: list[np.ndarray],
    cap0: np.ndarray,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """The mix ``θ₀ g + Σ θ_k f_k`` (``θ >= 0``, ``Σ θ = 1``) of the investments ``g``
    and the fallbacks ``f_k`` whose first year fits ``cap0`` and whose labour bound
    ``Σ θ_k labour_k`` is least (labour is convex in the investments, so that bounds
    the mix's own): a linear programme in ``1 + len(fallbacks)`` weights, one row per
    product the first year of ``g`` overdraws.  Outputs are linear in the investments."""
    from scipy.optimize import linprog

    T = g.shape[0]
    over = X[0] > cap0
    plans = [g]
    for f in fallbacks:  # the same plan twice (the forward plan is the plain one) once
        f = np.maximum(np.asarray(f, dtype=float), 0.0)
        if not any(np.array_equal(f, q) for q in plans[1:]):
            plans.append(f)
    outs = [X] + [
        [base[t] + x for t, x in enumerate(_solve_rows(L, list(_goods_rows(m, f))))]
        for f in plans[1:]
    ]
    cost = np.array([_labour(m, K0, q, Xq) for q, Xq in zip(plans, outs, strict=True)])
    rows = np.stack([Xq[0][over] for Xq in outs], axis=1)
    scale = np.maximum(cap0[over], 1e-300)
    res = linprog(
        cost / max(float(np.abs(cost).max()), 1e-300),
        A_ub=rows / scale[:, None],
        b_ub=(cap0[over] / scale) * (1 - 1e-7),
        A_eq=np.ones((1, len(plans))),
        b_eq=np.ones(1),
        bounds=[(0.0, None)] * len(plans),
        method="highs",
    )
    theta = np.zeros(len(plans))
    if res.status == 0:
        theta = np.maximum(np.asarray(res.x), 0.0)
        theta = theta / theta.sum()
    else:  # the fallback with the most room in the first year on its own
        theta[1 + int(np.argmin([np.max(r - cap0[over]) for r in rows.T[1:]]))] = 1.0
    gm = sum(th * q for th, q in zip(theta, plans, strict=True))
    Xm = [sum(th * Xq[t] for th, Xq in zip(theta, outs, strict=True)) for t in range(T)]
    # rounding in the weights: the first year is checked with the exact mix
    if np.any(Xm[0] > cap0) and theta[0] > 0:
        lo = np.zeros(len(plans))
        lo[1 + int(np.argmax(theta[1:]))] = 1.0
        for _ in range(40):
            theta = 0.5 * (theta + lo)
            Xm = [sum(th * Xq[t] for th, Xq in zip(theta, outs, strict=True)) for t in range(T)]
            if not np.any(Xm[0] > cap0):
                break
        gm = sum(th * q for th, q in zip(theta, plans, strict=True))
    return np.asarray(gm), [np.asarray(x) for x in Xm]


def plan_from_investment(
    m: Model,
    t0: int,
    K0: np.ndarray,
    g: np.ndarray,
    need: np.ndarray,
    *,
    rounds: int = 16,
    fallback: list[np.ndarray] | None = None,
) -> Window | None:
    """The plan with investments ``g`` (years × products), repaired; ``None`` if it
    cannot be made feasible in ``rounds`` rounds.  ``need`` is the terminal capacity.

    ``fallback``: the investments of feasible plans (the forward plans').  Where the
    first year's old capacity cannot make the capital goods the repaired investments
    need and cutting the builds year 1 can spare no longer helps, the plan becomes the
    mix ``θ g + (1 - θ) f`` of the repaired investments with least first-year excess
    and one fallback ``f``, with the largest ``θ`` the first year allows: every later
    year and the terminal capacity stay feasible, since both plans meet their (linear)
    rows; of the fallbacks, the one whose mix needs the least labour.

    Long because its repair rounds share every year's balanced output, capacity and
    shortfall, which each round updates in place."""
    T, n = g.shape
    keep = 1.0 - m.delta
    L = leontief_solver(m.A)
    ys = []
    for t in range(T):
        y = m.targets(t0 + t).sum(axis=1).to_numpy()
        ys.append(y + 1e-7 * np.maximum(y, m.C0))
    U = [m.C0 * keep ** (t0 + t) for t in range(T)]
    g = np.maximum(np.asarray(g, dtype=float), 0.0).copy()
    base = _solve_rows(L, ys)
    extra = [np.asarray(L(r, 1e-12)) for r in _goods_rows(m, g)]  # years differ: cold
    ok = False
    K: list[np.ndarray] = []
    last_over = np.inf
    least: tuple[float, np.ndarray, list[np.ndarray]] = (np.inf, g, [])

    def capacity() -> list[np.ndarray]:
        out = [np.asarray(K0, dtype=float).copy()]
        for t in range(T):
            out.append(keep * out[-1] + g[t])
        return out

    def trim() -> None:
        """Capacity nobody uses: cut each year's builds, latest first, by what stands
        idle in every later year (and above the terminal need); frees capital goods."""
        for s_ in range(T - 1, -1, -1):
            room = np.maximum(K[T] - need * (1 + 2e-9), 0.0) / keep ** (T - 1 - s_)
            for t in range(s_ + 1, T):
                idle = np.maximum(K[t] - base[t] - extra[t], 0.0)
                room = np.minimum(room, idle / keep ** (t - 1 - s_))
            cut = np.minimum(g[s_], room * (1 - 1e-6))
            if cut.any():
                g[s_] = g[s_] - cut
                extra[s_] = _resolve(m, L, g[s_], extra[s_])
                for t in range(s_ + 1, T + 1):
                    K[t] = K[t] - cut * keep ** (t - 1 - s_)

    for _ in range(rounds):
        # one backward sweep: the terminal shortfall is built in the last year, then each
        # year's shortfall (its capital goods included, as just updated) the year before,
        # so that every year from the second on fits after a single sweep
        K = capacity()
        t_short = np.maximum(need * (1 + 2e-9) - K[T], 0.0)
        if t_short.any():
            add = t_short * (1 + 1e-6)
            g[T - 1] += add
            extra[T - 1] = _resolve(m, L, g[T - 1], extra[T - 1])
            K[T] = K[T] + add
        for t in range(T - 1, 0, -1):
            short = np.maximum(base[t] + extra[t] - K[t] - U[t] * (1 - 1e-9), 0.0)
            if short.any():
                add = short * (1 + 1e-6)
                g[t - 1] += add
                extra[t - 1] = _resolve(m, L, g[t - 1], extra[t - 1])
                for q in range(t, T + 1):
                    K[q] = K[q] + add * keep ** (q - t)
        cap0 = U[0] * (1 - 1e-9) + K[0]
        if np.any(base[0] + extra[0] > cap0):
            trim()  # idle capacity first: its capital goods come off the first year
        X = [base[t] + extra[t] for t in range(T)]
        if not np.any(X[0] > cap0):
            ok = True
            break
        excess = float(np.maximum(X[0] - cap0, 0.0).sum())
        if excess < least[0]:  # the repaired investments a mix would start from
            least = (excess, g.copy(), list(X))
        if T > 1:
            # the first year's old capacity: nothing earlier to build, so its builds
            # that draw on the short sectors are cut, as far as every later year can
            # spare their capacity (old capacity then runs instead: more labour, still
            # feasible, and no shortfall for the next sweep to build back), and of that
            # just enough: the builds that take an over-stretched product directly or
            # through one round of inputs are cut in proportion, so that those two
            # rounds alone free the excess (the later rounds free more)
            room = np.maximum(K[T] - need * (1 + 2e-9), 0.0) / keep ** (T - 1)
            for t in range(1, T):
                spare = K[t] + U[t] * (1 - 1e-9) - X[t]
                room = np.minimum(room, np.maximum(spare, 0.0) / keep ** (t - 1))
            cut_max = np.minimum(g[0], room * (1 - 1e-6))
            over = np.maximum(X[0] - cap0, 0.0)
            supply = _goods(m, cut_max)
            supply = supply + np.asarray(m.A @ supply)
            with np.errstate(divide="ignore", invalid="ignore"):
                theta = np.where(over > 0, np.minimum(1.0, 1.05 * over / supply), 0.0)
            theta = np.nan_to_num(theta, nan=1.0, posinf=1.0)
            cut = cut_max * np.minimum(_users_max(m, theta), 1.0)
            # stalled (the cuts come back as next year's shortfalls): mix in the fallback
            stalled = cut.sum() <= 1e-3 * over.sum() or over.sum() > 0.5 * last_over
            last_over = float(over.sum())
            if stalled and fallback:
                g, X = _mix(m, L, K0, least[1], least[2], fallback, base, cap0)
                extra = [X[t] - base[t] for t in range(T)]
                K = capacity()
                ok = True
                break
            if not cut.any():
                return None
            g[0] = g[0] - cut
            extra[0] = _resolve(m, L, g[0], extra[0])
    if not ok:
        return None
    trim()
    X = [base[t] + extra[t] for t in range(T)]
    xo = np.stack([np.maximum(X[t] - np.minimum(X[t], K[t]), 0.0) for t in range(T)])
    xn = np.stack([np.minimum(np.maximum(X[t], 0.0), K[t]) for t in range(T)])
    for t in range(T):
        lab = float(m.labour @ xo[t] + (1 - m.pi) * (m.labour @ xn[t]))
        if m.max_labour is not None and lab > m.max_labour[t0 + t] * (1 + 1e-9):
            return None
        if m.imports is not None and float(m.imports @ (xo[t] + xn[t])) > float(
            m.targets(t0 + t)["exports"].sum()
        ) * (1 + 1e-9):
            return None
    labour = float(sum(m.labour @ xo[t] + (1 - m.pi) * (m.labour @ xn[t]) for t in range(T)))
    return Window(
        xo=xo,
        xn=xn,
        g=g,
        K=np.stack(K[:T]),
        duals=np.full((T, n), np.nan),
        status=Status.OPTIMAL,
        message=(
            "Plan recovered from the certified bound's prices: the investments they "
            "point to, every year balanced exactly and checked."
        ),
        objective=labour,
        nit=rounds,
        backend_status=0,
        backend_message="",
    )
