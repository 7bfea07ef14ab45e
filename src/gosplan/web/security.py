"""Sessions, CSRF tokens and rate limits for the web face."""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque

from fastapi import HTTPException, Request

from gosplan.keyfiles import read_or_create


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
        raise HTTPException(status_code=403, detail="CSRF token missing or wrong; reload the "
                            "page and try again.")


class RateLimiter:
    """Sliding one-minute window per (client, action), in memory."""

    def __init__(self) -> None:
        self._hits: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, client: str, action: str, limit: int) -> None:
        now = time.monotonic()
        with self._lock:
            q = self._hits.setdefault((client, action), deque())
            while q and now - q[0] > 60.0:
                q.popleft()
            if len(q) >= limit:
                raise HTTPException(
                    status_code=429,
                    detail=f"too many {action} requests: at most {limit} a minute; "
                    "wait a little.",
                    headers={"Retry-After": str(int(60 - (now - q[0])) + 1)},
                )
            q.append(now)


def client_key(request: Request) -> str:
    uid = request.session.get("uid")
    if uid is not None:
        return f"user:{uid}"
    return f"ip:{request.client.host if request.client else 'unknown'}"
