"""Labour counted as hours, persons or skill-adjusted hours (wage-weighted reduction)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import gosplan
from gosplan.analysis import value_price_analysis
from gosplan.analysis.labour import skill_weights, with_labour
from gosplan.cli import main
from gosplan.errors import ValidationError


def toy(compensation: list[float], persons: list[float] | None = None) -> gosplan.Economy:
    Z = np.array([[10.0, 20.0, 5.0], [15.0, 5.0, 10.0], [5.0, 10.0, 20.0]])
    return gosplan.Economy.from_flows(
        Z,
        [100.0, 80.0, 120.0],
        [50.0, 40.0, 30.0],
        products=["a", "b", "c"],
        compensation=compensation,
        persons=persons,
        labour_unit="hours",
        money_unit="EUR",
    )


def test_equal_hourly_wages_change_nothing() -> None:
    e = toy([500.0, 400.0, 300.0])  # 10 EUR an hour everywhere
    assert skill_weights(e) == pytest.approx([1.0, 1.0, 1.0])
    adj = with_labour(e, "skill-adjusted")
    np.testing.assert_allclose(
        gosplan.labour_values(adj).values, gosplan.labour_values(e).values, rtol=1e-12
    )


def test_an_hour_paid_twice_as_much_counts_twice() -> None:
    e = toy([500.0, 800.0, 450.0])  # 10, 20 and 15 EUR an hour
    w = skill_weights(e)
    assert w == pytest.approx([1.0, 2.0, 1.5])
    adj = with_labour(e, "skill-adjusted")
    np.testing.assert_allclose(adj.labour, e.labour * [1.0, 2.0, 1.5])
    assert "hours of a, the lowest-paid industry" in adj.labour_unit
    v = gosplan.labour_values(adj).values.to_numpy()
    A = adj.A.toarray()
    np.testing.assert_allclose(v, v @ A + adj.labour, rtol=1e-10)  # v* = v*A + l*
    # total skill-adjusted hours = total compensation / lowest hourly wage
    assert float(adj.labour @ adj.output) == pytest.approx((500 + 800 + 450) / 10.0)
    assert e.labour_unit == "hours" and e.labour == pytest.approx([0.5, 0.5, 0.25])  # kept
    assert "skill-adjusted" in adj.meta.history[-1]


def test_persons_basis_and_what_is_missing() -> None:
    e = toy([500.0, 800.0, 450.0], persons=[2.0, 1.0, 3.0])
    p = with_labour(e, "persons")
    assert p.labour == pytest.approx([0.02, 1 / 80, 0.025]) and p.labour_kind == "persons"
    with pytest.raises(ValidationError, match="`persons`"):
        with_labour(toy([1.0, 1.0, 1.0]), "persons")
    with pytest.raises(ValidationError, match="`basis` of with_labour"):
        with_labour(e, "wages")
    no_comp = gosplan.Economy.from_flows(np.zeros((2, 2)), [1.0, 1.0], [1.0, 1.0])
    with pytest.raises(ValidationError, match="`compensation`"):
        with_labour(no_comp, "skill-adjusted")


@pytest.mark.shared_data
def test_wiod_gbr_2010_skill_adjusted(data_dir: Path) -> None:
    e = gosplan.read.wiod(str(data_dir / "wiod-2016" / "GBR_NIOT_nov16.xlsx"), year=2010)
    w = skill_weights(e)
    paid = w > 0
    assert w[paid].min() == pytest.approx(1.0) and w.max() > 2
    adj = with_labour(e, "skill-adjusted")
    hours = e.labour * e.output
    wage = e.compensation[paid] / hours[paid]
    assert float(adj.labour @ adj.output) == pytest.approx(
        float(e.compensation[paid].sum() / wage.min()), rel=1e-9
    )
    raw = value_price_analysis(e)
    skilled = value_price_analysis(adj)
    # weighting hours by wages brings values closer to prices (here, as in the literature)
    assert skilled.correlation > raw.correlation and skilled.mad < raw.mad


def test_cli_offers_the_three_bases(data_dir: Path) -> None:
    src = str(data_dir / "wiod-2016" / "GBR_NIOT_nov16.xlsx")
    rows = {}
    for basis in ("hours", "persons", "skill-adjusted"):
        r = CliRunner().invoke(
            main, ["analyse", src, "--years", "2010", "--labour", basis, "--json"]
        )
        assert r.exit_code == 0, r.output
        rows[basis] = json.loads(r.output)["series"][0]
    assert rows["hours"]["labour_unit"] == "million hours"
    assert rows["skill-adjusted"]["labour_unit"].startswith("skill-adjusted hours")
    assert rows["skill-adjusted"]["correlation"] > rows["hours"]["correlation"]
    r = CliRunner().invoke(
        main, ["analyse", str(data_dir / "uk-1984" / "UK-1984.csv"), "--labour", "skill-adjusted"]
    )
    assert r.exit_code == 1 and "need labour in hours" in r.output
    assert "Traceback" not in r.output
