"""A short-lived, per-process cache of who a session token belongs to (issue 16).

Every signed-in request needs its session's user. Looking it up in the store on every
request cost two round trips (the session, then the user); the cache answers from memory
for ``ttl_s`` seconds (``Settings.session_cache_seconds``, 5 by default) and otherwise
looks both up in one joined query.

Revocation stays effective:

* **In this process, at once.** Any transaction of this process that changes a user or a
  session (logout, a password or role change, an administrator ending sessions, an
  enrolment) clears the whole cache when it commits: SQLAlchemy session events watch the
  unit of work and ORM ``UPDATE``/``DELETE`` statements on ``web_user`` and
  ``web_session``.
* **In every other process, within ``ttl_s`` seconds**: an entry is never trusted longer,
  and the session's own expiry is checked on every request, cached or not.

A lookup that raced an invalidation (it started before a clear and ended after) is not
stored, so a clear is never undone by a slower reader.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import weakref
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import ORMExecuteState, Session, make_transient_to_detached

from gosplan.clock import utcnow
from gosplan.storage import sessions as store
from gosplan.storage.sessions import WebSession
from gosplan.storage.users import User

#: the user's columns and the session's expiry
Entry = tuple[dict[str, Any], dt.datetime]

_CACHES: weakref.WeakSet[SessionCache] = weakref.WeakSet()
_FLAG = "gosplan_users_changed"
_WATCHED = (User, WebSession)


class SessionCache:
    """Token -> (user columns, expiry), each entry trusted for ``ttl_s`` seconds."""

    #: entries kept before stale ones are swept (a bound on memory, not on correctness)
    MAX_ENTRIES = 50_000

    def __init__(self, engine: Engine, ttl_s: float) -> None:
        self.engine = engine
        self.ttl_s = ttl_s
        self._entries: dict[str, tuple[float, Entry]] = {}
        self._lock = threading.Lock()
        self._generation = 0
        #: lookups answered from memory / from the store (for the benchmark and tests)
        self.hits = self.misses = 0
        _CACHES.add(self)

    def cached(self, token: str) -> Entry | None:
        """The entry for ``token`` if it is in memory and fresh (no I/O)."""
        if self.ttl_s <= 0:
            return None
        now = time.monotonic()
        with self._lock:
            got = self._entries.get(token)
            if got is None or now - got[0] >= self.ttl_s:
                return None
            self.hits += 1
            return got[1]

    def load(self, token: str) -> Entry | None:
        """Look ``token`` up in the store (one query) and remember a live session."""
        with self._lock:
            generation = self._generation
            self.misses += 1
        found = store.session_user_row(self.engine, token)
        if found is None or self.ttl_s <= 0:
            return found
        with self._lock:
            if generation == self._generation:  # no clear happened meanwhile
                if len(self._entries) >= self.MAX_ENTRIES:
                    self._sweep()
                self._entries[token] = (time.monotonic(), found)
        return found

    def user_of(self, token: str) -> dict[str, Any] | None:
        """The columns of the user whose live session ``token`` is, else None."""
        entry = self.cached(token) or self.load(token)
        if entry is None or entry[1] <= utcnow():
            return None
        return entry[0]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._generation += 1

    def _sweep(self) -> None:
        now = time.monotonic()
        stale = [k for k, (t, _) in self._entries.items() if now - t >= self.ttl_s]
        for k in stale:
            del self._entries[k]
        if len(self._entries) >= self.MAX_ENTRIES:
            self._entries.clear()


def detached_user(columns: dict[str, Any]) -> User:
    """A fresh ``User`` (one per request, never shared) in the detached state, as if loaded
    by a session that has closed: it can be added to a session to change it."""
    user = User(**columns)
    make_transient_to_detached(user)
    return user


def clear_all() -> None:
    """Clear every session cache of this process."""
    for cache in list(_CACHES):
        cache.clear()


# --- invalidation: any committed change to a user or a session in this process -----------


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _context: Any) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, _WATCHED):
            session.info[_FLAG] = True
            return


@event.listens_for(Session, "do_orm_execute")
def _statement(state: ORMExecuteState) -> None:
    if state.is_update or state.is_delete:
        mapper = state.bind_mapper
        if mapper is not None and mapper.class_ in _WATCHED:
            state.session.info[_FLAG] = True


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.info.pop(_FLAG, False):
        clear_all()


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_FLAG, None)
