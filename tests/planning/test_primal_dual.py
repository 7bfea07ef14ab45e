"""``method="primal-dual"``: OR-tools PDLP's approximate solution gives a feasible plan
(its investments, balanced exactly and repaired) and a certified bound (its prices,
completed exactly), checked against exact HiGHS where it finishes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from gosplan.core import Status
from gosplan.planning.highs import solve_lp
from gosplan.planning.multiyear import multi_year_plan
from gosplan.planning.multiyear.ascent import _chain, repair_prices
from gosplan.planning.multiyear.bound import _from_prices, _Parts, certified_bound
from gosplan.planning.multiyear.forward import forward_window, retime_window
from gosplan.planning.multiyear.lp import terminal_need
from gosplan.planning.multiyear.primal_dual import compact_lp, pdlp_window
from gosplan.planning.multiyear.recover import plan_from_investment
from gosplan.scale.synthetic_economies import synthetic_economy

from .test_bound import _check_certificate, _exact, _model


@pytest.mark.parametrize("kind", ["table", "60"])
def test_pdlp_prices_and_investments_bracket_the_exact_optimum(kind: str) -> None:
    """Both sides from one PDLP run, on the explicit and the aggregate capital form:
    bound <= optimum <= plan, the certificate dual feasible on the LP's own matrix."""
    years = 5
    m, n = _model(kind, years)
    opt = _exact(m, years, n)
    K0 = np.zeros(n)
    fwd = retime_window(m, 0, forward_window(m, 0, years, K0), K0)
    pd = pdlp_window(m, 0, years, K0, seconds=20.0, start=fwd, threads=1)
    assert pd.iterations > 0
    plan = plan_from_investment(m, 0, K0, pd.g, terminal_need(m, 0, years))
    assert plan is not None and plan.status == Status.OPTIMAL
    br = certified_bound(
        m, plan, 0, years, K0, ascent_seconds=0.0, prices=pd.p, prices_name="PDLP duals"
    )
    tol = 1e-7 * abs(opt)
    assert br.bound <= opt + tol, (br.bound, opt)
    assert opt <= br.plan_objective + tol, (opt, br.plan_objective)
    assert br.plan_violation <= 1e-7
    assert br.candidates["PDLP duals"] <= opt + tol
    _check_certificate(m, years, n, br)
    # PDLP closes what the forward plan and the price families leave open
    before = certified_bound(m, fwd, 0, years, K0, ascent_seconds=0.0)
    assert br.gap_proven is not None and before.gap_proven is not None
    assert br.gap_proven < before.gap_proven


def test_repaired_prices_give_a_finite_bound_below_the_optimum() -> None:
    """Prices whose rents leave terminal capacity worth less than nothing (the bound of
    the exact completion is -inf) are lowered just there; the bound is then finite and
    still below the exact optimum."""
    years = 5
    m, n = _model("60", years)
    opt = _exact(m, years, n)
    K0 = np.zeros(n)
    parts = _Parts(m, 0, years, K0)
    fwd = retime_window(m, 0, forward_window(m, 0, years, K0), K0)
    p = certified_bound(m, fwd, 0, years, K0, ascent_seconds=0.0).certificate.p
    bad = p.copy()
    bad[1:] *= np.linspace(1.02, 1.1, years - 1)[:, None]  # rents out of reach of capacity
    assert not _from_prices(parts, bad)[3]
    fixed = repair_prices(parts, bad)
    assert np.all(fixed >= 0) and np.all(fixed <= bad)
    value, _, _, ok, _ = _from_prices(parts, fixed)
    assert ok and np.all(_chain(parts, fixed)[1][-1] >= 0)
    assert value <= opt * (1 + 1e-9)
    br = certified_bound(m, fwd, 0, years, K0, ascent_seconds=0.0, prices=bad, prices_name="bad")
    assert br.candidates["bad"] == pytest.approx(value)
    _check_certificate(m, years, n, br)


def small_case() -> tuple[Any, dict[str, Any], dict[str, Any], Any]:
    """A 60-product economy, its two bundles, five years' settings and the exact optimum
    (HiGHS ipm): the case each first-order method's plan and bound are checked on."""
    e = synthetic_economy(60, seed=3)
    b = {"personal": e.final_demand["personal"], "social": e.final_demand["social"]}
    kw: dict[str, Any] = {"years": 5, "growth": 0.01, "population": 600.0}
    return e, b, kw, multi_year_plan(e, b, method="ipm", **kw)


def assert_brackets_and_meets_targets(res: Any, exact: Any) -> None:
    """bound <= the exact optimum <= the plan's objective, and every year's targets met."""
    opt = exact.lp_objective
    assert opt is not None and res.bound is not None and res.lp_objective is not None
    assert res.bound <= opt * (1 + 1e-7) and opt <= res.lp_objective * (1 + 1e-7)
    for y in res.years:
        need = res.target_bundles[y].sum(axis=1).to_numpy()
        assert np.all(res.net_output[y].to_numpy() >= need * (1 - 1e-9))


def test_multi_year_plan_primal_dual_says_where_plan_and_bound_come_from() -> None:
    e, b, kw, exact = small_case()
    fw = multi_year_plan(e, b, method="forward", bound_seconds=0.0, **kw)
    pd = multi_year_plan(e, b, method="primal-dual", time_limit=20.0, bound_seconds=0.0, **kw)
    assert exact.success and fw.success and pd.success
    assert pd.method == "primal-dual"
    assert pd.assumptions["pdlp"]["iterations"] > 0
    assert "PDLP duals" in pd.bound_source
    assert "PDLP" in pd.message  # which plan was kept (PDLP's or the forward one)
    assert_brackets_and_meets_targets(pd, exact)
    assert pd.gap_proven is not None and fw.gap_proven is not None
    assert pd.gap_proven < fw.gap_proven


@pytest.mark.parametrize("kind", ["table", "40"])
def test_compact_lp_has_the_window_lps_optimum(kind: str) -> None:
    """PDLP's LP (total and modern output as columns) is the window LP rewritten: the
    same optimum, and its balance rows' duals are the window LP's balance prices."""
    years = 4
    m, n = _model(kind, years)
    opt = _exact(m, years, n)
    lp = compact_lp(m, 0, years, np.zeros(n))
    sol = solve_lp(lp.cost, lp.A, lp.rlo, lp.rhi, lp.lo, lp.hi, method="ipm")
    assert sol.status == Status.OPTIMAL
    assert sol.objective == pytest.approx(opt, rel=1e-7)
    parts = _Parts(m, 0, years, np.zeros(n))
    p = np.stack([np.maximum(sol.row_dual[r : r + n], 0.0) for r in lp.balance])
    value = _from_prices(parts, repair_prices(parts, p))[0]
    assert value <= opt * (1 + 1e-9) and value >= opt * (1 - 1e-5)
