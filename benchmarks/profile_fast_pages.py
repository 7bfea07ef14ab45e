"""What a kept page costs through the whole ASGI application, with and without the fast
path (:mod:`gosplan.web.fast_pages`), in process: no network, no client library, the
real thread pool; one request at a time.

``python -m benchmarks.profile_fast_pages`` (SQLite file; ``GOSPLAN_PROFILE_REPEAT``
requests of each page, default 300, in alternating rounds of both ways). Prints, per page
of the load run's browse mix that the page cache keeps, the median wall time and the
process CPU time per request (all threads: the hop to a worker thread counts), signed in
as a worker.
"""

from __future__ import annotations

import asyncio
import os
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.bench_web import PAGES as BROWSED
from benchmarks.bench_web import app_on, prepare

#: the browse mix's pages the fast path may answer for a signed-in worker (the decisions
#: are kept by the voter's ballots, the account page is never kept whole)
PAGES = [
    p
    for p in BROWSED
    if p not in ("/decisions", "/account", "/account.json", "/enterprise/textile-coop")
]


async def _call(app: Any, method: str, url: str, cookie: str, body: bytes = b"") -> Any:
    path, _, query = url.partition("?")
    headers = [(b"host", b"127.0.0.1"), (b"accept", b"text/html")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    if body:
        headers += [
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", str(len(body)).encode()),
        ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": headers,
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    out: dict[str, Any] = {"body": b"", "headers": []}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
            out["headers"] = message.get("headers", [])
        elif message["type"] == "http.response.body":
            out["body"] += message.get("body", b"")

    await app(scope, receive, send)
    return out


def _cookie(resp: dict[str, Any], cookie: str) -> str:
    for k, v in resp["headers"]:
        if k.lower() == b"set-cookie" and v.startswith(b"gosplan_session="):
            return v.decode().split(";")[0]
    return cookie


async def _measure(app: Any, repeat: int) -> dict[str, dict[str, tuple[float, float]]]:
    cache = app.state.page_cache
    page = await _call(app, "GET", "/login", "")
    cookie = _cookie(page, "")
    tok = re.search(rb'name="csrf_token" value="([^"]+)"', page["body"])
    assert tok
    body = b"username=load000&password=load-password&csrf_token=" + tok[1]
    r = await _call(app, "POST", "/login", cookie, body)
    assert r["status"] == 303, r
    cookie = _cookie(r, cookie)
    times: dict[str, dict[str, list[float]]] = {"fast": {}, "routed": {}}
    cpus: dict[str, dict[str, list[float]]] = {"fast": {}, "routed": {}}
    for url in PAGES:
        for _ in range(3):  # kept, and the heads read
            assert (await _call(app, "GET", url, cookie))["status"] == 200
    rounds = 10
    for _ in range(rounds):
        for mode in ("fast", "routed"):
            cache.fast = mode == "fast"
            for url in PAGES:
                hits, fast_hits = cache.hits, cache.fast_hits
                for _ in range(repeat // rounds):
                    c0 = time.process_time()
                    t0 = time.perf_counter()
                    r = await _call(app, "GET", url, cookie)
                    times[mode].setdefault(url, []).append(time.perf_counter() - t0)
                    cpus[mode].setdefault(url, []).append(time.process_time() - c0)
                    assert r["status"] == 200
                n = repeat // rounds
                assert cache.hits - hits >= n - 1, (url, "not kept")
                assert (cache.fast_hits - fast_hits >= n - 1) == (mode == "fast"), (url, mode)
    return {
        mode: {
            url: (
                statistics.median(times[mode][url]) * 1000,
                statistics.fmean(cpus[mode][url]) * 1000,
            )
            for url in PAGES
        }
        for mode in times
    }


def main() -> None:

    repeat = int(os.environ.get("GOSPLAN_PROFILE_REPEAT", "300"))
    folder = Path(tempfile.mkdtemp(prefix="gosplan-fast-pages-"))
    prepare(folder, 2, None)
    # the heads read once: the pages' own cost
    app = app_on(folder, None, GOSPLAN_PAGE_CACHE_SECONDS="60")

    async def run() -> Any:
        async with app.router.lifespan_context(app):
            return await _measure(app, repeat)

    res = asyncio.run(run())
    print(f"load average {os.getloadavg()}; {repeat} requests a page and way, SQLite")
    print(f"{'page':18} | {'fast: ms':>9} {'CPU ms':>7} | {'routed: ms':>10} {'CPU ms':>7}")
    for url in PAGES:
        f, r = res["fast"][url], res["routed"][url]
        print(f"{url:18} | {f[0]:9.3f} {f[1]:7.3f} | {r[0]:10.3f} {r[1]:7.3f}")
    for mode in ("fast", "routed"):
        ms = statistics.median(v[0] for v in res[mode].values())
        cpu = statistics.median(v[1] for v in res[mode].values())
        print(f"median over pages, {mode}: {ms:.3f} ms wall, {cpu:.3f} ms CPU a request")
    app.state.gosplan.engine.dispose()


if __name__ == "__main__":
    main()
