"""Retaliation watch: personnel events on critics are flagged and escalated.

A personnel event (dismissal, demotion, transfer, cut in hours, poor
evaluation) on person P is flagged when, within ``window_days`` before it, P
filed a criticism (giving their person id for the watch) of

* an official in P's chain of authority (on the day of the criticism or of
  the event), or the official who took the action, or
* the enterprise P worked in when filing.

The match uses the criticism's keyed watch tag, so no identity is decrypted.
A flag opens a *private* alert on the shared escalation ladder
(:mod:`gosplan.services.escalation`, area ``"control"``, ladder
:data:`LADDER`): :func:`escalate_overdue` climbs every unresolved one past its
deadline, :func:`resolve` closes one with a stated resolution.

The public log gets ``personnel.event`` (the event itself, public like any
personnel decision) and the ladder's ``control.alert.opened`` / ``.escalated``
/ ``.resolved`` entries, which for private items name only the alert number,
level, owner and deadline: which criticism and which event an alert concerns
stays with the commission (:class:`gosplan.storage.control.Alert`), since
publishing it would point at the critic.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gosplan.config import Settings
from gosplan.errors import ValidationError
from gosplan.services import criticism as crit
from gosplan.services import escalation, publiclog
from gosplan.storage.control import (
    Alert,
    Criticism,
    Person,
    PersonnelEvent,
    Position,
    SealedIdentity,
    Tenure,
)
from gosplan.storage.escalation import EscalationItem

EVENT_KINDS = ("dismissal", "demotion", "transfer", "hours_cut", "poor_evaluation")
DEFAULT_WINDOW_DAYS = 365
AREA = "control"
#: who must answer a possible-retaliation alert, and how long each has
LADDER = escalation.Ladder(
    (
        escalation.Level("officer", "control commission officer", dt.timedelta(days=14)),
        escalation.Level("commission", "control commission", dt.timedelta(days=14)),
        escalation.Level("council", "regional council", dt.timedelta(days=28)),
        escalation.Level("congress", "national congress of councils", None),
    )
)


def positions_held(session: Session, person: str, day: dt.date) -> list[Position]:
    """Positions ``person`` held on ``day``."""
    q = (
        select(Position)
        .join(Tenure, Tenure.position_id == Position.id)
        .where(
            Tenure.person_id == person,
            Tenure.started <= day,
            or_(Tenure.ended.is_(None), Tenure.ended > day),
        )
    )
    return list(session.scalars(q))


def holders(session: Session, position: str, day: dt.date) -> list[str]:
    q = select(Tenure.person_id).where(
        Tenure.position_id == position,
        Tenure.started <= day,
        or_(Tenure.ended.is_(None), Tenure.ended > day),
    )
    return list(session.scalars(q))


def chain_of_authority(session: Session, person: str, day: dt.date) -> list[str]:
    """Everyone above ``person`` on ``day``: holders of the posts their posts report to, upward."""
    out: list[str] = []
    seen: set[str] = set()
    for pos in positions_held(session, person, day):
        up = pos.reports_to
        while up is not None and up not in seen:
            seen.add(up)
            for h in holders(session, up, day):
                if h != person and h not in out:
                    out.append(h)
            parent = session.get(Position, up)
            up = parent.reports_to if parent is not None else None
    return out


@dataclass(frozen=True)
class Flag:
    """Why an event looks like retaliation (commission-only detail)."""

    criticism: str
    reason: str


def _reasons(session: Session, ev: PersonnelEvent, c: Criticism) -> str | None:
    if c.target_kind == "official":
        if ev.actor is not None and ev.actor == c.target:
            return (
                f"the {ev.kind} was decided by {c.target}, whom the critic criticised "
                f"on {c.filed_on}"
            )
        for day in (c.filed_on, ev.day):
            if c.target in chain_of_authority(session, ev.person_id, day):
                return (
                    f"{c.target}, criticised on {c.filed_on}, was in the critic's chain "
                    f"of authority on {day}"
                )
    elif c.target_kind == "enterprise":
        units = {p.unit_id for p in positions_held(session, ev.person_id, c.filed_on)}
        if c.target in units:
            return f"the critic worked in {c.target}, which they criticised on {c.filed_on}"
    return None


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


def check_event(
    session: Session,
    ev: PersonnelEvent,
    *,
    window_days: int = DEFAULT_WINDOW_DAYS,
    ladder: escalation.Ladder = LADDER,
    settings: Settings | None = None,
) -> list[Alert]:
    """Flag ``ev`` if it may be retaliation; returns the alerts opened (already logged)."""
    tag = crit.watch_tag(ev.person_id, settings)
    earliest = ev.day - dt.timedelta(days=window_days)
    rows = session.scalars(
        select(Criticism)
        .join(SealedIdentity, SealedIdentity.criticism_id == Criticism.id)
        .where(
            SealedIdentity.watch_tag == tag,
            Criticism.filed_on <= ev.day,
            Criticism.filed_on >= earliest,
        )
        .order_by(Criticism.id)
    )
    opened: list[Alert] = []
    for c in rows:
        exists = session.scalars(
            select(Alert).where(Alert.event_id == ev.id, Alert.criticism_id == c.id)
        ).first()
        if exists is not None:
            continue
        why = _reasons(session, ev, c)
        if why is None:
            continue
        reason = f"possible retaliation: {ev.kind} on {ev.day}, {why}"
        item = escalation.open_alert(
            session,
            area=AREA,
            subject="possible retaliation against a critic",
            reason=reason,
            now=_at(ev.day),
            ladder=ladder,
            private=True,
            key=f"retaliation:{ev.id}:{c.id}",
            details={"event": ev.id, "criticism": c.ref},
        )
        alert = Alert(item_id=item.id, event_id=ev.id, criticism_id=c.id, reason=reason)
        session.add(alert)
        session.flush()
        opened.append(alert)
    return opened


def record_event(
    session: Session,
    *,
    person: str,
    kind: str,
    day: dt.date,
    actor: str | None = None,
    note: str = "",
    window_days: int = DEFAULT_WINDOW_DAYS,
    ladder: escalation.Ladder = LADDER,
    settings: Settings | None = None,
) -> tuple[PersonnelEvent, list[Alert]]:
    """Record a personnel event (logged) and run the watch on it."""
    kind = kind.replace(" ", "_").replace("-", "_").lower()
    if kind not in EVENT_KINDS:
        raise ValidationError(
            f"personnel event kind {kind!r} is not one of {', '.join(EVENT_KINDS)}."
        )
    if session.get(Person, person) is None:
        raise ValidationError(f"personnel event on unknown person {person!r}.")
    if actor is not None and session.get(Person, actor) is None:
        raise ValidationError(f"personnel event decided by unknown person {actor!r}.")
    entry = publiclog.append(
        session,
        "personnel.event",
        {"person": person, "kind": kind, "actor": actor, "day": day.isoformat(), "note": note},
    )
    ev = PersonnelEvent(
        person_id=person, kind=kind, actor=actor, day=day, note=note, log_index=entry.index
    )
    session.add(ev)
    session.flush()
    return ev, check_event(session, ev, window_days=window_days, ladder=ladder, settings=settings)


def alerts(session: Session, *, open_only: bool = False) -> list[Alert]:
    """Retaliation alerts, oldest first (commission-only detail)."""
    out = list(session.scalars(select(Alert).order_by(Alert.id)))
    if open_only:
        out = [a for a in out if item(session, a).resolved_at is None]
    return out


def item(session: Session, alert: Alert) -> EscalationItem:
    """The alert's item on the escalation ladder (level, owner, deadline, resolution)."""
    found = session.get(EscalationItem, alert.item_id)
    if found is None:
        raise ValidationError(
            f"retaliation alert {alert.id} has lost its escalation item {alert.item_id}."
        )
    return found


def escalate_overdue(session: Session, today: dt.date) -> list[Alert]:
    """Climb every unresolved retaliation alert past its deadline (logged); returns them."""
    climbed = {i.id for i in escalation.tick(session, _at(today), area=AREA)}
    return [a for a in alerts(session) if a.item_id in climbed]


def resolve(
    session: Session, alert_id: int, *, resolution: str, by: str, today: dt.date | None = None
) -> Alert:
    """Close an alert with a stated resolution (logged)."""
    a = session.get(Alert, alert_id)
    if a is None:
        raise ValidationError(f"there is no retaliation alert {alert_id}.")
    escalation.resolve(
        session,
        a.item_id,
        by=by,
        resolution=resolution,
        now=_at(today) if today else escalation.utcnow(),
    )
    return a


def alert_view(session: Session, a: Alert, *, commission: bool = False) -> dict[str, Any]:
    """An alert as shown publicly, or (``commission=True``) with its reason and event."""
    it = item(session, a)
    out: dict[str, Any] = {
        "alert": a.id,
        "item": it.id,
        "level": it.level + 1,
        "level_name": it.ladder[it.level]["name"],
        "owner": it.owner,
        "opened": it.opened_at.date().isoformat(),
        "deadline": it.deadline.date().isoformat() if it.deadline else None,
        "resolved": it.resolved_at.date().isoformat() if it.resolved_at else None,
    }
    if commission:
        out["reason"] = a.reason
        out["event"] = a.event_id
    return out
