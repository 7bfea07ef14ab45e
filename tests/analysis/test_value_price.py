"""Value–price measures on hand-built economies whose answers are known or cross-checked."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from gosplan import Economy, ValidationError, labour_values
from gosplan.analysis import deviation_measures, value_price_analysis

A3 = np.array([[0.1, 0.2, 0.0], [0.0, 0.1, 0.3], [0.2, 0.0, 0.1]])


def economy(labour: np.ndarray, output: np.ndarray, **kw: object) -> Economy:
    return Economy.from_coefficients(
        A3, labour, products=["grain", "iron", "cloth"], output=output, money_unit="GBP", **kw
    )


def test_prices_proportional_to_values_give_perfect_scores() -> None:
    # choose l so that every unit value is 2 hours: v = vA + l  =>  l = 2(1 - colsum A)
    labour = 2.0 * (1.0 - A3.sum(axis=0))
    e = economy(labour, np.array([100.0, 40.0, 7.0]))
    r = value_price_analysis(e)
    assert r.correlation == pytest.approx(1.0, abs=1e-12)
    assert r.log_r2 == pytest.approx(1.0, abs=1e-12)
    assert r.log_slope == pytest.approx(1.0, abs=1e-9)
    assert r.log_intercept == pytest.approx(0.0, abs=1e-9)
    assert r.mad == pytest.approx(0.0, abs=1e-12)
    assert r.d_distance == pytest.approx(0.0, abs=1e-6)
    assert r.cv_ratio == pytest.approx(0.0, abs=1e-12)
    assert r.scale == pytest.approx(0.5)  # one hour is worth half a pound
    assert r.ratio.to_numpy() == pytest.approx(1.0)


def test_measures_match_an_independent_computation() -> None:
    labour = np.array([0.3, 0.9, 0.2])
    x = np.array([120.0, 30.0, 60.0])
    e = economy(labour, x)
    r = value_price_analysis(e)
    v = np.linalg.solve((np.eye(3) - A3).T, labour)  # dense reference, test only
    W, P = v * x, x
    Ws = W * P.sum() / W.sum()
    assert r.correlation == pytest.approx(np.corrcoef(W, P)[0, 1], rel=1e-10)
    slope, intercept = np.polyfit(np.log(Ws), np.log(P), 1)
    resid = np.log(P) - (intercept + slope * np.log(Ws))
    r2 = 1 - (resid**2).sum() / ((np.log(P) - np.log(P).mean()) ** 2).sum()
    assert r.log_slope == pytest.approx(slope, rel=1e-9)
    assert r.log_intercept == pytest.approx(intercept, rel=1e-9, abs=1e-12)
    assert r.log_r2 == pytest.approx(r2, rel=1e-9)
    assert r.mad == pytest.approx(np.abs(Ws - P).sum() / P.sum(), rel=1e-10)
    cos = v.sum() / (np.linalg.norm(v) * math.sqrt(3))
    assert r.angle == pytest.approx(math.degrees(math.acos(cos)), rel=1e-10)
    assert r.d_distance == pytest.approx(math.sqrt(2 * (1 - cos)), rel=1e-10)
    # with unit prices 1, tan(angle) is the coefficient of variation of the unit values
    assert math.tan(math.radians(r.angle)) == pytest.approx(np.std(v) / np.mean(v), rel=1e-9)
    assert r.value_of_output.sum() == pytest.approx(r.price_of_output.sum())
    d = r.to_dict()
    assert d["labour_kind"] == "hours" and d["money_unit"] == "GBP"
    assert "hours worked" in d["conventions"]["labour"]
    text = r.summary()
    assert "d   =" in text and f"{r.correlation:.4f}" in text


def test_deviation_measures_by_hand() -> None:
    # unit values (1, 2) against unit prices (1, 1), one unit of each
    m = deviation_measures(np.array([1.0, 2.0]), np.array([1.0, 1.0]))
    cos = 3 / math.sqrt(10)
    assert m["angle"] == pytest.approx(math.degrees(math.acos(cos)))
    assert m["d_distance"] == pytest.approx(math.sqrt(2 * (1 - cos)))
    # scaled values k v = (2/3, 4/3): price/value ratios 1.5 and 0.75, mean 1.125, sd 0.375
    assert m["cv_ratio"] == pytest.approx(1 / 3)
    assert m["mad"] == pytest.approx(1 / 3)
    with pytest.raises(ValidationError, match="positive and finite"):
        deviation_measures(np.array([1.0, 0.0]), np.array([1.0, 1.0]))
    with pytest.raises(ValidationError, match="same length"):
        deviation_measures(np.array([1.0, 2.0]), np.array([1.0]))


def test_exclusion_and_zero_value_products_are_listed() -> None:
    A5 = np.zeros((5, 5))
    e = Economy.from_coefficients(
        A5, [1.0, 2.0, 0.0, 1.5, 0.5], products=list("abcde"), output=[10.0, 5.0, 3.0, 8.0, 2.0]
    )
    r = value_price_analysis(e, exclude=["d"])
    assert r.n == 3  # a, b and e remain
    assert r.excluded == {"d": "excluded by the caller", "c": "zero labour value"}
    assert list(r.ratio.index) == ["a", "b", "e"]
    assert "c: zero labour value" in r.summary()


def test_refusals_name_the_culprit() -> None:
    e = Economy.from_coefficients(A3, [0.3, 0.9, 0.2], products=["grain", "iron", "cloth"])
    with pytest.raises(ValidationError, match="gross output"):
        value_price_analysis(e)
    e2 = economy(np.array([0.3, 0.9, 0.2]), np.array([1.0, 2.0, 3.0]))
    with pytest.raises(ValidationError, match="unknown products \\['steel'\\]"):
        value_price_analysis(e2, exclude=["steel"])
    same = economy(np.array([0.3, 0.9, 0.2]), np.array([5.0, 5.0, 5.0]))
    with pytest.raises(ValidationError, match="output at market prices is the same"):
        value_price_analysis(same)
    with pytest.raises(ValidationError, match="at least 3"):
        value_price_analysis(e2, exclude=["grain"])
    other = Economy.from_coefficients(np.zeros((3, 3)), [1.0, 1.0, 1.0], products=["x", "y", "z"])
    with pytest.raises(ValidationError, match="same products"):
        value_price_analysis(e2, labour_values(other))


def test_unit_prices_other_than_one_are_used() -> None:
    # physical units: unit prices p; values proportional to p give a perfect fit
    p = np.array([2.0, 1.0, 3.0])
    labour = p @ (np.eye(3) - A3)
    e = economy(labour, np.array([10.0, 4.0, 30.0]), prices=p)
    r = value_price_analysis(e)
    assert r.d_distance == pytest.approx(0.0, abs=1e-6)
    assert r.conventions["prices"] == "the economy's unit prices"
    assert isinstance(r.to_frame(), pd.DataFrame) and r.to_frame().shape == (3, 3)
