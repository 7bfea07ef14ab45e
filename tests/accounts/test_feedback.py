"""Feedback to the plan (Cockshott & Cottrell ch. 8) and the deduction from a plan or economy."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.orm import Session

from gosplan.core.values import labour_values
from gosplan.planning.leontief import leontief_plan
from gosplan.planning.targets import purpose_bundles
from gosplan.readers.registry import open_source
from gosplan.services import publiclog
from gosplan.services.accounts import (
    Accounts,
    Deduction,
    catalogue_from_economy,
    clearing_ratio,
    target_factor,
)

TOY = Path(__file__).resolve().parents[1] / "data" / "generic" / "toy.csv"


@pytest.mark.parametrize(
    "ratio,sold,available,e,expected,censored",
    [
        (1.0, 45, 50, 1.0, 1.0, False),  # sold what the plan meant to sell: keep
        (1.0, 40, 50, 1.0, 0.8 / 0.9, False),  # a little left over: a little cheaper
        (1.0, 25, 50, 1.0, 0.8, False),  # much left over: down by the full step
        (1.0, 50, 50, 1.0, 1.25, True),  # sold out: up by the full step, censored
        (1.2, 50, 50, 1.0, 1.5, True),
        (1.0, 40, 50, 2.0, (0.8 / 0.9) ** 0.5, False),
        (1.0, 0, 0, 1.0, 1.0, False),  # nothing on offer: no information
        (1.0, 0, 10, 1.0, 0.8, False),
    ],
)
def test_clearing_ratio(
    ratio: float, sold: int, available: int, e: float, expected: float, censored: bool
) -> None:
    got, cens = clearing_ratio(ratio, sold, available, elasticity=e)
    assert got == pytest.approx(expected, rel=1e-12)
    assert cens is censored


def test_target_factor_is_demand_at_value_over_supply() -> None:
    assert target_factor(1.25) == pytest.approx(1.25)
    assert target_factor(1.25, elasticity=2.0) == pytest.approx(1.5625)
    assert target_factor(0.8) < 1 < target_factor(1.1)


def _market(ledger: Accounts) -> Accounts:
    ledger.open_account("ana", "person")
    ledger.open_account("mill", "enterprise")
    ledger.open_period("m1", Deduction(Decimal("0.2"), {"health": Decimal(1)}))
    ledger.join("mill", "ana", by="registry")
    ledger.add_good("bread", "bread", "0.5", product="food", stock=10)
    ledger.add_good("shoes", "shoes", "2", product="clothing", stock=10)
    ledger.add_good("soap", "soap", "0.25", product="food", stock=10)
    ledger.record_hours("mill", "ana", "m1", "40", recorded_by="delegate", key="w")
    ledger.approve("mill", "m1", approver="planner", key="a")
    ledger.buy("ana", "bread", 10, key="b1")  # sold out: demand exceeds supply
    ledger.buy("ana", "shoes", 2, key="b2")  # 20 % sold: supply exceeds demand
    ledger.buy("ana", "soap", 9, key="b3")  # 90 %: as planned
    return ledger


def test_feedback_raises_targets_of_goods_above_value_and_lowers_the_rest(ledger: Accounts) -> None:
    acc = _market(ledger)
    live = acc.feedback("m1").table
    assert live.loc["bread", "clearing_ratio"] == pytest.approx(1.25)
    assert bool(live.loc["bread", "censored"])
    assert live.loc["shoes", "clearing_ratio"] == pytest.approx(0.8)
    assert live.loc["soap", "clearing_ratio"] == pytest.approx(1.0)
    assert live.loc["shoes", "sold"] == 2 and live.loc["shoes", "closing"] == 8
    acc.close_period("m1")
    closed = acc.feedback("m1")
    pd.testing.assert_frame_equal(closed.table, live)
    by_good = closed.next_targets(pd.Series({"bread": 100.0, "shoes": 50.0, "soap": 10.0}))
    assert by_good.to_dict() == pytest.approx({"bread": 125.0, "shoes": 40.0, "soap": 10.0})
    # by product: food is bread and soap, weighted by what was available (10 each)
    by_product = closed.next_targets(pd.Series({"food": 200.0, "clothing": 50.0, "fuel": 7.0}))
    assert by_product["food"] == pytest.approx(200.0 * (1.25 + 1.0) / 2)
    assert by_product["clothing"] == pytest.approx(40.0)
    assert by_product["fuel"] == 7.0  # no good sold: unchanged


def test_applying_feedback_changes_prices_and_publishes_them(ledger: Accounts) -> None:
    acc = _market(ledger)
    report = acc.feedback("m1")
    changed = {g.code: g for g in acc.apply_feedback(report)}
    assert set(changed) == {"bread", "shoes"}  # soap's ratio stays 1
    assert changed["bread"].ratio == Decimal("1.25") and changed["bread"].price == Decimal("0.625")
    assert acc.good("shoes").price == Decimal("1.6")
    acc.close_period("m1")
    assert acc.check_integrity() == []
    with Session(acc.engine) as s:
        kinds = [e.kind for e in publiclog.entries(s, kind_prefix="accounts.")]
        closes = publiclog.entries(s, kind="accounts.period_closed")
        payload = json.loads(closes[0].payload_json)
    assert [k for k in kinds if k in ("accounts.price_changed", "accounts.period_closed")] == [
        "accounts.price_changed",
        "accounts.price_changed",
        "accounts.period_closed",
    ]
    assert kinds[0] == "accounts.period_opened"  # the deduction is public from the start
    assert "accounts.membership" in kinds and "accounts.hours_approved" in kinds
    assert payload["period"] == "m1"
    assert payload["deduction"] == {"rate": "0.200000000", "shares": {"health": "1.000000000"}}
    # the log carries totals, never a person's purchases
    assert "ana" not in closes[0].payload_json
    with Session(acc.engine) as s:  # nor who works where: a member is a salted digest
        assert all(
            "ana" not in e.payload_json for e in publiclog.entries(s, kind_prefix="accounts.")
        )


def test_deduction_from_economy_is_labour_embodied_by_purpose() -> None:
    eco = open_source(str(TOY))
    v = labour_values(eco).values
    fd = eco.final_demand_by_purpose()
    emb = {str(p): float(v.to_numpy() @ fd[p].to_numpy()) for p in fd.columns}
    ded = Deduction.from_economy(eco)
    funds = emb["social"] + emb["investment"] + max(emb["stocks"], 0.0)
    assert float(ded.rate) == pytest.approx(funds / (funds + emb["personal"]), abs=1e-9)
    assert float(ded.shares["social"]) == pytest.approx(emb["social"] / funds, abs=1e-8)
    assert sum(ded.shares.values()) == 1


def test_deduction_from_the_planning_modules_plan() -> None:
    eco = open_source(str(TOY))
    plan = leontief_plan(eco, purpose_bundles(eco))
    rate, shares = plan.deduction_shares()
    ded = Deduction.from_plan(plan)
    assert float(ded.rate) == pytest.approx(rate, abs=1e-9)
    expected = {("foreign_trade" if k == "exports" else k): v for k, v in shares.items()}
    assert {k: float(v) for k, v in ded.shares.items()} == pytest.approx(expected, abs=1e-8)
    assert "labour by purpose" in ded.source


def test_catalogue_from_economy_prices_goods_at_labour_value() -> None:
    eco = open_source(str(TOY))
    v = labour_values(eco).values
    specs = {g.product: g for g in catalogue_from_economy(eco, personal_hours=100)}
    assert set(specs) == {"grain", "bread"}  # tools have no personal consumption
    for product, g in specs.items():
        size = float(g.unit.split()[0])
        assert float(g.labour_value) == pytest.approx(v[str(product)] * size, abs=1e-6)
    spent = sum(float(g.labour_value) * g.stock for g in specs.values())
    assert 90 <= spent <= 100  # stocks sized to what persons can spend, rounded down
    assert np.isclose(
        specs["bread"].stock / specs["grain"].stock,
        (v["bread"] * 60)
        / (v["grain"] * 20)
        * float(specs["grain"].labour_value)
        / float(specs["bread"].labour_value),
        rtol=0.1,
    )
