"""Tables of the web face: people with roles, and decisions (proposals, comments, ballots)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gosplan.storage.base import Base

ROLES = ("worker", "delegate", "planner", "commission", "admin")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


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


class Proposal(Base):
    """A proposal on plan priorities, open for discussion and then for a vote."""

    __tablename__ = "decision_proposal"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    # the options voted on; each option's ``effect`` says what it does to the plan
    options: Mapped[list] = mapped_column(JSON, nullable=False)
    method: Mapped[str] = mapped_column(String(16), nullable=False)  # approval | schulze
    quorum: Mapped[int] = mapped_column(Integer, nullable=False)
    author_id: Mapped[int] = mapped_column(ForeignKey("web_user.id"), nullable=False)
    discussion_until: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    voting_until: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    outcome: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class Comment(Base):
    __tablename__ = "decision_comment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("decision_proposal.id"), nullable=False)
    author_id: Mapped[int] = mapped_column(ForeignKey("web_user.id"), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class Ballot(Base):
    """One person's vote on one proposal (unique: a vote cannot be cast twice)."""

    __tablename__ = "decision_ballot"
    __table_args__ = (UniqueConstraint("proposal_id", "voter_id", name="uq_ballot_voter"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("decision_proposal.id"), nullable=False)
    voter_id: Mapped[int] = mapped_column(ForeignKey("web_user.id"), nullable=False)
    # approval: list of approved option indices; schulze: full ranking of option indices
    choice: Mapped[list] = mapped_column(JSON, nullable=False)
    cast_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
