"""One result protocol (core/result.py): status, success, message, nit, residual,
raise_for_status() — on every result class, each able to report a failure."""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import pandas as pd
import pytest

from gosplan import Economy, Infeasible, NotConverged, Status, Unbounded, labour_values
from gosplan.core.linsolve import solve_leontief
from gosplan.core.result import Result, SolveResult
from gosplan.core.values import LabourValues
from gosplan.planning import (
    LeontiefPlanResult,
    MultiYearPlanResult,
    PlanProblem,
    PlanResult,
    leontief_plan,
    solve,
)


def toy() -> Economy:
    fd = pd.DataFrame({"Households": [50.0, 30.0]})
    return Economy.from_flows(
        [[10.0, 20.0], [30.0, 10.0]],
        [100.0, 80.0],
        [40.0, 30.0],
        products=["corn", "iron"],
        final_demand=fd,
        labour_unit="hours",
    )


@pytest.mark.parametrize(
    "cls", [SolveResult, PlanResult, MultiYearPlanResult, LabourValues, LeontiefPlanResult]
)
def test_every_result_class_shares_the_base(cls: type) -> None:
    assert issubclass(cls, Result)
    names = {f.name for f in dataclasses.fields(cls)}
    assert {"status", "message", "nit"} <= names, names
    # the protocol's methods are the base's, not copies
    assert cls.raise_for_status is Result.raise_for_status
    assert cls.success is Result.success


def test_labour_values_report_status_and_can_fail() -> None:
    r = labour_values(toy())
    assert r.status is Status.OPTIMAL and r.success and r.raise_for_status() is r
    assert r.iterations == r.nit
    short = dataclasses.replace(r, residual=1e-3)  # converged, but not to tol
    assert not short.success
    with pytest.raises(NotConverged, match=r"relative residual 0.001 > tol") as err:
        short.raise_for_status()
    assert err.value.residual == pytest.approx(1e-3)
    limit = dataclasses.replace(r, status=Status.ITERATION_LIMIT, message="stopped at 5")
    assert not limit.success
    with pytest.raises(NotConverged, match="stopped at 5"):
        limit.raise_for_status()


def test_leontief_plan_success_is_not_a_constant() -> None:
    p = leontief_plan(toy(), {"personal": {"corn": 10.0, "iron": 5.0}})
    assert p.status is Status.OPTIMAL and p.success and p.nit >= 1 and p.message
    assert p.tol == 1e-10 and p.residual <= 1e-10
    failed = dataclasses.replace(p, status=Status.BREAKDOWN, message="I - A is singular")
    assert not failed.success
    with pytest.raises(NotConverged, match="singular"):
        failed.raise_for_status()


def test_plan_result_raises_by_status_and_reads_nan_residual() -> None:
    problem = PlanProblem.from_arrays(
        np.array([[0.8, -0.1], [-0.2, 0.9]]),
        np.array([1.0, 2.0]),
        np.array([1.0, 1.0]),
        products=["a", "b"],
        techniques=["a", "b"],
    )
    r = solve(problem)
    assert r.success and r.raise_for_status() is r
    assert math.isnan(r.residual)
    with pytest.raises(Infeasible, match="no plan"):
        dataclasses.replace(r, status=Status.INFEASIBLE, message="no plan").raise_for_status()
    with pytest.raises(Unbounded):
        dataclasses.replace(r, status=Status.UNBOUNDED, message="").raise_for_status()


def test_solve_leontief_takes_tol_and_rtol_still_works_with_a_warning() -> None:
    e = toy()
    new = solve_leontief(e.A, e.labour, method="jacobi", tol=1e-9)
    with pytest.warns(DeprecationWarning, match="use tol"):
        old = solve_leontief(e.A, e.labour, method="jacobi", rtol=1e-9)
    np.testing.assert_allclose(new.x, old.x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        solve_leontief(e.A, e.labour, tol=1e-9)
