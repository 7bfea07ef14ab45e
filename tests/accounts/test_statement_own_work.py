"""A person's statement: their own hours worked on each approval and its reversal, read
with the open period in one transaction (web account page, issue 16)."""

from __future__ import annotations

from decimal import Decimal

from gosplan.services.accounts import Accounts


def test_a_reversed_approval_withdraws_the_persons_own_hours_on_its_line(shop: Accounts) -> None:
    shop.record_hours("mill", "bea", "p1", "2", recorded_by="delegate", key="two")
    shop.record_hours("mill", "bea", "p1", "3", recorded_by="delegate", key="three")
    shop.record_hours("mill", "ana", "p1", "4", recorded_by="delegate", key="four")
    ap = shop.approve("mill", "p1", approver="planner", key="ap-2")
    undo = shop.reverse(ap.transaction_id, reason="hours were recorded twice", key="undo")
    st, period = shop.statement_and_period("bea")
    assert st == shop.statement("bea")
    assert period == shop.current_period() and period is not None and period.code == "p1"
    by_id = {ln.transaction_id: ln for ln in st.lines}
    first = st.lines[0]
    assert first.gross == Decimal("20") and first.enterprise == "mill"
    # her own two records (5 h), not ana's 4 h, on the approval; withdrawn by its reversal
    assert by_id[ap.transaction_id].gross == Decimal("5")
    assert by_id[undo.transaction_id].gross == Decimal("-5")
    assert by_id[undo.transaction_id].enterprise == "mill"
    assert by_id[undo.transaction_id].deducted == {
        f: -x for f, x in by_id[ap.transaction_id].deducted.items()
    }
    assert sum(by_id[ap.transaction_id].deducted.values()) == Decimal("1.5")  # 30 % of 5 h
    assert st.lines[-1].balance == shop.balance("bea") == Decimal("14")
    # a person with no work of their own has no gross on any line
    assert all(ln.gross is None for ln in shop.statement("fund:health").lines)
