"""Optimal plans as sparse LPs: published optima, shadow prices, balances, infeasibility."""

from __future__ import annotations

import numpy as np
import pytest

from gosplan.core import Economy, Status, labour_values
from gosplan.errors import Infeasible, ValidationError
from gosplan.planning import PlanProblem, Technique, diagnose_infeasible, solve
from gosplan.planning.synthetic_problems import synthetic_plan_problem

EXACT = ("lp", "simplex", "ipm")


def wyndor() -> PlanProblem:
    """Hillier & Lieberman, *Introduction to Operations Research*, ch. 3 (the Wyndor Glass
    Co. prototype example): max Z = 3 x1 + 5 x2 s.t. x1 <= 4, 2 x2 <= 12, 3 x1 + 2 x2 <= 18.
    Published optimum Z* = 36 at (x1, x2) = (2, 6); shadow prices of the three plants'
    hours 0, 1.5 and 1 (same chapter's sensitivity analysis).

    As a plan: each product's batch is a technique using plant hours (resources);
    the ``weighted`` objective with weights ``profit × target`` and targets far above
    what the plants allow makes the objective ``3 x1 + 5 x2``.
    """
    t = 100.0
    return PlanProblem(
        [
            Technique("door batch", outputs={"doors": 1}, inputs={"plant 1": 1, "plant 3": 3}),
            Technique("window batch", outputs={"windows": 1}, inputs={"plant 2": 2, "plant 3": 2}),
        ],
        resources={"plant 1": 4, "plant 2": 12, "plant 3": 18},
        targets={"doors": t, "windows": t},
        objective="weighted",
        weights={"doors": 3 * t, "windows": 5 * t},
    )


def giapetto() -> PlanProblem:
    """Winston, *Operations Research: Applications and Algorithms*, §3.1 (Giapetto's
    Woodcarving): max z = 3 x1 + 2 x2 s.t. 2 x1 + x2 <= 100 (finishing hours),
    x1 + x2 <= 80 (carpentry hours), x1 <= 40 (demand for soldiers).
    Published optimum z* = 180 at (x1, x2) = (20, 60).
    """
    t = 1000.0
    return PlanProblem(
        [
            Technique(
                "soldier",
                outputs={"soldiers": 1},
                inputs={"finishing": 2, "carpentry": 1},
                upper=40,
            ),
            Technique("train", outputs={"trains": 1}, inputs={"finishing": 1, "carpentry": 1}),
        ],
        resources={"finishing": 100, "carpentry": 80},
        targets={"soldiers": t, "trains": t},
        objective="weighted",
        weights={"soldiers": 3 * t, "trains": 2 * t},
    )


@pytest.mark.parametrize("method", [*EXACT, "pdlp"])
def test_wyndor_published_optimum(method: str) -> None:
    r = solve(wyndor(), method).raise_for_status()
    tol = 1e-9 if method != "pdlp" else 1e-6
    assert r.objective == pytest.approx(36.0, rel=tol)
    assert r.intensities["door batch"] == pytest.approx(2.0, rel=tol * 10)
    assert r.intensities["window batch"] == pytest.approx(6.0, rel=tol * 10)
    if method != "pdlp":
        sp = r.shadow_prices
        assert sp["plant 1"] == pytest.approx(0.0, abs=1e-9)
        assert sp["plant 2"] == pytest.approx(1.5, rel=1e-9)
        assert sp["plant 3"] == pytest.approx(1.0, rel=1e-9)


@pytest.mark.parametrize("method", EXACT)
def test_giapetto_published_optimum(method: str) -> None:
    r = solve(giapetto(), method).raise_for_status()
    assert r.objective == pytest.approx(180.0, rel=1e-9)
    assert r.intensities["soldier"] == pytest.approx(20.0, rel=1e-9)
    assert r.intensities["train"] == pytest.approx(60.0, rel=1e-9)
    # finishing and carpentry bind; each extra hour is worth 1 (Winston's shadow prices)
    assert r.shadow_prices["finishing"] == pytest.approx(1.0, rel=1e-9)
    assert r.shadow_prices["carpentry"] == pytest.approx(1.0, rel=1e-9)


def test_kantorovich_assortment_by_hand() -> None:
    """Kantorovich's problem A (1939, §I): machines of two kinds share the making of two
    parts; maximise complete sets.  Small instance solved by hand: machine M makes 10 of
    part a or 20 of part b a day (4 machines), machine N 20 of a or 10 of b (2 machines).
    N is relatively better at a and makes only a (40); M gives x machine-days to a:
    a = 40 + 10 x, b = 20 (4 - x); complete sets need a = b, so x = 4/3 and the plan
    yields 40 + 40/3 = 160/3 sets."""
    p = PlanProblem(
        [
            Technique("M-a", outputs={"a": 10}, inputs={"M": 1}),
            Technique("M-b", outputs={"b": 20}, inputs={"M": 1}),
            Technique("N-a", outputs={"a": 20}, inputs={"N": 1}),
            Technique("N-b", outputs={"b": 10}, inputs={"N": 1}),
        ],
        resources={"M": 4, "N": 2},
        targets={"a": 1, "b": 1},
        objective="assortment",
    )
    r = solve(p).raise_for_status()
    assert r.bundles == pytest.approx(160.0 / 3.0, rel=1e-9)
    assert r.intensities["N-a"] == pytest.approx(2.0, rel=1e-9)
    assert r.intensities["M-a"] == pytest.approx(4.0 / 3.0, rel=1e-9)
    # objectively determined valuations: both machines are fully used
    assert r.shadow_prices["M"] > 0 and r.shadow_prices["N"] > 0


def test_min_labour_shadow_prices_are_labour_values() -> None:
    A = np.array([[0.1, 0.2, 0.0], [0.3, 0.1, 0.2], [0.0, 0.1, 0.3]])
    e = Economy(A, [1.0, 2.0, 0.5], products=["grain", "steel", "power"])
    p = PlanProblem.from_economy(e, {"personal": {"grain": 10, "power": 5}, "health": {"steel": 1}})
    v = labour_values(e).values
    for method in EXACT:
        r = solve(p, method).raise_for_status()
        np.testing.assert_allclose(
            r.shadow_prices[list(e.products)].to_numpy(), v.to_numpy(), rtol=1e-9
        )
        assert r.labour == pytest.approx(float(v @ r.targets), rel=1e-9)


def _check_balances(r, rel: float = 1e-9) -> None:  # type: ignore[no-untyped-def]
    b = r.balances()
    assert b["shortfall"] <= rel, b
    assert b["excess"] <= rel, b
    assert b["min_intensity"] >= 0.0


@pytest.mark.parametrize("objective", ["min_labour", "assortment", "weighted"])
@pytest.mark.parametrize("method", [*EXACT, "pdlp"])
def test_every_plan_balances(objective: str, method: str) -> None:
    p = synthetic_plan_problem(120, seed=3, objective=objective)  # type: ignore[arg-type]
    r = solve(p, method).raise_for_status()
    # every plan delivers its targets (x bundles / fulfilment), within every limit
    _check_balances(r, 1e-9 if method != "pdlp" or objective != "min_labour" else 1e-7)
    net, t = r.net_output.to_numpy(), r.targets.to_numpy()
    if objective == "min_labour":
        assert np.all(net >= t - 1e-9 * np.maximum(t, 1.0))
    assert np.all(r.intensities.to_numpy() >= 0)
    assert np.all(r.resource_use.to_numpy() <= p.amounts * (1 + 1e-9) + 1e-12)


def test_exact_methods_agree_and_pdlp_is_close() -> None:
    p = synthetic_plan_problem(150, seed=5, objective="assortment")
    objs = {m: solve(p, m).raise_for_status().objective for m in (*EXACT, "pdlp")}
    for m in EXACT:
        assert objs[m] == pytest.approx(objs["lp"], rel=1e-9)
    assert objs["pdlp"] == pytest.approx(objs["lp"], rel=1e-5)
    assert objs["pdlp"] <= objs["lp"] * (1 + 1e-12)  # a feasible plan cannot beat the optimum


def test_split_lambda_blocks_give_the_same_optimum() -> None:
    one = synthetic_plan_problem(80, seed=2, objective="assortment", split=10**9)
    many = synthetic_plan_problem(80, seed=2, objective="assortment", split=4)
    a, b = solve(one).raise_for_status(), solve(many).raise_for_status()
    assert a.objective == pytest.approx(b.objective, rel=1e-9)


def test_infeasible_targets_are_diagnosed() -> None:
    p = PlanProblem(
        [
            Technique("smelt", outputs={"steel": 1}, inputs={"ore": 2}, labour=3),
            Technique("bake", outputs={"bread": 1}, inputs={"flour": 1}, labour=1),
        ],
        resources={"ore": 100, "flour": 1000},
        targets={"steel": 80, "bread": 10},
    )
    r = solve(p)
    assert not r.success
    assert r.status == Status.INFEASIBLE
    assert "'steel' (short by 30" in r.message
    assert "'ore' (uses 100 of 100)" in r.message
    assert "bread" not in str(r.diagnosis).split("binding")[0]
    with pytest.raises(Infeasible, match="steel"):
        r.raise_for_status()
    d = diagnose_infeasible(p)
    assert d.shortfall["steel"] == pytest.approx(30.0, rel=1e-9)
    assert d.shortfall["bread"] == 0.0
    assert list(d.binding.index) == ["ore"]


def test_labour_limit_binds_in_diagnosis() -> None:
    A = np.array([[0.1, 0.2], [0.3, 0.1]])
    e = Economy(A, [1.0, 2.0], products=["grain", "steel"])
    p = PlanProblem.from_economy(e, {"personal": {"grain": 10}}, resources={"labour": 5.0})
    r = solve(p)
    assert r.status == Status.INFEASIBLE
    assert "'labour' (uses 5 of 5)" in r.message


def test_errors_name_the_culprit() -> None:
    make = Technique("make", outputs={"cloth": 1}, inputs={"cotton": 2}, labour=1)
    with pytest.raises(ValidationError, match=r"uses 'cotton'.*resource does not exist"):
        PlanProblem([make], targets={"cloth": 1})
    with pytest.raises(ValidationError, match=r"uses 'cotton'.*Did you mean 'coton'"):
        PlanProblem([make], resources={"coton": 5}, targets={"cloth": 1})
    with pytest.raises(ValidationError, match=r"target for 'cloth' must be .*non-negative.*-1"):
        PlanProblem([make], resources={"cotton": 5}, targets={"cloth": -1})
    with pytest.raises(ValidationError, match=r"target for 'clth', but no technique makes it"):
        PlanProblem([make], resources={"cotton": 5}, targets={"clth": 1})
    with pytest.raises(ValidationError, match=r"Did you mean 'assortment'"):
        PlanProblem([make], resources={"cotton": 5}, objective="asortment")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"technique .bad.: labour must be .*>= 0; got -2"):
        Technique("bad", outputs={"x": 1}, labour=-2)
    with pytest.raises(ValidationError, match=r"'method' parameter of solve.*'simplex'"):
        solve(PlanProblem([make], resources={"cotton": 5}, targets={"cloth": 1}), "simplx")
    p = PlanProblem([make], resources={"cotton": 5}, targets={"cloth": 1}, objective="assortment")
    r = solve(p)  # the cotton limits the bundles
    assert r.bundles == pytest.approx(2.5)
    with pytest.raises(ValidationError, match="needs a limit"):
        solve(
            PlanProblem(
                [Technique("air", outputs={"air": 1}, labour=1)],
                targets={"air": 1},
                objective="assortment",
            )
        )


def test_from_economy_rejects_negative_and_unknown_targets() -> None:
    e = Economy(np.array([[0.1, 0.2], [0.3, 0.1]]), [1.0, 2.0], products=["grain", "steel"])
    with pytest.raises(ValidationError, match=r"negative target -3 for product 'steel'"):
        PlanProblem.from_economy(e, {"personal": {"steel": -3}})
    with pytest.raises(ValidationError, match=r"unknown product.*Did you mean 'grain'"):
        PlanProblem.from_economy(e, {"personal": {"grian": 3}})


def test_working_week_from_population() -> None:
    e = Economy(np.array([[0.1, 0.2], [0.3, 0.1]]), [1.0, 2.0], products=["grain", "steel"])
    p = PlanProblem.from_economy(
        e, {"personal": {"grain": 1000.0}}, population=100, participation=0.5, weeks_per_year=40
    )
    r = solve(p).raise_for_status()
    assert r.working_week == pytest.approx(r.labour / (100 * 0.5 * 40), rel=1e-12)
