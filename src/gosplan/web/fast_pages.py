"""Kept pages answered before FastAPI's routing, dependencies and thread pool (issue 16).

A page the page cache keeps (:mod:`gosplan.web.page_cache`) costs a fraction of a
millisecond to answer; the way to it through the framework (routing, the route's
dependencies, the hop to a worker thread and back) costs several times that. This pure
ASGI middleware runs inside the session middleware (the session and the signed-in person's
columns are known) and inside the protective headers' middleware (they are added to its
answers as to every other): for a ``GET`` without a body it asks the page cache for the
kept page (:meth:`PageCache.fast_answer`: the same key ``serve()`` would compute, from the
recipe ``serve()`` left, without I/O) and sends it. Whatever else, and anything that goes
wrong on the way, goes to the application as before: never a 500 of its own.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from gosplan.web.page_cache import PageCache
from gosplan.web.state import AppState

log = logging.getLogger(__name__)


def _has_body(scope: Scope) -> bool:
    return any(
        (k == b"content-length" and v.strip() != b"0") or k == b"transfer-encoding"
        for k, v in scope.get("headers", [])
    )


class FastPages:
    """Answer a ``GET`` from the page cache when it keeps the page; else the application."""

    def __init__(self, app: ASGIApp, *, cache: PageCache, state: AppState) -> None:
        self.app = app
        self.cache = cache
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "GET" or _has_body(scope):
            await self.app(scope, receive, send)
            return
        try:
            response = self.cache.fast_answer(Request(scope), clock=self.state.clock)
        except Exception:  # the normal way answers it; never a 500 from here
            log.exception("fast path failed for %s; answered the normal way", scope.get("path"))
            response = None
        if response is None:
            await self.app(scope, receive, send)
            return
        await response(scope, receive, send)
