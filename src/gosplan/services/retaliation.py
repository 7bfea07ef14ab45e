"""Retaliation watch: personnel events on critics are flagged and escalated.

A personnel event (dismissal, demotion, transfer, cut in hours, poor
evaluation) on person P is flagged when, within ``window_days`` before it, P
filed a criticism (giving their person id for the watch) of

* an official in P's chain of authority (on the day of the criticism or of
  the event), or the official who took the action, or
* the enterprise P worked in when filing.

The match uses the criticism's keyed watch tag, so no identity is decrypted.
A flag opens an alert at level 1 with a deadline; :func:`escalate_overdue`
raises every unresolved alert past its deadline one level (up to
:data:`LEVELS`), and :func:`resolve` closes one with a stated resolution.

The public log gets ``personnel.event`` (the event itself, public like any
personnel decision) and ``retaliation.flagged`` / ``.escalated`` /
``.resolved`` entries naming the alert, its level and deadline only: which
criticism and which event an alert concerns stays with the commission,
since publishing it would point at the critic.
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
from gosplan.services import publiclog
from gosplan.storage.control import (
    Alert,
    Criticism,
    PersonnelEvent,
    Position,
    SealedIdentity,
    Tenure,
)

EVENT_KINDS = ("dismissal", "demotion", "transfer", "hours_cut", "poor_evaluation")
LEVELS = ("control commission officer", "control commission", "regional council",
          "national congress of councils")
DEFAULT_WINDOW_DAYS = 365
DEFAULT_RESPONSE_DAYS = 14


def positions_held(session: Session, person: str, day: dt.date) -> list[Position]:
    """Positions ``person`` held on ``day``."""
    q = (select(Position).join(Tenure, Tenure.position_id == Position.id)
         .where(Tenure.person_id == person, Tenure.started <= day,
                or_(Tenure.ended.is_(None), Tenure.ended > day)))
    return list(session.scalars(q))


def holders(session: Session, position: str, day: dt.date) -> list[str]:
    q = select(Tenure.person_id).where(Tenure.position_id == position, Tenure.started <= day,
                                       or_(Tenure.ended.is_(None), Tenure.ended > day))
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
            return (f"the {ev.kind} was decided by {c.target}, whom the critic criticised "
                    f"on {c.filed_on}")
        for day in (c.filed_on, ev.day):
            if c.target in chain_of_authority(session, ev.person_id, day):
                return (f"{c.target}, criticised on {c.filed_on}, was in the critic's chain "
                        f"of authority on {day}")
    elif c.target_kind == "enterprise":
        units = {p.unit_id for p in positions_held(session, ev.person_id, c.filed_on)}
        if c.target in units:
            return f"the critic worked in {c.target}, which they criticised on {c.filed_on}"
    return None


def check_event(session: Session, ev: PersonnelEvent, *, window_days: int = DEFAULT_WINDOW_DAYS,
                response_days: int = DEFAULT_RESPONSE_DAYS,
                settings: Settings | None = None) -> list[Alert]:
    """Flag ``ev`` if it may be retaliation; returns the alerts opened (already logged)."""
    tag = crit.watch_tag(ev.person_id, settings)
    earliest = ev.day - dt.timedelta(days=window_days)
    rows = session.scalars(
        select(Criticism).join(SealedIdentity, SealedIdentity.criticism_id == Criticism.id)
        .where(SealedIdentity.watch_tag == tag, Criticism.filed_on <= ev.day,
               Criticism.filed_on >= earliest).order_by(Criticism.id))
    opened: list[Alert] = []
    for c in rows:
        exists = session.scalars(select(Alert).where(Alert.event_id == ev.id,
                                                     Alert.criticism_id == c.id)).first()
        if exists is not None:
            continue
        why = _reasons(session, ev, c)
        if why is None:
            continue
        alert = Alert(kind="retaliation", event_id=ev.id, criticism_id=c.id,
                      reason=f"possible retaliation: {ev.kind} on {ev.day}, {why}",
                      level=1, opened=ev.day, deadline=ev.day + dt.timedelta(days=response_days))
        session.add(alert)
        session.flush()
        publiclog.append(session, "retaliation.flagged", {
            "alert": alert.id, "level": 1, "escalated_to": LEVELS[0],
            "deadline": alert.deadline.isoformat()})
        opened.append(alert)
    return opened


def record_event(
    session: Session, *, person: str, kind: str, day: dt.date, actor: str | None = None,
    note: str = "", window_days: int = DEFAULT_WINDOW_DAYS,
    response_days: int = DEFAULT_RESPONSE_DAYS, settings: Settings | None = None,
) -> tuple[PersonnelEvent, list[Alert]]:
    """Record a personnel event (logged) and run the watch on it."""
    from gosplan.storage.control import Person

    kind = kind.replace(" ", "_").replace("-", "_").lower()
    if kind not in EVENT_KINDS:
        raise ValidationError(f"personnel event kind {kind!r} is not one of "
                              f"{', '.join(EVENT_KINDS)}.")
    if session.get(Person, person) is None:
        raise ValidationError(f"personnel event on unknown person {person!r}.")
    if actor is not None and session.get(Person, actor) is None:
        raise ValidationError(f"personnel event decided by unknown person {actor!r}.")
    entry = publiclog.append(session, "personnel.event", {
        "person": person, "kind": kind, "actor": actor, "day": day.isoformat(), "note": note})
    ev = PersonnelEvent(person_id=person, kind=kind, actor=actor, day=day, note=note,
                        log_index=entry.index)
    session.add(ev)
    session.flush()
    return ev, check_event(session, ev, window_days=window_days, response_days=response_days,
                           settings=settings)


def alerts(session: Session, *, open_only: bool = False) -> list[Alert]:
    q = select(Alert).order_by(Alert.id)
    if open_only:
        q = q.where(Alert.resolved.is_(None))
    return list(session.scalars(q))


def escalate_overdue(session: Session, today: dt.date, *,
                     response_days: int = DEFAULT_RESPONSE_DAYS) -> list[Alert]:
    """Raise every unresolved alert past its deadline one level (logged); returns them."""
    raised = []
    for a in alerts(session, open_only=True):
        if a.deadline < today and a.level < len(LEVELS):
            a.level += 1
            a.deadline = today + dt.timedelta(days=response_days)
            publiclog.append(session, "retaliation.escalated", {
                "alert": a.id, "level": a.level, "escalated_to": LEVELS[a.level - 1],
                "deadline": a.deadline.isoformat()})
            raised.append(a)
    session.flush()
    return raised


def resolve(session: Session, alert_id: int, *, resolution: str, by: str,
            today: dt.date | None = None) -> Alert:
    """Close an alert with a stated resolution (logged)."""
    resolution, by = (resolution or "").strip(), (by or "").strip()
    if not resolution or not by:
        raise ValidationError(f"resolving alert {alert_id} needs a stated resolution and who "
                              "decided it.")
    a = session.get(Alert, alert_id)
    if a is None:
        raise ValidationError(f"there is no alert {alert_id}.")
    if a.resolved is not None:
        raise ValidationError(f"alert {alert_id} was already resolved on {a.resolved}.")
    a.resolved = today or dt.datetime.now(dt.UTC).date()
    a.resolution = resolution
    publiclog.append(session, "retaliation.resolved", {
        "alert": a.id, "level": a.level, "resolution": resolution, "by": by})
    session.flush()
    return a


def alert_view(a: Alert, *, commission: bool = False) -> dict[str, Any]:
    """An alert as shown publicly, or (``commission=True``) with its reason."""
    out: dict[str, Any] = {"alert": a.id, "kind": a.kind, "level": a.level,
                           "escalated_to": LEVELS[a.level - 1], "opened": a.opened.isoformat(),
                           "deadline": a.deadline.isoformat(),
                           "resolved": a.resolved.isoformat() if a.resolved else None}
    if commission:
        out["reason"] = a.reason
        out["event"] = a.event_id
    return out
