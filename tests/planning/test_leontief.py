"""Leontief plans: gross outputs, labour by purpose, working week, deduction shares."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gosplan.core import Economy, labour_values
from gosplan.errors import ValidationError
from gosplan.planning.leontief import deduction_shares, leontief_plan
from gosplan.planning.targets import hours_per_labour_unit, purpose_bundles

PRODUCTS = ["agriculture", "manufacturing", "Educação e saúde privadas", "Administração pública"]


def economy(**kw: object) -> Economy:
    Z = np.array([[10, 20, 5, 1], [5, 10, 10, 2], [2, 4, 3, 1], [1, 1, 1, 1.0]])
    x = np.array([100, 120, 80, 60.0])
    fd = pd.DataFrame(
        {
            "households": [50, 40, 30, 5],
            "government": [5, 10, 20, 40],
            "gfcf": [1, 40, 0, 0],
            "exports": [10, 10, 5, 0],
        },
        index=PRODUCTS,
    )
    args = {"labour_kind": "persons", "labour_unit": "persons", "year": 2020}
    args.update(kw)
    return Economy.from_flows(Z, x, [50, 60, 70, 40], products=PRODUCTS, final_demand=fd, **args)  # type: ignore[arg-type]


def test_free_health_and_education_leave_personal_consumption() -> None:
    e = economy()
    b = purpose_bundles(e, uplift=1.2)
    hs = "Educação e saúde privadas"
    # households bought 30 and government provided 20: 50, raised by 20 %, split in two
    assert b.at[hs, "health"] == pytest.approx(30.0)
    assert b.at[hs, "education"] == pytest.approx(30.0)
    assert b.at[hs, "personal"] == 0.0
    assert "social" in b.columns and b.at["Administração pública", "social"] == 40.0
    assert any("split equally" in n for n in b.attrs["notes"])
    with pytest.raises(ValidationError, match="Did you mean 'health'"):
        purpose_bundles(e, free=["helth"])


def test_leontief_plan_delivers_and_splits_labour_exactly() -> None:
    e = economy()
    b = purpose_bundles(e)
    r = leontief_plan(e, b, population=300, participation=0.6, weeks_per_year=46)
    y = b.sum(axis=1).to_numpy()
    net = r.net_output.to_numpy()
    assert np.all(net >= y - 1e-9 * np.maximum(y, 1))
    assert np.all(r.gross_output.to_numpy() >= 0)
    # l . x = v . y: the purposes add up to all the labour
    assert r.labour_by_purpose.sum() == pytest.approx(r.labour_hours, rel=1e-10)
    assert r.labour_hours == pytest.approx(r.labour * 1800.0)
    v = labour_values(e).values
    assert r.labour_by_purpose["exports"] == pytest.approx(float(v @ b["exports"]) * 1800)
    assert r.working_week == pytest.approx(r.labour_hours / (300 * 0.6 * 46))
    assert r.working_week_by_purpose is not None
    assert r.working_week_by_purpose.sum() == pytest.approx(r.working_week)


def test_deduction_shares() -> None:
    lab = pd.Series({"personal": 60.0, "health": 25.0, "education": 15.0})
    rate, shares = deduction_shares(lab)
    assert rate == pytest.approx(0.4)
    assert shares.to_dict() == pytest.approx({"health": 0.625, "education": 0.375})
    r = leontief_plan(economy(), purpose_bundles(economy()))
    rate2, shares2 = r.deduction_shares()
    assert 0 < rate2 < 1 and shares2.sum() == pytest.approx(1.0)
    assert "personal" not in shares2.index


def test_hours_per_labour_unit() -> None:
    assert hours_per_labour_unit(economy()) == 1800.0
    assert hours_per_labour_unit(economy(labour_kind="hours", labour_unit="million hours")) == 1e6
    with pytest.raises(ValidationError, match="wages"):
        hours_per_labour_unit(economy(labour_kind="wages", labour_unit="GBP million"))
    with pytest.raises(ValidationError, match="population must be > 0"):
        leontief_plan(economy(), purpose_bundles(economy()), population=-1)
