"""Harmony vs the exact LP: gap reported and bounded on problems the LP solves in seconds."""

from __future__ import annotations

import numpy as np
import pytest

from gosplan.core import Economy, Status
from gosplan.errors import ValidationError
from gosplan.planning import PlanProblem, Technique, gap, harmony, harmony_function, solve
from gosplan.planning.synthetic_problems import synthetic_plan_problem


def test_harmony_function_is_steep_below_and_flat_above() -> None:
    s = np.array([-0.5, -0.1, 0.0, 0.1, 0.5])
    h = harmony_function(s)
    assert h[2] == 0.0
    assert np.all(np.diff(h) > 0)  # increasing
    # a shortfall costs more harmony than the same surplus gains
    assert abs(h[0]) > h[4] and abs(h[1]) > h[3]


def test_no_limits_is_exact_by_non_substitution() -> None:
    p = synthetic_plan_problem(60, seed=4, objective="min_labour", resources=0)
    exact = solve(p, "lp").raise_for_status()
    r = harmony(p, reference=exact)
    assert r.success
    assert r.extra["gap"] == pytest.approx(0.0, abs=1e-9)
    assert r.nit <= 5


@pytest.mark.parametrize("objective,bound", [("min_labour", 2e-3), ("assortment", 1e-2)])
@pytest.mark.parametrize("n", [50, 300])
def test_gap_to_exact_lp_is_bounded(objective: str, bound: float, n: int) -> None:
    p = synthetic_plan_problem(n, seed=11, objective=objective)  # type: ignore[arg-type]
    exact = solve(p, "lp").raise_for_status()
    r = solve(p, "harmony", reference=exact)
    assert r.status in (Status.OPTIMAL, Status.ITERATION_LIMIT)
    g = r.extra["gap"]
    assert g == pytest.approx(gap(r, exact))
    # never better than the optimum (up to rounding), and close to it
    assert -1e-9 <= g <= bound, g
    b = r.balances()
    assert b["shortfall"] <= 1e-9 and b["excess"] <= 1e-9 and b["min_intensity"] >= 0


def test_harmony_refuses_joint_production() -> None:
    p = PlanProblem(
        [Technique("refine", outputs={"petrol": 1, "diesel": 1}, labour=1)], targets={"petrol": 1}
    )
    with pytest.raises(ValidationError, match="technique 'refine' makes 2"):
        harmony(p)


def test_harmony_refuses_weighted() -> None:
    e = Economy(np.array([[0.1, 0.2], [0.3, 0.1]]), [1.0, 2.0], products=["a", "b"])
    p = PlanProblem.from_economy(
        e, {"x": {"a": 1.0}}, objective="weighted", resources={"labour": 10.0}
    )
    with pytest.raises(ValidationError, match="'weighted'"):
        harmony(p)


def test_callback_can_stop_harmony() -> None:
    p = synthetic_plan_problem(40, seed=1, objective="assortment")
    seen: list[int] = []

    def cb(nit: int, obj: float) -> None:
        seen.append(nit)
        if nit >= 3:
            raise StopIteration

    r = harmony(p, callback=cb)
    assert seen == [1, 2, 3]
    assert r.nit == 3
    assert r.bundles is not None and r.bundles > 0
