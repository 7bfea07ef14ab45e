"""The ledger: crediting with the deduction, buying, statements, idempotency, append-only."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from gosplan.services.accounts import (
    CANCELLED,
    Accounts,
    AccountsError,
    Deduction,
    IdempotencyConflict,
    InsufficientHours,
    to_hours,
    to_units,
)
from tests.accounts.conftest import DEDUCTION, snapshot


def test_approval_credits_person_less_deduction_and_funds_by_share(shop: Accounts) -> None:
    # 10 h × 0.7 to ana, 20 h × 0.7 to bea; 9 h deducted: health 4.5, education 2.7, inv 1.8
    assert shop.balance("ana") == Decimal("7")
    assert shop.balance("bea") == Decimal("14")
    assert shop.balance("fund:health") == Decimal("4.5")
    assert shop.balance("fund:education") == Decimal("2.7")
    assert shop.balance("fund:investment") == Decimal("1.8")
    # the enterprise is the source of the hours and is credited with nothing
    assert shop.balance("mill") == Decimal("-30")
    assert [w.status for w in shop.work("p1")] == ["approved", "approved"]
    assert shop.check_integrity() == []


def test_purchase_cancels_hours_and_lowers_stock(shop: Accounts) -> None:
    p = shop.buy("ana", "shoes", 2, key="buy-1")
    assert p.cost == Decimal("6.5") and p.price == Decimal("3.25")
    assert shop.balance("ana") == Decimal("0.5")
    assert shop.good("shoes").stock == 0
    assert shop.balance(CANCELLED) == Decimal("6.5")
    t = shop.totals("p1")
    assert t["cancelled"] == t["sales_at_price"] == Decimal("6.5")
    assert shop.check_integrity() == []


def test_same_key_same_content_posts_once(shop: Accounts) -> None:
    first = shop.buy("bea", "bread", 3, key="k-bread")
    before = snapshot(shop)
    again = shop.buy("bea", "bread", 3, key="k-bread")
    assert again.replayed and not first.replayed
    assert again.transaction_id == first.transaction_id and again.cost == first.cost
    assert snapshot(shop) == before
    assert shop.balance("bea") == Decimal("12.5")


def test_statement_lists_postings_running_balance_and_deduction(shop: Accounts) -> None:
    shop.buy("ana", "bread", 2, key="b")
    st = shop.statement("ana")
    assert [ln.amount for ln in st.lines] == [Decimal("7"), Decimal("-1")]
    assert [ln.balance for ln in st.lines] == [Decimal("7"), Decimal("6")]
    assert st.deductions["p1"].rate == Decimal("0.3")
    rows = list(csv.DictReader(io.StringIO(st.to_csv())))
    assert [r["kind"] for r in rows] == ["work", "purchase"]
    assert rows[1]["balance_hours"] == "6.000000"
    assert rows[0]["deduction_rate"] == "0.300000000"
    assert rows[0]["deduction_shares"] == (
        "education=0.300000000;health=0.500000000;investment=0.200000000"
    )


def test_reversal_is_a_new_transaction_with_a_reason(shop: Accounts) -> None:
    p = shop.buy("ana", "shoes", 1, key="b")
    r = shop.reverse(p.transaction_id, reason="wrong size, returned", key="r")
    assert r.postings == {"ana": Decimal("3.25"), CANCELLED: Decimal("-3.25")}
    assert shop.balance("ana") == Decimal("7")
    assert shop.good("shoes").stock == 2
    kinds = [ln.kind for ln in shop.statement("ana").lines]
    assert kinds == ["work", "purchase", "reversal"]
    with pytest.raises(AccountsError, match="already been reversed"):
        shop.reverse(p.transaction_id, reason="again", key="r2")
    assert shop.check_integrity() == []


def test_reversing_an_approval_that_was_spent_is_refused(shop: Accounts) -> None:
    shop.buy("ana", "shoes", 2, key="b")  # ana spends 6.5 of her 7 h
    approval = shop.statement("ana").lines[0].transaction_id
    before = snapshot(shop)
    with pytest.raises(InsufficientHours, match=re.escape("'ana' holds 0.500000 h")):
        shop.reverse(approval, reason="hours were not worked", key="r")
    assert snapshot(shop) == before


@pytest.mark.parametrize(
    "table,statement",
    [
        ("acct_posting", "UPDATE acct_posting SET amount = amount + 1"),
        ("acct_posting", "DELETE FROM acct_posting"),
        ("acct_transaction", "UPDATE acct_transaction SET memo = 'edited'"),
        ("acct_request", "DELETE FROM acct_request"),
        ("acct_stock_move", "UPDATE acct_stock_move SET quantity = 0"),
    ],
)
def test_ledger_rows_cannot_be_updated_or_deleted(
    shop: Accounts, table: str, statement: str
) -> None:
    before = snapshot(shop)
    with pytest.raises(DBAPIError, match=f"{table} is append-only"):
        with shop.engine.begin() as conn:
            conn.execute(text(statement))
    assert snapshot(shop) == before


def test_balance_cache_equals_sum_of_postings(shop: Accounts) -> None:
    shop.buy("ana", "bread", 1, key="1")
    shop.buy("bea", "shoes", 1, key="2")
    with shop.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT a.code, a.balance, COALESCE(SUM(p.amount), 0) FROM acct_account a "
                "LEFT JOIN acct_posting p ON p.account_id = a.id GROUP BY a.code, a.balance"
            )
        )
        seen = 0
        for code, cached, derived in rows:
            if cached is not None:
                assert cached == derived, code
                seen += 1
    assert seen == 5  # ana, bea and three funds
    # the cache must be genuinely checked: corrupt it and the check says so
    with shop.engine.begin() as conn:
        conn.execute(text("UPDATE acct_account SET balance = balance + 1 WHERE code = 'ana'"))
    assert any("'ana': cached balance" in p for p in shop.check_integrity())


def test_units_are_exact() -> None:
    assert to_units("0.1") + to_units("0.2") == to_units("0.3")
    assert to_units(0.1) == 100_000
    assert to_hours(1) == Decimal("0.000001")
    ded = Deduction(Decimal("0.3"), {"a": Decimal("1") / 3, "b": Decimal("2") / 3})
    person, funds = ded.split(1_000_001)
    assert person + sum(funds.values()) == 1_000_001
    assert funds == {"a": 100_000, "b": 200_000}


def test_period_and_deduction_published_on_period(shop: Accounts) -> None:
    info = shop.period("p1")
    assert info.status == "open"
    assert info.deduction == DEDUCTION
    shop.close_period("p1")
    closed = shop.period("p1")
    assert closed.status == "closed" and closed.summary is not None
    assert closed.summary["totals_hours"]["approved"] == "30.000000"
    assert closed.summary["goods"]["bread"]["closing"] == 20


def test_every_posting_request_replays_by_key(shop: Accounts) -> None:
    rec = shop.record_hours("mill", "ana", "p1", "2.5", recorded_by="delegate", key="more")
    again = shop.record_hours("mill", "ana", "p1", "2.5", recorded_by="delegate", key="more")
    assert again.replayed and again.id == rec.id
    rows = [("bea", 1), ("ana", "0.5")]
    many = shop.record_hours_many("mill", "p1", rows, recorded_by="delegate", key="many")
    assert [
        r.id for r in shop.record_hours_many("mill", "p1", rows, recorded_by="delegate", key="many")
    ] == [r.id for r in many]
    ap = shop.approve("mill", "p1", approver="planner", key="ap-2")
    again_ap = shop.approve("mill", "p1", approver="planner", key="ap-2")
    assert again_ap.transaction_id == ap.transaction_id
    assert shop.balance("ana") == Decimal("9.1")  # 7 + 0.7 × 3
    before = snapshot(shop)
    with pytest.raises(IdempotencyConflict, match="'more' was already used"):
        shop.record_hours("mill", "ana", "p1", "3", recorded_by="delegate", key="more")
    assert snapshot(shop) == before


def test_reversing_an_approval_withdraws_its_hours_from_the_totals(shop: Accounts) -> None:
    shop.record_hours("mill", "bea", "p1", "5", recorded_by="delegate", key="extra")
    ap = shop.approve("mill", "p1", approver="planner", key="ap-2")
    assert shop.totals("p1")["approved"] == Decimal("35")
    shop.reverse(ap.transaction_id, reason="hours were recorded twice", key="undo")
    t = shop.totals("p1")
    assert t["approved"] == Decimal("30")
    assert t["credited_persons"] + t["credited_funds"] == Decimal("30")
    assert [w.status for w in shop.work("p1")] == ["approved", "approved", "reversed"]
    assert shop.balance("bea") == Decimal("14")
    assert shop.check_integrity() == []
