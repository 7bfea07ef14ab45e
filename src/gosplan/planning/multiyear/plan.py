"""Entry points: :func:`multi_year_plan` (all years at once) and
:func:`receding_horizon_plan` (re-planned every year, first year carried out)."""

from __future__ import annotations

import numbers
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from gosplan.core.economy import Economy
from gosplan.core.methods import METHODS as ALL_METHODS
from gosplan.core.result import Status
from gosplan.errors import ValidationError
from gosplan.planning.multiyear.bound import BoundResult, certified_bound
from gosplan.planning.multiyear.forward import FORWARD_METHODS, forward_window, retime_window
from gosplan.planning.multiyear.lp import LP_METHODS, first_year_hint, solve_window, terminal_need
from gosplan.planning.multiyear.model import Window, build_model, model_kwargs
from gosplan.planning.multiyear.pdhg import pdhg_window
from gosplan.planning.multiyear.primal_dual import PrimalDualResult, pdlp_window, prices_bound
from gosplan.planning.multiyear.recover import plan_from_investment
from gosplan.planning.multiyear.result import MultiYearPlanResult, assemble
from gosplan.planning.problem import closest

#: the methods of multi_year_plan (its row of the one table, gosplan.core.methods.METHODS)
METHODS = ALL_METHODS["multi_year_plan"]
#: the primal-dual methods and their default seconds, as a multiple of the forward plan's
#: (pdhg: none; it stops on its relative error, PDHG_TOL, or after PDHG_ITERATIONS)
PD_METHODS = {"primal-dual": 2.0, "pdhg": float("inf")}
#: the PDHG's relative error (gap, residuals) at which it stops: about a proven 0.05 %
#: after the repair at 10⁴–10⁵ products (1.4e-3 came with 0.1 %)
PDHG_TOL = 7e-4
PDHG_ITERATIONS = 3000


def multi_year_plan(
    economy: Economy,
    targets: Mapping[str, Any] | pd.DataFrame | pd.Series,
    *,
    years: int = 5,
    start_year: int | None = None,
    growth: float | Mapping[str, float] = 0.02,
    population: float | None = None,
    population_growth: float = 0.0,
    participation: float = 1.0,
    weeks_per_year: float = 46.0,
    hours_per_labour_unit: float | None = None,
    hours_per_job: float = 1800.0,
    capital_output_ratio: float | None = None,
    depreciation: float | None = None,
    utilisation: float = 0.9,
    modern_labour_saving: float = 0.25,
    terminal_growth: float | None = None,
    max_week: float | None = None,
    balanced_trade: bool = False,
    method: str = "lp",
    time_limit: float | None = None,
    certify: bool = True,
    bound_seconds: float | None = None,
    iterations: int | None = None,
) -> MultiYearPlanResult:
    """Plan ``years`` years at once as one sparse LP (module docstring for the model).

    Every successful plan, from an LP method or a heuristic, comes with a
    certified lower bound on the LP's optimum (``bound``, from a dual-feasible
    solution whose objective bounds it; :mod:`gosplan.planning.multiyear.bound`)
    and the gap of the plan to it, ``gap_proven`` — proven, not estimated.
    ``certify=False`` skips it (a few sparse solves).  The bound is then raised by
    a smoothed dual ascent (:mod:`gosplan.planning.multiyear.ascent`) for at most
    ``bound_seconds`` seconds (default: as long as the plan took, at least 1 s;
    0 skips it; skipped too when the plan is already proven within 1e-5).

    ``method="dual"`` plans like ``"forward"``, then tries the plan the bound's
    prices point to (:mod:`gosplan.planning.multiyear.recover`) and keeps it when it
    is feasible and needs less labour; it depends on how far the ascent got, so on
    ``bound_seconds``.

    ``method="primal-dual"`` plans like ``"forward"``, then runs OR-tools' PDLP on the
    LP from that plan for at most ``time_limit`` seconds (default: twice the forward
    plan's time, at least 10 s; :mod:`gosplan.planning.multiyear.primal_dual`): the
    plan its investments make, balanced exactly and repaired, replaces the forward
    plan where it is feasible and needs less labour, and its prices start the
    certified bound (``bound_source`` says which prices it rests on; the message
    which plan was kept).  ``bound_seconds`` then defaults to 0: the smoothed ascent
    starts at a width (``τ = 3e-3``) whose bias is larger than what PDLP's prices
    leave, so it only helps where PDLP was stopped very early.

    ``method="pdhg"`` does the same with a PDHG of our own on the LP in its block
    structure (:mod:`gosplan.planning.multiyear.pdhg`), started from the plain forward
    pass (no re-timing): every year's products with ``A`` at once, so each iteration
    costs a third of PDLP's.  It stops when its relative error (gap and residuals)
    is below ``PDHG_TOL`` (about a proven 0.05 % at 10⁴–10⁵ products, on any
    machine's load), after ``PDHG_ITERATIONS``, or after ``time_limit`` seconds
    where one is given.  ``iterations=K`` holds it to exactly K iterations instead
    (no early stop; 250 prove 0.3 % at 10⁶ products, where the default rule, tuned
    at 10⁴–10⁵, runs longer; docs/planning.md).

    ``targets`` are the first year's bundles by purpose; ``growth`` their
    yearly growth (one rate or ``{purpose: rate}``).  Returns a
    :class:`MultiYearPlanResult`; an infeasible plan comes back with
    ``success=False`` (e.g. when the first year's targets exceed the initial
    capacity).
    """
    if method not in METHODS:
        raise ValidationError(
            f"multi_year_plan: method must be one of {METHODS}; got {method!r}."
            f"{closest(str(method), METHODS)}"
        )
    if iterations is not None and (
        method != "pdhg"
        or isinstance(iterations, bool)
        or not isinstance(iterations, numbers.Integral)  # int, numpy's integers
        or iterations < 1
    ):
        raise ValidationError(
            "multi_year_plan: iterations must be a whole number >= 1, and is used by "
            f'method="pdhg" only; got iterations={iterations!r} with method={method!r}.'
        )
    if iterations is not None:
        iterations = int(iterations)
    if bound_seconds is not None and not bound_seconds >= 0:
        raise ValidationError(f"multi_year_plan: bound_seconds must be >= 0; got {bound_seconds}.")
    t_start = time.perf_counter()
    m, assumptions = build_model(
        economy,
        targets,
        years=years,
        growth=growth,
        population=population,
        population_growth=population_growth,
        participation=participation,
        weeks_per_year=weeks_per_year,
        hours_per_labour_unit=hours_per_labour_unit,
        hours_per_job=hours_per_job,
        capital_output_ratio=capital_output_ratio,
        depreciation=depreciation,
        utilisation=utilisation,
        modern_labour_saving=modern_labour_saving,
        terminal_growth=terminal_growth,
        max_week=max_week,
        balanced_trade=balanced_trade,
    )
    first = start_year if start_year is not None else (economy.year + 1 if economy.year else 1)
    if method in FORWARD_METHODS:
        w = forward_window(m, 0, years, np.zeros(economy.n))
        plain = w  # primal-dual's second fallback: more room in the first year
        if method in ("forward", "dual", "primal-dual"):  # pdhg starts from the plain pass
            try:
                w = retime_window(m, 0, w, np.zeros(economy.n))
            except (ValidationError, RuntimeError) as exc:  # a solve failed: keep the pass
                w = replace(w, message=f"{w.message} (investment not re-timed: {exc})")
    else:
        w = solve_window(m, 0, years, np.zeros(economy.n), method, time_limit)
    pd_res: PrimalDualResult | None = None
    solver = "PDLP" if method == "primal-dual" else "PDHG"
    if method in PD_METHODS and w.status == Status.OPTIMAL and w.xo.shape[0] == years:
        secs = (
            max(10.0, PD_METHODS[method] * (time.perf_counter() - t_start))
            if time_limit is None
            else float(time_limit)
        )
        K0 = np.zeros(economy.n)
        pd_res = (
            pdlp_window(m, 0, years, K0, seconds=secs, start=w)
            if method == "primal-dual"
            else pdhg_window(
                m,
                0,
                years,
                K0,
                seconds=secs,
                iterations=PDHG_ITERATIONS if iterations is None else iterations,
                tol=PDHG_TOL if iterations is None else 0.0,
                start=w,
            )
        )
        cand = plan_from_investment(
            m, 0, K0, pd_res.g, terminal_need(m, 0, years), fallback=[w.g, plain.g]
        )
        if cand is not None and cand.objective < w.objective:
            w = replace(
                cand,
                message=(
                    f"Plan from {solver}'s investments ({pd_res.iterations} iterations, "
                    f"{pd_res.seconds:.3g} s), every year balanced exactly and checked; "
                    f"{(w.objective - cand.objective) / w.objective:.2%} less labour than "
                    "the forward plan."
                ),
            )
        else:
            w = replace(
                w,
                message=(
                    f"{w.message} ({solver}'s plan, {pd_res.iterations} iterations, was not "
                    "better or not feasible: the forward plan is kept.)"
                ),
            )
    message = w.message
    if w.status == Status.INFEASIBLE and method not in FORWARD_METHODS:
        message = f"{message} {first_year_hint(m, 0, np.zeros(economy.n))}"
    done = w.xo.shape[0]

    def result_of(plan: Window, words: str) -> MultiYearPlanResult:
        return assemble(
            m,
            plan,
            years=list(range(first, first + done)),
            t0s=list(range(done)),
            method=method,
            mode="multi-year",
            seconds=time.perf_counter() - t_start,
            assumptions=assumptions,
            labour_unit=economy.labour_unit.split(" per ")[0],
            message=words,
        )

    res = result_of(w, message)
    if not certify or w.status != Status.OPTIMAL or done != years:
        return res
    taken = time.perf_counter() - t_start
    budget = (
        float(bound_seconds)
        if bound_seconds is not None
        else 0.0
        if pd_res is not None
        else max(1.0, taken)
    )
    K0 = np.zeros(economy.n)
    # PDLP's prices alone where they prove the plan within 0.1 % (the price families
    # cost a dozen solves); else the full search, PDLP's prices among its candidates
    fast = (
        prices_bound(m, w, 0, years, K0, pd_res.p, name=f"{solver} duals")
        if pd_res is not None and budget == 0
        else None
    )
    if fast is not None and (fast.gap_proven is None or fast.gap_proven > 1e-3):
        fast = None
    br = fast or certified_bound(
        m,
        w,
        0,
        years,
        K0,
        ascent_seconds=budget,
        refine=3 if pd_res is None else 0,
        prices=None if pd_res is None else pd_res.p,
        prices_name=f"{solver} duals",
    )
    if method in ("dual", *PD_METHODS) and (br.gap_proven is None or br.gap_proven > 1e-5):
        # the plans the bound's prices point to, where one is feasible and needs less labour
        best: tuple[Window, BoundResult] | None = None
        for g in br.investments[:3]:
            cand = plan_from_investment(m, 0, K0, g, terminal_need(m, 0, years))
            if cand is None:
                continue
            br2 = br.for_plan(m, cand, 0, K0)
            top = best[1].plan_objective if best else br.plan_objective
            if br2.gap_proven is not None and br2.plan_objective < top:
                best = (cand, br2)
        if best is not None:
            w2, br = best
            res = result_of(w2, f"{w2.message} (Needs less labour than the {method} plan.)")
    res.assumptions["bound"] = {
        "seconds": br.seconds,
        "candidates": br.candidates,
        "plan_violation": br.plan_violation,
    }
    if pd_res is not None:
        res.assumptions["pdlp" if method == "primal-dual" else "pdhg"] = {
            "iterations": pd_res.iterations,
            "polish_iterations": pd_res.polish_iterations,
            "seconds": pd_res.seconds,
            "termination": pd_res.termination,
            "objective": pd_res.objective,
        }
    return replace(
        res,
        bound=br.bound,
        lp_objective=br.plan_objective,
        gap_proven=br.gap_proven,
        bound_source=br.certificate.source,
        seconds=time.perf_counter() - t_start,
    )


def receding_horizon_plan(
    economy: Economy,
    targets: Mapping[str, Any] | pd.DataFrame | pd.Series,
    *,
    years: int = 5,
    horizon: int = 3,
    start_year: int | None = None,
    method: str = "lp",
    time_limit: float | None = None,
    **kwargs: Any,
) -> MultiYearPlanResult:
    """Re-plan each year with the next ``horizon`` years in view; carry out the first year.

    Takes the keyword arguments of :func:`multi_year_plan`.  The capacity
    built in each year carries into the next window.
    """
    if horizon < 1:
        raise ValidationError(f"receding_horizon_plan: horizon must be >= 1; got {horizon}.")
    if method not in LP_METHODS:
        raise ValidationError(
            f"receding_horizon_plan: method must be one of {LP_METHODS}; got {method!r}."
        )
    t_start = time.perf_counter()
    m, assumptions = build_model(economy, targets, years=years, **model_kwargs(kwargs))
    n = economy.n
    K = np.zeros(n)
    parts: list[Window] = []
    nit = 0
    status = Status.OPTIMAL
    message = f"Re-planned {years} times with a {horizon}-year horizon; each window optimal."
    for t in range(years):
        w = solve_window(m, t, horizon, K, method, time_limit)
        nit += w.nit
        if w.status != Status.OPTIMAL:
            status = w.status
            message = f"Year {t} window: {w.message}"
            if w.status == Status.INFEASIBLE:
                message = f"{message} {first_year_hint(m, t, K)}"
            break
        parts.append(w)
        K = (1.0 - m.delta) * K + w.g[0]
    done = len(parts)
    if done == 0:
        empty = np.zeros((1, n))
        parts = [
            Window(
                xo=empty,
                xn=empty,
                g=empty,
                K=empty,
                duals=empty * np.nan,
                status=status,
                message=message,
                objective=np.nan,
                nit=nit,
                backend_status=w.backend_status,
                backend_message=w.backend_message,
            )
        ]
        done = 1
    joined = Window(
        xo=np.stack([p.xo[0] for p in parts]),
        xn=np.stack([p.xn[0] for p in parts]),
        g=np.stack([p.g[0] for p in parts]),
        K=np.stack([p.K[0] for p in parts]),
        duals=np.stack([p.duals[0] for p in parts]),
        status=status,
        message=message,
        objective=float(sum(p.objective for p in parts)),
        nit=nit,
        backend_status=parts[-1].backend_status,
        backend_message=parts[-1].backend_message,
    )
    first = start_year if start_year is not None else (economy.year + 1 if economy.year else 1)
    assumptions["horizon"] = horizon
    return assemble(
        m,
        joined,
        years=list(range(first, first + done)),
        t0s=list(range(done)),
        method=method,
        mode=f"receding-horizon ({horizon} years)",
        seconds=time.perf_counter() - t_start,
        assumptions=assumptions,
        labour_unit=economy.labour_unit.split(" per ")[0],
        message=message,
    )
