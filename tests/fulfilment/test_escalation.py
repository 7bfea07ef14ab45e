"""The escalation ladder driven by a controllable clock."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine

from gosplan.errors import ValidationError
from gosplan.services import escalation as esc
from gosplan.services import publiclog
from gosplan.storage.base import session_scope

T0 = dt.datetime(2027, 3, 1, 9, 0)
CTX = {"unit": "E0042", "sector": "steel"}


def _open(s, clock, **kw):
    args = dict(
        area="fulfilment",
        subject="enterprise E0042",
        reason="inputs 31 % above norm",
        context=CTX,
        now=clock(),
    )
    args.update(kw)
    return esc.open_alert(s, **args)


def test_alert_climbs_when_deadlines_pass(engine: Engine) -> None:
    clock = esc.ManualClock(T0)
    with session_scope(engine) as s:
        a = _open(s, clock)
        assert a.level == 0
        assert a.owner == "workers' council and management of E0042"
        assert a.deadline == T0 + dt.timedelta(days=7)
    clock.advance(days=6)
    with session_scope(engine) as s:
        assert esc.tick(s, clock()) == []
    clock.advance(days=2)  # day 8: first deadline passed
    with session_scope(engine) as s:
        climbed = esc.tick(s, clock())
        assert [c.id for c in climbed] == [a.id]
        assert climbed[0].level == 1
        assert climbed[0].owner == "sector body for steel"
        assert climbed[0].deadline == T0 + dt.timedelta(days=7 + 14)
    clock.advance(days=100)  # every remaining deadline missed: public, and stays there
    with session_scope(engine) as s:
        (c,) = esc.tick(s, clock())
        assert c.level == 3 and c.owner == "the public" and c.deadline is None
        assert esc.tick(s, clock.advance(days=30)) == []
        kinds = [e.event for e in esc.events(s, a.id)]
        assert kinds == ["opened", "escalated", "escalated", "escalated"]
        logged = [e.kind for e in publiclog.entries(s)]
        assert logged.count("fulfilment.alert.escalated") == 3
        assert "fulfilment.alert.opened" in logged


def test_resolved_in_time_stops(engine: Engine) -> None:
    clock = esc.ManualClock(T0)
    with session_scope(engine) as s:
        a = _open(s, clock)
        clock.advance(days=3)
        esc.acknowledge(s, a.id, by="E0042 workers' council", now=clock())
        clock.advance(days=2)
        esc.resolve(
            s,
            a.id,
            by="E0042 workers' council",
            resolution="stock count found the steel",
            now=clock(),
        )
    clock.advance(days=60)
    with session_scope(engine) as s:
        assert esc.tick(s, clock()) == []
        (item,) = esc.items(s, area="fulfilment")
        assert item.level == 0 and item.resolution == "stock count found the steel"
        assert [e.event for e in esc.events(s, a.id)] == ["opened", "acknowledged", "resolved"]
        with pytest.raises(ValidationError, match="was resolved at"):
            esc.resolve(s, a.id, by="x", resolution="again", now=clock())


def test_acknowledged_but_unresolved_still_climbs(engine: Engine) -> None:
    clock = esc.ManualClock(T0)
    with session_scope(engine) as s:
        a = _open(s, clock)
        esc.acknowledge(s, a.id, by="management", now=clock.advance(days=1))
        (c,) = esc.tick(s, clock.advance(days=7))
        assert c.id == a.id and c.level == 1
        assert c.acknowledged_at is None  # the new owner has not taken it up yet


def test_directive_with_its_own_deadline_and_configured_ladder(engine: Engine) -> None:
    ladder = esc.Ladder.from_mapping(
        {
            "levels": [
                {"name": "brigade", "owner": "brigade of {unit}", "hours": 12},
                {"name": "council", "owner": "council", "days": 1},
                {"name": "public", "owner": "the public"},
            ]
        }
    )
    clock = esc.ManualClock(T0)
    with session_scope(engine) as s:
        d = esc.issue_directive(
            s,
            area="decisions",
            subject="decision 12",
            reason="open the second kiln",
            context={"unit": "E7"},
            ladder=ladder,
            now=clock(),
            deadline=T0 + dt.timedelta(days=2),
        )
        assert d.owner == "brigade of E7" and d.kind == "directive"
        assert esc.tick(s, clock.advance(days=1)) == []
        (c,) = esc.tick(s, clock.advance(days=1, hours=1))
        assert c.level == 1 and c.deadline == T0 + dt.timedelta(days=3)
        assert "decisions.directive.escalated" in [e.kind for e in publiclog.entries(s)]


def test_key_deduplicates_open_items_and_private_items_hide_subject(engine: Engine) -> None:
    clock = esc.ManualClock(T0)
    with session_scope(engine) as s:
        a = _open(s, clock, key="k1", details={"weeks": [1]})
        b = _open(s, clock, key="k1", details={"weeks": [1, 2]})
        assert a.id == b.id and b.details == {"weeks": [1, 2]}
        p = _open(
            s,
            clock,
            key="k2",
            private=True,
            area="control",
            subject="critic X",
            reason="demoted after criticism",
        )
        last = publiclog.entries(s)[-1]
        assert last.kind == "control.alert.opened"
        assert "critic X" not in last.payload_json and str(p.id) in last.payload_json
        assert esc.view(p)["subject"] == "(private)"


@pytest.mark.parametrize(
    "bad,match",
    [
        ({"levels": []}, "non-empty `levels`"),
        (
            {"levels": [{"name": "a", "owner": "b"}, {"name": "c", "owner": "d"}]},
            "positive response time",
        ),
        ({"levels": [{"name": "a", "owner": "b", "weeks": 1}]}, "unknown keys"),
    ],
)
def test_bad_ladder_config(bad: dict, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        esc.Ladder.from_mapping(bad)


def test_owner_template_needs_context(engine: Engine) -> None:
    with session_scope(engine) as s, pytest.raises(ValidationError, match="sector"):
        esc.open_alert(s, area="fulfilment", subject="E1", reason="r", context={}, now=T0)
