"""Tables of control from below: criticisms, sealed identities, people, positions, ties,
appointments, interactions, personnel events and retaliation alerts.

Criticisms, their sealed identities, status changes and identity accesses are
append-only (triggers from the ``control`` migrations refuse UPDATE and
DELETE).  A criticism's current status is its latest status row; nothing is
ever edited.  Queries live in the ``gosplan.services`` modules of this area.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Insert,
    Integer,
    LargeBinary,
    String,
    Text,
    bindparam,
    func,
    insert,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from gosplan.storage.base import Base

#: tables whose rows may never change or disappear (triggers enforce it)
APPEND_ONLY_TABLES = (
    "criticism",
    "criticism_attachment",
    "criticism_identity",
    "criticism_status",
    "criticism_identity_access",
)


class Criticism(Base):
    """A criticism: public content about a target; the filer's identity is elsewhere, sealed."""

    __tablename__ = "criticism"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    target_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    target: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    filed_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    attachment_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    attachment_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    attachment_size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    log_index: Mapped[int] = mapped_column(BigInteger, nullable=False)


class CriticismAttachment(Base):
    __tablename__ = "criticism_attachment"

    criticism_id: Mapped[int] = mapped_column(ForeignKey("criticism.id"), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class SealedIdentity(Base):
    """The filer's identity, encrypted to the control commission's key.

    ``watch_tag`` is a keyed hash of the filer's person id (if they gave one) so
    that the retaliation watch can recognise later personnel events on them
    without decrypting anything; it reveals nothing without the server's watch key.
    """

    __tablename__ = "criticism_identity"

    criticism_id: Mapped[int] = mapped_column(ForeignKey("criticism.id"), primary_key=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    watch_tag: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)


class CriticismStatus(Base):
    """One status change, with its reason; the latest row is the current status."""

    __tablename__ = "criticism_status"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    criticism_id: Mapped[int] = mapped_column(
        ForeignKey("criticism.id"), nullable=False, index=True
    )
    status: Mapped[str] = mapped_column(String(32), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    by: Mapped[str] = mapped_column(String(120), nullable=False)
    at: Mapped[str] = mapped_column(String(32), nullable=False)
    log_index: Mapped[int] = mapped_column(BigInteger, nullable=False)


class IdentityAccess(Base):
    """Commission members opened a sealed identity: who signed, why, when (also a public-log
    entry, ``criticism.identity_opened``, with their signatures)."""

    __tablename__ = "criticism_identity_access"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    criticism_id: Mapped[int] = mapped_column(ForeignKey("criticism.id"), nullable=False)
    accessor: Mapped[str] = mapped_column(String(120), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    at: Mapped[str] = mapped_column(String(32), nullable=False)
    log_index: Mapped[int] = mapped_column(BigInteger, nullable=False)


class Person(Base):
    """Someone who can hold a position, file a criticism or be tied to others."""

    __tablename__ = "control_person"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    hometown: Mapped[str | None] = mapped_column(String(120), nullable=True, index=True)


class Unit(Base):
    """An enterprise or organisation (a possible criticism target)."""

    __tablename__ = "control_unit"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="enterprise")


class Position(Base):
    """A post in a unit; ``reports_to`` is the post above it (the chain of authority)."""

    __tablename__ = "control_position"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    unit_id: Mapped[str] = mapped_column(ForeignKey("control_unit.id"), nullable=False)
    reports_to: Mapped[str | None] = mapped_column(ForeignKey("control_position.id"), nullable=True)


class Tenure(Base):
    """``person`` held ``position`` from ``started`` until ``ended`` (open if None)."""

    __tablename__ = "control_tenure"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[str] = mapped_column(
        ForeignKey("control_person.id"), nullable=False, index=True
    )
    position_id: Mapped[str] = mapped_column(
        ForeignKey("control_position.id"), nullable=False, index=True
    )
    started: Mapped[dt.date] = mapped_column(Date, nullable=False)
    ended: Mapped[dt.date | None] = mapped_column(Date, nullable=True)


class Tie(Base):
    """A tie between two people (``a < b``): family, hometown, colleague or friendship."""

    __tablename__ = "control_tie"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    a: Mapped[str] = mapped_column(ForeignKey("control_person.id"), nullable=False, index=True)
    b: Mapped[str] = mapped_column(ForeignKey("control_person.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    source: Mapped[str] = mapped_column(String(16), nullable=False)  # declared | found
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")


class Appointment(Base):
    """An appointment, with the check's outcome (``distance`` and ``path`` if flagged)."""

    __tablename__ = "control_appointment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    position_id: Mapped[str] = mapped_column(ForeignKey("control_position.id"), nullable=False)
    appointee: Mapped[str] = mapped_column(ForeignKey("control_person.id"), nullable=False)
    appointer: Mapped[str] = mapped_column(ForeignKey("control_person.id"), nullable=False)
    panel: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    day: Mapped[dt.date] = mapped_column(Date, nullable=False)
    flagged: Mapped[bool] = mapped_column(nullable=False, default=False)
    findings: Mapped[list[dict[str, object]]] = mapped_column(JSON, nullable=False)
    log_index: Mapped[int] = mapped_column(BigInteger, nullable=False)


class Interaction(Base):
    """``actor`` appointed, approved or evaluated ``subject`` (directed)."""

    __tablename__ = "control_interaction"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor: Mapped[str] = mapped_column(ForeignKey("control_person.id"), nullable=False, index=True)
    subject: Mapped[str] = mapped_column(
        ForeignKey("control_person.id"), nullable=False, index=True
    )
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    day: Mapped[dt.date] = mapped_column(Date, nullable=False)


class PersonnelEvent(Base):
    """Dismissal, demotion, transfer, cut in hours or poor evaluation of ``person``."""

    __tablename__ = "control_personnel_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[str] = mapped_column(
        ForeignKey("control_person.id"), nullable=False, index=True
    )
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    actor: Mapped[str | None] = mapped_column(ForeignKey("control_person.id"), nullable=True)
    day: Mapped[dt.date] = mapped_column(Date, nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    log_index: Mapped[int] = mapped_column(BigInteger, nullable=False)


class Alert(Base):
    """A possible-retaliation finding: which event, which criticism, why (commission only).

    The alert itself climbs the shared escalation ladder as a *private* item
    (:mod:`gosplan.services.escalation`, ``item_id``), whose public-log entries
    carry only its number, level, owner and deadline.
    """

    __tablename__ = "control_alert"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("control_personnel_event.id"), nullable=False)
    criticism_id: Mapped[int] = mapped_column(ForeignKey("criticism.id"), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)


def criticism_id(session: Session) -> int | None:
    """A new criticism's id taken ahead of its row (PostgreSQL: from the id's sequence, one
    round trip, so the row can be written with its log entry); None elsewhere (SQLite numbers
    the row when it is written)."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    return int(session.connection().execute(_NEXT_ID).scalar_one())


_NEXT_ID = select(func.nextval(func.pg_get_serial_sequence("criticism", "id")))


def on_record(session: Session, kind: str, id: str) -> bool:
    """Whether ``id`` is a person (``kind`` "official") or a unit ("enterprise") on record:
    one prebuilt statement (a filing checks its target)."""
    stmt = _PERSON if kind == "official" else _UNIT
    return session.connection().execute(stmt, {"id": id}).first() is not None


_PERSON = select(Person.__table__.c.id).where(Person.__table__.c.id == bindparam("id"))
_UNIT = select(Unit.__table__.c.id).where(Unit.__table__.c.id == bindparam("id"))


def filed_status(criticism_id: int, at: str, log_index: int) -> CriticismStatus:
    """A criticism's first status: received, when it was filed."""
    return CriticismStatus(
        criticism_id=criticism_id,
        status="received",
        reason="filed",
        by="gosplan",
        at=at,
        log_index=log_index,
    )


def filed_rows(cid: int, values: dict[str, Any], at: str, log_index: int) -> list[Insert]:
    """The rows of a criticism filed as entry ``log_index``, its id ``cid`` taken ahead
    (:func:`criticism_id`): the criticism and its first status, as ``INSERT``s to write with
    the entry (``publiclog.append(..., with_rows=...)``)."""
    status = filed_status(cid, at, log_index)
    return [
        insert(Criticism).values(id=cid, log_index=log_index, **values),
        insert(CriticismStatus).values(
            {k: getattr(status, k) for k in ("criticism_id", "status", "reason", "by", "at")}
            | {"log_index": log_index}
        ),
    ]
