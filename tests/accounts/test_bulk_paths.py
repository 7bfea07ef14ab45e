"""The bulk paths of the ledger against the one-at-a-time ones, on SQLite and PostgreSQL.

A basket at the till (one transaction for a person's purchases, a stock move a good),
record sets of several enterprises, their approvals, grants, accounts and memberships in
bulk: each leaves the same balances, stocks and postings as the one-at-a-time calls, keeps
every check (a refusal writes nothing), and answers a replayed key with its first result.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gosplan.services.accounts import (
    CANCELLED,
    Accounts,
    AccountsError,
    AccountsInputError,
    HoursCapExceeded,
    IdempotencyConflict,
    InsufficientHours,
    NotAMember,
    OutOfStock,
    ProvidedFree,
    SeparationOfDuties,
    UnknownAccount,
    UnknownGood,
)
from gosplan.storage.accounts import Posting, StockMove, Transaction
from tests.accounts.conftest import DEDUCTION, snapshot


def _moves(acc: Accounts, tx: int) -> list[tuple[int, int]]:
    with Session(acc.engine) as s:
        return [
            (int(q), int(p))
            for q, p in s.execute(
                select(StockMove.quantity, StockMove.price)
                .where(StockMove.transaction_id == tx)
                .order_by(StockMove.id)
            )
        ]


def _count(acc: Accounts, model: type) -> int:
    with Session(acc.engine) as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


# --------------------------------------------------------------------------- baskets


def test_a_basket_is_one_transaction_and_costs_what_its_lines_cost(shop: Accounts) -> None:
    tx_before, postings_before = _count(shop, Transaction), _count(shop, Posting)
    b = shop.buy_basket("ana", [("bread", 2), ("shoes", 1)], key="basket-1")
    assert (b.person, b.goods, b.units, b.period) == ("ana", 2, 3, "p1")
    assert b.cost == Decimal("4.25") and not b.replayed  # 2 × 0.5 + 3.25
    # one transaction, two postings (the buyer and the cancelled hours), a move a good
    assert _count(shop, Transaction) == tx_before + 1
    assert _count(shop, Posting) == postings_before + 2
    assert _moves(shop, b.transaction_id) == [(-2, 500_000), (-1, 3_250_000)]
    # the same as buying the lines one by one (bea starts with twice ana's 7 h)
    shop.buy("bea", "bread", 2, key="line-1")
    shop.buy("bea", "shoes", 1, key="line-2")
    assert shop.balance("ana") == Decimal("2.75")
    assert shop.balance("bea") == Decimal("14") - Decimal("4.25")
    assert shop.good("bread").stock == 16 and shop.good("shoes").stock == 0
    t = shop.totals("p1")
    assert t["cancelled"] == t["sales_at_price"] == Decimal("8.5")
    assert shop.balance(CANCELLED) == Decimal("8.5")
    assert shop.check_integrity() == []
    st = shop.statement("ana")
    assert [(ln.kind, ln.amount) for ln in st.lines] == [
        ("work", Decimal("7")),
        ("purchase", Decimal("-4.25")),
    ]


def test_a_replayed_basket_posts_nothing_and_a_reused_key_is_refused(shop: Accounts) -> None:
    first = shop.buy_basket("ana", [("bread", 1), ("shoes", 1)], key="k")
    before = snapshot(shop)
    again = shop.buy_basket("ana", [("bread", 1), ("shoes", 1)], key="k")
    assert again.replayed and again.transaction_id == first.transaction_id
    assert again.cost == first.cost
    assert snapshot(shop) == before
    with pytest.raises(IdempotencyConflict, match="'k'"):
        shop.buy_basket("ana", [("bread", 2)], key="k")
    shop.buy("bea", "bread", 1, key="single")
    with pytest.raises(IdempotencyConflict, match="'single'"):
        shop.buy_basket("bea", [("bread", 1)], key="single")
    assert shop.check_integrity() == []


@pytest.mark.parametrize(
    ("person", "lines", "error", "words"),
    [
        ("ana", [("bread", 2), ("shoes", 3)], OutOfStock, "'shoes' has 2 unit"),
        ("ana", [("bread", 10), ("shoes", 1)], InsufficientHours, "'ana' holds 7.000000 h"),
        ("ana", [("bread", 1), ("cake", 1)], UnknownGood, "'cake'"),
        ("nobody", [("bread", 1)], UnknownAccount, "'nobody'"),
        ("mill", [("bread", 1)], UnknownAccount, "enterprise account"),
        ("ana", [("bread", 1), ("bread", 1)], AccountsInputError, "twice"),
        ("ana", [], AccountsInputError, "no lines"),
        ("ana", [("bread", 0)], AccountsInputError, "positive whole number"),
    ],
)
def test_a_refused_basket_writes_nothing(
    shop: Accounts, person: str, lines: list[tuple[str, int]], error: type, words: str
) -> None:
    before = snapshot(shop)
    with pytest.raises(error, match=words):
        shop.buy_basket(person, lines, key="b")
    assert snapshot(shop) == before


def test_a_free_good_is_not_sold_in_a_basket(shop: Accounts) -> None:
    from gosplan.services.accounts import GoodSpec

    shop.add_goods(
        [GoodSpec(code="care", name="care", labour_value=Decimal(1), free_fund="health")]
    )
    before = snapshot(shop)
    with pytest.raises(ProvidedFree, match="provided free"):
        shop.buy_basket("ana", [("bread", 1), ("care", 1)], key="b")
    assert snapshot(shop) == before


def test_one_refused_basket_refuses_the_whole_till(shop: Accounts) -> None:
    before = snapshot(shop)
    with pytest.raises(InsufficientHours, match="'bea'"), shop.batch() as b:
        b.buy_baskets(
            [
                ("ana", [("bread", 2)], "t1"),
                ("bea", [("shoes", 2), ("bread", 18)], "t2"),  # 6.5 + 9 > 14
            ]
        )
    assert snapshot(shop) == before
    # stock is counted across the baskets of one till, in order
    with pytest.raises(OutOfStock, match="'shoes' has 1 unit"), shop.batch() as b:
        b.buy_baskets([("ana", [("shoes", 1)], "t1"), ("bea", [("shoes", 2)], "t2")])
    assert snapshot(shop) == before


def test_reversing_a_basket_returns_every_line(shop: Accounts) -> None:
    b = shop.buy_basket("ana", [("bread", 3), ("shoes", 1)], key="b")
    r = shop.reverse(b.transaction_id, reason="returned at the till", key="r")
    assert r.postings == {"ana": Decimal("4.75"), CANCELLED: Decimal("-4.75")}
    assert shop.balance("ana") == Decimal("7")
    assert shop.good("bread").stock == 20 and shop.good("shoes").stock == 2
    assert _moves(shop, r.transaction_id) == [(3, 500_000), (1, 3_250_000)]
    assert shop.check_integrity() == []


def test_a_basket_needs_an_open_period(shop: Accounts) -> None:
    shop.close_period("p1")
    before = snapshot(shop)
    with pytest.raises(AccountsError, match="No period is open"):
        shop.buy_basket("ana", [("bread", 1)], key="b")
    assert snapshot(shop) == before


# --------------------------------------------------------------------------- work in bulk


def _world(acc: Accounts, tag: str, *, bulk: bool) -> None:
    """Two enterprises of two members each, one person unable to work (for grants)."""
    people = [f"{tag}{i}" for i in range(5)]
    ents = [f"{tag}-e0", f"{tag}-e1"]
    if bulk:
        with acc.batch() as b:
            assert (
                b.open_accounts(
                    [(e, "enterprise", e) for e in ents] + [(p, "person", "") for p in people]
                )
                == 7
            )
        with acc.batch() as b:
            pairs = [(ents[0], people[0]), (ents[0], people[1])]
            pairs += [(ents[1], people[2]), (ents[1], people[3])]
            assert b.join_many(pairs, by="registry") == 4
            assert b.join_many(pairs[:1], by="registry") == 0  # already a member
    else:
        for e in ents:
            acc.open_account(e, "enterprise", e)
        for p in people:
            acc.open_account(p, "person", "")
        for e, p in [(0, 0), (0, 1), (1, 2), (1, 3)]:
            acc.join(ents[e], people[p], by="registry")


def _work(acc: Accounts, tag: str, *, bulk: bool) -> None:
    rows = {f"{tag}-e0": [(f"{tag}0", "12.5"), (f"{tag}1", "3")], f"{tag}-e1": []}
    rows[f"{tag}-e1"] = [(f"{tag}2", "7.25"), (f"{tag}3", "40")]
    if bulk:
        with acc.batch() as b:
            sets = b.record_hours_sets(
                [(e, "p1", r, f"{tag}-rec-{e}", f"{tag}-delegate") for e, r in rows.items()]
            )
            assert [len(x) for x in sets] == [2, 2]
            posted = b.approve_many([(e, "p1", f"{tag}-ap-{e}", "council", None) for e in rows])
            assert [p.kind for p in posted] == ["work", "work"]
            b.grant_many(
                [("health", f"{tag}4", "p1", "2.5", f"{tag}-g", "care council", "cannot work")]
            )
    else:
        for e, r in rows.items():
            acc.record_hours_many(e, "p1", r, key=f"{tag}-rec-{e}", recorded_by=f"{tag}-delegate")
        for e in rows:
            acc.approve(e, "p1", key=f"{tag}-ap-{e}", approver="council")
        acc.grant(
            "health",
            f"{tag}4",
            "p1",
            "2.5",
            key=f"{tag}-g",
            granted_by="care council",
            reason="cannot work",
        )


def test_work_in_bulk_posts_what_the_one_at_a_time_calls_post(ledger: Accounts) -> None:
    ledger.open_period("p1", DEDUCTION)
    _world(ledger, "a", bulk=False)
    _work(ledger, "a", bulk=False)
    one = {k: ledger.statement(k) for k in ("a0", "a1", "a2", "a3", "a4", "a-e0", "a-e1")}
    health_after_one = ledger.balance("fund:health")
    _world(ledger, "b", bulk=True)
    _work(ledger, "b", bulk=True)
    for k, st in one.items():
        other = ledger.statement("b" + k[1:])
        assert [(ln.kind, ln.amount, ln.gross, ln.deducted) for ln in other.lines] == [
            (ln.kind, ln.amount, ln.gross, ln.deducted) for ln in st.lines
        ], k
    # the funds took the same deduction twice, less the same grant twice
    assert ledger.balance("fund:health") == 2 * health_after_one
    assert ledger.members("b-e0") == ["b0", "b1"]
    assert ledger.totals("p1")["approved"] == Decimal("125.5")
    assert ledger.check_integrity() == []
    assert [w.status for w in ledger.work("p1", "b-e1")] == ["approved", "approved"]


def test_replayed_work_in_bulk_posts_nothing(ledger: Accounts) -> None:
    ledger.open_period("p1", DEDUCTION)
    _world(ledger, "a", bulk=True)
    _work(ledger, "a", bulk=True)
    before = snapshot(ledger)
    _work(ledger, "a", bulk=True)
    assert snapshot(ledger) == before
    # the bulk keys answer the one-at-a-time calls too, and the other way round
    again = ledger.approve("a-e0", "p1", key="a-ap-a-e0", approver="council")
    assert again.replayed
    with pytest.raises(IdempotencyConflict), ledger.batch() as b:
        b.approve_many([("a-e1", "p1", "a-ap-a-e0", "council", None)])
    assert snapshot(ledger) == before


@pytest.mark.parametrize(
    ("step", "error", "words"),
    [
        # bo is no member of e1: the whole record call is refused
        ("not_member", NotAMember, "not a member"),
        ("cap", HoursCapExceeded, "over the cap"),
        ("own_hours", SeparationOfDuties, "'x0'"),
        ("recorder", SeparationOfDuties, "recorded them"),
        ("nothing", AccountsError, "no recorded hours awaiting approval"),
        ("fund_short", InsufficientHours, "'fund:health' holds"),
        ("self_grant", SeparationOfDuties, "themselves"),
        ("unknown_enterprise", UnknownAccount, "'nowhere'"),
    ],
)
def test_a_refused_bulk_call_writes_nothing(
    ledger: Accounts, step: str, error: type, words: str
) -> None:
    ledger.max_hours_per_period = Decimal(50)
    ledger.open_period("p1", DEDUCTION)
    _world(ledger, "x", bulk=True)
    ledger.record_hours_many("x-e1", "p1", [("x2", "1")], key="pre", recorded_by="d")
    before = snapshot(ledger)
    with pytest.raises(error, match=words), ledger.batch() as b:
        if step == "not_member":
            b.record_hours_sets(
                [
                    ("x-e0", "p1", [("x0", "1")], "r0", "d"),
                    ("x-e1", "p1", [("x2", "1"), ("x0", "1")], "r1", "d"),
                ]
            )
        elif step == "cap":
            b.record_hours_sets(
                [
                    ("x-e0", "p1", [("x0", "30")], "r0", "d"),
                    ("x-e0", "p1", [("x0", "30")], "r1", "d"),
                ]
            )
        elif step == "own_hours":
            b.record_hours_sets([("x-e0", "p1", [("x0", "1")], "r0", "d")])
            b.approve_many(
                [("x-e1", "p1", "a1", "council", None), ("x-e0", "p1", "a0", "x0", None)]
            )
        elif step == "recorder":
            b.approve_many([("x-e1", "p1", "a1", "d", None)])
        elif step == "nothing":
            b.approve_many([("x-e1", "p1", "a1", "council", None), ("x-e0", "p1", "a0", "c", None)])
        elif step == "fund_short":
            b.approve_many([("x-e1", "p1", "a1", "council", None)])  # 0.3 × 0.5 h to health
            b.grant_many(
                [
                    ("health", "x4", "p1", "0.1", "g1", "care", "cannot work"),
                    ("health", "x4", "p1", "0.1", "g2", "care", "cannot work"),
                ]
            )
        elif step == "self_grant":
            b.grant_many([("health", "x4", "p1", "0.1", "g1", "x4", "mine")])
        else:
            b.record_hours_sets([("nowhere", "p1", [("x0", "1")], "r0", "d")])
    assert snapshot(ledger) == before
    assert ledger.check_integrity() == []


def test_bulk_accounts_keep_the_rules_of_one_account(ledger: Accounts) -> None:
    with ledger.batch() as b:
        assert b.open_accounts([("p", "person", "P"), ("fund:care", "fund", "")]) == 2
    assert ledger.account("fund:care").kind == "fund" and ledger.account("p").name == "P"
    before = snapshot(ledger)
    for items, words in (
        ([("q", "person", ""), ("p", "person", "")], "already exists"),
        ([("q", "fund", "")], "fund accounts, and only they"),
        ([("q", "robot", "")], "person, enterprise or fund"),
        ([("bad code", "person", "")], "`code`"),
    ):
        with pytest.raises((AccountsError, AccountsInputError), match=words), ledger.batch() as b:
            b.open_accounts(items)
        assert snapshot(ledger) == before
