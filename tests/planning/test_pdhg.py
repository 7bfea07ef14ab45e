"""``method="pdhg"``: our own PDHG on the window LP in its block structure.  Its LP is
the window LP rewritten (same optimum, checked with exact HiGHS on the explicit
matrix its products define), it converges to the exact optimum, and its prices and
investments give a certified bound and a feasible plan that bracket the optimum."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from gosplan.core import Status
from gosplan.planning.highs import solve_lp
from gosplan.planning.multiyear import multi_year_plan
from gosplan.planning.multiyear.bound import certified_bound
from gosplan.planning.multiyear.forward import forward_window
from gosplan.planning.multiyear.lp import terminal_need, window_lp
from gosplan.planning.multiyear.model import build_model, model_kwargs
from gosplan.planning.multiyear.pdhg import _Op, pdhg_window, structured_lp
from gosplan.planning.multiyear.recover import plan_from_investment
from gosplan.planning.targets import purpose_bundles

from .test_bound import _check_certificate, _exact, _model
from .test_leontief import economy
from .test_multiyear import with_imports
from .test_primal_dual import assert_brackets_and_meets_targets, small_case


def _limited_model(years: int) -> tuple[Any, int]:
    """The small table with imported inputs, a working-week cap and balanced trade: the
    LP's one-row-a-year limits present."""
    imp = with_imports(economy())
    kw = model_kwargs(
        {"growth": 0.02, "population": 300.0, "participation": 0.6, "balanced_trade": True}
    )
    kw["max_week"] = 60.0
    m, _ = build_model(imp, purpose_bundles(imp), years=years, **kw)
    return m, imp.n


def _explicit(op: _Op) -> sp.csc_array:
    """The matrix the block products define, column by column."""
    return sp.csc_array(np.array([op.apply(e) for e in np.eye(op.ncol)]).T)


@pytest.mark.parametrize("kind", ["table", "40", "limits"])
def test_structured_lp_is_the_window_lp(kind: str) -> None:
    """The products with ``K`` and ``Kᵀ`` are adjoint, and the LP they define has the
    window LP's optimum (exact HiGHS on both)."""
    years = 4
    m, n = _limited_model(years) if kind == "limits" else _model(kind, years)
    assert (m.max_labour is not None) == (kind == "limits")
    lp = structured_lp(m, 0, years, np.zeros(n), tighten=(0.0, 0.0))
    rng = np.random.default_rng(1)
    z, y = rng.random(lp.op.ncol), rng.random(lp.op.nrow)
    assert float(y @ lp.op.apply(z)) == pytest.approx(float(z @ lp.op.adjoint(y)), rel=1e-12)
    K = _explicit(lp.op)
    assert np.allclose(K.T @ y, lp.op.adjoint(y))
    sol = solve_lp(lp.c, K, lp.b, np.full(lp.op.nrow, np.inf), lp.lo, lp.hi, method="ipm")
    assert sol.status == Status.OPTIMAL
    wl = window_lp(m, 0, years, np.zeros(n), margins=False)
    ref = solve_lp(wl.cost, wl.A, wl.rlo, wl.rhi, wl.lo, wl.hi, method="ipm")
    assert ref.status == Status.OPTIMAL
    assert sol.objective / lp.scale == pytest.approx(ref.objective, rel=1e-7)


@pytest.mark.parametrize("kind", ["table", "60"])
def test_pdhg_converges_to_the_exact_optimum(kind: str) -> None:
    years = 5
    m, n = _model(kind, years)
    opt = _exact(m, years, n)
    kw: dict[str, Any] = {"seconds": 60.0, "tighten": (0.0, 0.0), "polish": 0}
    pd = pdhg_window(m, 0, years, np.zeros(n), iterations=4000, **kw)
    assert pd.iterations == 4000
    assert pd.objective == pytest.approx(opt, rel=1e-5)
    few = pdhg_window(m, 0, years, np.zeros(n), iterations=64, **kw)
    assert abs(few.objective - opt) > abs(pd.objective - opt)
    # the relative-error rule stops it early, at a check whose error is below tol
    seen: list[tuple[int, float]] = []
    tol = pdhg_window(m, 0, years, np.zeros(n), iterations=4000, tol=1e-4, history=seen, **kw)
    assert tol.iterations < 4000 and tol.termination.startswith("relative error")
    assert seen[-1][0] == tol.iterations and seen[-1][1] <= 1e-4
    assert all(r > 1e-4 for _, r in seen[:-1])


@pytest.mark.parametrize("kind", ["table", "60"])
def test_pdhg_prices_and_investments_bracket_the_exact_optimum(kind: str) -> None:
    """Both sides from one run: bound <= optimum <= plan, the certificate dual feasible
    on the LP's own matrix, the gap smaller than the forward pass's."""
    years = 5
    m, n = _model(kind, years)
    opt = _exact(m, years, n)
    K0 = np.zeros(n)
    fwd = forward_window(m, 0, years, K0)
    pd = pdhg_window(m, 0, years, K0, seconds=60.0, iterations=1500, start=fwd)
    plan = plan_from_investment(m, 0, K0, pd.g, terminal_need(m, 0, years), fallback=[fwd.g])
    assert plan is not None and plan.status == Status.OPTIMAL
    br = certified_bound(
        m, plan, 0, years, K0, ascent_seconds=0.0, prices=pd.p, prices_name="PDHG duals"
    )
    tol = 1e-7 * abs(opt)
    assert br.bound <= opt + tol and opt <= br.plan_objective + tol, (br.bound, opt)
    assert br.candidates["PDHG duals"] <= opt + tol
    assert br.plan_violation <= 1e-7
    _check_certificate(m, years, n, br)
    before = certified_bound(m, fwd, 0, years, K0, ascent_seconds=0.0)
    assert br.gap_proven is not None and before.gap_proven is not None
    assert br.gap_proven < before.gap_proven


def test_multi_year_plan_pdhg_says_where_plan_and_bound_come_from() -> None:
    e, b, kw, exact = small_case()
    fw = multi_year_plan(e, b, method="forward-plain", bound_seconds=0.0, **kw)
    pd = multi_year_plan(e, b, method="pdhg", time_limit=20.0, **kw)
    assert exact.success and fw.success and pd.success
    assert pd.method == "pdhg"
    assert pd.assumptions["pdhg"]["iterations"] > 0
    assert "PDHG" in pd.message  # which plan was kept (the PDHG's or the forward one)
    assert_brackets_and_meets_targets(pd, exact)
    assert pd.gap_proven is not None and fw.gap_proven is not None
    assert pd.gap_proven < fw.gap_proven


def test_iterations_hold_the_pdhg_to_that_many_and_bad_values_are_refused() -> None:
    from gosplan.errors import ValidationError

    e, b, kw, exact = small_case()
    held = multi_year_plan(e, b, method="pdhg", iterations=np.int64(37), **kw)  # numpy's too
    assert held.success and held.assumptions["pdhg"]["iterations"] == 37  # no early stop
    assert_brackets_and_meets_targets(held, exact)
    for bad, method in [(0, "pdhg"), (2.5, "pdhg"), (True, "pdhg"), (100, "forward")]:
        with pytest.raises(ValidationError, match="iterations"):
            multi_year_plan(e, b, method=method, iterations=bad, **kw)
