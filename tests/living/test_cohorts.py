"""Cohort mode on a synthetic economy, and the bulk paths the loop writes through.

Small runs: a synthetic economy of 40 products, cohort accounts of 1 000 persons (each
cohort's monthly record is far over the 10 000 hours one person's record may carry),
the ledger's conservation checks, the same seed giving the same result; and the bulk
till (``Batch.buy_many``), deliveries and price changes against the one-by-one paths.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gosplan.errors import ValidationError
from gosplan.labourtime.errors import InsufficientHours, OutOfStock
from gosplan.services.accounts import Accounts, Deduction, GoodSpec
from gosplan.services.living_plan import LivingPlanRun, Scenario, load_scenario, run

COHORTS = Scenario(
    name="cohorts",
    synthetic_products=40,
    synthetic_seed=3,
    persons=4000,
    cohort_size=1000,
    enterprises=3,
    periods=4,
    seed=5,
    unable_share=0.2,
    open_loop=False,
)


def _run(sc: Scenario, folder: Path) -> LivingPlanRun:
    folder.mkdir(parents=True, exist_ok=True)
    twin = f"sqlite:///{folder / 'twin.db'}" if sc.open_loop else None
    return run(sc, f"sqlite:///{folder / 'loop.db'}", twin_url=twin)


def test_cohorts_on_a_synthetic_economy_conserve_and_repeat(tmp_path: Path) -> None:
    one = _run(COHORTS, tmp_path / "a")
    two = _run(COHORTS, tmp_path / "b")
    checks = one.checks["loop"]
    assert checks["ledger_problems"] == []
    assert checks["stocks_balance"] and checks["no_negative_balance"]
    assert checks["hours_credited_equal_hours_less_deduction"]
    assert checks["balances_equal_credits_less_purchases"]
    assert checks["grants_debit_the_fund_by_what_persons_receive"]
    pd.testing.assert_frame_equal(one.periods, two.periods)
    pd.testing.assert_frame_equal(one.sold, two.sold)
    p = one.side("loop")
    # the goods are the synthetic economy's products with personal consumption
    assert len(one.goods) > 10 and all(str(c).startswith("p") for c in one.goods["product"])
    # credits = hours worked × persons less the deduction: the approved hours are the
    # working week of an able person × weeks of the period × the able persons
    able = 4000 - 1000 * round(0.2 * 4)  # whole cohorts are unable to work (at least 0)
    weeks = 46.0 / 12
    approved = p["approved_hours"].to_numpy()
    per_able = approved / (p["working_week"].to_numpy() * weeks)
    assert np.all(per_able > 0.5 * able) and np.all(per_able <= 4000 + 1e-6)
    assert np.allclose(p["credited"], approved * (1 - p["deduction_rate"]), rtol=1e-4)
    # one cohort's record carries far more than one person's cap of 10 000 hours
    assert approved.max() / 4 > 10_000
    # nothing bought beyond credit: spending never passes what was credited and granted
    assert (p["spent"].cumsum() <= (p["credited"] + p["granted"]).cumsum() + 1e-6).all()


def test_a_different_seed_gives_a_different_run(tmp_path: Path) -> None:
    a = _run(dataclasses.replace(COHORTS, periods=2), tmp_path / "a")
    b = _run(dataclasses.replace(COHORTS, periods=2, seed=6), tmp_path / "b")
    assert not a.periods["spent"].equals(b.periods["spent"])


def test_the_scenario_reads_a_synthetic_economy(tmp_path: Path) -> None:
    f = tmp_path / "s.toml"
    f.write_text(
        '[scenario]\nname = "x"\n[economy]\nsynthetic = {products = 50, seed = 2}\n'
        "[population]\npersons = 1000\ncohort_size = 100\n"
    )
    sc = load_scenario(f)
    assert (sc.synthetic_products, sc.synthetic_seed, sc.cohort_size) == (50, 2, 100)
    for body, word in (
        ("synthetic = 50", "synthetic"),
        ("synthetic = {seed = 2}", "products"),
        ('synthetic = {products = "many"}', "products"),
        ("synthetic = {products = 5}", "synthetic_products"),
        ("synthetic = {products = 50, size = 3}", "synthetic"),
    ):
        f.write_text(f'[scenario]\nname = "x"\n[economy]\n{body}\n')
        with pytest.raises(ValidationError, match=word):
            load_scenario(f)
    f.write_text('[scenario]\nsource = "x.xlsx"\n[economy]\nsynthetic = {products = 50}\n')
    with pytest.raises(ValidationError, match="source"):
        load_scenario(f)


def test_the_example_cohort_scenario_loads() -> None:
    root = Path(__file__).resolve().parents[2]
    sc = load_scenario(root / "examples" / "living-cohorts.toml")
    assert sc.persons == 10_000_000 and sc.synthetic_products == 10_000
    assert sc.persons // sc.cohort_size == 100


# --------------------------------------------------------------------------- bulk paths


@pytest.fixture
def shop(tmp_path: Path) -> Accounts:
    acc = Accounts.open(f"sqlite:///{tmp_path / 's.db'}")
    acc.open_account("ent", "enterprise", "E")
    for p in ("ana", "bo"):
        acc.open_account(p, "person", p)
        acc.join("ent", p, by="council")
    acc.add_goods(
        [
            GoodSpec(code="bread", name="bread", labour_value=Decimal("0.5"), unit="loaf"),
            GoodSpec(code="shoes", name="shoes", labour_value=Decimal("4"), unit="pair"),
        ]
    )
    acc.open_period("2027-01", Deduction(Decimal("0.2"), {"social": Decimal(1)}))
    with acc.batch() as b:
        b.record_hours_many("ent", "2027-01", [("ana", 10), ("bo", 5)], key="r", recorded_by="ana")
    acc.approve("ent", "2027-01", key="a", approver="outside")
    with acc.batch() as b:
        assert b.deliver_many([("bread", 10, "d1"), ("shoes", 1, "d2")]) == 2
    return acc


def _state(acc: Accounts) -> tuple[object, ...]:
    return (
        acc.balance("ana"),
        acc.balance("bo"),
        acc.good("bread").stock,
        acc.good("shoes").stock,
        len(acc.statement("ana").lines),
    )


def test_buy_many_posts_each_line_as_buy_does(shop: Accounts) -> None:
    assert (shop.balance("ana"), shop.balance("bo")) == (Decimal(8), Decimal(4))
    with shop.batch() as b:
        n = b.buy_many(
            [("ana", "bread", 2, "k1"), ("ana", "shoes", 1, "k2"), ("bo", "bread", 3, "k3")]
        )
    assert n == 3
    assert shop.balance("ana") == Decimal(3) and shop.balance("bo") == Decimal("2.5")
    assert shop.good("bread").stock == 5 and shop.good("shoes").stock == 0
    assert shop.check_integrity() == []
    # the same keys again are replays: nothing is posted twice
    before = _state(shop)
    with shop.batch() as b:
        b.buy_many([("ana", "bread", 2, "k1"), ("bo", "bread", 3, "k3")])
    assert _state(shop) == before
    # the one-by-one path and the bulk one agree on what a purchase is
    one = shop.buy("bo", "bread", 1, key="k4")
    assert one.cost == Decimal("0.5") and shop.good("bread").stock == 4


@pytest.mark.parametrize(
    ("lines", "error"),
    [
        ([("ana", "bread", 2, "x1"), ("ana", "shoes", 2, "x2")], OutOfStock),
        ([("bo", "bread", 8, "x1"), ("bo", "bread", 1, "x2")], InsufficientHours),
        ([("ana", "shoes", 1, "x1"), ("ana", "bread", 10, "x2")], InsufficientHours),
    ],
)
def test_buy_many_refuses_all_when_one_line_goes_beyond_credit_or_stock(
    shop: Accounts, lines: list[tuple[str, str, int, str]], error: type[Exception]
) -> None:
    before = _state(shop)
    with pytest.raises(error), shop.batch() as b:
        b.buy_many(lines)
    assert _state(shop) == before
    assert shop.check_integrity() == []


def test_prices_change_in_bulk_with_their_public_events(shop: Accounts) -> None:
    with shop.batch() as b:
        b.buy_many([("ana", "bread", 4, "k1")])
    shop.close_period("2027-01")
    report = shop.feedback("2027-01", elasticity=1.0, target_sell_through=0.9, max_step=0.25)
    changed = shop.apply_feedback(report)
    assert {g.code for g in changed} <= {"bread", "shoes"} and changed
    for g in changed:
        assert g.ratio == Decimal(repr(float(report.table.loc[g.code, "clearing_ratio"]))).quantize(
            Decimal("0.000000001")
        )
        assert shop.good(g.code).price == g.price
