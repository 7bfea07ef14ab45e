"""Harmony: an iterative, O(nonzeros)-per-iteration plan balancer for very large plans.

After W. P. Cockshott's "harmony" planning (Cockshott 1990, "Application of
artificial intelligence techniques to economic planning", Future Computing
Systems 2(4), http://www.dcs.gla.ac.uk/~wpc/reports/plan_with_AIT.html;
Cockshott & Cottrell, *Towards a New Socialism*, 1993, ch. 3, pp. 94–99):
industries are expanded or contracted according to the marginal gain in
*harmony*, a concave function of each limit's fulfilment that punishes a
shortfall much more than it rewards a surplus,

    h(s) = log(1 + s)      for s >= 0  (surplus: flat)
    h(s) = s - s**2 / 2    for s <  0  (shortfall: steep)

where ``s`` is the relative surplus of a limit (resource, labour, capacity).

What this implementation does (our own arrangement of that idea, stated so
it can be checked):

1. Every technique must make one product.  For each product the plan keeps
   *shares* ``α`` over the techniques that make it.
2. Given the shares, the plan is **balanced exactly** along the plan ray by the
   sparse Leontief solve of :mod:`gosplan.core.linsolve` (LU for published
   tables, the Jacobi series — one mat-vec per sweep, warm-started — for
   large ones).  So every iterate delivers its targets exactly; nothing is
   left short.
3. Valuations ``v = v A(α) + l + p·R`` (labour plus priced limits) are solved
   the same way; each technique's full unit cost at those valuations is
   compared with the valuation of its product, and shares move toward the
   cheaper techniques multiplicatively (the marginal comparison of the
   harmony method).
4. Prices ``p`` of the limits move with the harmony function of their
   surplus: steeply up when a limit is overdrawn, slowly down when it is
   slack.  For ``assortment`` the number of bundles is the largest scale of
   the balanced plan that fits every limit.

The best feasible iterate is returned, with ``nit`` and, when asked for
(``reference=``), the gap to the exact LP optimum.  For one technique per
product and no limits this is exact after one step (the non-substitution
theorem); with binding limits it is a heuristic whose gap is measured, not
assumed (see ``benchmarks/bench_planning.py`` and the tests).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gosplan.core.linsolve import solve_leontief
from gosplan.core.result import Status
from gosplan.errors import ValidationError
from gosplan.planning.problem import PlanProblem
from gosplan.planning.result import PlanResult, assemble, gap


def harmony_function(s: np.ndarray) -> np.ndarray:
    """Cockshott's asymmetric harmony of a relative surplus ``s`` (module docstring)."""
    s = np.asarray(s, dtype=float)
    out = np.empty_like(s)
    pos = s >= 0
    out[pos] = np.log1p(s[pos])
    neg = ~pos
    out[neg] = s[neg] - 0.5 * s[neg] ** 2
    return out


def _single_output(problem: PlanProblem, *, strict: bool) -> tuple[np.ndarray, np.ndarray]:
    """For each technique: the product it makes (-1 if several) and how much per unit."""
    O = sp.csc_array(problem.O)  # noqa: E741
    counts = np.diff(O.indptr)
    prod_of = np.full(O.shape[1], -1, dtype=np.int64)
    out = np.zeros(O.shape[1])
    one = counts == 1
    prod_of[one] = O.indices[O.indptr[:-1][one]]
    out[one] = O.data[O.indptr[:-1][one]]
    if strict:
        bad = np.flatnonzero(~one)
        if len(bad):
            raise ValidationError(
                f"harmony needs every technique to make exactly one product; technique "
                f"{problem.technique_names[bad[0]]!r} makes {counts[bad[0]]}. Use method='lp' "
                "or 'pdlp' for joint production."
            )
        have = np.zeros(problem.n_products, dtype=bool)
        have[prod_of[one]] = True
        if not have.all():
            i = int(np.flatnonzero(~have)[0])
            raise ValidationError(f"harmony: no technique makes product {problem.products[i]!r}.")
    return prod_of, out


class _Composite:
    """The one-product-per-column technology implied by shares ``α``."""

    def __init__(self, problem: PlanProblem, prod_of: np.ndarray, out: np.ndarray) -> None:
        self.problem = problem
        self.prod_of = prod_of
        self.out = out
        n_t = problem.n_techniques
        # inputs per unit intensity (products): O - N
        self.Inp = sp.csc_array(problem.O - problem.N)
        self.P = sp.csr_array(
            (np.ones(n_t), (np.arange(n_t), prod_of)), shape=(n_t, problem.n_products)
        )

    def matrices(self, alpha: np.ndarray) -> tuple[Any, np.ndarray]:
        """``A(α)`` (products × products) and the per-unit scale ``α / o`` of techniques."""
        scale = alpha / self.out
        A = sp.csr_array(self.Inp @ sp.diags_array(scale) @ self.P)
        return A, scale

    def intensities(self, y: np.ndarray, scale: np.ndarray) -> np.ndarray:
        return scale * y[self.prod_of]


def _leontief(A: Any, b: np.ndarray, x0: np.ndarray | None, tol: float) -> np.ndarray:
    """``(I - A) x = b`` by the Jacobi series warm-started at ``x0`` (one sparse mat-vec
    per sweep), falling back to the library's ``auto`` choice if the series stalls."""
    res = solve_leontief(A, b, method="jacobi", tol=tol, x0=x0, maxiter=5000)
    if not res.success:
        res = solve_leontief(A, b, method="auto", tol=tol, x0=x0)
    if not res.success:
        raise ArithmeticError(res.message or "Leontief solve failed")
    return np.asarray(res.x)


def _argmin_by_product(k: np.ndarray, prod_of: np.ndarray, n_p: int) -> np.ndarray:
    """For each product, the technique with the least ``k`` (ties: the lower index)."""
    order = np.lexsort((k, prod_of))
    first = np.ones(len(order), dtype=bool)
    first[1:] = prod_of[order][1:] != prod_of[order][:-1]
    pick = np.full(n_p, -1, dtype=np.int64)
    pick[prod_of[order[first]]] = order[first]
    return pick


def harmony(
    problem: PlanProblem,
    *,
    maxiter: int = 300,
    tol: float = 1e-7,
    patience: int = 40,
    step: float = 0.5,
    inner: int = 3,
    solve_tol: float = 1e-12,
    reference: PlanResult | None = None,
    callback: Callable[[int, float], Any] | None = None,
) -> PlanResult:
    """Balance ``problem`` by the harmony iteration (module docstring).

    Each iteration: choose for every product its cheapest technique at the
    current valuations (``inner`` rounds of policy improvement, each one
    sparse Leontief solve for valuations), balance the plan exactly, average
    it with the earlier plans (mixtures of techniques emerge from the
    average), and move the prices of the limits by the harmony of their
    surplus.  Stops after ``maxiter`` iterations or when the best feasible
    objective has not improved by ``tol`` (relative) for ``patience``
    iterations.  ``callback(nit, objective)`` may raise ``StopIteration``.
    Supports ``min_labour`` and ``assortment``.
    """
    if problem.objective not in ("min_labour", "assortment"):
        raise ValidationError(
            f"harmony supports the 'min_labour' and 'assortment' objectives; got "
            f"{problem.objective!r}. Use method='lp' or 'pdlp'."
        )
    t0 = time.perf_counter()
    prod_of, out = _single_output(problem, strict=True)
    comp = _Composite(problem, prod_of, out)
    n_t = problem.n_techniques
    n_p = problem.n_products
    t = problem.targets
    if not (t > 0).any():
        raise ValidationError("harmony: the problem has no positive targets.")
    assort = problem.objective == "assortment"
    # limits: resources, labour (assortment only), capacities of capped techniques
    capped = np.flatnonzero(np.isfinite(problem.upper))
    blocks = [sp.csr_array(problem.R)]
    amounts = [problem.amounts]
    names = list(problem.resource_names)
    if assort and problem.labour_limit is not None:
        blocks.append(sp.csr_array(problem.labour[None, :]))
        amounts.append(np.array([problem.labour_limit]))
        names.append("labour")
    if len(capped):
        blocks.append(
            sp.csr_array(
                (np.ones(len(capped)), (np.arange(len(capped)), capped)), shape=(len(capped), n_t)
            )
        )
        amounts.append(problem.upper[capped])
        names.extend(f"capacity of {problem.technique_names[j]}" for j in capped)
    Lim = sp.vstack(blocks, format="csr")
    b = np.concatenate(amounts)
    n_l = Lim.shape[0]
    if assort and n_l == 0:
        raise ValidationError(
            "The 'assortment' objective needs a limit: give resources or a labour limit."
        )
    LimT = sp.csr_array(Lim.T)
    InpT = sp.csr_array(comp.Inp.T)
    bsafe = np.maximum(b, 1e-300)
    lw = 1.0 if not assort else (0.0 if problem.labour_limit is not None else 1e-12)
    state: dict[str, Any] = {"y": None, "v": None}

    def plan_for(choice: np.ndarray) -> tuple[np.ndarray, Any]:
        alpha = np.zeros(n_t)
        alpha[choice] = 1.0
        A, scale = comp.matrices(alpha)
        y = _leontief(A, t, state["y"], solve_tol)
        state["y"] = y
        return comp.intensities(y, scale), A

    def best_response(choice: np.ndarray, cost_t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        v = np.zeros(n_p)
        for _ in range(max(inner, 1)):
            alpha = np.zeros(n_t)
            alpha[choice] = 1.0
            A, _ = comp.matrices(alpha)
            c_prod = cost_t[choice] / out[choice]
            v = _leontief(sp.csr_array(A.T), c_prod, state["v"], solve_tol)
            state["v"] = v
            k = (cost_t + InpT @ v) / out
            pick = _argmin_by_product(k, prod_of, n_p)
            better = k[pick] < k[choice] * (1.0 - 1e-12)
            if not better.any():
                break
            choice = np.where(better, pick, choice)
        return choice, v

    # start: the least-labour technique of every product
    choice = _argmin_by_product(problem.labour / out, prod_of, n_p)
    if assort:
        p = 1.0 / bsafe / n_l
    else:
        p = np.zeros(n_l)
    # price steps (min_labour): bounded by the labour a limit could save per unit
    if n_l and not assort:
        ratio = np.zeros(n_l)
        L_csr = sp.csr_array(Lim)
        for r in range(n_l):
            js = L_csr.indices[L_csr.indptr[r] : L_csr.indptr[r + 1]]
            us = L_csr.data[L_csr.indptr[r] : L_csr.indptr[r + 1]]
            ok = us > 0
            ratio[r] = float(np.max(problem.labour[js[ok]] / us[ok])) if ok.any() else 1.0
        delta = 0.25 * np.maximum(ratio, 1e-300)
    else:
        delta = np.zeros(n_l)
    last_sign = np.zeros(n_l)
    # the plan that uses the least of the limits (to blend an overdrawn plan back inside)
    safe_x: np.ndarray | None = None
    if n_l and not assort:
        safe_choice, _ = best_response(choice.copy(), LimT @ (1.0 / bsafe) + 1e-9 * problem.labour)
        safe_x, _ = plan_for(safe_choice)
        if np.any(Lim @ safe_x > b * (1 + 1e-9)):
            safe_x = None
    xbar = np.zeros(n_t)
    wsum = 0.0
    best_x: np.ndarray | None = None
    best_obj = -np.inf if assort else np.inf
    best_v: np.ndarray | None = None
    stale = 0
    nit = 0
    status = Status.ITERATION_LIMIT
    msg = ""
    last_use = np.zeros(n_l)

    def evaluate(x: np.ndarray) -> tuple[float, np.ndarray | None]:
        use = Lim @ x
        if assort:
            lam = float(np.min(np.where(use > 0, b / np.maximum(use, 1e-300), np.inf)))
            return lam, lam * x
        if not n_l or np.all(use <= b * (1 + 1e-12)):
            return float(problem.labour @ x), x.copy()
        if safe_x is None:
            return np.inf, None
        su = Lim @ safe_x
        over = use > b
        theta = float(np.min((b[over] - su[over]) / np.maximum(use[over] - su[over], 1e-300)))
        theta = min(max(theta, 0.0), 1.0)
        xb = theta * x + (1.0 - theta) * safe_x
        return float(problem.labour @ xb), xb

    try:
        for nit in range(1, maxiter + 1):
            cost_t = lw * problem.labour + (LimT @ p if n_l else 0.0)
            choice, v = best_response(choice, cost_t)
            x, _ = plan_for(choice)
            use = Lim @ x
            last_use = use
            wsum += nit
            xbar = xbar + (nit / wsum) * (x - xbar)  # a new array: best_x may hold the old
            improved = False
            for cand in (x, xbar):
                obj, plan = evaluate(cand)
                if plan is None:
                    continue
                gain = (obj > best_obj * (1 + tol)) if assort else (obj < best_obj * (1 - tol))
                if gain or best_x is None:
                    improved = improved or best_x is None or gain
                    best_obj, best_x = obj, plan
                    if not assort:
                        best_v = v
            # prices of the limits move with the harmony of their surplus
            if n_l:
                if assort:
                    rel = use / bsafe
                    p = p * np.exp(step * rel / max(float(rel.max()), 1e-300) / np.sqrt(nit))
                    p = p / float(p @ b)
                else:
                    h = np.clip(harmony_function((b - use) / bsafe), -1.0, 1.0)
                    sign = np.sign(h)
                    flip = sign * last_sign < 0
                    delta = np.where(flip, delta * 0.5, delta * 1.2)
                    p = np.maximum(0.0, p - delta * h)
                    last_sign = np.where(sign != 0, sign, last_sign)
            if callback is not None:
                try:
                    callback(nit, best_obj)
                except StopIteration:
                    break
            if best_x is not None:
                stale = 0 if improved else stale + 1
                if stale >= patience:
                    status = Status.OPTIMAL
                    msg = (
                        f"Harmony converged: no improvement beyond {tol:g} (relative) in "
                        f"{patience} iterations."
                    )
                    break
            if n_l == 0 and best_x is not None and nit > 1 and not improved:
                status = Status.OPTIMAL
                msg = (
                    "Harmony converged: with no limits the cheapest technique of every "
                    "product is optimal (non-substitution)."
                )
                break
    except ArithmeticError as exc:
        status = Status.BREAKDOWN
        msg = f"Harmony broke down: the chosen techniques are not productive ({exc})."
    if best_x is None:
        x = np.zeros(n_t)
        if status != Status.BREAKDOWN:
            status = Status.ITERATION_LIMIT
            overdrawn = [names[i] for i in np.flatnonzero(last_use > b)][:5]
            msg = (
                f"Harmony found no plan within the limits in {nit} iterations; limits "
                f"still overdrawn: {overdrawn}."
            )
    else:
        x = best_x
        if status == Status.ITERATION_LIMIT and not msg:
            msg = f"Harmony stopped after {nit} iterations (maxiter) with the best plan found."
    shadow = None
    if best_v is not None:
        shadow = pd.Series(
            np.concatenate([best_v, p[: len(problem.resource_names)]]),
            index=[*problem.products, *problem.resource_names],
            name="shadow price",
        )
    extra: dict[str, Any] = {"limits": names}
    res = assemble(
        problem,
        x,
        status=status,
        message=msg,
        method="harmony",
        objective=None if best_x is None else best_obj,
        nit=nit,
        seconds=time.perf_counter() - t0,
        shadow=shadow,
        extra=extra,
    )
    if reference is not None:
        res.extra["gap"] = gap(res, reference)
    return res


def repair(problem: PlanProblem, x: np.ndarray) -> np.ndarray:
    """Top up small shortfalls of an approximate plan (PDLP) exactly.

    The deficit ``d`` of each product (below its target for ``min_labour``,
    below zero otherwise) is made good by extra output of the technique that
    makes the product most in ``x``, through one sparse Leontief solve
    ``(I - A) Δy = d``; the result meets the targets to rounding and costs
    ``l · Δx`` more labour (tiny when the solver's tolerance was met).
    Products that no single-output technique makes are left as they are.
    """
    net = problem.N @ x
    need = problem.targets if problem.objective == "min_labour" else np.zeros(len(net))
    d = np.maximum(need - net, 0.0)
    # exact balance wanted: also lift rows within rounding of the target
    if not (d > 0).any():
        return x
    prod_of, out = _single_output(problem, strict=False)
    ok = prod_of >= 0
    n_p = problem.n_products
    # for each product, the single-output technique with the largest intensity
    score = np.where(ok, x + 1e-300, -1.0)
    pick = np.full(n_p, -1, dtype=np.int64)
    best = np.full(n_p, -np.inf)
    for j in np.flatnonzero(ok)[np.argsort(score[ok])]:
        i = prod_of[j]
        if score[j] >= best[i]:
            best[i], pick[i] = score[j], j
    have = pick >= 0
    d = np.where(have, d, 0.0)
    if not (d > 0).any():
        return x
    alpha = np.zeros(problem.n_techniques)
    alpha[pick[have]] = 1.0
    # products without a single-output technique: an identity column (no inputs)
    Inp = sp.csc_array(problem.O - problem.N)
    cols = np.where(have, pick, 0)
    A = sp.csr_array(Inp[:, cols] @ sp.diags_array(np.where(have, 1.0 / out[cols], 0.0)))
    res = solve_leontief(A, d, method="auto", tol=1e-12)
    if not res.success:
        return x
    dy = np.maximum(np.asarray(res.x), 0.0)
    x = x.copy()
    np.add.at(x, pick[have], dy[have] / out[pick[have]])
    return x


def fit_limits(problem: PlanProblem, x: np.ndarray) -> np.ndarray:
    """Scale a plan down so that no resource (and no labour limit) is overdrawn.

    Only for objectives whose constraints are homogeneous in the plan
    (``assortment``, ``weighted``): scaling keeps every product balance.
    """
    ratios = [1.0]
    if len(problem.amounts):
        use = problem.R @ x
        ok = problem.amounts > 0
        if ok.any():
            ratios.append(float(np.max(use[ok] / problem.amounts[ok])))
    if problem.labour_limit is not None and problem.labour_limit > 0:
        ratios.append(float(problem.labour @ x) / problem.labour_limit)
    fin = np.isfinite(problem.upper) & (problem.upper > 0)
    if fin.any():
        ratios.append(float(np.max(x[fin] / problem.upper[fin])))
    top = max(ratios)
    return x / top if top > 1.0 else x
