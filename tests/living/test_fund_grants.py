"""Transfers from a social fund to a person (``Accounts.grant``): posted like any credit,
never below zero, never to oneself, idempotent, in the public log."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from gosplan.errors import ValidationError
from gosplan.labourtime.errors import AccountsError
from gosplan.services.accounts import Accounts, Deduction


@pytest.fixture
def acc(tmp_path: Path) -> Iterator[Accounts]:
    a = Accounts.open(f"sqlite:///{tmp_path / 'a.db'}")
    a.open_account("ent", "enterprise", "works")
    a.open_account("worker", "person", "Ana")
    a.open_account("carer", "person", "Bia")
    a.open_account("unable", "person", "Caio")
    a.join("ent", "worker", by="council")
    a.open_period("2027-01", Deduction(rate=Decimal("0.5"), shares={"care": Decimal(1)}))
    a.record_hours("ent", "worker", "2027-01", Decimal(100), key="r1", recorded_by="carer")
    a.approve("ent", "2027-01", key="a1", approver="auditor")
    yield a
    a.close()


def test_a_grant_moves_hours_from_the_fund_to_the_person(acc: Accounts) -> None:
    from gosplan.services import publiclog
    from gosplan.storage.base import session_scope

    assert acc.balance("fund:care") == Decimal(50)
    posted = acc.grant(
        "care", "unable", "2027-01", "30.5", key="g1", granted_by="care council", reason="basket"
    )
    assert acc.balance("unable") == Decimal("30.5")
    assert acc.balance("fund:care") == Decimal("19.5")
    assert acc.check_integrity() == []
    # the same key again posts nothing more
    again = acc.grant(
        "care", "unable", "2027-01", "30.5", key="g1", granted_by="care council", reason="basket"
    )
    assert again.transaction_id == posted.transaction_id
    assert acc.balance("unable") == Decimal("30.5")
    # the person spends it like any credit; work totals are not changed by grants
    totals = acc.totals("2027-01")
    assert totals["credited_persons"] == Decimal(50) and totals["credited_funds"] == Decimal(50)
    with session_scope(acc.engine) as s:
        logged = [e.payload for e in publiclog.entries(s, kind="accounts.grant")]
    assert (
        logged
        and logged[0]["person"] == "unable"
        and Decimal(logged[0]["hours"]) == Decimal("30.5")
    )


@pytest.mark.parametrize(
    ("fund", "person", "hours", "by", "reason", "message"),
    [
        ("care", "unable", "60", "care council", "basket", "negative"),
        ("care", "unable", "0", "care council", "basket", "hours"),
        ("care", "unable", "5", "unable", "basket", "themselves"),
        ("care", "unable", "5", "care council", " ", "reason"),
        ("care", "ent", "5", "care council", "basket", "person"),
        ("nope", "unable", "5", "care council", "basket", "fund:nope"),
    ],
)
def test_a_bad_grant_is_refused_and_posts_nothing(
    acc: Accounts, fund: str, person: str, hours: str, by: str, reason: str, message: str
) -> None:
    before = {c: acc.balance(c) for c in ("fund:care", "unable", "ent")}
    with pytest.raises((AccountsError, ValidationError), match=message):
        acc.grant(fund, person, "2027-01", hours, key="bad", granted_by=by, reason=reason)
    assert {c: acc.balance(c) for c in before} == before
    assert acc.check_integrity() == []
