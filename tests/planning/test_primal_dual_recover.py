"""The plan side of ``method="primal-dual"`` from a short PDLP run: investments far
from the LP's (as after a few hundred iterations) repaired by one backward sweep per
round and trimmed of idle capacity; the bound of PDLP's prices alone; PDLP's dual
started from prices completed like the bound."""

from __future__ import annotations

import numpy as np
import pytest

from gosplan.core import Status
from gosplan.planning.highs import solve_lp
from gosplan.planning.multiyear.bound import _from_prices, _Parts, certified_bound
from gosplan.planning.multiyear.forward import forward_window, retime_window
from gosplan.planning.multiyear.lp import terminal_need
from gosplan.planning.multiyear.primal_dual import (
    compact_lp,
    dual_rows,
    pdlp_window,
    prices_bound,
)
from gosplan.planning.multiyear.recover import plan_from_investment

from .test_bound import _check_certificate, _exact, _model


@pytest.mark.parametrize("kind", ["table", "60"])
def test_perturbed_investments_become_a_feasible_plan_above_the_optimum(kind: str) -> None:
    """Investments 30 % off either way, year by year (short of capacity in some years,
    idle capacity in others): the repaired plan meets every row of the LP and, being
    feasible, needs at least the exact optimum."""
    years = 5
    m, n = _model(kind, years)
    opt = _exact(m, years, n)
    K0 = np.zeros(n)
    fwd = retime_window(m, 0, forward_window(m, 0, years, K0), K0)
    rng = np.random.default_rng(1)
    g = fwd.g * rng.uniform(0.7, 1.3, size=fwd.g.shape)
    plan = plan_from_investment(m, 0, K0, g, terminal_need(m, 0, years), fallback=[fwd.g])
    assert plan is not None and plan.status == Status.OPTIMAL
    br = certified_bound(m, plan, 0, years, K0, ascent_seconds=0.0)
    assert br.plan_violation <= 1e-7
    assert br.plan_objective >= opt * (1 - 1e-7)
    assert br.bound <= opt * (1 + 1e-7)


def test_idle_capacity_is_trimmed() -> None:
    """A feasible plan whose last year builds half as much again as it needs (more
    capital goods than that year can make, so the forward plan is mixed in): the
    capacity above the terminal need is cut, and the plan needs no more labour than
    the forward plan."""
    years = 5
    m, n = _model("60", years)
    K0 = np.zeros(n)
    fwd = retime_window(m, 0, forward_window(m, 0, years, K0), K0)
    g = fwd.g.copy()
    g[-1] *= 1.5
    plan = plan_from_investment(m, 0, K0, g, terminal_need(m, 0, years), fallback=[fwd.g])
    assert plan is not None
    assert plan.g[-1].sum() < 1.05 * fwd.g[-1].sum()
    assert plan.objective <= fwd.objective * (1 + 1e-6)
    br = certified_bound(m, plan, 0, years, K0, ascent_seconds=0.0)
    assert br.plan_violation <= 1e-7


@pytest.mark.parametrize("kind", ["table", "60"])
def test_prices_bound_is_a_true_bound_from_prices_alone(kind: str) -> None:
    """The bound of PDLP's prices without the price families: below the exact optimum,
    dual feasible on the LP's own matrix, the same value as the full search gives for
    those prices."""
    years = 5
    m, n = _model(kind, years)
    opt = _exact(m, years, n)
    K0 = np.zeros(n)
    fwd = retime_window(m, 0, forward_window(m, 0, years, K0), K0)
    pd = pdlp_window(m, 0, years, K0, seconds=20.0, iterations=300, start=fwd, threads=1)
    assert pd.polish_iterations > 0
    br = prices_bound(m, fwd, 0, years, K0, pd.p)
    assert br is not None
    assert br.bound <= opt * (1 + 1e-9)
    assert br.plan_objective >= opt * (1 - 1e-9)
    _check_certificate(m, years, n, br)
    full = certified_bound(
        m, fwd, 0, years, K0, ascent_seconds=0.0, prices=pd.p, prices_name="PDLP duals"
    )
    assert br.candidates["PDLP duals"] == pytest.approx(full.candidates["PDLP duals"], rel=1e-12)


@pytest.mark.parametrize("kind", ["table", "40"])
def test_dual_rows_of_the_optimal_prices_are_dual_feasible(kind: str) -> None:
    """The completed dual of the exact LP's balance prices, on :func:`compact_lp`'s own
    matrix: signs fit the rows, reduced costs the columns, and its weak-duality value
    is the optimum (what PDLP's dual starts from is a dual solution)."""
    years = 4
    m, n = _model(kind, years)
    opt = _exact(m, years, n)
    K0 = np.zeros(n)
    lp = compact_lp(m, 0, years, K0)
    sol = solve_lp(lp.cost, lp.A, lp.rlo, lp.rhi, lp.lo, lp.hi, method="ipm")
    p = np.stack([np.maximum(sol.row_dual[r : r + n], 0.0) for r in lp.balance])
    y = dual_rows(m, 0, years, K0, lp, p)
    assert y.shape == (lp.A.shape[0],)
    d = lp.cost - np.asarray(lp.A.T @ y)
    scale = float(np.abs(lp.cost).max())
    free_above = ~np.isfinite(lp.hi)
    assert np.all(d[free_above] >= -1e-6 * scale)
    assert np.all(y[~np.isfinite(lp.rhi)] >= 0) and np.all(y[~np.isfinite(lp.rlo)] <= 0)
    fin_lo, fin_hi = np.isfinite(lp.rlo), np.isfinite(lp.rhi)
    val = float(
        np.sum(np.where(y > 0, y * np.where(fin_lo, lp.rlo, 0), y * np.where(fin_hi, lp.rhi, 0)))
    )
    val += float(np.sum(np.where(d > 0, d * lp.lo, d * np.where(np.isfinite(lp.hi), lp.hi, 0.0))))
    assert val <= opt * (1 + 1e-6)
    assert val >= opt * (1 - 1e-4)
    # the bound's own completion of the same prices agrees
    parts = _Parts(m, 0, years, K0)
    assert _from_prices(parts, p)[0] == pytest.approx(val, rel=1e-4)
