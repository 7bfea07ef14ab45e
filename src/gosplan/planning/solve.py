"""Solve a :class:`PlanProblem`: exact sparse LP with HiGHS, PDLP, or harmony.

The linear programme
--------------------
Columns are the technique intensities ``x >= 0`` (capped by ``upper``), plus:

* ``"assortment"``: ``λ`` (bundles).  To keep every column short, the target
  rows are cut into blocks of ``problem.split`` rows, each block gets its own
  copy ``λ_b``, and the copies are chained by ``λ_b - λ_{b+1} = 0``.
* ``"weighted"``: one fulfilment ``f_i ∈ [0, 1]`` per target.

Rows:

* one per product: ``N_i x >= t_i`` (min_labour), ``N_i x - t_i λ_b >= 0``
  (assortment), ``N_i x - t_i f_i >= 0`` (weighted); untargeted products
  ``N_i x >= 0`` (nothing is consumed that is not made);
* one per resource: ``R_r x <= b_r``;
* labour: ``l · x <= L`` when a labour limit is given.

Shadow prices are the duals, signed as *valuations*: for ``min_labour`` the
labour a further unit of a product's target would cost (for one technique per
product these are exactly the labour values), and the labour an extra unit
of a resource would save; for the maximising objectives, how much the
objective would gain from a free unit of a product or resource.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gosplan.core.methods import METHODS
from gosplan.core.result import Status
from gosplan.errors import ValidationError
from gosplan.planning.harmony import fit_limits, harmony, repair
from gosplan.planning.highs import INF, LPSolution, solve_lp
from gosplan.planning.problem import PlanProblem, closest
from gosplan.planning.result import (
    Diagnosis,
    LPForm,
    PlanResult,
    assemble,
    gap,
    working_week,
)

__all__ = [
    "METHODS",
    "Diagnosis",
    "LPForm",
    "PlanResult",
    "assemble",
    "diagnose_infeasible",
    "formulate",
    "gap",
    "solve",
    "timed",
    "working_week",
]


def formulate(problem: PlanProblem, *, elastic: bool = False) -> LPForm:
    """The sparse LP of ``problem`` (module docstring).  ``elastic`` adds shortfall columns."""
    N, R, lab = problem.N, problem.R, problem.labour
    n_p, n_t = N.shape
    n_r = R.shape[0]
    t = problem.targets
    obj = problem.objective
    blocks: list[Any] = [N]
    rows_extra: list[Any] = []
    rl = np.zeros(n_p)
    ru = np.full(n_p, INF)
    tgt = np.flatnonzero(t > 0)
    c_x = np.zeros(n_t)
    extra_c: list[np.ndarray] = []
    extra_cl: list[np.ndarray] = []
    extra_cu: list[np.ndarray] = []
    maximize = False
    if elastic or obj == "min_labour":
        rl = t.copy()
        c_x = lab.copy() if not elastic else np.zeros(n_t)
        if elastic:
            # shortfall s_i >= 0 on every targeted row, cost 1/t_i (relative shortfall)
            S = sp.csc_array((np.ones(len(tgt)), (tgt, np.arange(len(tgt)))), shape=(n_p, len(tgt)))
            blocks.append(S)
            extra_c.append(1.0 / t[tgt])
            extra_cl.append(np.zeros(len(tgt)))
            extra_cu.append(np.full(len(tgt), INF))
    elif obj == "assortment":
        maximize = True
        k = problem.split
        nb = max(1, -(-len(tgt) // k))
        blk = np.arange(len(tgt)) // k
        L = sp.csc_array((-t[tgt], (tgt, blk)), shape=(n_p, nb))
        blocks.append(L)
        cc = np.zeros(nb)
        cc[0] = 1.0
        extra_c.append(cc)
        extra_cl.append(np.zeros(nb))
        extra_cu.append(np.full(nb, INF))
        if nb > 1:
            i = np.arange(nb - 1)
            link = sp.csc_array(
                (
                    np.concatenate([np.ones(nb - 1), -np.ones(nb - 1)]),
                    (np.concatenate([i, i]), np.concatenate([i, i + 1])),
                ),
                shape=(nb - 1, nb),
            )
            rows_extra.append(("link", link))
    elif obj == "weighted":
        maximize = True
        F = sp.csc_array((-t[tgt], (tgt, np.arange(len(tgt)))), shape=(n_p, len(tgt)))
        blocks.append(F)
        extra_c.append(problem.weights[tgt])
        extra_cl.append(np.zeros(len(tgt)))
        extra_cu.append(np.ones(len(tgt)))
    n_extra = sum(len(e) for e in extra_c)
    top = sp.hstack(blocks, format="csc") if len(blocks) > 1 else sp.csc_array(N)
    parts = [top]
    rl_parts = [rl]
    ru_parts = [ru]
    if n_r:
        parts.append(sp.hstack([R, sp.csc_array((n_r, n_extra))], format="csc"))
        rl_parts.append(np.full(n_r, -INF))
        ru_parts.append(problem.amounts)
    labour_row = None
    if problem.labour_limit is not None:
        labour_row = n_p + n_r
        parts.append(
            sp.hstack([sp.csc_array(lab[None, :]), sp.csc_array((1, n_extra))], format="csc")
        )
        rl_parts.append(np.array([-INF]))
        ru_parts.append(np.array([problem.labour_limit]))
    for _, link in rows_extra:
        parts.append(sp.hstack([sp.csc_array((link.shape[0], n_t)), link], format="csc"))
        rl_parts.append(np.zeros(link.shape[0]))
        ru_parts.append(np.zeros(link.shape[0]))
    A = sp.vstack(parts, format="csc")
    return LPForm(
        c=np.concatenate([c_x, *extra_c]),
        A=A,
        rl=np.concatenate(rl_parts),
        ru=np.concatenate(ru_parts),
        cl=np.concatenate([np.zeros(n_t), *extra_cl]),
        cu=np.concatenate([np.where(np.isfinite(problem.upper), problem.upper, INF), *extra_cu]),
        maximize=maximize,
        n_x=n_t,
        n_p=n_p,
        n_r=n_r,
        labour_row=labour_row,
        target_idx=tgt,
        extra_cols=n_extra,
    )


def solve(
    problem: PlanProblem,
    method: str = "lp",
    *,
    time_limit: float | None = None,
    tol: float | None = None,
    diagnose: bool = True,
    options: dict[str, Any] | None = None,
    **kwargs: Any,
) -> PlanResult:
    """Solve a plan.

    ``method``: ``"lp"`` (HiGHS chooses: dual simplex for most plans),
    ``"simplex"``, ``"ipm"`` (interior point with crossover), ``"pdlp"``
    (first-order primal–dual, for very large plans; tolerance ``tol``,
    default 1e-7 relative), or ``"harmony"`` (see :mod:`gosplan.planning.harmony`).

    Expected outcomes (infeasible, unbounded, limit reached) are returned with
    ``success=False`` and, for an infeasible plan, a :class:`Diagnosis`
    (``diagnose=False`` skips it); ``raise_for_status()`` raises.
    """
    if method not in METHODS["solve"]:
        raise ValidationError(
            f"The 'method' parameter of solve must be one of {METHODS['solve']}; got {method!r}."
            f"{closest(str(method), METHODS['solve'])}"
        )
    if method == "harmony":
        return harmony(problem, **kwargs)
    if kwargs:
        raise ValidationError(f"solve(method={method!r}) got unknown keyword(s) {sorted(kwargs)}.")
    if (
        problem.objective in ("assortment", "weighted")
        and not len(problem.resource_names)
        and problem.labour_limit is None
        and not np.isfinite(problem.upper).any()
    ):
        raise ValidationError(
            f"The {problem.objective!r} objective needs a limit: give `resources` (for "
            "example {'labour': hours}) or capacities, otherwise the plan grows without bound."
        )
    form = formulate(problem)
    if method == "pdlp":
        opts = {"primal_feasibility_tolerance": 1e-9, "dual_feasibility_tolerance": 1e-9}
        opts.update(options or {})
        sol = solve_lp(
            form.c,
            form.A,
            form.rl,
            form.ru,
            form.cl,
            form.cu,
            maximize=form.maximize,
            method=method,
            time_limit=time_limit,
            tol=tol if tol is not None else 1e-7,
            options=opts,
        )
    else:
        sol = solve_lp(
            form.c,
            form.A,
            form.rl,
            form.ru,
            form.cl,
            form.cu,
            maximize=form.maximize,
            method=method,
            time_limit=time_limit,
            tol=tol,
            options=options,
        )
    diag = None
    message = sol.message
    if sol.status == Status.INFEASIBLE and diagnose and problem.objective == "min_labour":
        diag = diagnose_infeasible(problem)
        message = f"{message} {diag}."
    return _result(problem, form, sol, method, message, diag)


def _result(
    problem: PlanProblem,
    form: LPForm,
    sol: LPSolution,
    method: str,
    message: str,
    diag: Diagnosis | None,
) -> PlanResult:
    x = sol.x[: form.n_x]
    if sol.status == Status.OPTIMAL:
        x = np.maximum(x, 0.0)
    if sol.status == Status.OPTIMAL:
        # HiGHS meets rows to its feasibility tolerance (absolute for simplex, relative
        # for PDLP): top up any deficit exactly and keep the plan inside the limits
        x = repair(problem, x)
        if problem.objective != "min_labour":
            x = fit_limits(problem, x)
    return assemble(
        problem,
        x,
        status=sol.status,
        message=message,
        method=method,
        objective=sol.objective,
        nit=sol.nit,
        seconds=sol.seconds,
        row_dual=sol.row_dual if sol.dual_valid else None,
        form=form,
        backend_status=sol.backend_status,
        backend_message=sol.backend_message,
        extra_x=sol.x[form.n_x :],
        diagnosis=diag,
    )


def diagnose_infeasible(problem: PlanProblem) -> Diagnosis:
    """Elastic LP: minimal total relative shortfall with all limits hard (see :class:`Diagnosis`).

    Raises :class:`ValidationError` if the problem has no targets to relax.
    """
    if not (problem.targets > 0).any():
        raise ValidationError("diagnose_infeasible: the problem has no positive targets.")
    form = formulate(problem, elastic=True)
    sol = solve_lp(
        form.c, form.A, form.rl, form.ru, form.cl, form.cu, maximize=False, method="simplex"
    )
    tgt = form.target_idx
    s = np.zeros(problem.n_products)
    x = np.zeros(form.n_x)
    if sol.status == Status.OPTIMAL:
        # phase 2: the same least shortfall with the least labour (no idle overproduction)
        fixed = np.maximum(sol.x[form.n_x :], 0.0)
        cl2 = np.concatenate([form.cl[: form.n_x], fixed])
        cu2 = np.concatenate([form.cu[: form.n_x], fixed])
        c2 = np.concatenate([problem.labour + 1e-9, np.zeros(len(form.c) - form.n_x)])
        sol2 = solve_lp(c2, form.A, form.rl, form.ru, cl2, cu2, maximize=False, method="simplex")
        use_sol = sol2 if sol2.status == Status.OPTIMAL else sol
        s[tgt] = np.maximum(use_sol.x[form.n_x : form.n_x + len(tgt)], 0.0)
        x = np.maximum(use_sol.x[: form.n_x], 0.0)
    shortfall = pd.Series(s, index=problem.products, name="shortfall")
    names = list(problem.resource_names)
    use = list(problem.R @ x)
    avail = list(problem.amounts)
    duals = (
        list(sol.row_dual[form.n_p : form.n_p + form.n_r]) if sol.dual_valid else [0.0] * form.n_r
    )
    if form.labour_row is not None and problem.labour_limit is not None:
        names.append("labour")
        use.append(float(problem.labour @ x))
        avail.append(problem.labour_limit)
        duals.append(float(sol.row_dual[form.labour_row]) if sol.dual_valid else 0.0)
    d = pd.Series(np.abs(duals), index=names, dtype=float)
    u = pd.Series(use, index=names, dtype=float)
    a = pd.Series(avail, index=names, dtype=float)
    binding = d[d > 1e-9].sort_values(ascending=False)
    return Diagnosis(shortfall=shortfall, binding=binding, use=u, available=a)


def timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0
