"""Sessions, CSRF tokens, rate limits, sign-in throttling and protective headers.

* **Sessions** are rows in the store (:mod:`gosplan.storage.sessions`). The cookie
  is signed (itsdangerous) and carries the session token and the CSRF token; the
  user is looked up from the token (one joined query, then trusted from a per-process
  cache for ``session_cache_seconds``, :mod:`gosplan.web.session_cache`), so a session
  ended on one process, or by logout or a password change, is ended in that process at
  once and in every other within that bound, and a cookie saved before logout is worth
  nothing after it.
* **Rate limits** and **sign-in throttles** are sliding windows in the store,
  shared by every process.
* **Password hashing** is bounded per process by a semaphore: Argon2id takes
  64 MiB a hash, so forty parallel sign-ins wait their turn instead of taking
  2.5 GiB.
* **Headers**: a Content-Security-Policy without inline scripts, frame-ancestors
  'none' and X-Frame-Options DENY, Referrer-Policy, X-Content-Type-Options.
* **Body limit**: a request body larger than ``max_body_bytes`` is refused (413,
  JSON naming ``body``) by its declared length before anything is read, else while it
  is read, never buffered whole first; the connection is then closed. (FastAPI's own
  ``max_body_size`` answers a plain-text 413 that names nothing, so it is not used.)
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from base64 import b64decode, b64encode
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import itsdangerous
from fastapi import HTTPException, Request
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gosplan.clock import utcnow
from gosplan.keyfiles import read_or_create
from gosplan.storage import sessions as store
from gosplan.web.session_cache import SessionCache

SESSION_COOKIE = "gosplan_session"
#: where the session middleware leaves the signed-in user's columns for ``get_user``
USER_SCOPE_KEY = "gosplan.user"


def load_or_create_secret(path: str) -> bytes:
    """A 32-byte secret kept in ``path`` (created 0600, atomically, on first use)."""
    return read_or_create(path, lambda: secrets.token_bytes(32))


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    tok = request.session.get("csrf")
    if not tok:
        tok = secrets.token_urlsafe(32)
        request.session["csrf"] = tok
    return str(tok)


async def check_csrf(request: Request) -> None:
    """Refuse a state-changing request whose token does not match the session's."""
    expected = request.session.get("csrf")
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get("csrf_token")
            sent = value if isinstance(value, str) else None
    if not expected or not sent or not secrets.compare_digest(str(expected), sent):
        raise HTTPException(
            status_code=403, detail="CSRF token missing or wrong; reload the page and try again."
        )


# --- rate limits and sign-in throttling ---------------------------------------------------


class RateLimiter:
    """Sliding one-minute window per (client, action), kept in the store (all processes)."""

    def __init__(self, engine: Engine, window_s: float = 60.0) -> None:
        self.engine = engine
        self.window_s = window_s

    #: every this many hits, a process drops windows untouched for an hour (housekeeping)
    PRUNE_EVERY = 1000

    def hit(self, client: str, action: str, limit: int) -> None:
        self._hits = getattr(self, "_hits", 0) + 1
        if self._hits % self.PRUNE_EVERY == 0:
            store.prune(self.engine, older_than_s=max(3600.0, self.window_s))
        ok, _, retry = store.hit(self.engine, f"{action}:{client}", limit, self.window_s)
        if not ok:
            raise HTTPException(
                status_code=429,
                detail=f"too many {action} requests: at most {limit} a minute; wait a little.",
                headers={"Retry-After": str(int(retry) + 1)},
            )


def client_host(request: HTTPConnection) -> str:
    """The client's address: the peer, or what a trusted proxy says (see ``trusted_proxies``)."""
    return request.client.host if request.client else "unknown"


def client_key(request: Request) -> str:
    uid = request.session.get("uid")
    if uid is not None:
        return f"user:{uid}"
    return f"ip:{client_host(request)}"


class LoginGuard:
    """Throttles sign-in per account and per client (in the store) and bounds how many
    password hashes this process computes at once."""

    def __init__(
        self,
        engine: Engine,
        *,
        per_account: int,
        per_client: int,
        window_s: float,
        concurrency: int,
        wait_s: float = 20.0,
    ) -> None:
        self.engine = engine
        self.per_account, self.per_client, self.window_s = per_account, per_client, window_s
        self._hashing = threading.BoundedSemaphore(concurrency)
        self.wait_s = wait_s
        self._busy = 0
        self._count_lock = threading.Lock()
        #: most password hashes this process computed at once (for tests and /metrics)
        self.peak = 0

    def attempt(self, username: str, client: str) -> tuple[float, float]:
        """Count one sign-in attempt against the account and the client, or raise 429."""
        acct = f"login-account:{username.strip().lower()[:100]}"
        peer = f"login-client:{client}"
        ok, t_acct, retry = store.hit(self.engine, acct, self.per_account, self.window_s)
        if not ok:
            raise HTTPException(
                status_code=429,
                headers={"Retry-After": str(int(retry) + 1)},
                detail=f"username: too many failed sign-ins for this account (at most "
                f"{self.per_account} in {self.window_s / 60:g} minutes); wait, or ask an "
                "administrator.",
            )
        ok, t_peer, retry = store.hit(self.engine, peer, self.per_client, self.window_s)
        if not ok:
            store.undo(self.engine, acct, t_acct)
            raise HTTPException(
                status_code=429,
                headers={"Retry-After": str(int(retry) + 1)},
                detail=f"too many failed sign-ins from your address (at most "
                f"{self.per_client} in {self.window_s / 60:g} minutes); wait a little.",
            )
        return t_acct, t_peer

    def succeeded(self, username: str, client: str, when: tuple[float, float]) -> None:
        """A sign-in succeeded: the account's failures are forgotten, the client's attempt
        is taken back (only failures count)."""
        store.clear(self.engine, f"login-account:{username.strip().lower()[:100]}")
        store.undo(self.engine, f"login-client:{client}", when[1])

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Wait, without holding a worker thread, for one of the process's hashing slots
        (503 if none frees in time): a crowd of sign-ins queues here, not in the threadpool
        that serves every other page."""
        import anyio

        deadline = time.monotonic() + self.wait_s
        while not self._hashing.acquire(blocking=False):
            if time.monotonic() > deadline:
                raise HTTPException(
                    status_code=503,
                    headers={"Retry-After": "5"},
                    detail="the server is busy signing people in; try again in a few seconds.",
                )
            await anyio.sleep(0.005)
        with self._count_lock:
            self._busy += 1
            self.peak = max(self.peak, self._busy)
        try:
            yield
        finally:
            with self._count_lock:
                self._busy -= 1
            self._hashing.release()

    @contextmanager
    def hashing(self) -> Iterator[None]:
        """Hold one of the process's password-hashing slots (503 if none frees in time)."""
        if not self._hashing.acquire(timeout=self.wait_s):
            raise HTTPException(
                status_code=503,
                headers={"Retry-After": "5"},
                detail="the server is busy signing people in; try again in a few seconds.",
            )
        with self._count_lock:
            self._busy += 1
            self.peak = max(self.peak, self._busy)
        try:
            yield
        finally:
            with self._count_lock:
                self._busy -= 1
            self._hashing.release()


# --- the session cookie -------------------------------------------------------------------


class SessionMiddleware:
    """A signed cookie for the CSRF token and the session token; the user comes from the store.

    ``request.session["uid"]`` is set from the live session row on every request and is
    never read from the cookie. ``secure``: True/False, or None for "when the request came
    over HTTPS".
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        secret: bytes,
        engine: Engine,
        max_age: int,
        secure: bool | None,
        cache: SessionCache | None = None,
    ) -> None:
        self.app = app
        self.signer = itsdangerous.TimestampSigner(secret.hex())
        self.engine = engine
        self.cache = cache or SessionCache(engine, 0.0)
        self.max_age = max_age
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        data: dict[str, Any] = {}
        had_cookie = SESSION_COOKIE in conn.cookies
        if had_cookie:
            try:
                raw = self.signer.unsign(
                    conn.cookies[SESSION_COOKIE].encode(), max_age=self.max_age
                )
                loaded = json.loads(b64decode(raw))
                if isinstance(loaded, dict):
                    data = {
                        k: v
                        for k, v in loaded.items()
                        if k in ("csrf", "sid") and isinstance(v, str)
                    }
            except (itsdangerous.BadSignature, ValueError):
                data = {}
        before = dict(data)
        sid = data.get("sid")
        if sid:
            entry = self.cache.cached(sid)  # memory first: no thread, no round trip
            if entry is None:
                entry = await run_in_threadpool(self.cache.load, sid)
            if entry is None or entry[1] <= utcnow():
                data.pop("sid", None)  # ended, expired or unknown: signed out
            else:
                data["uid"] = int(entry[0]["id"])
                scope[USER_SCOPE_KEY] = entry[0]
        scope["session"] = data
        from gosplan.web.page_cache import WRITER

        WRITER.set(data.get("csrf"))
        secure = self.secure if self.secure is not None else scope.get("scheme") == "https"

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                now = {k: v for k, v in scope["session"].items() if k in ("csrf", "sid")}
                headers = MutableHeaders(scope=message)
                flags = f"path=/; httponly; samesite=lax{'; secure' if secure else ''}"
                if now and (now != before or not had_cookie):
                    value = self.signer.sign(b64encode(json.dumps(now).encode())).decode()
                    headers.append(
                        "Set-Cookie", f"{SESSION_COOKIE}={value}; Max-Age={self.max_age}; {flags}"
                    )
                elif not now and had_cookie:
                    headers.append(
                        "Set-Cookie",
                        f"{SESSION_COOKIE}=null; "
                        f"Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; {flags}",
                    )
            await send(message)

        await self.app(scope, receive, send_wrapper)


# --- headers and the body limit -----------------------------------------------------------

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
#: the interactive API pages load Swagger UI / ReDoc from their CDN
CSP_DOCS = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net "
    "https://fonts.googleapis.com; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "font-src 'self' https://fonts.gstatic.com; worker-src 'self' blob:; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)


class SecurityHeadersMiddleware:
    """CSP, frame protection, Referrer-Policy and nosniff on every response; HSTS on HTTPS.

    A response that starts before the request's body was read to its end (a 413 over the
    body limit, a 400 for a malformed upload, a 403 without a CSRF token) closes the
    connection, so that the server does not go on reading what it has refused."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope.get("path", "") in ("/docs", "/redoc", "/docs/oauth2-redirect")
        has_body = any(
            k in (b"transfer-encoding", b"content-length") and v != b"0"
            for k, v in scope.get("headers", [])
        )
        body_done = not has_body

        async def tracking_receive() -> Message:
            nonlocal body_done
            message = await receive()
            if message["type"] == "http.request" and not message.get("more_body", False):
                body_done = True
            elif message["type"] == "http.disconnect":
                body_done = True
            return message

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                h = MutableHeaders(scope=message)
                h.setdefault("Content-Security-Policy", CSP_DOCS if docs else CSP)
                h.setdefault("X-Frame-Options", "DENY")
                h.setdefault("Referrer-Policy", "same-origin")
                h.setdefault("X-Content-Type-Options", "nosniff")
                h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
                if scope.get("scheme") == "https":
                    h.setdefault("Strict-Transport-Security", "max-age=31536000")
                if not body_done:
                    h["Connection"] = "close"
            await send(message)

        await self.app(scope, tracking_receive, send_wrapper)


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(
            status_code=413, detail=f"body: the request is larger than the {limit} bytes accepted"
        )


class BodyLimitMiddleware:
    """Refuse bodies over ``limit`` bytes: by Content-Length before reading, else while
    reading (the stream is cut at the limit, nothing larger is ever buffered)."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"ok": False, "error": BodyTooLarge(self.limit).detail}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > self.limit or declared < 0:
                    await self._refuse(send)
                    return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(send)
