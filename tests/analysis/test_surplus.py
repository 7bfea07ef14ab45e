"""Rate of surplus value and value rate of profit on economies small enough to do by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gosplan import Economy, ValidationError
from gosplan.analysis import rate_of_surplus_value, value_rate_of_profit


def two_sectors(**kw: object) -> Economy:
    """Bread and machines, no intermediate inputs, one hour per unit of each.

    Workers are paid 10 (money), spend it all on bread; owners take 10.
    """
    fd = pd.DataFrame({"households": [4.0, 0.0], "gfcf": [0.0, 6.0], "exports": [6.0, 4.0]})
    args: dict[str, object] = dict(
        final_demand=fd,
        compensation=[5.0, 5.0],
        surplus=[5.0, 5.0],
        money_unit="GBP",
        labour_unit="hours",
    )
    args.update(kw)
    return Economy.from_flows(
        np.zeros((2, 2)), [10.0, 10.0], [10.0, 10.0], products=["bread", "machines"], **args
    )  # type: ignore[arg-type]


def test_rate_of_surplus_value_by_hand() -> None:
    e = two_sectors()
    assert e.purposes == {"households": "personal", "gfcf": "investment", "exports": "exports"}
    s = rate_of_surplus_value(e)
    # L = 20 hours; wages 10 buy 10 loaves (basket scaled from 4 to 10), 10 hours of labour
    assert s.total_labour == pytest.approx(20.0)
    assert s.necessary_labour == pytest.approx(10.0)
    assert s.surplus_labour == pytest.approx(10.0)
    assert s.rate == pytest.approx(1.0)
    assert s.price_rate == pytest.approx(1.0)
    assert s.labour_per_money_of_wages == pytest.approx(1.0)
    assert "household consumption" in s.conventions["wage basket"]
    assert "e = 1.000" in s.summary()
    assert s.to_dict()["labour_unit"] == "hours"


def test_wage_basket_composition_matters() -> None:
    # bread takes 1 hour per unit, machines 3: a basket of machines costs more labour
    e = Economy.from_flows(
        np.zeros((2, 2)),
        [10.0, 10.0],
        [10.0, 30.0],
        products=["bread", "machines"],
        compensation=[10.0, 10.0],
        final_demand=pd.DataFrame({"households": [1.0, 1.0]}),
    )
    s = rate_of_surplus_value(e)
    # wages 20 buy 10 bread + 10 machines: 10 + 30 = 40 hours of the 40 worked
    assert s.necessary_labour == pytest.approx(40.0)
    assert s.rate == pytest.approx(0.0)
    s2 = rate_of_surplus_value(e, wage_basket=[1.0, 0.0])  # all bread: 20 hours
    assert s2.rate == pytest.approx(1.0)
    assert s2.conventions["wage basket"].startswith("the wage basket given")


def test_wages_as_labour_is_documented_and_uses_the_same_formula() -> None:
    e = two_sectors(labour_kind="wages", labour_unit="GBP of wages")
    s = rate_of_surplus_value(e)
    assert s.rate == pytest.approx(1.0)
    assert "value added in value terms" in s.conventions["wages as labour"]


def test_value_rate_of_profit_from_money_stocks() -> None:
    e = two_sectors(capital_stock=[20.0, 20.0])
    p = value_rate_of_profit(e)
    # the investment good (machines) embodies 1 hour per GBP, so the 40 GBP stock is
    # 40 hours of constant capital; V = 10, S = 10: r = 10 / 50
    assert p.constant == pytest.approx(40.0)
    assert p.variable == pytest.approx(10.0)
    assert p.rate == pytest.approx(0.2)
    assert p.organic_composition == pytest.approx(4.0)
    assert p.price_rate == pytest.approx(10.0 / 40.0)
    assert "gross fixed capital formation" in p.conventions["constant capital"]
    assert "r = s/(C+V) = 0.2000" in p.summary()


def test_value_rate_of_profit_from_capital_coefficients() -> None:
    # 2 machines per unit of bread and 1 per machine, machines 1 hour each
    cap = np.array([[0.0, 0.0], [20.0, 10.0]])  # stocks (money), goods × using sectors
    e = two_sectors(capital=cap)
    p = value_rate_of_profit(e)
    assert p.constant == pytest.approx(30.0)
    assert p.rate == pytest.approx(10.0 / 40.0)
    assert "own labour value" in p.conventions["constant capital"]


def test_refusals_name_what_is_missing() -> None:
    bare = Economy.from_flows(
        np.zeros((2, 2)), [10.0, 10.0], [10.0, 10.0], products=["bread", "machines"]
    )
    with pytest.raises(ValidationError, match="compensation of employees"):
        rate_of_surplus_value(bare)
    no_households = Economy.from_flows(
        np.zeros((2, 2)),
        [10.0, 10.0],
        [10.0, 10.0],
        products=["bread", "machines"],
        compensation=[5.0, 5.0],
        final_demand=pd.DataFrame({"exports": [1.0, 1.0]}),
    )
    with pytest.raises(ValidationError, match="purpose 'personal'"):
        rate_of_surplus_value(no_households)
    with pytest.raises(ValidationError, match="capital stock data"):
        value_rate_of_profit(two_sectors())
    with pytest.raises(ValidationError, match="2 non-negative"):
        rate_of_surplus_value(two_sectors(), wage_basket=[1.0, -1.0])
