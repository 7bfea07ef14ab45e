"""One request to an ASGI application in this process, with no server and no HTTP client.

``gosplan get PATH`` uses it.  Starlette's ``TestClient`` would do the same but
needs httpx, which only the ``test`` extra installs; this drives the ASGI
protocol (lifespan startup, one ``http`` request, lifespan shutdown) with
asyncio and the standard library, following redirects within the application.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

Message = dict[str, Any]


@dataclass
class InProcessResponse:
    """What the application answered: status, headers (lower-case names) and body."""

    status_code: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @property
    def text(self) -> str:
        """The body decoded with the charset the application named (UTF-8 by default)."""
        charset = "utf-8"
        for name, value in self.headers:
            if name == "content-type" and "charset=" in value:
                charset = value.split("charset=", 1)[1].split(";")[0].strip()
        return self.body.decode(charset, errors="replace")

    def header(self, name: str) -> str | None:
        """The first header called ``name`` (case-insensitive), or ``None``."""
        name = name.lower()
        return next((v for k, v in self.headers if k == name), None)


def get(app: Any, path: str, *, accept: str = "*/*", max_redirects: int = 5) -> InProcessResponse:
    """``GET path`` from ``app`` in-process (lifespan run around it); redirects followed."""
    return asyncio.run(_get(app, path, accept=accept, max_redirects=max_redirects))


async def _get(app: Any, path: str, *, accept: str, max_redirects: int) -> InProcessResponse:
    state: dict[str, Any] = {}
    to_app: asyncio.Queue[Message] = asyncio.Queue()
    from_app: asyncio.Queue[Message] = asyncio.Queue()
    lifespan = asyncio.create_task(
        app(
            {"type": "lifespan", "asgi": {"version": "3.0"}, "state": state},
            to_app.get,
            from_app.put,
        )
    )
    await to_app.put({"type": "lifespan.startup"})
    started = await _next_or_done(from_app, lifespan)
    if started is not None and started["type"] == "lifespan.startup.failed":
        raise RuntimeError(f"the application did not start: {started.get('message', '')}")
    try:
        resp = await _request(app, path, accept, state)
        for _ in range(max_redirects):
            location = resp.header("location")
            if resp.status_code not in (301, 302, 303, 307, 308) or not location:
                break
            parts = urlsplit(location)
            resp = await _request(
                app, parts.path + (f"?{parts.query}" if parts.query else ""), accept, state
            )
        return resp
    finally:
        if started is not None:  # the application speaks the lifespan protocol
            await to_app.put({"type": "lifespan.shutdown"})
            await _next_or_done(from_app, lifespan)
        if not lifespan.done():
            lifespan.cancel()


async def _next_or_done(queue: asyncio.Queue[Message], task: asyncio.Task[Any]) -> Message | None:
    """The application's next lifespan message, or ``None`` if it returned without one."""
    getter = asyncio.ensure_future(queue.get())
    done, _ = await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
    if getter in done:
        return getter.result()
    getter.cancel()  # the application returned (or raised): it does not speak lifespan
    return None


async def _request(app: Any, target: str, accept: str, state: dict[str, Any]) -> InProcessResponse:
    parts = urlsplit(target)
    raw_path = parts.path or "/"
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": unquote(raw_path),
        "raw_path": raw_path.encode(),
        "query_string": parts.query.encode(),
        "root_path": "",
        "headers": [
            (b"host", b"localhost"),
            (b"accept", accept.encode()),
            (b"user-agent", b"gosplan-get"),
        ],
        "client": ("127.0.0.1", 0),
        "server": ("localhost", 80),
        "state": dict(state),
    }
    resp = InProcessResponse(status_code=0)
    chunks: list[bytes] = []
    sent_request = asyncio.Event()
    finished = asyncio.Event()

    async def receive() -> Message:
        if not sent_request.is_set():
            sent_request.set()
            return {"type": "http.request", "body": b"", "more_body": False}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            resp.status_code = int(message["status"])
            resp.headers = [
                (k.decode("latin-1").lower(), v.decode("latin-1"))
                for k, v in message.get("headers", [])
            ]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                finished.set()

    try:
        await app(scope, receive, send)
    except Exception:
        if resp.status_code == 0:  # nothing was sent: the application crashed
            resp.status_code = 500
            chunks = [b"Internal Server Error"]
        elif not finished.is_set():
            raise
    finally:
        finished.set()
    resp.body = b"".join(chunks)
    return resp
