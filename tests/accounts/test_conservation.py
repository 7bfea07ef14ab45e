"""Conservation, with hypothesis: no hour is lost or invented by any sequence of operations.

* hours credited to persons + hours credited to funds = approved hours worked;
* hours cancelled by purchases = Σ quantity × (labour value × ratio) of the goods sold;
* every transaction sums to zero, cached balances and stocks equal their sums,
  no person or fund is ever negative.
"""

from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gosplan.errors import StorageError
from gosplan.services.accounts import Accounts, Deduction, price_units, to_hours, to_units
from gosplan.storage.base import make_engine
from tests.accounts.conftest import Templates

PERSONS = ["p0", "p1", "p2"]
ENTERPRISES = ["e0", "e1"]
GOODS = ["g0", "g1", "g2"]
FUNDS = ["health", "education", "care", "investment", "reserves"]

hours = st.decimals(min_value=Decimal("0.000001"), max_value=Decimal("60"), places=6)
values = st.decimals(min_value=Decimal("0.000100"), max_value=Decimal("5"), places=6)
ratios = st.sampled_from([Decimal("1"), Decimal("0.8"), Decimal("1.25"), Decimal("1.333333")])


@st.composite
def deductions(draw: st.DrawFn) -> Deduction:
    rate = draw(st.decimals(min_value=Decimal(0), max_value=Decimal("0.9"), places=4))
    funds = draw(st.lists(st.sampled_from(FUNDS), min_size=1, max_size=4, unique=True))
    weights = [draw(st.integers(1, 1000)) for _ in funds]
    total = sum(weights)
    shares = {
        f: (Decimal(w) / total).quantize(Decimal("1e-9"))
        for f, w in zip(funds, weights, strict=True)
    }
    shares[funds[0]] += Decimal(1) - sum(shares.values())
    return Deduction(rate, shares)


operations = st.lists(
    st.one_of(
        st.tuples(st.just("work"), st.sampled_from(ENTERPRISES), st.sampled_from(PERSONS), hours),
        st.tuples(st.just("approve"), st.sampled_from(ENTERPRISES)),
        st.tuples(
            st.just("buy"), st.sampled_from(PERSONS), st.sampled_from(GOODS), st.integers(1, 5)
        ),
        st.tuples(st.just("reprice"), st.sampled_from(GOODS), ratios),
        st.tuples(st.just("deliver"), st.sampled_from(GOODS), st.integers(1, 20)),
    ),
    min_size=1,
    max_size=25,
)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Deduction, list[Decimal], list[int], list[tuple]]:
    return (
        draw(deductions()),
        [draw(values) for _ in GOODS],
        [draw(st.integers(0, 30)) for _ in GOODS],
        draw(operations),
    )


def _scenario_in_fresh_store(
    templates: Templates, dialect: str, scenario: tuple[Deduction, list[Decimal], list[int], list]
) -> None:
    deduction, vals, stocks, ops = scenario
    with tempfile.TemporaryDirectory() as tmp:
        url, drop = templates.copy(dialect, Path(tmp))
        acc = Accounts(make_engine(url), max_hours_per_period=None)
        try:
            _run_and_check(acc, deduction, vals, stocks, ops)
        finally:
            acc.close()
            drop()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios())
def test_no_hour_lost_or_invented_sqlite(templates: Templates, scenario: tuple) -> None:
    _scenario_in_fresh_store(templates, "sqlite", scenario)


@pytest.mark.postgres
@settings(
    max_examples=8,
    deadline=None,  # each example creates a database: a smaller sample
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios())
def test_no_hour_lost_or_invented_postgres(templates: Templates, scenario: tuple) -> None:
    _scenario_in_fresh_store(templates, "postgres", scenario)


def _run_and_check(
    acc: Accounts, deduction: Deduction, vals: list[Decimal], stocks: list[int], ops: list[tuple]
) -> None:
    for p in PERSONS:
        acc.open_account(p, "person")
    for e in ENTERPRISES:
        acc.open_account(e, "enterprise")
        for p in PERSONS:
            acc.join(e, p, by="registry")
    acc.open_period("q", deduction)
    for g, v, n in zip(GOODS, vals, stocks, strict=True):
        acc.add_good(g, g, v, stock=n)
    price = {g: price_units(v, Decimal(1)) for g, v in zip(GOODS, vals, strict=True)}
    value = dict(zip(GOODS, vals, strict=True))
    recorded: dict[str, int] = dict.fromkeys(ENTERPRISES, 0)
    approved = 0
    spent = 0
    person_units: dict[str, int] = dict.fromkeys(PERSONS, 0)
    for i, op in enumerate(ops):
        key = f"op-{i}"
        if op[0] == "work":
            acc.record_hours(op[1], op[2], "q", op[3], recorded_by="delegate", key=key)
            recorded[op[1]] += to_units(op[3])
        elif op[0] == "approve":
            if recorded[op[1]] == 0:
                with pytest.raises(StorageError, match="no recorded hours awaiting"):
                    acc.approve(op[1], "q", approver="planner", key=key)
                continue
            posted = acc.approve(op[1], "q", approver="planner", key=key)
            assert sum(posted.postings.values()) == 0
            for p in PERSONS:
                person_units[p] += to_units(posted.postings.get(p, 0), positive=False)
            approved += recorded[op[1]]
            recorded[op[1]] = 0
        elif op[0] == "buy":
            _, person, good, qty = op
            cost = price[good] * qty
            can = person_units[person] >= cost and acc.good(good).stock >= qty
            if not can:
                with pytest.raises(StorageError):
                    acc.buy(person, good, qty, key=key)
                continue
            got = acc.buy(person, good, qty, key=key)
            assert to_units(got.cost) == cost
            person_units[person] -= cost
            spent += cost
        elif op[0] == "reprice":
            acc.reprice(op[1], ratio=op[2], reason="test")
            price[op[1]] = price_units(value[op[1]], op[2])
        elif op[0] == "deliver":
            acc.deliver(op[1], op[2], key=key)
    totals = acc.totals("q")
    assert totals["approved"] == to_hours(approved)
    assert totals["credited_persons"] + totals["credited_funds"] == totals["approved"]
    funds = sum((a.balance for a in acc.accounts("fund")), Decimal(0))
    assert funds == totals["credited_funds"]
    # the deduction, exactly: funds get round(hours × rate) of each approved record
    assert abs(totals["credited_funds"] - totals["approved"] * deduction.rate) <= (
        Decimal("0.000001") * len(ops)
    )
    assert totals["cancelled"] == totals["sales_at_price"] == to_hours(spent)
    for p in PERSONS:
        assert acc.balance(p) == to_hours(person_units[p]) >= 0
    assert acc.check_integrity() == []
    if sum(recorded.values()) == 0:
        closed = acc.close_period("q")
        assert closed.summary is not None
        assert closed.summary["totals_hours"]["approved"] == str(totals["approved"])


@settings(max_examples=200, deadline=None)
@given(units=st.integers(0, 10**13), deduction=deductions())
def test_split_is_exact(units: int, deduction: Deduction) -> None:
    person, funds = deduction.split(units)
    assert person + sum(funds.values()) == units
    assert person >= 0 and all(v >= 0 for v in funds.values())
    deducted = units - person
    assert abs(Decimal(deducted) - units * deduction.rate) <= Decimal("0.5")
    for f, share in deduction.shares.items():
        assert abs(Decimal(funds.get(f, 0)) - deducted * share) < 1 + Decimal("1e-6") * deducted
