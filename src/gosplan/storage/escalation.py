"""Tables of the algedonic escalation ladder: items (alerts, directives) and their events.

An :class:`EscalationItem` is an alert or a directive about one *subject*
(an enterprise, an official, a decision).  It sits at one level of its ladder,
owned by that level's body, until a deadline; :mod:`gosplan.services.escalation`
climbs it when the deadline passes unresolved.  Every change is also an
:class:`EscalationEvent` row (and a public-log entry), so the history of an
item is never overwritten.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gosplan.storage.base import Base


class EscalationItem(Base):
    """One alert or directive on its ladder."""

    __tablename__ = "esc_item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: "alert" or "directive"
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    #: the capability that raised it ("fulfilment", "control", ...)
    area: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    #: what it is about, e.g. "enterprise E0042"
    subject: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    #: one-line reason (alert) or the decision to carry out (directive)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    #: de-duplication key: at most one *open* item per key (checked by the service)
    key: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    #: index into ``ladder`` (0 = first level)
    level: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: the ladder frozen at opening: [{"name", "owner", "response_s"}, ...]
    ladder: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    #: who must act now (the current level's owner, formatted)
    owner: Mapped[str] = mapped_column(String(200), nullable=False)
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    #: when the current level's time runs out (None at the last level)
    deadline: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True, index=True)
    resolved_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    resolution: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: private items put only their number, level and deadline in the public log
    private: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)


class EscalationEvent(Base):
    """One thing that happened to an item: opened, acknowledged, escalated, resolved."""

    __tablename__ = "esc_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("esc_item.id"), nullable=False, index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    #: "opened", "acknowledged", "escalated" or "resolved"
    event: Mapped[str] = mapped_column(String(16), nullable=False)
    level: Mapped[int] = mapped_column(Integer, nullable=False)
    by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
