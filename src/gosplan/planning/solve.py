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
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gosplan.core.methods import METHODS
from gosplan.core.result import Result, Status
from gosplan.errors import ValidationError
from gosplan.planning.highs import INF, LPSolution, solve_lp
from gosplan.planning.problem import PlanProblem, closest


@dataclass(frozen=True)
class Diagnosis:
    """Why a plan is infeasible: the shortfall of each target and the binding limits.

    Found with an elastic LP: every target row gets a shortfall variable and
    the total relative shortfall is minimised with the limits kept hard.
    Binding limits are those with a non-zero dual in that LP.
    """

    shortfall: pd.Series  # by product: how much of the target cannot be delivered
    binding: pd.Series  # by limit (resource or 'labour'): its valuation in the elastic LP
    use: pd.Series  # by limit: how much of it the elastic plan uses
    available: pd.Series  # by limit: how much exists

    def __str__(self) -> str:
        short = self.shortfall[self.shortfall > 0].sort_values(ascending=False)
        parts = []
        if len(short):
            parts.append("targets that cannot be met: " + ", ".join(
                f"{p!r} (short by {q:.6g})" for p, q in short.iloc[:10].items()))
        if len(self.binding):
            parts.append("binding limits: " + ", ".join(
                f"{r!r} (uses {self.use[r]:.6g} of {self.available[r]:.6g})"
                for r in self.binding.index[:10]))
        return "; ".join(parts) or "no shortfall found"


@dataclass(frozen=True)
class PlanResult(Result):
    """An optimal (or best-found) plan.  Attribute access in the style of OptimizeResult.

    ``objective`` is the value of the problem's objective: total labour for
    ``min_labour``, the number of bundles for ``assortment``, the weighted
    fulfilment for ``weighted``.  ``labour`` is always total labour in
    ``labour_unit``.  ``working_week`` is hours per able-bodied person per
    week (``None`` without a population).
    """

    status: Status
    message: str
    method: str
    objective_name: str
    objective: float
    intensities: pd.Series
    outputs: pd.Series
    net_output: pd.Series
    targets: pd.Series
    shadow_prices: pd.Series
    resource_use: pd.Series
    labour: float
    labour_unit: str
    working_week: float | None
    nit: int
    seconds: float
    backend_status: int | None = None
    backend_message: str = ""
    bundles: float | None = None
    fulfilment: pd.Series | None = None
    diagnosis: Diagnosis | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def x(self) -> pd.Series:
        return self.intensities

    def balances(self) -> dict[str, float]:
        """The worst violations: relative target shortfall, relative resource excess, least
        intensity (all <= 0 or tiny for a valid plan)."""
        t = self.targets.to_numpy()
        net = self.net_output.to_numpy()
        need = t * (self.bundles if self.bundles is not None else 1.0)
        if self.fulfilment is not None:
            need = t * self.fulfilment.reindex(self.targets.index, fill_value=0.0).to_numpy()
        scale = np.maximum(np.abs(need), 1.0)
        short = float(np.max((need - net) / scale)) if len(t) else 0.0
        avail = self.extra.get("available")
        excess = 0.0
        if avail is not None and len(avail):
            av = np.asarray(avail, dtype=float)
            use = self.resource_use.to_numpy()
            excess = float(np.max((use - av) / np.maximum(av, 1.0)))
        return {"shortfall": short, "excess": excess,
                "min_intensity": float(self.intensities.min()) if len(self.intensities) else 0.0}

    def summary(self) -> str:
        lines = [f"{self.method}: {self.message}",
                 f"objective ({self.objective_name}) = {self.objective:.8g}; labour = "
                 f"{self.labour:.8g} {self.labour_unit}"]
        if self.working_week is not None:
            lines.append(f"working week: {self.working_week:.2f} hours per able-bodied person")
        if self.diagnosis is not None:
            lines.append(f"diagnosis: {self.diagnosis}")
        return "\n".join(lines)


@dataclass
class _Form:
    c: np.ndarray
    A: Any
    rl: np.ndarray
    ru: np.ndarray
    cl: np.ndarray
    cu: np.ndarray
    maximize: bool
    n_x: int
    n_p: int
    n_r: int
    labour_row: int | None
    target_idx: np.ndarray  # product indices with a target (assortment/weighted)
    extra_cols: int


def formulate(problem: PlanProblem, *, elastic: bool = False) -> _Form:
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
            S = sp.csc_array((np.ones(len(tgt)), (tgt, np.arange(len(tgt)))),
                             shape=(n_p, len(tgt)))
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
                (np.concatenate([np.ones(nb - 1), -np.ones(nb - 1)]),
                 (np.concatenate([i, i]), np.concatenate([i, i + 1]))),
                shape=(nb - 1, nb))
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
        parts.append(sp.hstack([sp.csc_array(lab[None, :]), sp.csc_array((1, n_extra))],
                               format="csc"))
        rl_parts.append(np.array([-INF]))
        ru_parts.append(np.array([problem.labour_limit]))
    for _, link in rows_extra:
        parts.append(sp.hstack([sp.csc_array((link.shape[0], n_t)), link], format="csc"))
        rl_parts.append(np.zeros(link.shape[0]))
        ru_parts.append(np.zeros(link.shape[0]))
    A = sp.vstack(parts, format="csc")
    return _Form(
        c=np.concatenate([c_x, *extra_c]), A=A, rl=np.concatenate(rl_parts),
        ru=np.concatenate(ru_parts),
        cl=np.concatenate([np.zeros(n_t), *extra_cl]),
        cu=np.concatenate([np.where(np.isfinite(problem.upper), problem.upper, INF), *extra_cu]),
        maximize=maximize, n_x=n_t, n_p=n_p, n_r=n_r, labour_row=labour_row, target_idx=tgt,
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
        from gosplan.planning.harmony import harmony

        return harmony(problem, **kwargs)
    if kwargs:
        raise ValidationError(f"solve(method={method!r}) got unknown keyword(s) {sorted(kwargs)}.")
    if problem.objective in ("assortment", "weighted") and not len(problem.resource_names) \
            and problem.labour_limit is None and not np.isfinite(problem.upper).any():
        raise ValidationError(
            f"The {problem.objective!r} objective needs a limit: give `resources` (for "
            "example {'labour': hours}) or capacities, otherwise the plan grows without bound."
        )
    form = formulate(problem)
    if method == "pdlp":
        opts = {"primal_feasibility_tolerance": 1e-9, "dual_feasibility_tolerance": 1e-9}
        opts.update(options or {})
        sol = solve_lp(form.c, form.A, form.rl, form.ru, form.cl, form.cu,
                       maximize=form.maximize, method=method, time_limit=time_limit,
                       tol=tol if tol is not None else 1e-7, options=opts)
    else:
        sol = solve_lp(form.c, form.A, form.rl, form.ru, form.cl, form.cu,
                       maximize=form.maximize, method=method, time_limit=time_limit, tol=tol,
                       options=options)
    diag = None
    message = sol.message
    if sol.status == Status.INFEASIBLE and diagnose and problem.objective == "min_labour":
        diag = diagnose_infeasible(problem)
        message = f"{message} {diag}."
    return _result(problem, form, sol, method, message, diag)


def _result(problem: PlanProblem, form: _Form, sol: LPSolution, method: str, message: str,
            diag: Diagnosis | None) -> PlanResult:
    x = sol.x[: form.n_x]
    if sol.status == Status.OPTIMAL:
        x = np.maximum(x, 0.0)
    if sol.status == Status.OPTIMAL:
        # HiGHS meets rows to its feasibility tolerance (absolute for simplex, relative
        # for PDLP): top up any deficit exactly and keep the plan inside the limits
        from gosplan.planning.harmony import fit_limits, repair

        x = repair(problem, x)
        if problem.objective != "min_labour":
            x = fit_limits(problem, x)
    return assemble(problem, x, status=sol.status, message=message, method=method,
                    objective=sol.objective, nit=sol.nit, seconds=sol.seconds,
                    row_dual=sol.row_dual if sol.dual_valid else None, form=form,
                    backend_status=sol.backend_status, backend_message=sol.backend_message,
                    extra_x=sol.x[form.n_x:], diagnosis=diag)


def assemble(
    problem: PlanProblem,
    x: np.ndarray,
    *,
    status: Status,
    message: str,
    method: str,
    objective: float | None,
    nit: int,
    seconds: float,
    row_dual: np.ndarray | None = None,
    form: _Form | None = None,
    backend_status: int | None = None,
    backend_message: str = "",
    extra_x: np.ndarray | None = None,
    diagnosis: Diagnosis | None = None,
    shadow: pd.Series | None = None,
    extra: dict[str, Any] | None = None,
) -> PlanResult:
    """Labelled result from intensities (shared by the LP and harmony paths)."""
    net = problem.N @ x
    gross = problem.O @ x
    use = problem.R @ x
    labour = float(problem.labour @ x)
    t = problem.targets
    tgt = np.flatnonzero(t > 0)
    bundles = None
    fulfil = None
    obj = problem.objective
    if obj == "assortment":
        bundles = float(np.min(net[tgt] / t[tgt])) if len(tgt) else 0.0
        if objective is None or method in ("pdlp", "harmony"):
            objective = bundles
    elif obj == "weighted":
        f = np.clip(net[tgt] / t[tgt], 0.0, 1.0) if len(tgt) else np.zeros(0)
        if extra_x is not None and len(extra_x) == len(tgt):
            f = np.minimum(f, np.clip(extra_x, 0.0, 1.0))
        fulfil = pd.Series(f, index=problem.products[tgt], name="fulfilment")
        if objective is None or method in ("pdlp", "harmony"):
            objective = float(problem.weights[tgt] @ f)
    elif objective is None or method == "pdlp":
        objective = labour
    names = list(problem.products) + list(problem.resource_names)
    if shadow is None:
        if row_dual is not None and form is not None and np.isfinite(row_dual).all():
            sign = 1.0 if not form.maximize else -1.0
            prod = sign * row_dual[: form.n_p]
            resv = -sign * row_dual[form.n_p: form.n_p + form.n_r]
            vals = [*prod, *resv]
            if form.labour_row is not None:
                names.append("labour")
                vals.append(-sign * row_dual[form.labour_row])
            shadow = pd.Series(np.asarray(vals, dtype=float) + 0.0, index=names,
                               name="shadow price")
        else:
            shadow = pd.Series(np.nan, index=names, name="shadow price")
    ww = working_week(problem, labour)
    ex = {"available": problem.amounts.copy()}
    ex.update(extra or {})
    return PlanResult(
        status=status, message=message, method=method, objective_name=obj,
        objective=float(objective), intensities=pd.Series(x, index=problem.technique_names,
                                                          name="intensity"),
        outputs=pd.Series(gross, index=problem.products, name="gross output"),
        net_output=pd.Series(net, index=problem.products, name="net output"),
        targets=pd.Series(t, index=problem.products, name="target"),
        shadow_prices=shadow,
        resource_use=pd.Series(use, index=problem.resource_names, name="use"),
        labour=labour, labour_unit=problem.labour_unit, working_week=ww, nit=nit,
        seconds=seconds, backend_status=backend_status, backend_message=backend_message,
        bundles=bundles, fulfilment=fulfil, diagnosis=diagnosis, extra=ex,
    )


def working_week(problem: PlanProblem, labour: float) -> float | None:
    """Hours per able-bodied person per week that ``labour`` implies (None without population)."""
    if problem.population is None:
        return None
    able = problem.population * problem.participation
    return labour * problem.hours_per_labour_unit / (able * problem.weeks_per_year)


def diagnose_infeasible(problem: PlanProblem) -> Diagnosis:
    """Elastic LP: minimal total relative shortfall with all limits hard (see :class:`Diagnosis`).

    Raises :class:`ValidationError` if the problem has no targets to relax.
    """
    if not (problem.targets > 0).any():
        raise ValidationError("diagnose_infeasible: the problem has no positive targets.")
    form = formulate(problem, elastic=True)
    sol = solve_lp(form.c, form.A, form.rl, form.ru, form.cl, form.cu, maximize=False,
                   method="simplex")
    tgt = form.target_idx
    s = np.zeros(problem.n_products)
    x = np.zeros(form.n_x)
    if sol.status == Status.OPTIMAL:
        # phase 2: the same least shortfall with the least labour (no idle overproduction)
        fixed = np.maximum(sol.x[form.n_x:], 0.0)
        cl2 = np.concatenate([form.cl[: form.n_x], fixed])
        cu2 = np.concatenate([form.cu[: form.n_x], fixed])
        c2 = np.concatenate([problem.labour + 1e-9, np.zeros(len(form.c) - form.n_x)])
        sol2 = solve_lp(c2, form.A, form.rl, form.ru, cl2, cu2, maximize=False,
                        method="simplex")
        use_sol = sol2 if sol2.status == Status.OPTIMAL else sol
        s[tgt] = np.maximum(use_sol.x[form.n_x:form.n_x + len(tgt)], 0.0)
        x = np.maximum(use_sol.x[: form.n_x], 0.0)
    shortfall = pd.Series(s, index=problem.products, name="shortfall")
    names = list(problem.resource_names)
    use = list(problem.R @ x)
    avail = list(problem.amounts)
    duals = list(sol.row_dual[form.n_p: form.n_p + form.n_r]) if sol.dual_valid else [
        0.0] * form.n_r
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


def gap(result: PlanResult, exact: PlanResult) -> float:
    """Relative gap of ``result``'s objective to the exact optimum (>= 0 means worse)."""
    if not exact.success:
        raise ValidationError(f"gap: the exact plan did not succeed ({exact.message}).")
    ref = exact.objective
    if ref == 0:
        return abs(result.objective)
    if result.objective_name == "min_labour":
        return (result.objective - ref) / abs(ref)
    return (ref - result.objective) / abs(ref)


def timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0
