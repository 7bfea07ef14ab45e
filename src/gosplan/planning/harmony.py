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
from gosplan.planning.solve import PlanResult, assemble


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
            raise ValidationError(
                f"harmony: no technique makes product {problem.products[i]!r}."
            )
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
        self.P = sp.csr_array((np.ones(n_t), (np.arange(n_t), prod_of)),
                              shape=(n_t, problem.n_products))

    def matrices(self, alpha: np.ndarray) -> tuple[Any, np.ndarray]:
        """``A(α)`` (products × products) and the per-unit scale ``α / o`` of techniques."""
        scale = alpha / self.out
        A = sp.csr_array(self.Inp @ sp.diags_array(scale) @ self.P)
        return A, scale

    def intensities(self, y: np.ndarray, scale: np.ndarray) -> np.ndarray:
        return scale * y[self.prod_of]


def _leontief(A: Any, b: np.ndarray, x0: np.ndarray | None, tol: float) -> np.ndarray:
    res = solve_leontief(A, b, method="auto", rtol=tol, x0=x0)
    if not res.success:
        raise ArithmeticError(res.message or "Leontief solve failed")
    return np.asarray(res.x)


def harmony(
    problem: PlanProblem,
    *,
    maxiter: int = 200,
    tol: float = 1e-6,
    step: float = 1.0,
    price_step: float = 0.5,
    patience: int = 10,
    solve_tol: float = 1e-11,
    reference: PlanResult | None = None,
    callback: Callable[[int, float], Any] | None = None,
) -> PlanResult:
    """Balance ``problem`` by the harmony iteration (module docstring).

    Stops after ``maxiter`` iterations, or when the objective has not
    improved by ``tol`` (relative) for ``patience`` iterations.
    ``callback(nit, objective)`` may raise ``StopIteration``.
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
    t = problem.targets
    if not (t > 0).any():
        raise ValidationError("harmony: the problem has no positive targets.")
    # limits: resources, labour (assortment only), capacities of capped techniques
    capped = np.flatnonzero(np.isfinite(problem.upper))
    blocks = [sp.csr_array(problem.R)]
    amounts = [problem.amounts]
    names = list(problem.resource_names)
    if problem.objective == "assortment" and problem.labour_limit is not None:
        blocks.append(sp.csr_array(problem.labour[None, :]))
        amounts.append(np.array([problem.labour_limit]))
        names.append("labour")
    if len(capped):
        blocks.append(sp.csr_array((np.ones(len(capped)), (np.arange(len(capped)), capped)),
                                   shape=(len(capped), n_t)))
        amounts.append(problem.upper[capped])
        names.extend(f"capacity of {problem.technique_names[j]}" for j in capped)
    Lim = sp.vstack(blocks, format="csr") if blocks else sp.csr_array((0, n_t))
    b = np.concatenate(amounts) if amounts else np.zeros(0)
    n_l = Lim.shape[0]
    if problem.objective == "assortment" and n_l == 0:
        raise ValidationError(
            "The 'assortment' objective needs a limit: give resources or a labour limit."
        )
    LimT = sp.csr_array(Lim.T)
    # initial shares: the least-labour technique of each product
    alpha = np.zeros(n_t)
    unit_lab = problem.labour / out
    order = np.lexsort((unit_lab, prod_of))
    first = np.ones(n_t, dtype=bool)
    first[1:] = prod_of[order][1:] != prod_of[order][:-1]
    alpha[order[first]] = 1.0
    if problem.objective == "assortment":
        p = 1.0 / np.maximum(b, 1e-300)
        labour_weight = 0.0 if problem.labour_limit is not None else 1e-12
    else:
        p = np.zeros(n_l)
        labour_weight = 1.0
    y_prev: np.ndarray | None = None
    v_prev: np.ndarray | None = None
    best_x: np.ndarray | None = None
    best_obj = -np.inf if problem.objective == "assortment" else np.inf
    best_v: np.ndarray | None = None
    stale = 0
    nit = 0
    status = Status.ITERATION_LIMIT
    msg = ""
    last_use = np.zeros(n_l)
    Inp = comp.Inp
    InpT = sp.csr_array(Inp.T)
    try:
        for nit in range(1, maxiter + 1):
            A, scale = comp.matrices(alpha)
            y = _leontief(A, t, y_prev, solve_tol)
            y_prev = y
            x = comp.intensities(y, scale)
            use = Lim @ x
            last_use = use
            labour = float(problem.labour @ x)
            if problem.objective == "assortment":
                ratio = np.where(use > 0, b / np.maximum(use, 1e-300), np.inf)
                lam = float(np.min(ratio)) if n_l else np.inf
                obj = lam
                better = lam > best_obj * (1 + tol)
                if lam > best_obj:
                    best_obj, best_x = lam, lam * x
            else:
                over = (use - b) / np.maximum(b, 1e-300)
                feasible = bool(np.all(over <= 1e-9)) if n_l else True
                obj = labour
                better = feasible and labour < best_obj * (1 - tol)
                if feasible and labour < best_obj:
                    best_obj, best_x = labour, x
            # valuations at current prices: v = v A + cost
            cost_t = labour_weight * problem.labour + (LimT @ p if n_l else 0.0)
            c_prod = np.bincount(prod_of, weights=alpha * cost_t / out,
                                 minlength=problem.n_products)
            v = _leontief(sp.csr_array(A.T), c_prod, v_prev, solve_tol)
            v_prev = v
            if problem.objective == "min_labour" and better:
                best_v = v
            # full unit cost of each technique at these valuations
            k = (cost_t + InpT @ v) / out
            best_k = np.full(problem.n_products, np.inf)
            np.minimum.at(best_k, prod_of, k)
            ref = np.maximum(best_k[prod_of], 1e-300)
            alpha = alpha * np.exp(-step * np.minimum((k - best_k[prod_of]) / ref, 50.0))
            alpha = np.maximum(alpha, 1e-12 * (alpha > 0))
            tot = np.bincount(prod_of, weights=alpha, minlength=problem.n_products)
            alpha = alpha / tot[prod_of]
            # prices of the limits move with the harmony of their surplus
            if n_l:
                if problem.objective == "assortment":
                    rel = use / np.maximum(b, 1e-300)
                    p = p * np.exp(price_step * rel / max(float(rel.max()), 1e-300))
                    p = p / float(p @ b)  # keep the total valuation of all limits at one
                else:
                    s = (b - use) / np.maximum(b, 1e-300)
                    scale_p = max(labour, 1e-300) / np.maximum(b, 1e-300) / max(n_l, 1)
                    p = np.maximum(0.0, p - price_step * scale_p * harmony_function(s))
            if callback is not None:
                try:
                    callback(nit, obj)
                except StopIteration:
                    break
            stale = 0 if better else stale + 1
            if stale >= patience:
                status = Status.OPTIMAL
                msg = (f"Harmony converged: no improvement beyond {tol:g} (relative) in "
                       f"{patience} iterations.")
                break
    except ArithmeticError as exc:
        status = Status.BREAKDOWN
        msg = f"Harmony broke down: the chosen techniques are not productive ({exc})."
    if best_x is None:
        x = np.zeros(n_t)
        if status != Status.BREAKDOWN:
            status = Status.ITERATION_LIMIT
            overdrawn = [names[i] for i in np.flatnonzero(last_use > b)][:5]
            msg = (f"Harmony found no plan within the limits in {nit} iterations; limits "
                   f"still overdrawn: {overdrawn}.")
    else:
        x = best_x
        if status == Status.ITERATION_LIMIT and not msg:
            msg = f"Harmony stopped after {nit} iterations (maxiter) with the best plan found."
    shadow = None
    if best_v is not None:
        shadow = pd.Series(
            np.concatenate([best_v, p[: len(problem.resource_names)]]),
            index=[*problem.products, *problem.resource_names], name="shadow price")
    extra: dict[str, Any] = {"limits": names}
    res = assemble(problem, x, status=status, message=msg, method="harmony",
                   objective=None if best_x is None else best_obj, nit=nit,
                   seconds=time.perf_counter() - t0, shadow=shadow, extra=extra)
    if reference is not None:
        from gosplan.planning.solve import gap

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
    res = solve_leontief(A, d, method="auto", rtol=1e-12)
    if not res.success:
        return x
    dy = np.maximum(np.asarray(res.x), 0.0)
    x = x.copy()
    np.add.at(x, pick[have], dy[have] / out[pick[have]])
    return x
