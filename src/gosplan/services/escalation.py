"""The algedonic escalation ladder: alerts and directives that climb when not put right in time.

An *item* is an alert (something found wrong) or a directive (a decision
assigned to an owner).  It starts at the first level of a :class:`Ladder`,
owned by that level's body, with a deadline.  If it is not acknowledged
**and** resolved by the deadline, :func:`tick` moves it one level up (and
again for every further deadline already missed), until the last level,
where it is public and stays until resolved.  Every opening,
acknowledgement, resolution and escalation is stored as an event and
appended to the public log (:mod:`gosplan.services.publiclog`) in the
caller's transaction.

The API is small::

    from gosplan.services import escalation as esc

    ladder = esc.DEFAULT_LADDER            # or esc.Ladder.from_mapping({...}) / from TOML
    item = esc.open_alert(session, area="fulfilment", subject="enterprise E0042",
                          reason="inputs 31 % above norm in week 2010-03-08",
                          context={"unit": "E0042", "sector": "C24"},
                          key="fulfilment:E0042:diversion", now=now)
    esc.acknowledge(session, item.id, by="E0042 workers' council", now=now)
    esc.resolve(session, item.id, by="E0042 workers' council",
                resolution="stock count found the missing steel", now=now)
    climbed = esc.tick(session, now)        # every overdue open item climbs
    esc.issue_directive(session, area="decisions", subject="decision 12",
                        reason="open the second kiln", context={"unit": "E0042"},
                        now=now)            # directives climb the same way

* ``now`` is always explicit (a timezone-naive UTC ``datetime``); the faces
  pass :func:`utcnow`, tests and the simulator pass a :class:`ManualClock`'s
  time, so the ladder can be driven through weeks in a test.
* Owners are templates formatted with ``context`` (``{unit}``, ``{sector}``
  and any other keys the caller gives); a missing key is an error naming it.
* ``key`` de-duplicates: opening an item whose key has an open item returns
  that item (with ``details`` merged) instead of a second one.
* ``private=True`` items (e.g. possible retaliation against a critic) put
  only their number, area, kind, level, owner and deadline in the public log.

Fulfilment alerts take one of two ladders: :data:`DEFAULT_LADDER` for
*inspection* (reports that do not add up climb to the public) and
:data:`HELP_LADDER` for *help* (a consistent, honest shortfall goes to the
sector's supply body and the planners, and stays with them until resolved).

Public-log kinds are ``<area>.<kind>.<event>``, e.g.
``fulfilment.alert.opened``, ``fulfilment.alert.escalated``,
``decisions.directive.resolved``.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from gosplan.clock import ManualClock, utcnow
from gosplan.errors import ValidationError
from gosplan.storage.escalation import EscalationEvent, EscalationItem

ItemKind = Literal["alert", "directive"]

__all__ = [
    "DEFAULT_LADDER",
    "HELP_LADDER",
    "EscalationEvent",
    "EscalationItem",
    "Ladder",
    "Level",
    "ManualClock",
    "acknowledge",
    "events",
    "issue_directive",
    "items",
    "open_alert",
    "open_item",
    "resolve",
    "tick",
    "utcnow",
    "view",
]


@dataclass(frozen=True)
class Level:
    """One rung: who owns the item there and how long they have to put it right.

    ``response`` None means the last rung (nothing above; stays until resolved).
    """

    name: str
    owner: str
    response: dt.timedelta | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "owner": self.owner,
            "response_s": None if self.response is None else self.response.total_seconds(),
        }


@dataclass(frozen=True)
class Ladder:
    """The rungs an item climbs, bottom first."""

    levels: tuple[Level, ...]

    def __post_init__(self) -> None:
        if not self.levels:
            raise ValidationError("an escalation ladder needs at least one level.")
        for lv in self.levels[:-1]:
            if lv.response is None or lv.response <= dt.timedelta(0):
                raise ValidationError(
                    f"level {lv.name!r} of the escalation ladder needs a positive response "
                    f"time (only the last level may have none); got {lv.response}."
                )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Ladder:
        """From ``{"levels": [{"name", "owner", "days"}, ...]}`` (a TOML ``[[levels]]`` list).

        ``days`` (or ``hours``) is the time allowed at that level; omit it on the last.
        """
        raw = data.get("levels")
        if not isinstance(raw, list) or not raw:
            raise ValidationError(
                "escalation ladder config needs a non-empty `levels` list "
                "of tables with `name`, `owner` and `days`."
            )
        levels = []
        for i, entry in enumerate(raw):
            if not isinstance(entry, Mapping):
                raise ValidationError(f"escalation ladder level {i + 1} must be a table.")
            unknown = set(entry) - {"name", "owner", "days", "hours"}
            if unknown:
                raise ValidationError(
                    f"escalation ladder level {i + 1} has unknown keys "
                    f"{sorted(unknown)}; allowed: name, owner, days, hours."
                )
            for need in ("name", "owner"):
                if not isinstance(entry.get(need), str) or not entry[need].strip():
                    raise ValidationError(f"escalation ladder level {i + 1} needs a text `{need}`.")
            resp: dt.timedelta | None = None
            if "days" in entry or "hours" in entry:
                try:
                    resp = dt.timedelta(
                        days=float(entry.get("days", 0)), hours=float(entry.get("hours", 0))
                    )
                except (TypeError, ValueError):
                    raise ValidationError(
                        f"escalation ladder level {i + 1} ({entry['name']}): `days`/`hours` "
                        f"must be numbers; got {entry.get('days')!r}/{entry.get('hours')!r}."
                    ) from None
            levels.append(Level(entry["name"], entry["owner"], resp))
        return cls(tuple(levels))

    @classmethod
    def from_toml(cls, path: str | Path) -> Ladder:
        """Read a ladder from a TOML file of ``[[levels]]`` tables."""
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ValidationError(f"escalation ladder file {str(path)!r}: {exc}") from exc
        return cls.from_mapping(data)

    @classmethod
    def from_stored(cls, rows: Sequence[Mapping[str, Any]]) -> Ladder:
        return cls(
            tuple(
                Level(
                    r["name"],
                    r["owner"],
                    None
                    if r["response_s"] is None
                    else dt.timedelta(seconds=float(r["response_s"])),
                )
                for r in rows
            )
        )


#: enterprise workers' council and management -> sector body -> planning body -> public
DEFAULT_LADDER = Ladder(
    (
        Level("enterprise", "workers' council and management of {unit}", dt.timedelta(days=7)),
        Level("sector", "sector body for {sector}", dt.timedelta(days=14)),
        Level("planning", "planning body", dt.timedelta(days=28)),
        Level("public", "the public", None),
    )
)


#: help for a consistent, honest shortfall: supply and planners, never the public pillory
HELP_LADDER = Ladder(
    (
        Level("supply", "supply body for {sector}", dt.timedelta(days=7)),
        Level("planning", "planning body", None),
    )
)


def _naive(t: dt.datetime) -> dt.datetime:
    if not isinstance(t, dt.datetime):
        raise ValidationError(f"escalation times must be datetimes; got {t!r}.")
    return t.astimezone(dt.UTC).replace(tzinfo=None) if t.tzinfo else t


def _owner(template: str, context: Mapping[str, Any], subject: str) -> str:
    try:
        return template.format(**{"unit": subject, **context})
    except (KeyError, IndexError) as exc:
        raise ValidationError(
            f"escalation owner {template!r} for {subject!r} needs {exc} in `context`; "
            f"got keys {sorted(context)}."
        ) from None


def _log(
    session: Session,
    item: EscalationItem,
    event: str,
    at: dt.datetime,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Store the event and append it to the public log."""
    by = (extra or {}).get("by")
    note = (extra or {}).get("note")
    session.add(
        EscalationEvent(item_id=item.id, at=at, event=event, level=item.level, by=by, note=note)
    )
    payload: dict[str, Any] = {
        "item": item.id,
        "area": item.area,
        "kind": item.kind,
        "event": event,
        "level": item.level + 1,
        "level_name": item.ladder[item.level]["name"],
        "owner": item.owner,
        "at": at.isoformat(),
        "deadline": item.deadline.isoformat() if item.deadline else None,
    }
    if not item.private:
        payload["subject"] = item.subject
        payload["reason"] = item.reason
        if by is not None:
            payload["by"] = by
        if note is not None:
            payload["note"] = note
    from gosplan.services import publiclog

    publiclog.append(session, f"{item.area}.{item.kind}.{event}", payload)


def open_item(
    session: Session,
    *,
    kind: ItemKind,
    area: str,
    subject: str,
    reason: str,
    now: dt.datetime,
    ladder: Ladder = DEFAULT_LADDER,
    context: Mapping[str, Any] | None = None,
    key: str | None = None,
    private: bool = False,
    details: Mapping[str, Any] | None = None,
    deadline: dt.datetime | None = None,
) -> EscalationItem:
    """Open an alert or directive at the ladder's first level (logged).

    ``deadline`` overrides the first level's response time (directives carry
    the deadline decided with them).  With ``key``, an open item of the same
    key is returned instead, its ``details`` updated.
    """
    if kind not in ("alert", "directive"):
        raise ValidationError(f"escalation item kind must be 'alert' or 'directive'; got {kind!r}.")
    subject, reason, area = (subject or "").strip(), (reason or "").strip(), area.strip()
    if not subject or not reason or not area:
        raise ValidationError(
            f"an escalation {kind} needs an area, a subject and a reason; "
            f"got area={area!r}, subject={subject!r}, reason={reason!r}."
        )
    now = _naive(now)
    if key is not None:
        existing = session.scalars(
            select(EscalationItem).where(
                EscalationItem.key == key, EscalationItem.resolved_at.is_(None)
            )
        ).first()
        if existing is not None:
            if details:
                existing.details = {**existing.details, **dict(details)}
            return existing
    ctx = dict(context or {})
    first = ladder.levels[0]
    if deadline is not None:
        deadline = _naive(deadline)
        if deadline <= now:
            raise ValidationError(
                f"deadline {deadline.isoformat()} of {kind} on {subject!r} "
                f"is not after its opening {now.isoformat()}."
            )
    elif first.response is not None:
        deadline = now + first.response
    stored = [dict(lv.as_dict(), owner=_owner(lv.owner, ctx, subject)) for lv in ladder.levels]
    item = EscalationItem(
        kind=kind,
        area=area,
        subject=subject,
        reason=reason,
        key=key,
        level=0,
        ladder=stored,
        owner=stored[0]["owner"],
        opened_at=now,
        deadline=deadline,
        private=private,
        details=dict(details or {}),
    )
    session.add(item)
    session.flush()
    _log(session, item, "opened", now)
    return item


def open_alert(session: Session, **kwargs: Any) -> EscalationItem:
    """:func:`open_item` with ``kind="alert"``."""
    return open_item(session, kind="alert", **kwargs)


def issue_directive(session: Session, **kwargs: Any) -> EscalationItem:
    """:func:`open_item` with ``kind="directive"`` (give ``deadline`` or use the ladder's)."""
    return open_item(session, kind="directive", **kwargs)


def _get_open(session: Session, item_id: int, action: str) -> EscalationItem:
    item = session.get(EscalationItem, item_id)
    if item is None:
        raise ValidationError(f"cannot {action} escalation item {item_id}: there is no such item.")
    if item.resolved_at is not None:
        raise ValidationError(
            f"cannot {action} {item.kind} {item_id} on {item.subject!r}: it "
            f"was resolved at {item.resolved_at.isoformat()} by "
            f"{item.resolved_by}."
        )
    return item


def acknowledge(
    session: Session, item_id: int, *, by: str, now: dt.datetime, note: str | None = None
) -> EscalationItem:
    """Record that ``by`` (the owner at the current level) has taken the item up (logged).

    Acknowledging does not stop the climb; only :func:`resolve` does.
    """
    by = (by or "").strip()
    if not by:
        raise ValidationError(f"acknowledging escalation item {item_id} needs who acknowledges.")
    item = _get_open(session, item_id, "acknowledge")
    now = _naive(now)
    item.acknowledged_at = now
    item.acknowledged_by = by
    _log(session, item, "acknowledged", now, {"by": by, "note": note})
    session.flush()
    return item


class ConflictOfInterest(ValidationError):
    """The resolver belongs to the unit the item is about: nobody closes their own case."""


def unit_of(item: EscalationItem) -> str | None:
    """The enterprise (unit) an item is about: ``details.unit``, else an ``enterprise X``
    subject; ``None`` if it names none."""
    unit = (item.details or {}).get("unit")
    if unit is None and item.subject.startswith("enterprise "):
        unit = item.subject[len("enterprise ") :]
    return None if unit is None else str(unit)


def resolve(
    session: Session,
    item_id: int,
    *,
    by: str,
    resolution: str,
    now: dt.datetime,
    actor_units: Iterable[str] = (),
) -> EscalationItem:
    """Close the item with a stated resolution (logged); it climbs no further.

    ``actor_units`` are the enterprises the resolver belongs to (speaks for or works in):
    an item about one of them is refused (:class:`ConflictOfInterest`) — its people may
    acknowledge it, never resolve it."""
    by, resolution = (by or "").strip(), (resolution or "").strip()
    if not by or not resolution:
        raise ValidationError(
            f"resolving escalation item {item_id} needs who resolved it and a stated resolution."
        )
    item = _get_open(session, item_id, "resolve")
    unit = unit_of(item)
    if unit is not None and unit in set(actor_units):
        raise ConflictOfInterest(
            f"`by`: {by} belongs to {unit}, which {item.kind} {item_id} is about; an "
            f"{item.kind} about an enterprise is resolved by someone outside it (its people "
            "may acknowledge it and put it right)."
        )
    now = _naive(now)
    if item.acknowledged_at is None:
        item.acknowledged_at, item.acknowledged_by = now, by
    item.resolved_at, item.resolved_by, item.resolution = now, by, resolution
    _log(session, item, "resolved", now, {"by": by, "note": resolution})
    session.flush()
    return item


def tick(session: Session, now: dt.datetime, *, area: str | None = None) -> list[EscalationItem]:
    """Climb every open item whose deadline has passed (logged); return the items that climbed.

    An item missed by several deadlines climbs several levels at once; each
    new level's deadline runs from the previous deadline, so the outcome does
    not depend on how often ``tick`` is called.
    """
    now = _naive(now)
    q = select(EscalationItem).where(
        EscalationItem.resolved_at.is_(None),
        EscalationItem.deadline.is_not(None),
        EscalationItem.deadline < now,
    )
    if area is not None:
        q = q.where(EscalationItem.area == area)
    climbed: list[EscalationItem] = []
    for item in session.scalars(q.order_by(EscalationItem.id)):
        moved = False
        while (
            item.deadline is not None and item.deadline < now and item.level + 1 < len(item.ladder)
        ):
            missed = item.deadline
            item.level += 1
            rung = item.ladder[item.level]
            item.owner = rung["owner"]
            item.acknowledged_at = item.acknowledged_by = None
            item.deadline = (
                None
                if rung["response_s"] is None
                else missed + dt.timedelta(seconds=float(rung["response_s"]))
            )
            _log(
                session,
                item,
                "escalated",
                missed,
                {"note": f"not resolved by {missed.isoformat()}"},
            )
            moved = True
        if moved:
            climbed.append(item)
    session.flush()
    return climbed


def items(
    session: Session,
    *,
    area: str | None = None,
    kind: ItemKind | None = None,
    open_only: bool = False,
    subject: str | None = None,
    min_level: int | None = None,
    ids: Iterable[int] | None = None,
) -> list[EscalationItem]:
    """Items, oldest first, filtered by area, kind, subject, openness and level (0-based)."""
    q = select(EscalationItem)
    if area is not None:
        q = q.where(EscalationItem.area == area)
    if kind is not None:
        q = q.where(EscalationItem.kind == kind)
    if open_only:
        q = q.where(EscalationItem.resolved_at.is_(None))
    if subject is not None:
        q = q.where(EscalationItem.subject == subject)
    if min_level is not None:
        q = q.where(EscalationItem.level >= min_level)
    if ids is not None:
        q = q.where(EscalationItem.id.in_(list(ids)))
    return list(session.scalars(q.order_by(EscalationItem.id)))


def events(session: Session, item_id: int) -> list[EscalationEvent]:
    """The item's history, in order."""
    return list(
        session.scalars(
            select(EscalationEvent)
            .where(EscalationEvent.item_id == item_id)
            .order_by(EscalationEvent.id)
        )
    )


def view(item: EscalationItem) -> dict[str, Any]:
    """A plain dict of the item, as faces show it (private items hide subject and reason)."""
    return {
        "id": item.id,
        "kind": item.kind,
        "area": item.area,
        "subject": "(private)" if item.private else item.subject,
        "reason": "(private)" if item.private else item.reason,
        "level": item.level + 1,
        "level_name": item.ladder[item.level]["name"],
        "owner": item.owner,
        "opened": item.opened_at.isoformat(),
        "deadline": item.deadline.isoformat() if item.deadline else None,
        "acknowledged": item.acknowledged_at.isoformat() if item.acknowledged_at else None,
        "resolved": item.resolved_at.isoformat() if item.resolved_at else None,
        "resolution": item.resolution,
    }
