"""Retaliation watch and appointment integrity on hand-built cases with known answers."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine

from gosplan.config import Settings
from gosplan.errors import ValidationError
from gosplan.services import appointments, criticism, publiclog, retaliation
from gosplan.storage.base import session_scope

D = dt.date


@pytest.fixture
def works(engine: Engine) -> Engine:
    """Tractor works E1: director ← shop head ← two workers; a ministry official outside."""
    with session_scope(engine) as s:
        appointments.add_unit(s, "E1", "Tractor works")
        appointments.add_unit(s, "M", "Ministry", kind="organisation")
        for pid, name, town in [
            ("MIN", "Minister Orlova", "Tula"),
            ("DIR", "Director Ivanova", "Perm"),
            ("HEAD", "Shop head Sidorov", "Perm"),
            ("W1", "Worker Petrov", "Kazan"),
            ("W2", "Worker Sokolova", "Omsk"),
            ("OUT", "Inspector Belov", "Ufa"),
        ]:
            appointments.add_person(s, pid, name, hometown=town)
        appointments.add_position(s, "min", "Minister", "M")
        appointments.add_position(s, "insp", "Inspector", "M", reports_to="min")
        appointments.add_position(s, "dir", "Director", "E1", reports_to="min")
        appointments.add_position(s, "head", "Shop head", "E1", reports_to="dir")
        appointments.add_position(s, "w1", "Fitter", "E1", reports_to="head")
        appointments.add_position(s, "w2", "Welder", "E1", reports_to="head")
        appointments.add_position(s, "min-seat", "Minister", "M")
    with session_scope(engine) as s:
        start = D(2025, 1, 1)
        for pos, who, by in [
            ("min", "MIN", "OUT"),
            ("insp", "OUT", "MIN"),
            ("dir", "DIR", "MIN"),
            ("head", "HEAD", "DIR"),
            ("w1", "W1", "HEAD"),
            ("w2", "W2", "HEAD"),
        ]:
            appointments.appoint(s, position=pos, appointee=who, appointer=by, day=start)
    return engine


def _criticise(
    engine: Engine, settings: Settings, target: str, person: str, day: D, kind: str = "official"
) -> str:
    with session_scope(engine) as s:
        return criticism.file(
            s,
            target_kind=kind,
            target=target,
            content="Norms are faked.",
            identity=f"{person} (by phone)",
            person=person,
            settings=settings,
            today=day,
        ).ref


def _event(
    engine: Engine, settings: Settings, person: str, kind: str, day: D, actor: str | None = None
) -> list[int]:
    with session_scope(engine) as s:
        _, alerts = retaliation.record_event(
            s, person=person, kind=kind, day=day, actor=actor, settings=settings
        )
        return [a.id for a in alerts]


def test_chain_of_authority(works: Engine) -> None:
    with session_scope(works) as s:
        assert retaliation.chain_of_authority(s, "W1", D(2025, 6, 1)) == ["HEAD", "DIR", "MIN"]
        assert retaliation.chain_of_authority(s, "OUT", D(2025, 6, 1)) == ["MIN"]
        assert retaliation.chain_of_authority(s, "W1", D(2024, 6, 1)) == []


def test_demotion_of_a_critic_of_their_superior_is_flagged(
    works: Engine, settings: Settings
) -> None:
    _criticise(works, settings, "HEAD", "W1", D(2026, 2, 1))
    flagged = _event(works, settings, "W1", "demotion", D(2026, 3, 1), actor="HEAD")
    assert len(flagged) == 1
    with session_scope(works) as s:
        a = retaliation.alerts(s)[0]
        view = retaliation.alert_view(s, a)
        assert view["level"] == 1 and view["deadline"] == "2026-03-15"
        assert view["owner"] == "control commission officer"
        assert "HEAD" in a.reason
        logged = publiclog.entries(s, kind="control.alert.opened")
        assert [e.payload["item"] for e in logged] == [a.item_id]
        # the public entry says an alert exists, never which event or criticism
        assert set(logged[0].payload) == {
            "item",
            "area",
            "kind",
            "event",
            "level",
            "level_name",
            "owner",
            "at",
            "deadline",
        }


@pytest.mark.parametrize(
    "person, target, event_day, kind",
    [
        ("W2", "HEAD", D(2026, 3, 1), "official"),  # W2 never criticised anyone: no tag match
        ("W1", "OUT", D(2026, 3, 1), "official"),  # target not in W1's chain, not the actor
        ("W1", "HEAD", D(2027, 6, 1), "official"),  # outside the 365-day window
        ("W1", "HEAD", D(2026, 1, 15), "official"),  # before the criticism
    ],
)
def test_unrelated_events_are_not_flagged(
    works: Engine, settings: Settings, person: str, target: str, event_day: D, kind: str
) -> None:
    _criticise(works, settings, target, "W1", D(2026, 2, 1), kind)
    assert _event(works, settings, person, "transfer", event_day, actor="DIR") == []


def test_actor_who_was_criticised_is_flagged_even_outside_the_chain(
    works: Engine, settings: Settings
) -> None:
    _criticise(works, settings, "OUT", "W1", D(2026, 2, 1))
    assert len(_event(works, settings, "W1", "poor_evaluation", D(2026, 2, 20), actor="OUT")) == 1


def test_criticism_of_own_enterprise_then_hours_cut_is_flagged(
    works: Engine, settings: Settings
) -> None:
    _criticise(works, settings, "E1", "W2", D(2026, 5, 1), kind="enterprise")
    assert len(_event(works, settings, "W2", "hours_cut", D(2026, 9, 1))) == 1


def test_alerts_climb_when_not_resolved_and_close_with_a_resolution(
    works: Engine, settings: Settings
) -> None:
    _criticise(works, settings, "HEAD", "W1", D(2026, 2, 1))
    (aid,) = _event(works, settings, "W1", "dismissal", D(2026, 3, 1), actor="HEAD")
    with session_scope(works) as s:
        assert retaliation.escalate_overdue(s, D(2026, 3, 10)) == []  # not yet due
        raised = retaliation.escalate_overdue(s, D(2026, 3, 16))
        assert [(a.id, retaliation.alert_view(s, a)["level"]) for a in raised] == [(aid, 2)]
    with session_scope(works) as s:
        for day in (D(2026, 4, 1), D(2026, 5, 1), D(2026, 6, 1)):
            retaliation.escalate_overdue(s, day)
        view = retaliation.alert_view(s, retaliation.alerts(s)[0])
        assert view["level"] == len(retaliation.LADDER.levels)  # top of the ladder
        assert view["owner"] == "national congress of councils"
        levels = [e.payload["level"] for e in publiclog.entries(s, kind="control.alert.escalated")]
        assert levels == [2, 3, 4]
    with pytest.raises(ValidationError, match="stated resolution"), session_scope(works) as s:
        retaliation.resolve(s, aid, resolution=" ", by="commission")
    with session_scope(works) as s:
        retaliation.resolve(
            s, aid, resolution="dismissal reversed", by="commission", today=D(2026, 6, 5)
        )
        assert retaliation.alerts(s, open_only=True) == []
        (done,) = publiclog.entries(s, kind="control.alert.resolved")
        assert done.payload["item"] == retaliation.alerts(s)[0].item_id


def test_bad_personnel_events_are_refused(works: Engine, settings: Settings) -> None:
    with pytest.raises(ValidationError, match="not one of"), session_scope(works) as s:
        retaliation.record_event(
            s, person="W1", kind="promotion", day=D(2026, 1, 1), settings=settings
        )
    with pytest.raises(ValidationError, match="unknown person"), session_scope(works) as s:
        retaliation.record_event(
            s, person="NOBODY", kind="demotion", day=D(2026, 1, 1), settings=settings
        )


# --------------------------------------------------------------------------- appointments


def test_appointment_within_k_ties_is_flagged_with_the_path(works: Engine) -> None:
    with session_scope(works) as s:
        appointments.add_person(s, "NEPHEW", "Nephew Ivanov", hometown="Sochi")
        appointments.add_person(s, "SISTER", "Sister Ivanova", hometown="Sochi")
        appointments.add_person(s, "STRANGER", "Stranger Kuznetsov", hometown="Vyatka")
        appointments.add_tie(s, "DIR", "SISTER", "family")
        appointments.add_tie(s, "SISTER", "NEPHEW", "family", source="found", note="birth register")
        appointments.add_position(s, "deputy", "Deputy director", "E1", reports_to="dir")
    with session_scope(works) as s:
        rigged = appointments.appoint(
            s,
            position="deputy",
            appointee="NEPHEW",
            appointer="DIR",
            panel=["HEAD"],
            day=D(2026, 1, 10),
        )
        assert rigged.flagged
        (f,) = rigged.findings
        assert f["decider"] == "DIR" and f["role"] == "appointer" and f["distance"] == 2
        assert [(p["from"], p["to"]) for p in f["path"]] == [
            ("NEPHEW", "SISTER"),
            ("SISTER", "DIR"),
        ]
        assert "family (found)" in f["path"][0]["tie"]
        assert appointments.check(s, "NEPHEW", "DIR", k=1) == []
        clean = appointments.check(s, "STRANGER", "DIR", ["HEAD"])
        assert clean == []
        entry = publiclog.entry(s, rigged.log_index)
        assert entry.kind == "appointment.made" and entry.payload["flagged"] is True


def test_shared_hometown_and_panel_members_count(works: Engine) -> None:
    with session_scope(works) as s:
        # DIR and HEAD are both from Perm (found in records): a weak tie, 1.5
        (f,) = appointments.check(s, "HEAD", "MIN", panel=["DIR"], k=2)
        assert f.decider == "DIR" and f.role == "panel" and f.distance == 1.5
        assert appointments.check(s, "HEAD", "MIN", panel=["DIR"], k=1) == []
        assert f.path == [{"from": "HEAD", "to": "DIR", "tie": "hometown Perm (found)"}]


def test_bad_appointments_are_refused(works: Engine) -> None:
    with session_scope(works) as s:
        before = publiclog.size(s)
    for kw, match in [
        ({"position": "nowhere"}, "position 'nowhere'"),
        ({"appointee": "GHOST"}, "appointee 'GHOST'"),
        ({"appointee": "DIR"}, "cannot appoint"),
    ]:
        args = {"position": "w1", "appointee": "W2", "appointer": "DIR", "day": D(2026, 1, 1)}
        args.update(kw)
        with pytest.raises(ValidationError, match=match), session_scope(works) as s:
            appointments.appoint(s, **args)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="tie kind"), session_scope(works) as s:
        appointments.add_tie(s, "W1", "W2", "enemy")
    with session_scope(works) as s:
        assert publiclog.size(s) == before


def test_cliques_found_among_mutual_appointers_not_in_a_hierarchy() -> None:
    ring = ["A", "B", "C", "D"]
    mutual = [(x, y) for x in ring for y in ring if x != y]
    hierarchy = [("boss", f"s{i}") for i in range(6)] + [(f"s{i}", f"w{i}") for i in range(6)]
    pair = [("p", "q"), ("q", "p")]  # two colleagues reviewing each other: not a group
    found = appointments.find_cliques(mutual + hierarchy + pair)
    assert [c.members for c in found] == [ring]
    assert found[0].density == 1.0 and found[0].interactions == 12


def test_cliques_from_the_store(works: Engine) -> None:
    with session_scope(works) as s:
        for a, b in [
            ("DIR", "HEAD"),
            ("HEAD", "DIR"),
            ("HEAD", "OUT"),
            ("OUT", "HEAD"),
            ("DIR", "OUT"),
            ("OUT", "DIR"),
        ]:
            appointments.record_interaction(s, a, b, "evaluate", D(2026, 1, 1))
        found = appointments.cliques(s)
    assert [c.members for c in found] == [["DIR", "HEAD", "OUT"]]


def test_generated_organisation_planted_cliques_and_rigged_appointments() -> None:
    """3 000 people, 20 planted cliques, 200 rigged among 2 000 fair appointments (seed 0)."""
    org = appointments.synthetic_organisation(3000, cliques=20, seed=0)
    r = appointments.evaluate_synthetic(org, ks=(1, 2))
    assert r["people"] == 3000 and r["planted_cliques"] == 20
    assert r["clique_recall"] >= 0.8
    assert r["clique_false_alarms"] <= 1
    assert r["appointments"][2]["rigged_flagged"] == 1.0
    assert r["appointments"][2]["fair_flagged"] <= 0.06
    assert r["appointments"][1]["fair_flagged"] <= 0.01
    # without the planted groups nothing is reported: peer reviews and hierarchy are no clique
    clean = appointments.synthetic_organisation(3000, cliques=0, rigged=0, fair=10, seed=1)
    assert appointments.find_cliques(clean.interactions) == []
