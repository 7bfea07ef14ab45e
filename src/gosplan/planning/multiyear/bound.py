"""A certified lower bound on the optimum of a multi-year plan's LP (weak duality).

Any vector of row duals ``y`` of ``min c·x s.t. rlo <= A x <= rhi, lo <= x <= hi``
whose signs fit the rows (``y >= 0`` on ``>=`` rows, ``<= 0`` on ``<=`` rows)
and whose reduced costs ``d = c - Aᵀy`` fit the columns (``d >= 0`` where
``hi = ∞``) proves ``optimum >= Σ y_i·(rlo_i or rhi_i) + Σ d_j·(lo_j or hi_j)``.
So the gap of a plan to this bound is *proven*, not estimated.

The plan's LP (:func:`gosplan.planning.multiyear.lp.window_lp`) has a structure
that makes the completion of a dual closed-form: given balance prices
``p_t >= 0`` (one per product and year, in objective units), the best dual
values of every other row follow per product,

* rent of modern capacity ``r_t = max(0, (I - A)ᵀ p_t - w_t (1 - π) l)`` (dual of
  ``xn_t <= K_t``), so the modern output's reduced cost is ``>= 0``;
* value of a unit of capacity ``κ_t`` (dual ``-κ_t`` of the capacity dynamics),
  as large as ``κ_t <= Bᵀ p_t`` (building costs at least what capacity is
  worth) and ``κ_{t-1} >= (1 - δ) κ_t + r_t`` (capacity is worth its rent this
  year plus its worn value next year) allow: a forward recursion; the
  terminal capacity needed is valued at ``κ_{T-1} >= 0``;
* old output, capped by the old capacity, costs ``min(0, w_t l - (I - A)ᵀ p_t)``
  per unit of cap; labour caps and trade rows get dual 0.

Prices are non-negative combinations, with a weight per year, of a few
price vectors ``w_t Lᵀ c`` (``L = (I - A)⁻¹``; ``c`` the labour cost of the
marginal technique): the modern technique ``(1 - π) l``; the saving ``π l`` on
the sectors where the plan runs out of modern capacity and on the others; the
rent of scarce old capacity, from the steady-state fixed point
``c = max(l, (1 - π) l + δ Bᵀ Lᵀ c)`` (where building modern capacity costs more
in capital upkeep than it saves in labour, old capacity is used to the full
and the marginal unit is dearer than ``l``); and the LP's own duals when an LP
method ran.  Each vector costs one or a few sparse solves; after that every
term of the bound is a vector operation, so the weights are optimised
(coordinate ascent on a concave function) cheaply.  The best point is then
raised by the smoothed dual ascent of :mod:`gosplan.planning.multiyear.ascent`
(``ascent_seconds``), and the certificate is re-evaluated from its prices.

The bound refers to the LP *without* the small safety margins that the
solvers add to targets and terminal capacity (a plan built with them is
feasible for it, so ``bound <= optimum <= plan``).  A relative allowance of
``1e-9`` of the terms' magnitudes covers floating-point rounding.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from gosplan.core.result import Status
from gosplan.planning.multiyear.ascent import _bt, _dot, _golden, repair_prices, smoothed_ascent
from gosplan.planning.multiyear.lp import WindowLP, terminal_need, year_targets
from gosplan.planning.multiyear.model import Model, Window
from gosplan.planning.multiyear.steady import leontief_solver

#: relative allowance for rounding in the evaluation of the bound
ROUNDING = 1e-9
#: no dual ascent when the price families already prove the plan within this
ASCENT_SKIP = 1e-5
#: above this many products the weights of the price families get one pass of coordinate
#: ascent and no supergradient steps: at 10⁵ products those took as long as ~100
#: iterations of the smoothed dual ascent, which starts from them and rises further in
#: its first few iterations than they add
FAMILY_LIMIT = 20_000


@dataclass(frozen=True)
class DualCertificate:
    """Row duals of the window LP that prove ``bound`` (objective units, years × products).

    ``p``: balance rows; ``r``: rows ``xn_t <= K_t`` enter as ``-r`` (``r[0]`` is 0,
    there is no such row in the first year); ``kappa``: capacity dynamics enter as
    ``-kappa``; ``phi``: the aggregate-investment rows (``s·p_t``), when present.
    """

    p: np.ndarray
    r: np.ndarray
    kappa: np.ndarray
    phi: np.ndarray | None
    bound: float
    source: str

    def row_duals(self, lp: WindowLP, m: Model, T: int) -> np.ndarray:
        """The full dual vector in the row order of ``lp`` (for an independent check)."""
        y = np.zeros(lp.A.shape[0])
        n = m.A.shape[0]
        for t, g in enumerate(lp.row_groups(m, T)):
            y[g["balance"] : g["balance"] + n] = self.p[t]
            if "agg" in g and self.phi is not None:
                y[g["agg"]] = self.phi[t]
            y[g["dyn"] : g["dyn"] + n] = -self.kappa[t]
            if "cap" in g:
                y[g["cap"] : g["cap"] + n] = -self.r[t]
        return y


@dataclass(frozen=True)
class BoundResult:
    """A certified lower bound and the plan's value of the same objective."""

    bound: float
    plan_objective: float  # the plan's value of the LP objective (same units)
    gap_proven: float | None  # (plan - bound) / plan; None when the plan is not feasible
    plan_violation: float  # worst relative violation of the LP's rows by the plan
    certificate: DualCertificate
    seconds: float
    candidates: dict[str, float]
    #: capacity built each year in the smoothed problems of the dual ascent's stages (the
    #: plans its prices point to; :mod:`gosplan.planning.multiyear.recover`), if it ran
    investments: list[np.ndarray] = field(default_factory=list)

    def for_plan(self, m: Model, w: Window, t0: int, K0: np.ndarray) -> BoundResult:
        """The same bound with the objective, violation and proven gap of plan ``w``."""
        plan_obj, viol, gap = plan_fit(_Parts(m, t0, w.xo.shape[0], K0), w, self.bound)
        return replace(self, plan_objective=plan_obj, plan_violation=viol, gap_proven=gap)


def plan_objective(parts: _Parts, w: Window) -> float:
    """Plan ``w``'s value of the LP objective (the bound's units)."""
    m = parts.m
    return float(
        sum(parts.w[t] * (m.labour @ w.xo[t] + parts.ln @ w.xn[t]) for t in range(w.xo.shape[0]))
    )


def plan_fit(parts: _Parts, w: Window, bound: float) -> tuple[float, float, float | None]:
    """Plan ``w``'s objective, its worst relative row violation, and its gap proven by
    ``bound`` (``None`` where the plan is not feasible)."""
    plan_obj = plan_objective(parts, w)
    viol = plan_violation(parts, w)
    ok = plan_obj and viol <= 1e-7 and w.status == Status.OPTIMAL
    return plan_obj, viol, (plan_obj - bound) / abs(plan_obj) if ok else None


def certified_result(
    parts: _Parts,
    w: Window,
    p: np.ndarray,
    r: np.ndarray,
    kappa: np.ndarray,
    bound: float,
    source: str,
    t_start: float,
    candidates: dict[str, float],
    investments: list[np.ndarray] | None = None,
) -> BoundResult:
    """The bound of the completed dual ``(p, r, kappa)`` with plan ``w``'s proven gap."""
    m = parts.m
    s_vec = m.s if m.s is not None else np.zeros(m.A.shape[0])
    phi = None if m.B is not None else np.array([float(s_vec @ p[t]) for t in range(len(p))])
    cert = DualCertificate(p=p, r=r, kappa=kappa, phi=phi, bound=bound, source=source)
    plan_obj, viol, gap = plan_fit(parts, w, bound)
    return BoundResult(
        investments=investments or [],
        bound=bound,
        plan_objective=plan_obj,
        gap_proven=gap,
        plan_violation=viol,
        certificate=cert,
        seconds=time.perf_counter() - t_start,
        candidates=candidates,
    )


def _weights(m: Model, t0: int, T: int) -> np.ndarray:
    return np.array([1.0 / m.able[t0 + t] if m.able is not None else 1.0 for t in range(T)])


class _Parts:
    """Everything the bound needs that does not depend on the prices."""

    def __init__(self, m: Model, t0: int, T: int, K0: np.ndarray) -> None:
        self.m, self.t0, self.T = m, t0, T
        self.K0 = np.asarray(K0, dtype=float)
        self.w = _weights(m, t0, T)
        self.y = [year_targets(m, t0 + t, margin=0.0) for t in range(T)]
        self.need = terminal_need(m, t0, T, margin=0.0)
        self.U = [m.C0 * (1.0 - m.delta) ** (t0 + t) for t in range(T)]
        self.l = m.labour
        self.ln = (1.0 - m.pi) * m.labour
        self.keep = 1.0 - m.delta

    def evaluate(
        self,
        Ap: list[np.ndarray],
        BTp: list[np.ndarray],
        py: list[float],
    ) -> tuple[float, np.ndarray, np.ndarray, bool, float]:
        """``(bound, r, kappa, feasible, magnitude)`` for prices given through
        ``Ap[t] = (I - A)ᵀ p_t``, ``BTp[t] = Bᵀ p_t`` and ``py[t] = p_t·y_t``."""
        T = self.T
        r = np.zeros((T, len(self.l)))
        kappa = np.zeros((T, len(self.l)))
        total = 0.0
        mag = 0.0
        for t in range(T):
            total += py[t]
            mag += abs(py[t])
            d_old = self.w[t] * self.l - Ap[t]
            u = _dot(np.minimum(d_old, 0.0), self.U[t])
            total += u
            mag += abs(u)
            if t == 0:
                d_new0 = self.w[0] * self.ln - Ap[0]
                u0 = _dot(np.minimum(d_new0, 0.0), self.K0)
                total += u0
                mag += abs(u0)
                kappa[0] = BTp[0]
            else:
                r[t] = np.maximum(Ap[t] - self.w[t] * self.ln, 0.0)
                kappa[t] = np.minimum(BTp[t], (kappa[t - 1] - r[t]) / self.keep)
        if np.any(kappa[T - 1] < 0):
            return -math.inf, r, kappa, False, mag
        k0 = _dot(kappa[0], self.keep * self.K0)
        kt = _dot(kappa[T - 1], self.need)
        total += kt - k0
        mag += abs(kt) + abs(k0)
        return total, r, kappa, True, mag


def _from_prices(parts: _Parts, p: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, bool, float]:
    m = parts.m
    p = np.maximum(p, 0.0)
    Ap = [p[t] - np.asarray(m.A.T @ p[t]) for t in range(parts.T)]
    BTp = [_bt(m, p[t]) for t in range(parts.T)]
    py = [_dot(p[t], parts.y[t]) for t in range(parts.T)]
    return parts.evaluate(Ap, BTp, py)


def certified_bound(
    m: Model,
    w: Window,
    t0: int,
    T: int,
    K0: np.ndarray,
    *,
    passes: int = 3,
    fixed_point_iters: int = 12,
    refine: int = 3,
    ascent_seconds: float = 3.0,
    prices: np.ndarray | None = None,
    prices_name: str = "given prices",
) -> BoundResult:
    """The best certified lower bound on the window LP's optimum from the candidates
    described in the module docstring, and the proven gap of the plan ``w``.

    One long function on purpose: its stages (price vectors, weights, supergradient
    steps, certificate) share the precomputed ``(I - A)ᵀ p``, ``Bᵀ p`` and ``p·y`` of
    every price vector, which is what keeps each trial a vector operation."""
    t_start = time.perf_counter()
    parts = _Parts(m, t0, T, K0)
    n = m.A.shape[0]
    if n > FAMILY_LIMIT and ascent_seconds > 0:
        passes, refine = min(passes, 1), 0
    wt = parts.w
    Lt = leontief_solver(m.A, transpose=True)
    v = np.asarray(Lt(m.labour, 1e-9))  # labour values, old technique
    x = w.xo + w.xn
    # sectors where the plan runs out of modern capacity: the old technique is marginal
    masks = [(x[t] > w.K[t] * (1 + 1e-9) + 1e-12).astype(float) for t in range(T)]
    pil = m.pi * m.labour
    vn = (1.0 - m.pi) * v  # labour values, modern technique
    # the basis: per year, price vectors whose non-negative combination is the dual
    basis: dict[str, np.ndarray] = {"modern": np.stack([wt[t] * vn for t in range(T)])}
    # one block solve for every year (a year without such sectors solves to zero)
    z = wt[:, None] * np.asarray(Lt(np.stack([pil * masks[t] for t in range(T)]), 1e-8))
    basis["short of modern capacity"] = z
    basis["other sectors"] = np.stack([wt[t] * (v - vn) for t in range(T)]) - z
    # scarce old capacity: where the user cost of modern capacity's capital exceeds the
    # labour it saves, the marginal unit costs c = l' + δ·Bᵀp > l; the steady-state fixed
    # point c = max(l, l' + δ Bᵀ Lᵀ c) (a few solves) gives its pattern
    c = m.labour.copy()
    for _ in range(fixed_point_iters):
        c_new = np.maximum(m.labour, parts.ln + m.delta * _bt(m, np.asarray(Lt(c, 1e-8))))
        if np.allclose(c_new, c, rtol=1e-6, atol=0.0):
            c = c_new
            break
        c = c_new
    extra = np.asarray(Lt(c - m.labour, 1e-8))
    basis["scarce old capacity"] = np.stack([wt[t] * extra for t in range(T)])
    if w.duals.shape == (T, n) and np.isfinite(w.duals).all():
        basis["LP duals"] = np.maximum(w.duals * wt[:, None], 0.0)
    if prices is not None and prices.shape == (T, n) and np.isfinite(prices).all():
        # balance prices from elsewhere (PDLP's duals): only their terminal chain needs care
        basis[prices_name] = repair_prices(parts, prices)
    names = list(basis)
    Ap = {k: [basis[k][t] - np.asarray(m.A.T @ basis[k][t]) for t in range(T)] for k in names}
    BTp = {k: [_bt(m, basis[k][t]) for t in range(T)] for k in names}
    py = {k: [_dot(basis[k][t], parts.y[t]) for t in range(T)] for k in names}
    theta = {k: np.zeros(T) for k in names}

    def value(th: dict[str, np.ndarray]) -> float:
        a = [sum(th[k][t] * Ap[k][t] for k in names) for t in range(T)]
        b = [sum(th[k][t] * BTp[k][t] for k in names) for t in range(T)]
        c = [sum(th[k][t] * py[k][t] for k in names) for t in range(T)]
        return parts.evaluate(a, b, c)[0]

    cand: dict[str, float] = {}
    starts = {
        "modern technique": {"modern": 1.0},
        "marginal technique of the plan": {"modern": 1.0, "short of modern capacity": 1.0},
        "old technique": {"modern": 1.0, "short of modern capacity": 1.0, "other sectors": 1.0},
        "scarce old capacity": {
            "modern": 1.0,
            "short of modern capacity": 1.0,
            "other sectors": 1.0,
            "scarce old capacity": 1.0,
        },
    }
    if "LP duals" in basis:
        starts["LP duals"] = {"LP duals": 1.0}
    if prices_name in basis:
        starts[prices_name] = {prices_name: 1.0}
    best_v = -math.inf
    best_name = "modern technique"
    for name, st in starts.items():
        th = {k: np.full(T, st.get(k, 0.0)) for k in names}
        val = value(th)
        if not math.isfinite(val):
            # rents above what capacity is worth somewhere (or rounding in the LP's duals):
            # mix in the modern-technique prices (no rents) until the chain holds
            lo_, hi_ = 0.0, 1.0
            for _ in range(30):
                mid = 0.5 * (lo_ + hi_)
                trial = {k: (1 - mid) * th[k] + (mid if k == "modern" else 0.0) for k in names}
                if math.isfinite(value(trial)):
                    hi_ = mid
                else:
                    lo_ = mid
            th = {k: (1 - hi_) * th[k] + (hi_ if k == "modern" else 0.0) for k in names}
            val = value(th)
        cand[name] = val
        if val > best_v:
            best_v, best_name, theta = val, name, th

    def ascend(keys: list[str], best_v: float, npass: int) -> float:
        """Coordinate ascent on the weights of ``keys`` (the bound is concave in them).

        The combined vectors are kept as running sums, so trying a weight costs one
        vector update and one evaluation, not a sum over every price vector."""
        a = [sum(theta[k][t] * Ap[k][t] for k in names) for t in range(T)]
        b = [sum(theta[k][t] * BTp[k][t] for k in names) for t in range(T)]
        c = [sum(theta[k][t] * py[k][t] for k in names) for t in range(T)]
        for _ in range(npass):
            before = best_v
            for k in keys:
                for t in range(T):
                    old = theta[k][t]
                    a_t, b_t, c_t = a[t], b[t], c[t]

                    def f(
                        s_: float,
                        k: str = k,
                        t: int = t,
                        old: float = old,
                        a_t: np.ndarray = a_t,
                        b_t: np.ndarray = b_t,
                        c_t: float = c_t,
                    ) -> float:
                        a[t] = a_t + (s_ - old) * Ap[k][t]
                        b[t] = b_t + (s_ - old) * BTp[k][t]
                        c[t] = c_t + (s_ - old) * py[k][t]
                        out = parts.evaluate(a, b, c)[0]
                        a[t], b[t], c[t] = a_t, b_t, c_t
                        return out

                    hi = max(1.5, 2.0 * old)
                    arg, val = _golden(f, 0.0, hi)
                    for _ in range(3):  # the best weight may lie beyond the bracket
                        if arg < 0.9 * hi:
                            break
                        hi *= 4.0
                        arg, val = _golden(f, 0.0, hi)
                    if val > best_v:
                        theta[k][t] = arg
                        best_v = val
                        a[t] = a_t + (arg - old) * Ap[k][t]
                        b[t] = b_t + (arg - old) * BTp[k][t]
                        c[t] = c_t + (arg - old) * py[k][t]
            if best_v - before <= 1e-10 * abs(best_v):
                break
        return best_v

    cand["seconds: price vectors"] = time.perf_counter() - t_start
    best_v = ascend(names, best_v, passes)
    cand["seconds: weights"] = time.perf_counter() - t_start
    if refine:
        L = leontief_solver(m.A)
        xhat = [np.asarray(L(parts.y[t], 1e-8)) for t in range(T)]
    for rnd in range(refine):
        # one supergradient step per year, in the space of marginal costs c_t, as a new
        # price vector whose weights the ascent then sets
        a = [sum(theta[k][t] * Ap[k][t] for k in names) for t in range(T)]
        b_ = [sum(theta[k][t] * BTp[k][t] for k in names) for t in range(T)]
        grads = _supergradient(parts, a, b_, xhat, L)
        key = f"supergradient step {rnd + 1}"
        vecs = []
        for t in range(T):
            d = grads[t]
            rel = np.abs(d) / np.maximum(m.labour, 1e-300)
            top = float(np.quantile(rel[rel > 0], 0.9)) if np.any(rel > 0) else 0.0
            d = d * (0.2 / top) if top > 0 else d
            # clipped at zero: every basis vector, and so every combination, is a
            # non-negative price vector (the balance rows are ">=" rows)
            vecs.append(wt[t] * np.maximum(np.asarray(Lt(d, 1e-8)), 0.0))
        basis[key] = np.stack(vecs)
        Ap[key] = [basis[key][t] - np.asarray(m.A.T @ basis[key][t]) for t in range(T)]
        BTp[key] = [_bt(m, basis[key][t]) for t in range(T)]
        py[key] = [_dot(basis[key][t], parts.y[t]) for t in range(T)]
        theta[key] = np.zeros(T)
        names.append(key)
        before = best_v
        best_v = ascend([key], best_v, 2)
        if best_v - before <= 1e-7 * abs(best_v):
            break
    cand["seconds: supergradient steps"] = time.perf_counter() - t_start
    p = np.stack([sum(theta[k][t] * basis[k][t] for k in names) for t in range(T)])
    bound, r, kappa, ok, mag = _from_prices(parts, p)  # recomputed from p itself
    source = f"{best_name}, weights optimised" if best_v > cand[best_name] else best_name
    cand["optimised"] = bound
    plan_obj = plan_objective(parts, w)
    # the ascent only where it can matter: not when the plan is already proven optimal
    # (an LP method's own duals prove ~1e-6)
    tight = plan_obj and (plan_obj - bound) <= ASCENT_SKIP * abs(plan_obj)
    investments: list[np.ndarray] = []
    if ascent_seconds > 0 and ok and not tight:
        asc = smoothed_ascent(
            m, parts, p, lambda q: _from_prices(parts, q)[0], time_budget=ascent_seconds
        )
        cand["smoothed dual ascent"] = asc.value
        cand["seconds: smoothed dual ascent"] = asc.seconds
        for st in asc.stages:
            cand[f"ascent stage tau={st['tau']:g} ({st['nit']:.0f} it, {st['t']:.1f} s)"] = st[
                "bound"
            ]
        investments = asc.investments
        if asc.value > bound:
            p = asc.p
            bound, r, kappa, ok, mag = _from_prices(parts, p)
            source = f"{source}, then smoothed dual ascent"
    if not ok:  # rounding broke the chain somewhere: mix in modern-technique prices
        lo_, hi_ = 0.0, 1.0
        for _ in range(30):
            mid = 0.5 * (lo_ + hi_)
            if _from_prices(parts, (1 - mid) * p + mid * basis["modern"])[3]:
                hi_ = mid
            else:
                lo_ = mid
        p = (1 - hi_) * p + hi_ * basis["modern"]
        bound, r, kappa, ok, mag = _from_prices(parts, p)
    bound = bound - ROUNDING * mag
    return certified_result(parts, w, p, r, kappa, bound, source, t_start, cand, investments)


def _supergradient(
    parts: _Parts,
    Ap: list[np.ndarray],
    BTp: list[np.ndarray],
    xhat: list[np.ndarray],
    L: Callable[..., np.ndarray],
) -> list[np.ndarray]:
    """A supergradient of the bound in the marginal costs ``c_t = (I - A)ᵀ p_t / w_t``:
    the Lagrangian's excess demand — gross output for the targets ``L y_t`` plus the
    output behind the capacity the chain values ``L B e_t``, less old capacity where it
    is scarce and modern capacity where it earns a rent."""
    T = parts.T
    n = len(parts.l)
    w = parts.w
    keep = parts.keep
    kappa = np.zeros((T, n))
    last_build = np.zeros(n, dtype=np.int64)  # last year whose build cost caps κ
    rents_on = np.zeros((T, n), dtype=bool)
    for t in range(T):
        if t == 0:
            kappa[0] = BTp[0]
            continue
        r = np.maximum(Ap[t] - w[t] * parts.ln, 0.0)
        rents_on[t] = r > 0
        carried = (kappa[t - 1] - r) / keep
        build = BTp[t] <= carried
        kappa[t] = np.where(build, BTp[t], carried)
        last_build[build] = t
    grads = []
    for t in range(T):
        c = Ap[t] / w[t]
        g = xhat[t] - np.where(c > parts.l * (1 + 1e-12), parts.U[t], 0.0)
        if t == 0:
            g = g - np.where(c > parts.ln * (1 + 1e-12), parts.K0, 0.0)
        else:
            active = rents_on[t] & (t > last_build)
            g = g - np.where(active, parts.need * keep ** (-(T - t)), 0.0)
        e = np.where(last_build == t, parts.need * keep ** (-(T - 1 - t)), 0.0)
        if e.any():
            g = g + np.asarray(L(_bt_goods(parts.m, e), 1e-8))
        grads.append(w[t] * g)
    return grads


def plan_violation(parts: _Parts, w: Window) -> float:
    """Worst relative violation, by the plan, of the rows of the LP without margins
    (balances, old and modern capacity, terminal capacity); 0 for a feasible plan."""
    m = parts.m
    worst = 0.0
    T = parts.T
    K = np.asarray(parts.K0, dtype=float).copy()
    for t in range(T):
        x = w.xo[t] + w.xn[t]
        goods = _bt_goods(m, w.g[t])
        net = x - np.asarray(m.A @ x) - goods
        scale = np.maximum(np.maximum(parts.y[t], m.C0), 1e-300)
        worst = max(worst, float(np.max((parts.y[t] - net) / scale)))
        worst = max(worst, float(np.max((w.xo[t] - parts.U[t]) / np.maximum(parts.U[t], 1e-300))))
        worst = max(worst, float(np.max((w.xn[t] - K) / np.maximum(m.C0, 1e-300))))
        worst = max(
            worst, float(-min(0.0, float(w.xo[t].min()), float(w.xn[t].min()), float(w.g[t].min())))
        )
        K = parts.keep * K + w.g[t]
    worst = max(worst, float(np.max((parts.need - K) / np.maximum(m.C0, 1e-300))))
    return max(worst, 0.0)


def _bt_goods(m: Model, g: np.ndarray) -> np.ndarray:
    """Capital goods ``B g`` used to build ``g``."""
    if m.B is not None:
        return np.asarray(m.B @ g)
    s = m.s if m.s is not None else np.zeros_like(g)
    kap = m.kappa if m.kappa is not None else np.zeros_like(g)
    return s * float(kap @ g)


def weak_dual_value(lp: WindowLP, y: np.ndarray) -> tuple[float, float, float]:
    """Independent check: ``(value, worst row-sign violation, worst reduced-cost violation)``
    of the generic weak-duality bound of ``lp`` at row duals ``y``."""
    finite_lo = np.isfinite(lp.rlo)
    finite_hi = np.isfinite(lp.rhi)
    row_viol = float(
        max(
            np.max(np.where(~finite_lo, np.maximum(y, 0.0), 0.0), initial=0.0),
            np.max(np.where(~finite_hi, np.maximum(-y, 0.0), 0.0), initial=0.0),
        )
    )
    d = lp.cost - np.asarray(lp.A.T @ y)
    col_viol = float(
        max(
            np.max(np.where(~np.isfinite(lp.hi), np.maximum(-d, 0.0), 0.0), initial=0.0),
            np.max(np.where(~np.isfinite(lp.lo), np.maximum(d, 0.0), 0.0), initial=0.0),
        )
    )
    val = float(
        np.sum(
            np.where(
                y > 0, y * np.where(finite_lo, lp.rlo, 0.0), y * np.where(finite_hi, lp.rhi, 0.0)
            )
        )
    )
    val += float(
        np.sum(
            np.where(
                d > 0,
                d * np.where(np.isfinite(lp.lo), lp.lo, 0.0),
                d * np.where(np.isfinite(lp.hi), lp.hi, 0.0),
            )
        )
    )
    return val, row_viol, col_viol
