"""Whole-response caches for the public pages and their ``.json`` twins (issue 16).

A cached page is stored as the bytes it was answered with, keyed by

* the request: path, query string, language, and the **viewer's kind**: nobody, or a
  signed-in person's role, enterprise and whether they hold an account (what the pages
  show differently); a page that shows something of one person alone (``per_user``) is
  keyed by the person;
* what it shows: the **heads** of the tables its builder reads (:mod:`gosplan.storage.
  page_heads`: the newest id of each, the public log's size, the number of adoptions), and,
  for pages that age with the clock, the clock's minute.

The heads of every cached page are read in ONE query, at most once every
``Settings.page_cache_seconds`` (1 s by default) in each process. A change shows

* **at once to the session that made it**: its next pages that read a table it wrote read
  the heads for themselves once after its write (kept for it, with the pages built
  under them);
* **at once in the whole process** when the write came from outside a request;
* **within ``page_cache_seconds`` to everyone else**, in this process and every other
  (tests/web/test_web_page_cache.py, two server processes on one PostgreSQL).

One person's words never reach another: an HTML page is rendered with placeholders where
the signed-in person's name and the session's CSRF token go, filled in for each request
from that request's own session (``.json`` twins carry neither).

**The fast path** (:mod:`gosplan.web.fast_pages`): when :meth:`PageCache.serve` keeps a page,
it also keeps a *recipe* under ``(path, query string, language, viewer's kind)``: the
tables, ``per_user`` and ``clock`` it was called with. A later ``GET`` with the same four
is answered from the recipe and the kept page before FastAPI's routing, dependencies and
thread pool (no I/O: where the heads would have to be read, or the page is not kept, the
request goes the normal way). The rule for every route that calls ``serve()``: **its
arguments (tables, per_user, clock, and the page it builds) may depend only on the path,
the query, the language and the viewer's kind** (nobody, or role, enterprise and whether
the person holds an account), and nothing may be refused or done before ``serve()`` on
anything else. A page that shows more of the asker passes ``vary=`` (never ``None`` for a
signed-in person: no recipe is kept for a call with ``vary``), or ``fast=False``.
"""

from __future__ import annotations

import html
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import Engine, event

from gosplan.storage import page_heads
from gosplan.storage.page_heads import HeadsQuery
from gosplan.web import i18n

#: what goes where the session's token and the person's name go, filled in per request
CSRF_MARK = "csrf-7f3d0c5e9b1a4c2e8d6f"
NAME_MARK = "name-5b2e9c1f7a3d4e6b8c0a"
USERNAME_MARK = "user-0c8e2a6f4b1d9e3c7a5b"
ACCOUNT_MARK = "acct-9a4c2e7b1f5d3a8c6e0b"
#: where a fresh one-time key goes (a form's idempotency key): a new one in every answer
FRESH_MARK = "fresh-3e1b7d9a5c2f4e8b0d6a"
_MARKS = (CSRF_MARK, NAME_MARK, USERNAME_MARK, ACCOUNT_MARK, FRESH_MARK)
_CSRF, _NAME, _USERNAME, _ACCOUNT, _FRESH = (m.encode() for m in _MARKS)

#: the session of the request being answered (its CSRF token), for the commit hook: a write
#: of a session makes that session's next pages read the heads for themselves
WRITER: ContextVar[str | None] = ContextVar("gosplan_page_cache_writer", default=None)


def _writer_of(request: Request) -> str | None:
    session = request.scope.get("session")
    tok = session.get("csrf") if isinstance(session, dict) else None
    return tok if isinstance(tok, str) else None


#: state on ``request.state`` while a cached page is built
BUILDING = "gosplan_page_cache_building"

_TABLE = re.compile(r'\b(?:FROM|JOIN)\s+"?([a-z_][a-z0-9_]*)', re.IGNORECASE)
_WRITTEN = re.compile(r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?([a-z_][a-z0-9_]*)', re.I)
#: every table a statement writes, wherever in it (each INSERT of a WITH)
_WRITTEN_ANYWHERE = re.compile(
    r'\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?([a-z_][a-z0-9_]*)', re.I
)
#: the table whose writes move a head that is not a table's own
_BASE = {
    page_heads.ADOPTED: "decision_proposal",
    page_heads.OPEN_PERIODS: "acct_period",
    page_heads.ELECTORATE: "web_user",
    page_heads.REVERSALS: "acct_transaction",
}
#: what a purchase writes (``acct_buy()`` on PostgreSQL)
_PURCHASE = frozenset(
    ("acct_good", "acct_stock_move", "acct_transaction", "acct_posting", "acct_account")
)
_WRITES = ("INSERT", "UPDATE", "DELETE", "insert", "update", "delete")


@dataclass(frozen=True)
class Viewer:
    """Who a cached page is rendered for: the kind of person, never the person (the name is
    a placeholder)."""

    role: str
    enterprise: str | None
    account: str | None
    display_name: str = NAME_MARK
    username: str = USERNAME_MARK


@dataclass(frozen=True)
class _Recipe:
    """What ``serve()`` was called with for a page it kept (the fast path's key to it)."""

    tables: tuple[str, ...]
    per_user: bool
    clock: Any
    media_type: str | None


@dataclass(frozen=True)
class _Person:
    """The words of a signed-in person a cached page's marks are filled with."""

    display_name: str | None
    username: str | None
    account: str | None


def viewer_kind(user: Any) -> tuple[str, str | None, bool] | None:
    """The kind of person a page is kept for: None for nobody, else role, enterprise and
    whether they hold an account (``user``: a ``User`` or its columns)."""
    if user is None:
        return None
    if isinstance(user, dict):
        return (user["role"], user.get("enterprise"), user.get("account") is not None)
    return (user.role, user.enterprise, user.account is not None)


@dataclass
class _Page:
    status: int
    body: bytes
    headers: list[tuple[str, str]]
    media_type: str | None
    marks: bool


class PageCache:
    """Pages by request and by the heads of what they show; see the module's docstring."""

    #: pages kept (least recently used go first)
    MAX_PAGES = 1024

    def __init__(self, engine: Engine, ttl_s: float, tables: Iterable[str] = ()) -> None:
        self.engine = engine
        self.ttl_s = ttl_s
        self.tables: set[str] = set(tables)
        self._query: HeadsQuery | None = None
        self._heads: dict[str, int] = {}
        self._read_at = -1e18
        self._stale = True
        self._generation = 0
        self._lock = threading.Lock()
        self._pages: OrderedDict[tuple[Any, ...], _Page] = OrderedDict()
        self._memo: dict[tuple[Any, ...], Any] = {}
        #: (path, query, language, viewer's kind) -> how serve() keyed its page (fast path)
        self._recipes: OrderedDict[tuple[Any, ...], _Recipe] = OrderedDict()
        #: sessions that wrote, and when (their next pages read the heads for themselves)
        self._wrote: dict[str, tuple[float, frozenset[str], dict[str, int] | None]] = {}
        #: answered from memory / built (for the benchmark and tests)
        self.hits = self.misses = self.head_reads = 0
        #: of the hits, those answered before the routing (:mod:`gosplan.web.fast_pages`)
        self.fast_hits = 0
        #: False: every page is built for each request (the benchmark's peer)
        self.enabled = True
        #: False: kept pages are answered through the routing, never the fast path (its peer)
        self.fast = True
        #: when a dict: the tables each build read, by route (tests check the declared ones)
        self.record: dict[str, set[str]] | None = None
        self._building = threading.local()
        event.listen(engine, "before_cursor_execute", self._saw_statement)
        event.listen(engine, "commit", self._committed)
        event.listen(engine, "after_cursor_execute", self._ran_statement)

    # --- heads ------------------------------------------------------------------------
    def watch(self, tables: Iterable[str]) -> None:
        new = set(tables) - self.tables
        if new:
            with self._lock:
                self.tables |= new
                self._query = None
                self._stale = True

    def _saw_statement(self, conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().startswith(_WRITES):
            m = _WRITTEN.match(statement)
            written = conn.info.setdefault("gosplan_wrote", set())
            written.add(m[1].lower() if m else "*")
        elif statement.lstrip()[:4].upper() == "WITH":  # data-modifying CTEs (PostgreSQL)
            tables = _WRITTEN_ANYWHERE.findall(statement)
            if tables:
                conn.info.setdefault("gosplan_wrote", set()).update(t.lower() for t in tables)
        route = getattr(self._building, "route", None)
        if self.record is not None and route is not None:
            self.record.setdefault(route, set()).update(
                t.lower() for t in _TABLE.findall(statement)
            )

    def _ran_statement(self, conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        # a purchase on PostgreSQL is one ``SELECT acct_buy(…)`` in autocommit: it wrote
        # when it returns, with no commit of ours to see
        if "acct_buy(" in statement:
            self._wrote_tables(_PURCHASE)

    def _committed(self, conn: Any) -> None:
        written = conn.info.pop("gosplan_wrote", None)
        if written:
            self._wrote_tables(written)

    def _wrote_tables(self, written: Iterable[str]) -> None:
        writer = WRITER.get()
        if writer is None:  # not a request of a session: everyone reads the heads again
            self.touch()
            return
        # the session that wrote sees its write at once; the others within the bound
        now = time.monotonic()
        before = self._wrote.get(writer, (0.0, frozenset(), None))[1]
        self._wrote[writer] = (now, before | frozenset(written), None)
        if len(self._wrote) > 10_000:
            cut = now - self.ttl_s
            self._wrote = {k: v for k, v in list(self._wrote.items()) if v[0] > cut}

    def touch(self) -> None:
        """Something was written by this process: read the heads again before the next
        page is answered."""
        self._stale = True
        self._generation += 1

    def heads_for(
        self, request: Request | None, tables: Iterable[str] = ()
    ) -> tuple[dict[str, int], bool]:
        """The heads a page for ``request`` showing ``tables`` is keyed by, and whether they
        were read for this request's session: it wrote to one of ``tables`` since the shared
        heads were read, within the bound (it sees its own write at once: the heads are read
        once after its write and kept for it; the pages built under them are kept too)."""
        writer = _writer_of(request) if request is not None else None
        wrote = self._wrote.get(writer) if writer is not None else None
        if wrote is not None:
            at, written, own = wrote
            if at < self._read_at or time.monotonic() - at > self.ttl_s:
                self._wrote.pop(writer, None)  # type: ignore[arg-type]
            elif "*" in written or not written.isdisjoint(_BASE.get(t, t) for t in tables):
                if own is None or not all(t in own for t in tables):  # once after its write
                    if self._query is None or not set(tables) <= set(self._query.names):
                        self._query, self._stale = None, True
                        self.heads()  # builds the query over every watched table
                    assert self._query is not None
                    self.head_reads += 1
                    own = self._query.read(self.engine)
                    if self._wrote.get(writer) is wrote:  # type: ignore[arg-type]
                        self._wrote[writer] = (at, written, own)  # type: ignore[index]
                return own, True
        return self.heads(), False

    def heads_in_memory(self, request: Request, tables: tuple[str, ...]) -> dict[str, int] | None:
        """What :meth:`heads_for` answers, where it can be answered without reading the
        store (None where it would read: the shared heads are older than the bound or
        stale, or this session wrote and has not read its own heads since)."""
        writer = _writer_of(request)
        wrote = self._wrote.get(writer) if writer is not None else None
        if wrote is not None:
            at, written, own = wrote
            if at < self._read_at or time.monotonic() - at > self.ttl_s:
                pass  # heads_for forgets it and answers the shared heads
            elif "*" in written or not written.isdisjoint(_BASE.get(t, t) for t in tables):
                if own is None or not all(t in own for t in tables):
                    return None
                return own
        if self._stale or time.monotonic() - self._read_at >= self.ttl_s:
            return None
        heads = self._heads
        return heads if all(t in heads for t in tables) else None

    def heads(self) -> dict[str, int]:
        now = time.monotonic()
        if not self._stale and now - self._read_at < self.ttl_s:
            return self._heads
        with self._lock:
            if self._stale or time.monotonic() - self._read_at >= self.ttl_s:
                generation = self._generation
                if self._query is None:
                    self._query = HeadsQuery(sorted(self.tables))
                started = time.monotonic()
                heads = self._query.read(self.engine)
                self.head_reads += 1
                self._heads = heads
                self._read_at = started
                if generation == self._generation:  # no write committed while reading
                    self._stale = False
            return self._heads

    def memo(
        self,
        name: str,
        tables: Iterable[str],
        extra: Any,
        compute: Callable[[], Any],
        request: Request | None = None,
    ) -> Any:
        """``compute()``, kept while ``tables``' heads are unchanged (a part that several
        pages show, such as the catalogue)."""
        tables = tuple(tables)
        self.watch(tables)
        heads = self.heads_for(request, tables)[0]
        key = ("memo", name, extra, tuple(heads[t] for t in tables))
        hit = self._memo.get(key)
        if hit is None:
            hit = compute()  # outside the lock: two threads may both compute, one is kept
            with self._lock:  # other threads add to the memo meanwhile (a 500 under load)
                self._memo[key] = hit
                for k in [k for k in self._memo if k[1] == name and k != key][:-64]:
                    self._memo.pop(k, None)
        return hit

    # --- pages ------------------------------------------------------------------------
    def serve(
        self,
        request: Request,
        tables: Iterable[str],
        build: Callable[[Any], Response],
        *,
        user: Any = None,
        per_user: bool = False,
        clock: Any = None,
        vary: Any = None,
        fast: bool = True,
    ) -> Response:
        """The page ``build(viewer)`` answers for this request, from memory when what it
        shows (``tables``' heads, ``clock``'s minute) is unchanged since it was built.
        ``vary``: what else of the asker's the page shows (hashable), part of the key.
        ``fast``: False where the fast path may not answer this page (see the module's
        docstring for the rule)."""
        if not self.enabled:
            return build(user)
        tables = tuple(tables)
        if tables and not set(tables) <= self.tables:
            self.watch(tables)
        heads = self.heads_for(request, tables)[0] if tables else {}
        if user is None:
            viewer: Any = None
        elif per_user:
            viewer = user
        else:
            viewer = Viewer(user.role, user.enterprise, ACCOUNT_MARK if user.account else None)
        url = request.url
        locale = i18n.locale_of(request)
        kind = viewer_kind(user)
        who = ("user", user.id) if per_user and user is not None else kind
        key = self._key(url.path, url.query, locale, who, tables, heads, clock, vary)
        page = self._pages.get(key)
        if page is None:
            self.misses += 1
            setattr(request.state, BUILDING, True)
            route = request.scope.get("route")
            self._building.route = getattr(route, "path", request.url.path)
            try:
                resp = build(viewer)
            finally:
                setattr(request.state, BUILDING, False)
                self._building.route = None
            if resp.status_code != 200 or resp.headers.get("set-cookie"):
                return resp
            body = bytes(resp.body)
            page = _Page(
                resp.status_code,
                body,
                [(k, v) for k, v in resp.headers.items() if k.lower() != "content-length"],
                resp.media_type,
                any(m.encode() in body for m in _MARKS),
            )
            recipe = _Recipe(tables, per_user, clock, page.media_type)
            with self._lock:
                self._pages[key] = page
                if len(self._pages) > self.MAX_PAGES:
                    self._pages.popitem(last=False)
                if fast and vary is None and request.method == "GET":
                    fast_key = (url.path, url.query, locale, kind)
                    self._recipes[fast_key] = recipe
                    self._recipes.move_to_end(fast_key)
                    if len(self._recipes) > self.MAX_PAGES:
                        self._recipes.popitem(last=False)
        else:
            self.hits += 1
            with self._lock:
                if key in self._pages:
                    self._pages.move_to_end(key)
        return _answer(page, request, None if per_user else user)

    @staticmethod
    def _key(
        path: str,
        query: str,
        locale: str,
        who: Any,
        tables: tuple[str, ...],
        heads: dict[str, int],
        clock: Any,
        vary: Any,
    ) -> tuple[Any, ...]:
        """The key of a kept page (one rule for ``serve()`` and the fast path)."""
        minute = None if clock is None else clock().replace(second=0, microsecond=0)
        return (path, query, locale, who, tuple(heads[t] for t in tables), minute, vary)

    def fast_answer(self, request: Request, clock: Any = None) -> Response | None:
        """The kept page for this ``GET`` as :meth:`serve` would answer it, without routing,
        dependencies, a worker thread or I/O; None where the request must go the normal way
        (no recipe, heads to read, the page not kept, ``clock`` not the recipe's: a clock
        given to ``serve()`` must be the application's own, ``clock``).

        ``request``: after the session middleware (its ``session``, and the signed-in
        person's columns under ``security.USER_SCOPE_KEY``)."""
        from gosplan.web.security import USER_SCOPE_KEY

        if not self.enabled or not self.fast or not self._recipes:
            return None
        scope = request.scope
        session = scope.get("session")
        if not isinstance(session, dict):
            return None
        uid = session.get("uid")
        columns: dict[str, Any] | None = None
        if uid is not None:
            columns = scope.get(USER_SCOPE_KEY)
            if not isinstance(columns, dict) or columns.get("id") != uid:
                return None  # get_user() would load the person: the normal way
        kind = viewer_kind(columns)
        url = request.url
        locale = i18n.locale_of(request)
        recipe = self._recipes.get((url.path, url.query, locale, kind))
        if recipe is None or (recipe.clock is not None and recipe.clock is not clock):
            return None
        heads = self.heads_in_memory(request, recipe.tables) if recipe.tables else {}
        if heads is None:
            return None
        who = ("user", uid) if recipe.per_user and columns is not None else kind
        key = self._key(url.path, url.query, locale, who, recipe.tables, heads, recipe.clock, None)
        page = self._pages.get(key)
        if page is None:
            return None
        person = None
        if columns is not None and not recipe.per_user:
            person = _Person(
                columns.get("display_name"), columns.get("username"), columns.get("account")
            )
        out = _answer(page, request, person)
        self.hits += 1
        self.fast_hits += 1
        with self._lock:
            if key in self._pages:
                self._pages.move_to_end(key)
        return out


def _answer(page: _Page, request: Request, user: Any) -> Response:
    """A kept page as the answer to ``request`` (its marks filled for its session and
    ``user``)."""
    body = page.body
    if page.marks:
        body = _fill(body, request, user, page.media_type)
    out = Response(body, status_code=page.status, media_type=page.media_type)
    for k, v in page.headers:
        if k.lower() not in ("content-type",):
            out.headers[k] = v
    return out


def _fill(body: bytes, request: Request, user: Any, media_type: str | None) -> bytes:
    """The marks of a cached page filled in for this request's own session and person."""
    import json
    import uuid

    from gosplan.web.security import csrf_token

    as_json = bool(media_type and "json" in media_type)

    def esc(x: str) -> bytes:
        return (json.dumps(x)[1:-1] if as_json else html.escape(x)).encode()

    # the marks are ASCII: replaced in the UTF-8 bytes as in the text, without decoding it
    if _CSRF in body:
        body = body.replace(_CSRF, esc(csrf_token(request)))
    if _FRESH in body:
        body = body.replace(_FRESH, uuid.uuid4().hex.encode())
    if user is not None:
        body = body.replace(_NAME, esc(user.display_name or ""))
        body = body.replace(_USERNAME, esc(user.username or ""))
        body = body.replace(_ACCOUNT, esc(user.account or ""))
    return body


def fresh_key(request: Request) -> str:
    """A one-time key for a form (a new one in every answer, cached or not)."""
    import uuid

    return FRESH_MARK if building(request) else uuid.uuid4().hex


def building(request: Request) -> bool:
    """Whether ``request`` is being answered into the page cache (render with marks)."""
    return bool(getattr(request.state, BUILDING, False))


def cache_of(request: Request) -> PageCache:
    cache: PageCache = request.app.state.page_cache
    return cache
