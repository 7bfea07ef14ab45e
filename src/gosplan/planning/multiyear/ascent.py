"""Smoothed dual ascent: the balance prices of the certified bound raised by a
quasi-Newton method on a smoothed copy of the bound, from the best prices the
price families of :mod:`gosplan.planning.multiyear.bound` found.

The certified bound is a concave, piecewise-linear function ``D(p)`` of the
balance prices ``p_t >= 0`` (years × products): its kinks are the ``max`` and
``min`` of the closed-form completion (old capacity's scarcity rent
``(c_t - l)⁺``, modern capacity's rent ``(c_t - l')⁺`` and the value of
capacity ``κ_t = min(Bᵀ p_t, (κ_{t-1} - r_t) / (1 - δ))``, with
``c_t = (I - A)ᵀ p_t / w_t``).  Replacing each ``(·)⁺`` by its Huber
smoothing and each ``min(a, b)`` by ``b - huber(b - a)`` (the Moreau envelope
of width ``τ``, relative to each product's labour: a quadratic near the kink,
no transcendental function) gives a smooth concave function within ``O(τ)`` of
``D``; a projected L-BFGS maximises it
over ``p >= 0``, for a decreasing sequence of ``τ``, each stage warm-started
from the last.  Every evaluation costs four sparse products with a block of
``T`` columns (``Aᵀ P``, ``Bᵀ P`` forward, ``A G``, ``B G`` for the gradient) and
vector operations: no linear solve, no LP.

Nothing of the bound's rigour rests on the smoothing: after each stage the
prices are evaluated by the exact ``D`` (:func:`certified_bound`'s own
completion), and the best exact value is kept.  The smoothing only decides
where to look.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import scipy.sparse as sp

from gosplan.planning.multiyear.model import Model

#: widths of the smoothing, relative to each product's labour, stage by stage
TAUS = (3e-3, 1e-3, 3e-4, 1e-4, 3e-5)
#: old capacity the smoothed problem holds back (first year, later years): the bound
#: stays exact (every price is evaluated on the true LP), the plan it points to fits
TIGHTEN = (0.01, 0.003)


@dataclass
class AscentResult:
    """Prices found by :func:`smoothed_ascent` and what each stage reached."""

    p: np.ndarray  # years × products, the best prices by the exact bound
    value: float  # exact D(p) (before any rounding allowance)
    start: float  # exact D of the starting prices
    stages: list[dict[str, float]] = field(default_factory=list)
    evaluations: int = 0
    seconds: float = 0.0
    #: capacity built each year (years × products) in each stage's smoothed problem at
    #: the stage's own prices and width: the primal the dual points to (for
    #: :mod:`gosplan.planning.multiyear.recover`), last stage first
    investments: list[np.ndarray] = field(default_factory=list)  # one per stage


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """``a·b`` without BLAS: on a shared, loaded machine OpenBLAS's threads spin and a
    dot product of 10⁵ numbers can take milliseconds instead of microseconds."""
    return float(np.einsum("i,i->", a, b))


def _huber(x: np.ndarray, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(h, h')``: the Moreau envelope of ``max(x, 0)`` of width ``tau`` (0 below 0,
    ``x²/2τ`` up to ``τ``, ``x - τ/2`` above) and its slope ``clip(x/τ, 0, 1)``:
    convex, smooth, within ``τ/2`` of ``max(x, 0)``, and no transcendental function."""
    d = np.clip(x / tau, 0.0, 1.0)
    return d * (x - 0.5 * d * tau), d


class _Smoothed:
    """The smoothed bound and its gradient in the prices (see the module docstring)."""

    def __init__(self, m: Model, parts: Any, tighten: tuple[float, float] = (0.0, 0.0)) -> None:
        self.T = parts.T
        self.w = np.asarray(parts.w, dtype=float)
        self.l = parts.l
        self.ln = parts.ln
        self.keep = parts.keep
        # old capacity tightened by tighten[0] in the first year and tighten[1] after:
        # the investments the smoothed problem then chooses leave room for the small
        # violations a not quite converged dual leaves in its plan
        self.U = (
            np.stack(parts.U)
            * (1.0 - np.where(np.arange(self.T) == 0, tighten[0], tighten[1]))[:, None]
        )
        self.need = parts.need
        self.Y = np.stack(parts.y)
        self.K0 = np.asarray(parts.K0, dtype=float)
        self.A = sp.csr_array(m.A)
        self.AT = sp.csr_array(m.A.T)
        n = m.A.shape[0]
        self.B = sp.csr_array(m.B) if m.B is not None else None
        self.BT = sp.csr_array(m.B.T) if m.B is not None else None
        # aggregate form B = s κᵀ
        self._s = m.s if m.s is not None else np.zeros(n)
        self._kap = m.kappa if m.kappa is not None else np.zeros(n)
        # a steep penalty keeps the terminal value of capacity at or above zero
        self.M = 100.0 * float(np.max(self.need, initial=0.0)) + 1.0
        self.evaluations = 0
        self.investment = np.zeros(0)

    def _bt(self, P: np.ndarray) -> np.ndarray:
        if self.BT is not None:
            return np.asarray((self.BT @ P.T).T)
        return np.outer(P @ self._s, self._kap)

    def _b(self, G: np.ndarray) -> np.ndarray:
        if self.B is not None:
            return np.asarray((self.B @ G.T).T)
        return np.outer(G @ self._kap, self._s)

    def __call__(self, pf: np.ndarray, tau: float) -> tuple[float, np.ndarray]:
        """``(-value, -gradient)`` of the smoothed bound at flattened prices ``pf``."""
        self.evaluations += 1
        T, w, l, ln, keep = self.T, self.w, self.l, self.ln, self.keep  # noqa: E741
        P = pf.reshape(T, -1)
        C = (P - np.asarray((self.AT @ P.T).T)) / w[:, None]
        cap = self._bt(P)
        val = _dot(P.ravel(), self.Y.ravel())
        gc = np.zeros_like(C)
        tl = tau * l
        for t in range(T):
            h, d = _huber(C[t] - l, tl)
            val -= w[t] * _dot(self.U[t], h)
            gc[t] -= w[t] * self.U[t] * d
        if self.K0.any():  # first-year modern capacity: min(0, w l' - c) K0
            h, d = _huber(C[0] - ln, tl)
            val -= w[0] * _dot(self.K0, h)
            gc[0] -= w[0] * self.K0 * d
        # κ_t = min(cap_t, b_t) smoothed as b_t - huber(b_t - cap_t)
        kap = [cap[0]]
        sa_l: list[np.ndarray] = [np.zeros(0)]
        dr_l: list[np.ndarray] = [np.zeros(0)]
        for t in range(1, T):
            r, dr = _huber(C[t] - ln, tl)
            b = (kap[-1] - w[t] * r) / keep
            h, d = _huber(b - cap[t], tau * w[t] * l)
            kap.append(b - h)
            sa_l.append(d)  # ∂κ_t/∂cap_t; ∂κ_t/∂b_t = 1 - d
            dr_l.append(dr)
        kT = kap[-1]
        # the exact chain runs below the smoothed one by up to about T widths: keep a
        # margin of that much above zero
        margin = 2.0 * T * tau * w[-1] * l / keep**T
        h, d = _huber(margin - kT, tau * w[-1] * l)
        val += _dot(self.need, kT) - self.M * float(np.sum(h))
        gk = self.need + self.M * d
        gcap = np.zeros_like(C)
        for t in range(T - 1, 0, -1):
            gcap[t] += gk * sa_l[t]
            ga = gk * (1.0 - sa_l[t])
            gc[t] -= ga / keep * w[t] * dr_l[t]
            gk = ga / keep
        gcap[0] += gk
        if self.K0.any():
            val -= _dot(kap[0], keep * self.K0)
            gcap[0] -= keep * self.K0
        self.investment = gcap  # the smoothed problem's capacity built, year by year
        gcw = gc / w[:, None]
        gP = self.Y + gcw - np.asarray((self.A @ gcw.T).T) + self._b(gcap)
        return -val, -gP.ravel()


def _golden(f: Callable[[float], float], lo: float, hi: float, it: int = 12) -> tuple[float, float]:
    """``(argmax, max)`` of a concave ``f`` on ``[lo, hi]`` (``-inf`` allowed)."""
    g = (math.sqrt(5) - 1) / 2
    a, b = lo, hi
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = f(c), f(d)
    for _ in range(it):
        if fc >= fd:
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = f(d)
    pts = [(fc, c), (fd, d), (f(lo), lo), (f(hi), hi)]
    val, arg = max(pts, key=lambda z: z[0])
    return arg, val


def _lbfgs(
    fun: Callable[[np.ndarray], tuple[float, np.ndarray]],
    x0: np.ndarray,
    *,
    maxiter: int,
    deadline: float,
    memory: int = 10,
) -> tuple[np.ndarray, int]:
    """Minimise ``fun`` (value, gradient) over ``x >= 0`` by L-BFGS with the step
    projected onto the orthant and an Armijo backtracking search: the two-loop
    recursion in numpy (O(memory · size) a step; scipy's L-BFGS-B spends more on its
    bounded subproblem than the function costs here).  Returns ``(x, iterations)``."""
    x = np.maximum(x0, 0.0)
    f, g = fun(x)
    S: list[np.ndarray] = []
    Yl: list[np.ndarray] = []
    it = 0
    for it in range(1, maxiter + 1):  # noqa: B007
        if time.perf_counter() > deadline:
            break
        q = g.copy()
        alphas = []
        for s_, y_ in zip(reversed(S), reversed(Yl), strict=True):
            rho = 1.0 / _dot(y_, s_)
            a_ = rho * _dot(s_, q)
            alphas.append((rho, a_))
            q -= a_ * y_
        if S:
            q *= _dot(S[-1], Yl[-1]) / _dot(Yl[-1], Yl[-1])
        else:
            q *= 1e-3 * max(float(np.abs(x).max()), 1e-300) / max(float(np.abs(g).max()), 1e-300)
        for s_, y_, (rho, a_) in zip(S, Yl, reversed(alphas), strict=True):
            b_ = rho * _dot(y_, q)
            q += (a_ - b_) * s_
        d = -q
        if _dot(g, d) >= 0:  # not a descent direction: start the memory again
            S.clear()
            Yl.clear()
            d = (
                -g
                * 1e-3
                * max(float(np.abs(x).max()), 1e-300)
                / max(float(np.abs(g).max()), 1e-300)
            )
        step = 1.0
        for _ in range(30):
            xn = np.maximum(x + step * d, 0.0)
            fn, gn = fun(xn)
            if fn <= f + 1e-4 * _dot(g, xn - x):
                break
            step *= 0.5
        else:
            break
        s_new, y_new = xn - x, gn - g
        if _dot(s_new, y_new) > 1e-12 * math.sqrt(_dot(s_new, s_new) * _dot(y_new, y_new)):
            S.append(s_new)
            Yl.append(y_new)
            if len(S) > memory:
                S.pop(0)
                Yl.pop(0)
        converged = abs(f - fn) <= 1e-12 * max(abs(f), 1e-300)
        x, f, g = xn, fn, gn
        if converged:
            break
    return x, it


def smoothed_ascent(
    m: Model,
    parts: Any,
    p0: np.ndarray,
    exact: Callable[[np.ndarray], float],
    *,
    time_budget: float,
    taus: tuple[float, ...] = TAUS,
    stage_iters: int = 1500,
    tighten: tuple[float, float] = TIGHTEN,
) -> AscentResult:
    """Raise the bound from prices ``p0`` for at most ``time_budget`` seconds.

    ``exact(p) -> float`` is the exact bound of prices ``p`` (``-inf`` where the
    value of capacity would end below zero); the best prices by it are returned."""
    t_start = time.perf_counter()
    f = _Smoothed(m, parts, tighten)
    T = f.T
    best_p = np.maximum(np.asarray(p0, dtype=float), 0.0)
    start = float(exact(best_p))
    best_v = start
    stages: list[dict[str, float]] = []
    investments: list[np.ndarray] = []
    p = best_p.copy()
    for tau in taus:
        left = time_budget - (time.perf_counter() - t_start)
        if left <= 0:
            break
        deadline = time.perf_counter() + left
        x, nit = _lbfgs(partial(f, tau=tau), p.ravel(), maxiter=stage_iters, deadline=deadline)
        p = x.reshape(T, -1)
        f(x, tau)
        investments.insert(0, np.maximum(f.investment, 0.0).copy())
        v = float(exact(p))
        if not math.isfinite(v):
            # the value of capacity ends below zero somewhere: the best point on the
            # segment from the best prices so far (the exact bound is concave on it)
            base = best_p

            def on_segment(s_: float, base: np.ndarray = base, p: np.ndarray = p) -> float:
                return float(exact((1.0 - s_) * base + s_ * p))

            s_best, v = _golden(on_segment, 0.0, 1.0, it=20)
            p = (1.0 - s_best) * base + s_best * p
        stages.append(
            {"tau": tau, "bound": v, "nit": float(nit), "t": time.perf_counter() - t_start}
        )
        if math.isfinite(v) and v > best_v:
            best_v, best_p = v, p.copy()
    return AscentResult(
        investments=investments,
        p=best_p,
        value=best_v,
        start=start,
        stages=stages,
        evaluations=f.evaluations,
        seconds=time.perf_counter() - t_start,
    )


def _bt(m: Model, p: np.ndarray) -> np.ndarray:
    """``Bᵀ p`` (explicit capital coefficients or the aggregate form ``κ (s·p)``)."""
    if m.B is not None:
        return np.asarray(m.B.T @ p)
    kap = m.kappa if m.kappa is not None else np.zeros_like(p)
    s = m.s if m.s is not None else np.zeros_like(p)
    return kap * float(s @ p)


def _chain(parts: Any, P: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(r, kappa, last)`` of prices ``P``: the rents and capacity values of the exact
    completion, and per product the last year whose build cost caps ``kappa``."""
    m, T = parts.m, parts.T
    n = len(parts.l)
    r = np.zeros((T, n))
    kappa = np.zeros((T, n))
    last = np.zeros(n, dtype=np.int64)
    kappa[0] = _bt(m, P[0])
    for t in range(1, T):
        r[t] = np.maximum(P[t] - np.asarray(m.A.T @ P[t]) - parts.w[t] * parts.ln, 0.0)
        carried = (kappa[t - 1] - r[t]) / parts.keep
        cap = _bt(m, P[t])
        build = cap <= carried
        kappa[t] = np.where(build, cap, carried)
        last[build] = t
    return r, kappa, last


def repair_prices(parts: Any, P: np.ndarray, rounds: int = 30) -> np.ndarray:
    """Prices ``P`` (years × products) lowered where the value of terminal capacity
    would end below zero, so that the exact completion gives a finite bound.

    Prices from an approximate solver (PDLP's duals) meet the LP's reduced-cost
    conditions only to its tolerance: for a few products the rents of modern
    capacity after the last year it pays to build add up to more than the capacity
    costs, and the value of terminal capacity ends slightly below zero (the bound
    would be ``-inf``).  For each such product the rents are cut, latest year first,
    by lowering its own price in those years (which lowers its marginal cost one for
    one; the products that use it as an input move by ``A``'s small entries, so a few
    rounds settle it).  Any non-negative prices remain a valid start: the bound is
    evaluated exactly afterwards."""
    P = np.maximum(np.asarray(P, dtype=float), 0.0).copy()
    T, keep = parts.T, parts.keep
    for _ in range(rounds):
        r, kappa, last = _chain(parts, P)
        short = np.maximum(-kappa[T - 1], 0.0)
        if not short.any():
            break
        # raise κ_{T-1} by the shortfall and a hair more
        need = short * (1.0 + 1e-6) + 1e-9 * parts.w[T - 1] * parts.l
        for t in range(T - 1, 0, -1):
            f = keep ** (-(T - t))  # lowering r_t by Δ raises κ_{T-1} by Δ f
            take = np.where(t > last, np.minimum(r[t], need / f), 0.0)
            P[t] = np.maximum(P[t] - take, 0.0)
            need = need - take * f
    return P
