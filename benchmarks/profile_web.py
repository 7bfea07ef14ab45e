"""A page's own cost, per route, in process (no network, no load): median server time,
SQL round trips and where the time goes (cProfile), for a signed-in user.

``python -m benchmarks.profile_web [--profile]`` on PostgreSQL when
``GOSPLAN_BENCH_POSTGRES_URL`` or ``GOSPLAN_TEST_POSTGRES_URL`` is set (a fresh
database, dropped after), else a SQLite file. Each page of the load run's
browse mix is fetched ``GOSPLAN_PROFILE_REPEAT`` times (default 30) after one
warm-up fetch; buying and filing are timed as the load run does them.
"""

from __future__ import annotations

import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.bench_web import PAGES, _fresh_postgres, _postgres_base, app_on, prepare


def _inline_threadpool() -> None:
    """Run what Starlette sends to its thread pool inline, so that one thread does all the
    work (cProfile sees it; the timing is the server's own, without thread hand-offs)."""
    import anyio.to_thread

    async def run_sync(func: Any, *args: Any, **_: Any) -> Any:
        return func(*args)

    anyio.to_thread.run_sync = run_sync  # type: ignore[assignment]


class _Client:
    """A synchronous face on ``httpx.AsyncClient`` over the ASGI app, one event loop."""

    def __init__(self, app: Any) -> None:
        import asyncio

        import httpx

        self.loop = asyncio.new_event_loop()
        self.c = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 5000)),
            base_url="http://127.0.0.1",
        )

    def get(self, url: str, **kw: Any) -> Any:
        return self.loop.run_until_complete(self.c.get(url, **kw))

    def post(self, url: str, **kw: Any) -> Any:
        return self.loop.run_until_complete(self.c.post(url, **kw))

    def __enter__(self) -> _Client:
        return self

    def __exit__(self, *_: Any) -> None:
        self.loop.run_until_complete(self.c.aclose())
        self.loop.close()


def profile(
    repeat: int = 30, with_cprofile: bool = False, page_cache: bool = True
) -> dict[str, Any]:
    from sqlalchemy import event

    folder = Path(tempfile.mkdtemp(prefix="gosplan-profile-web-"))
    postgres = _postgres_base() is not None
    dbname = f"gosplan_profile_{time.time_ns():x}"
    db_url = _fresh_postgres(True, dbname) if postgres else None
    try:
        prepare(folder, 2, db_url)
        app = app_on(folder, db_url)
        engine = app.state.gosplan.engine
        app.state.page_cache.enabled = page_cache
        statements = [0]

        @event.listens_for(engine, "before_cursor_execute")
        def _count(*_: Any) -> None:
            statements[0] += 1

        out: dict[str, Any] = {
            "store": "PostgreSQL" if postgres else "SQLite",
            "page_cache": page_cache,
            "routes": {},
        }
        _inline_threadpool()
        with _Client(app) as c:
            page = c.get("/login")
            tok = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert tok
            r = c.post(
                "/login",
                data={"username": "load000", "password": "load-password", "csrf_token": tok[1]},
            )
            assert r.status_code == 303, r.text
            tok = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/account").text)
            assert tok
            goods = [g["code"] for g in c.get("/catalogue.json").json()["goods"] if not g["free"]]
            k = [0]

            def buy() -> Any:
                k[0] += 1
                return c.post(
                    "/account/buy",
                    data={"good": goods[0], "quantity": 1, "key": f"p{k[0]}", "csrf_token": tok[1]},
                    headers={"accept": "application/json"},
                )

            def file() -> Any:
                k[0] += 1
                return c.post(
                    "/criticism",
                    data={
                        "target_kind": "enterprise",
                        "target": "textile-coop",
                        "content": f"profile criticism #{k[0]}",
                        "csrf_token": tok[1],
                    },
                    headers={"accept": "application/json"},
                )

            actions: dict[str, Any] = {p: (lambda p=p: c.get(p)) for p in [*PAGES, "/log/3"]}
            actions["POST /account/buy"] = buy
            actions["POST /criticism"] = file
            prof = None
            if with_cprofile:
                import cProfile

                prof = cProfile.Profile()
            for name, act in actions.items():
                r = act()  # warm-up
                assert r.status_code < 400, (name, r.status_code, r.text[:200])
                times, cpus, sqls = [], [], []
                for _ in range(repeat):
                    s0 = statements[0]
                    c0 = time.thread_time()
                    t0 = time.perf_counter()
                    if prof is not None:
                        prof.enable()
                    r = act()
                    if prof is not None:
                        prof.disable()
                    times.append(time.perf_counter() - t0)
                    cpus.append(time.thread_time() - c0)
                    sqls.append(statements[0] - s0)
                    assert r.status_code < 400, (name, r.status_code, r.text[:200])
                out["routes"][name] = {
                    "median_ms": statistics.median(times) * 1000,
                    "cpu_ms": statistics.median(cpus) * 1000,
                    "sql": statistics.median(sqls),
                }
        all_ms = [v["median_ms"] for v in out["routes"].values()]
        out["median_of_routes_ms"] = statistics.median(all_ms)
        out["median_of_routes_cpu_ms"] = statistics.median(
            v["cpu_ms"] for v in out["routes"].values()
        )
        out["load"] = os.getloadavg()
        if prof is not None:
            import io
            import pstats

            if os.environ.get("GOSPLAN_PROFILE_DUMP"):
                prof.dump_stats(os.environ["GOSPLAN_PROFILE_DUMP"])
            buf = io.StringIO()
            pstats.Stats(prof, stream=buf).sort_stats(
                os.environ.get("GOSPLAN_PROFILE_SORT", "cumulative")
            ).print_stats(80)
            out["profile"] = buf.getvalue()
        engine.dispose()
        return out
    finally:
        if postgres:
            _fresh_postgres(False, dbname)


if __name__ == "__main__":
    # ``--no-cache``: every page built for each request (what a page costs when what it
    # shows has changed); by default both, the page cache's figures first
    repeat = int(os.environ.get("GOSPLAN_PROFILE_REPEAT", "30"))
    modes = [False] if "--no-cache" in sys.argv else [True, False]
    if "--cache-only" in sys.argv:
        modes = [True]
    results = [profile(repeat, "--profile" in sys.argv, page_cache=m) for m in modes]
    print(f"store: {results[0]['store']}; load average {[r['load'] for r in results]}")
    head = "".join(
        f" | {'cached' if r['page_cache'] else 'built'}: {'ms':>6} {'CPU':>6} {'SQL':>4}"
        for r in results
    )
    print(f"{'route':28}{head}")
    for name in results[0]["routes"]:
        cells = "".join(
            f" |         {r['routes'][name]['median_ms']:6.2f} {r['routes'][name]['cpu_ms']:6.2f}"
            f" {r['routes'][name]['sql']:4.0f}"
            for r in results
        )
        print(f"{name:28}{cells}")
    for r in results:
        print(
            f"median over routes ({'page cache' if r['page_cache'] else 'no page cache'}): "
            f"{r['median_of_routes_ms']:.2f} ms (CPU {r['median_of_routes_cpu_ms']:.2f} ms)"
        )
        if "profile" in r:
            print(r["profile"])
