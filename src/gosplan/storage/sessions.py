"""Sign-in sessions, one-time setup tokens and rate-limit windows, kept in the store.

Everything here lives in the database rather than in a process's memory, so
that several server processes (``gosplan serve --workers N``, or several
machines behind a balancer) share it: a session ended on one is ended on all,
and a limit of N a minute is N across all of them.

Tokens are random (``secrets.token_urlsafe``) and only their SHA-256 digests
are stored: a copy of the database does not let anyone sign in.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import secrets
import time
from typing import Any

from sqlalchemy import (
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Integer,
    Select,
    String,
    Text,
    bindparam,
    delete,
    select,
    text,
    update,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Mapped, Session, mapped_column

from gosplan.clock import utcnow
from gosplan.storage.base import Base


class WebSession(Base):
    """A signed-in session: the cookie holds the token, the store holds its digest."""

    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("web_user.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


class SetupToken(Base):
    """A one-time token that lets a person set their password (first administrator)."""

    __tablename__ = "web_setup_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("web_user.id", ondelete="CASCADE"), nullable=False
    )
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


class RateWindow(Base):
    """The recent hits of one key (e.g. ``voting:user:7``): a sliding window, one row a key."""

    __tablename__ = "web_rate_window"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    hits: Mapped[str] = mapped_column(Text, nullable=False, default="[]")  # JSON: epoch seconds
    updated: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- sessions -----------------------------------------------------------------------------


def create_session(session: Session, user_id: int, lifetime_s: float) -> str:
    """Open a session for ``user_id``; returns the token for the cookie (the caller commits)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        WebSession(
            token_hash=_digest(token),
            user_id=user_id,
            created_at=now,
            expires_at=now + dt.timedelta(seconds=lifetime_s),
        )
    )
    session.flush()
    return token


def session_user(engine: Engine, token: str) -> int | None:
    """The user a live session token belongs to, else None (unknown, ended or expired)."""
    with engine.connect() as conn:
        row = conn.execute(
            select(WebSession.user_id, WebSession.expires_at).where(
                WebSession.token_hash == _digest(token)
            )
        ).first()
    if row is None or row.expires_at <= utcnow():
        return None
    return int(row.user_id)


@functools.cache
def _session_user_statement() -> tuple[list[str], Select[Any]]:
    """The user's columns and the joined look-up of :func:`session_user_row`, built once (a
    statement built for each request cost more CPU than its round trip)."""
    from gosplan.storage.users import User

    cols = [c.key for c in sa_inspect(User).column_attrs]
    stmt = (
        select(*(getattr(User, k) for k in cols), WebSession.expires_at)
        .join(WebSession, WebSession.user_id == User.id)
        .where(WebSession.token_hash == bindparam("token_hash"))
    )
    return cols, stmt


def session_user_row(engine: Engine, token: str) -> tuple[dict[str, Any], dt.datetime] | None:
    """The user of a session token, as its columns, with the session's expiry; one round
    trip (the session and its user joined); None for an unknown token."""
    cols, stmt = _session_user_statement()
    with engine.connect() as conn:
        row = conn.execute(stmt, {"token_hash": _digest(token)}).mappings().first()
    if row is None:
        return None
    return {k: row[k] for k in cols}, row["expires_at"]


def end_sessions(session: Session, user_id: int) -> int:
    """End every session of ``user_id`` (logout, password change); returns how many."""
    res = session.execute(delete(WebSession).where(WebSession.user_id == user_id))
    session.execute(delete(WebSession).where(WebSession.expires_at <= utcnow()))
    return int(res.rowcount or 0)  # type: ignore[attr-defined]


def live_sessions(session: Session, user_id: int) -> int:
    return len(
        session.scalars(
            select(WebSession.id).where(
                WebSession.user_id == user_id, WebSession.expires_at > utcnow()
            )
        ).all()
    )


# --- one-time setup tokens ----------------------------------------------------------------


def create_setup_token(session: Session, user_id: int, lifetime_s: float) -> str:
    token = secrets.token_urlsafe(24)
    now = utcnow()
    session.add(
        SetupToken(
            token_hash=_digest(token),
            user_id=user_id,
            created_at=now,
            expires_at=now + dt.timedelta(seconds=lifetime_s),
        )
    )
    session.flush()
    return token


def setup_token_user(session: Session, token: str) -> int | None:
    """The user a live setup token is for (the token is not used up)."""
    row = session.scalar(select(SetupToken).where(SetupToken.token_hash == _digest(token)))
    if row is None or row.expires_at <= utcnow():
        return None
    return row.user_id


def consume_setup_token(session: Session, token: str) -> int | None:
    """Use up a setup token: its user, or None if unknown, used or expired."""
    row = session.scalar(
        select(SetupToken).where(SetupToken.token_hash == _digest(token)).with_for_update()
    )
    if row is None:
        return None
    uid, live = row.user_id, row.expires_at > utcnow()
    session.delete(row)
    session.flush()
    return uid if live else None


# --- rate limits --------------------------------------------------------------------------


def _locked_window(session: Session, key: str) -> RateWindow:
    """The window row of ``key``, created if missing and locked until the transaction ends
    (PostgreSQL: a row lock; SQLite: the insert takes the database's write lock)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        insert_ = pg_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        insert_ = sqlite_insert  # type: ignore[assignment]
    for _ in range(100):  # a row deleted (prune) between the two statements: insert again
        session.execute(
            insert_(RateWindow)
            .values(key=key, hits="[]", updated=0.0)
            .on_conflict_do_nothing(index_elements=["key"])
        )
        row = session.scalar(
            select(RateWindow)
            .where(RateWindow.key == key)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if row is not None:
            return row
    raise RuntimeError(f"rate window {key!r} vanished 100 times in a row")


def hit(
    engine: Engine, key: str, limit: int, window_s: float, now: float | None = None
) -> tuple[bool, float, float]:
    """Count one hit of ``key`` if fewer than ``limit`` fell in the last ``window_s`` seconds.

    Returns ``(allowed, when, retry_after)``: ``when`` identifies the hit (for :func:`undo`),
    ``retry_after`` is the seconds until the oldest hit leaves the window when refused.
    Exact across processes: the key's row is locked while it is read and written.
    """
    now = time.time() if now is None else now
    if engine.dialect.name == "postgresql":
        return _hit_postgresql(engine, key, limit, window_s, now)
    with Session(engine) as s, s.begin():
        row = _locked_window(s, key)
        hits = [t for t in json.loads(row.hits) if now - t < window_s]
        if len(hits) >= limit:
            row.hits, row.updated = json.dumps(hits), now
            return False, now, max(0.0, hits[0] + window_s - now)
        hits.append(now)
        row.hits, row.updated = json.dumps(hits), now
        return True, now, 0.0


#: one hit in one statement: the window's row is created or updated (and locked while it is,
#: so concurrent hits from any process queue on it); the update happens only while fewer
#: than :limit hits fall in the window, and hits that left the window are dropped
_PG_HIT = text(
    """
    INSERT INTO web_rate_window (key, hits, updated)
    VALUES (:key, json_build_array(CAST(:now AS float8))::text, :now)
    ON CONFLICT (key) DO UPDATE SET
        hits = (
            SELECT json_agg(v ORDER BY v)::text FROM (
                SELECT CAST(e.value AS float8) AS v
                FROM json_array_elements_text(CAST(web_rate_window.hits AS json)) AS e
                WHERE CAST(:now AS float8) - CAST(e.value AS float8) < :window
                UNION ALL SELECT CAST(:now AS float8)
            ) AS kept
        ),
        updated = :now
    WHERE (
        SELECT count(*)
        FROM json_array_elements_text(CAST(web_rate_window.hits AS json)) AS e
        WHERE CAST(:now AS float8) - CAST(e.value AS float8) < :window
    ) < :limit
    RETURNING 1
    """
)


def _hit_postgresql(
    engine: Engine, key: str, limit: int, window_s: float, now: float
) -> tuple[bool, float, float]:
    """:func:`hit` on PostgreSQL: one round trip when allowed (a second, read only, to say
    how long to wait when refused)."""
    if limit <= 0:
        return False, now, window_s
    with engine.begin() as conn:
        allowed = (
            conn.execute(
                _PG_HIT, {"key": key, "now": now, "window": window_s, "limit": limit}
            ).scalar()
            is not None
        )
    if allowed:
        return True, now, 0.0
    with engine.connect() as conn:
        raw = conn.execute(select(RateWindow.hits).where(RateWindow.key == key)).scalar()
    inside = sorted(t for t in json.loads(raw or "[]") if now - t < window_s)
    return False, now, max(0.0, inside[0] + window_s - now) if inside else 0.0


def undo(engine: Engine, key: str, when: float) -> None:
    """Take back the hit made at ``when`` (e.g. a sign-in that succeeded)."""
    with Session(engine) as s, s.begin():
        row = _locked_window(s, key)
        hits = json.loads(row.hits)
        if when in hits:
            hits.remove(when)
        row.hits = json.dumps(hits)


def count(engine: Engine, key: str, window_s: float, now: float | None = None) -> int:
    """Hits of ``key`` in the last ``window_s`` seconds (read only)."""
    now = time.time() if now is None else now
    with engine.connect() as conn:
        raw = conn.execute(select(RateWindow.hits).where(RateWindow.key == key)).scalar()
    return sum(1 for t in json.loads(raw or "[]") if now - t < window_s)


def clear(engine: Engine, key: str) -> None:
    """Forget the hits of ``key`` (the row stays, so a concurrent hit never loses it)."""
    with Session(engine) as s, s.begin():
        s.execute(
            update(RateWindow).where(RateWindow.key == key).values(hits="[]", updated=time.time())
        )


def prune(engine: Engine, older_than_s: float = 3600.0) -> int:
    """Drop windows untouched for ``older_than_s`` seconds (housekeeping)."""
    with Session(engine) as s, s.begin():
        res = s.execute(delete(RateWindow).where(RateWindow.updated < time.time() - older_than_s))
        return int(res.rowcount or 0)  # type: ignore[attr-defined]
