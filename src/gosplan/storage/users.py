"""Tables of the people who sign in: users with roles (and, through them, enrolment)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gosplan.clock import utcnow
from gosplan.storage.base import Base

#: ``registrar`` enrols voters; every other role is appointed, ``worker`` may also register
ROLES = ("worker", "delegate", "planner", "commission", "registrar", "admin")


class User(Base):
    """A person who can sign in.  ``account`` links to the labour-time account, if any."""

    __tablename__ = "web_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    display_name: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    account: Mapped[str | None] = mapped_column(String(64), nullable=True)
    enterprise: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    #: when and by which registrar the person was enrolled as a voter (``None``: not enrolled;
    #: a person holding a labour account votes without enrolment)
    enrolled_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    enrolled_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
