"""Separation of duties in the ledger: nobody credits themselves (issue 13, item 4).

Each attack of the review is run against the real store (SQLite and PostgreSQL):
self-approval, approving what one recorded, recording for people outside the
enterprise, hours over the cap per person and period; each is refused with a
message that says why, and the store is left exactly as it was.  Reconciliation
of credited against reported hours finds the gap and opens an alert.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest
from sqlalchemy.orm import Session

from gosplan.services import publiclog
from gosplan.services.accounts import (
    Accounts,
    AccountsError,
    AccountsInputError,
    HoursCapExceeded,
    NotAMember,
    SeparationOfDuties,
    reconcile,
)
from gosplan.services.escalation import items as escalation_items
from gosplan.services.fulfilment import store as ful
from gosplan.storage.base import session_scope
from tests.accounts.conftest import DEDUCTION, snapshot
from tests.fulfilment.test_ingest import report, toy_economy


def _works(ledger: Accounts) -> Accounts:
    """A mill with members ana and dan (dan is also a planner); carla is its delegate."""
    for p in ("ana", "bea", "dan"):
        ledger.open_account(p, "person")
    ledger.open_account("mill", "enterprise")
    ledger.open_account("farm", "enterprise")
    ledger.open_period("2027-01", DEDUCTION)
    ledger.join("mill", "ana", by="registry")
    ledger.join("mill", "dan", by="registry")
    ledger.join("farm", "ana", by="registry")
    return ledger


def test_nobody_approves_a_record_that_credits_themselves(ledger: Accounts) -> None:
    acc = _works(ledger)
    rec = acc.record_hours("mill", "dan", "2027-01", "9", key="w-dan", recorded_by="carla")
    before = snapshot(acc)
    for approver, account in (("dan", None), ("planner-dan", "dan")):
        with pytest.raises(
            SeparationOfDuties,
            match=r"they credit .*nobody decides on their "
            r"own hours",
        ):
            acc.approve_record(
                rec.id, key=f"ap-{approver}", approver=approver, approver_account=account
            )
        with pytest.raises(SeparationOfDuties):
            acc.reject_record(
                rec.id, key=f"rj-{approver}", by=approver, by_account=account, reason="too much"
            )
        # the bulk approval is refused whole
        with pytest.raises(SeparationOfDuties):
            acc.approve(
                "mill",
                "2027-01",
                key=f"all-{approver}",
                approver=approver,
                approver_account=account,
            )
    assert snapshot(acc) == before
    acc.approve_record(rec.id, key="ap-eva", approver="eva")  # someone else may
    assert acc.work_record(rec.id).status == "approved"
    assert acc.balance("dan") == Decimal("6.3")  # 9 h less the 30 % deduction


def test_nobody_approves_a_record_they_recorded(ledger: Accounts) -> None:
    acc = _works(ledger)
    rec = acc.record_hours("mill", "ana", "2027-01", "8", key="w-ana", recorded_by="carla")
    before = snapshot(acc)
    with pytest.raises(SeparationOfDuties, match="'carla' recorded them"):
        acc.approve_record(rec.id, key="ap", approver="carla")
    with pytest.raises(SeparationOfDuties, match="'carla' recorded them"):
        acc.reject_record(rec.id, key="rj", by="carla", reason="oops")
    assert snapshot(acc) == before


def test_hours_only_for_members_of_the_enterprise(ledger: Accounts) -> None:
    acc = _works(ledger)
    before = snapshot(acc)
    with pytest.raises(NotAMember, match="'bea' is not a member of enterprise 'mill'"):
        acc.record_hours("mill", "bea", "2027-01", "8", key="w-bea", recorded_by="carla")
    with pytest.raises(NotAMember):  # one outsider refuses the whole batch
        acc.record_hours_many(
            "mill", "2027-01", [("ana", 8), ("bea", 8)], key="many", recorded_by="carla"
        )
    assert snapshot(acc) == before
    assert acc.members("mill") == ["ana", "dan"]
    assert acc.leave("mill", "dan", by="registry")
    with pytest.raises(NotAMember, match="'dan'"):
        acc.record_hours("mill", "dan", "2027-01", "8", key="w-dan", recorded_by="carla")
    with Session(acc.engine) as s:  # every change of membership is public
        events = publiclog.entries(s, kind="accounts.membership")
    assert [e.kind for e in events] == ["accounts.membership"] * 4


def test_hours_over_the_cap_per_person_and_period_are_refused(ledger: Accounts) -> None:
    acc = _works(ledger)
    assert acc.max_hours_per_period == Decimal(300)
    before = snapshot(acc)
    with pytest.raises(HoursCapExceeded, match=r"over the cap of 300 h per person and period"):
        acc.record_hours("mill", "ana", "2027-01", "9999", key="a", recorded_by="carla")
    with pytest.raises(HoursCapExceeded):  # two records totalling 19 998 h in one batch
        acc.record_hours_many(
            "mill", "2027-01", [("ana", 9999), ("dan", 9999)], key="b", recorded_by="carla"
        )
    assert snapshot(acc) == before
    acc.record_hours("mill", "ana", "2027-01", "200", key="c", recorded_by="carla")
    with pytest.raises(HoursCapExceeded, match=r"200\.000000 h already recorded"):
        # the cap counts every enterprise: 200 h at the mill + 150 h at the farm
        acc.record_hours("farm", "ana", "2027-01", "150", key="d", recorded_by="fred")
    acc.record_hours("farm", "ana", "2027-01", "100", key="e", recorded_by="fred")  # = 300


def test_the_cap_comes_from_configuration(ledger: Accounts) -> None:
    acc = Accounts(ledger.engine, max_hours_per_period=20_000)
    _works(acc)
    acc.record_hours_many(
        "mill", "2027-01", [("ana", 9999), ("dan", 9999)], key="b", recorded_by="carla"
    )
    with pytest.raises(AccountsInputError, match="max_hours_per_period"):
        Accounts(ledger.engine, max_hours_per_period=-1)


def test_each_record_is_approved_or_rejected_on_its_own_with_a_reason(ledger: Accounts) -> None:
    acc = _works(ledger)
    a = acc.record_hours("mill", "ana", "2027-01", "8", key="a", recorded_by="carla")
    d = acc.record_hours("mill", "dan", "2027-01", "9", key="d", recorded_by="carla")
    with pytest.raises(AccountsInputError, match="`reason` is needed"):
        acc.reject_record(d.id, key="r0", by="eva", reason="  ")
    rej = acc.reject_record(d.id, key="r1", by="eva", reason="dan was on leave")
    assert (rej.status, rej.decided_by, rej.reason) == ("rejected", "eva", "dan was on leave")
    with pytest.raises(AccountsError, match="was rejected"):
        acc.approve_record(d.id, key="ap-d", approver="eva")
    acc.approve_record(a.id, key="ap-a", approver="eva")
    with pytest.raises(AccountsError, match="already approved"):
        acc.approve_record(a.id, key="ap-a2", approver="fred")
    assert acc.balance("dan") == 0 and acc.balance("ana") == Decimal("5.6")
    # a rejected hour is neither pending nor counted toward the cap
    acc.close_period("2027-01")
    assert acc.check_integrity() == []
    with Session(acc.engine) as s:
        kinds = [e.kind for e in publiclog.entries(s, kind_prefix="accounts.hours")]
    assert kinds == ["accounts.hours_rejected", "accounts.hours_approved"]


def test_credited_hours_are_reconciled_with_reported_hours(ledger: Accounts) -> None:
    acc = _works(ledger)
    with session_scope(acc.engine) as s:
        ful.register_sectors(s, toy_economy())
        now = dt.datetime(2027, 1, 2)
        ful.register_enterprise(s, "mill", sector="grain", capacity=1.0, now=now)
        ful.register_enterprise(s, "farm", sector="steel", capacity=1.0, now=now)
        ful.adopt_plan(
            s,
            name="2027",
            freq="week",
            start="2027-01-04",
            periods=52,
            sector_output={"grain": 5200.0, "steel": 520.0, "tools": 52.0},
            now=now,
        )
        frames = [report("mill", day, 100.0, 60.0) for day in ("2027-01-04", "2027-01-11")]
        frames.append(report("farm", "2027-01-04", 10.0, 90.0))
        ful.ingest(s, pd.concat(frames, ignore_index=True), now=dt.datetime(2027, 2, 1))
    # the mill reports 120 h but credits 290 h; the farm reports 90 h and credits 90 h
    acc.record_hours("mill", "ana", "2027-01", "200", key="a", recorded_by="carla")
    acc.record_hours("mill", "dan", "2027-01", "90", key="d", recorded_by="carla")
    acc.record_hours("farm", "ana", "2027-01", "90", key="f", recorded_by="fred")
    acc.approve("mill", "2027-01", key="ap-m", approver="eva")
    acc.approve("farm", "2027-01", key="ap-f", approver="eva")
    res = reconcile(acc, "2027-01", now=dt.datetime(2027, 2, 2))
    assert not res.success and res.status == 1
    by = {g.enterprise: g for g in res.gaps}
    assert by["mill"].credited == Decimal(290) and by["mill"].reported == Decimal(120)
    assert by["mill"].flagged and by["mill"].gap == Decimal(170)
    assert not by["farm"].flagged and by["farm"].alert is None
    with Session(acc.engine) as s:
        alerts = escalation_items(s, area="accounts")
        assert [(i.subject, i.details["unit"]) for i in alerts] == [("enterprise mill", "mill")]
        assert by["mill"].alert == alerts[0].id
    again = reconcile(acc, "2027-01", now=dt.datetime(2027, 2, 3))  # the same alert, not a 2nd
    assert {g.enterprise: g.alert for g in again.gaps}["mill"] == by["mill"].alert
    with pytest.raises(AccountsInputError, match="not coded YYYY-MM"):
        reconcile(acc, "q1")
