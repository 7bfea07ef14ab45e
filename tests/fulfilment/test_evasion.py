"""Fulfilment evasion (issue 13, item 7): a delegate cannot back-date a report to hide that
it is late, and an enterprise's people cannot resolve the alert about their enterprise."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy import Engine, select

from gosplan.services import escalation as esc
from gosplan.services.fulfilment import store as ful
from gosplan.storage.base import session_scope
from gosplan.storage.fulfilment import FulReport
from tests.fulfilment.test_ingest import START, report, setup_register


def test_lateness_counts_from_the_servers_receipt_not_the_stated_date(engine: Engine) -> None:
    setup_register(engine)
    received = dt.datetime(2027, 3, 1, 9, 0)  # eight weeks after the week of START
    stated = "2027-01-11T08:00:00"  # the delegate says: filed on time
    with session_scope(engine) as s:
        ful.ingest(s, report("F1", START, 25.0, 50.0, submitted=stated), now=received)
    with session_scope(engine) as s:
        row = s.scalars(select(FulReport)).one()
        assert row.submitted_at == dt.datetime(2027, 1, 11, 8, 0)  # kept, as stated
        assert row.received_at == received
        reports, _ = ful.load_reports(s, ful.load_register(s))
    lag = float(reports["lag_days"].iloc[0])
    assert lag == pytest.approx((received - dt.datetime(2027, 1, 11)).total_seconds() / 86400)
    assert lag > 40 and np.isfinite(lag)  # late by the server's clock


def test_an_enterprises_people_do_not_resolve_the_alert_about_it(engine: Engine) -> None:
    now = dt.datetime(2027, 2, 1)
    with session_scope(engine) as s:
        item = esc.open_alert(
            s,
            area="fulfilment",
            subject="enterprise F1",
            reason="output 60 % below plan",
            context={"sector": "grain"},
            details={"unit": "F1"},
            now=now,
        )
        with pytest.raises(esc.ConflictOfInterest, match=r"belongs to F1.*someone outside it"):
            esc.resolve(
                s, item.id, by="F1 delegate", resolution="fine", now=now, actor_units={"F1"}
            )
        esc.acknowledge(s, item.id, by="F1 delegate", now=now)  # they take it up
        esc.resolve(
            s, item.id, by="sector body", resolution="stock recounted", now=now, actor_units={"F2"}
        )
        assert item.resolved_by == "sector body"
