"""Load run of the web application on loopback: users browsing, buying, filing.

The server is ``gosplan serve --workers N`` (uvicorn, N processes) with the
seeded demonstration on the default economy, started in a subprocess; the load
comes from bounded asyncio HTTP clients in this process (``aiohttp``, or ``httpx`` with
``GOSPLAN_BENCH_CLIENT=httpx``; the caches are warmed with the other one, and the CPU a
request of both is reported). With a
PostgreSQL server at hand (``GOSPLAN_BENCH_POSTGRES_URL`` or
``GOSPLAN_TEST_POSTGRES_URL``) the run measures one process and
``GOSPLAN_BENCH_WORKERS`` processes (default 2) on PostgreSQL, one after the
other in the same run, each on a fresh database; otherwise one process on a
SQLite file. ``GOSPLAN_BENCH_USERS`` and ``GOSPLAN_BENCH_SECONDS`` override
the size (200 users, 60 s; ``--quick``: 20 users, 10 s). Before the clock
starts, ``users`` workers are registered with labour accounts holding credited
hours (through the services' public APIs) and each signs in once. Then every
user loops for ``seconds``: a think time of 0.25–0.75 s, then one action drawn
with weights 70 % browse (a page or its ``.json`` twin: home, plan, economy,
catalogue, decisions, criticism, enterprises, fulfilment, public log, one log
entry with its proof, my account), 15 % buy a good, 15 % file a criticism. An
error is any exception or any status >= 400. The rate limits are raised
through ``Settings`` for the run (the normal limits would refuse a user filing
every few seconds).

The peer, measured in the same run, is one user doing the same mix with no
think time: the latency of the server when it is not loaded.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PAGES = [
    "/",
    "/plan",
    "/plan.json",
    "/economy",
    "/catalogue",
    "/catalogue.json",
    "/decisions",
    "/criticism",
    "/criticism.json",
    "/enterprises",
    "/fulfilment",
    "/log",
    "/log.json",
    "/account",
    "/account.json",
    "/enterprise/textile-coop",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(folder: Path, db_url: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "GOSPLAN_DATABASE_URL": db_url or f"sqlite:///{folder / 'gosplan.db'}",
            "GOSPLAN_SEED_DEMO": "true",
            "GOSPLAN_LOGIN_ATTEMPTS_PER_CLIENT": "1000000",
            "GOSPLAN_SECRET_KEY_PATH": str(folder / "session.key"),
            "GOSPLAN_LOG_KEY_PATH": str(folder / "log.key"),
            "GOSPLAN_COMMISSION_KEY_PATH": str(folder / "commission.key"),
            "GOSPLAN_RATE_LIMIT_FILING": "1000000",
            "GOSPLAN_RATE_LIMIT_VOTING": "1000000",
            "GOSPLAN_RATE_LIMIT_BUYING": "1000000",
        }
    )
    return env


def _postgres_base() -> str | None:
    return os.environ.get("GOSPLAN_BENCH_POSTGRES_URL") or os.environ.get(
        "GOSPLAN_TEST_POSTGRES_URL"
    )


def _fresh_postgres(create: bool, name: str) -> str:
    """Create (or drop) database ``name`` on the PostgreSQL server; its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from gosplan.storage.base import normalise_url

    base = make_url(normalise_url(str(_postgres_base())))
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if create:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        else:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def app_on(folder: Path, db_url: str | None = None, **env: str) -> Any:
    """The application (in this process) on the store :func:`prepare` made in ``folder``:
    settings from :func:`_env` and ``env`` (``GOSPLAN_…`` names), nothing seeded."""
    from gosplan.config import Settings
    from gosplan.web.app import create_app

    old = dict(os.environ)
    os.environ.update({**_env(folder, db_url), **env})
    try:
        return create_app(Settings().model_copy(update={"seed_demo": False}), migrate=False)
    finally:
        os.environ.clear()
        os.environ.update(old)


def prepare(folder: Path, users: int, db_url: str | None = None) -> None:
    """Seed the demo and add ``users`` workers with accounts and credited hours."""
    from sqlalchemy.orm import Session

    from gosplan.config import Settings
    from gosplan.services import lookups
    from gosplan.services import users as people
    from gosplan.web.app import create_app
    from gosplan.web.demo import PERIOD

    old = dict(os.environ)
    os.environ.update(_env(folder, db_url))
    try:
        app = create_app(Settings())
    finally:
        os.environ.clear()
        os.environ.update(old)
    state = app.state.gosplan
    ledger = state.accounts
    names = [f"load{i:03d}" for i in range(users)]
    for n in names:
        ledger.open_account(f"person:{n}", "person", n)
        ledger.join("grain-farm", f"person:{n}", by="bench")
    ledger.max_hours_per_period = Decimal(2_000)  # a load user works a long demo period
    ledger.record_hours_many(
        "grain-farm",
        PERIOD,
        # enough that no user runs out of credit in a run (the unloaded peer buys without
        # pause): a refusal for want of credit would be a correct answer, not a fault
        [(f"person:{n}", 2_000) for n in names],
        recorded_by="delegate",
        key="bench:hours",
    )
    ledger.approve("grain-farm", PERIOD, key="bench:approve", approver="bench")
    for g in ledger.goods():
        if g.funds:  # provided free from a social fund: never sold, never delivered to shops
            continue
        ledger.deliver(g.code, 10_000_000, key=f"bench:deliver:{g.code}")
    with Session(state.engine) as s:
        for n in names:
            people.register(s, n, "load-password", display_name=n)
            lookups.link_user(s, n, account=f"person:{n}")
        s.commit()
    state.engine.dispose()


class Stats:
    def __init__(self) -> None:
        self.lat: dict[str, list[float]] = {"browse": [], "buy": [], "file": []}
        self.errors: list[str] = []
        self.cpu0 = self.client_cpu = 0.0

    def add(self, kind: str, seconds: float) -> None:
        self.lat[kind].append(seconds)

    @property
    def all(self) -> list[float]:
        return [x for v in self.lat.values() for x in v]


def pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))]


class _Answer:
    """What the load run keeps of a response: status, text, path, headers."""

    __slots__ = ("headers", "path", "status_code", "text")

    def __init__(self, status: int, text: str, path: str, headers: Any) -> None:
        self.status_code, self.text, self.path, self.headers = status, text, path, headers

    def json(self) -> Any:
        import json

        return json.loads(self.text)


class _Client:
    """One user's HTTP/1.1 keep-alive client (at most 4 connections, idle ones closed after
    2 s; cookies kept; redirects not followed), by ``aiohttp`` (the default: it costs the
    load generator about a quarter of httpx's CPU a request, which the server's machine
    shares) or ``httpx`` (``GOSPLAN_BENCH_CLIENT=httpx``)."""

    def __init__(self, base: str, kind: str) -> None:
        self.base, self.kind = base, kind
        self._c: Any = None

    def _open(self) -> Any:
        if self._c is None:
            if self.kind == "httpx":
                import httpx

                self._c = httpx.AsyncClient(
                    base_url=self.base,
                    timeout=60.0,
                    limits=httpx.Limits(max_connections=4, keepalive_expiry=2.0),
                )
            else:
                import aiohttp

                self._c = aiohttp.ClientSession(
                    self.base,
                    # cookies for 127.0.0.1 (aiohttp keeps none for an IP address by default)
                    cookie_jar=aiohttp.CookieJar(unsafe=True),
                    connector=aiohttp.TCPConnector(limit=4, keepalive_timeout=2.0),
                    timeout=aiohttp.ClientTimeout(total=60.0),
                )
        return self._c

    async def request(
        self, method: str, path: str, data: dict[str, Any] | None = None, **kw: Any
    ) -> _Answer:
        c = self._open()
        if self.kind == "httpx":
            r = await c.request(method, path, data=data, **kw)
            return _Answer(r.status_code, r.text, r.request.url.path, r.headers)
        form = None if data is None else {k: str(v) for k, v in data.items()}
        async with c.request(method, path, data=form, allow_redirects=False, **kw) as r:
            return _Answer(r.status, await r.text(), path, r.headers)

    async def get(self, path: str, **kw: Any) -> _Answer:
        return await self.request("GET", path, **kw)

    async def post(self, path: str, **kw: Any) -> _Answer:
        return await self.request("POST", path, **kw)

    async def aclose(self) -> None:
        if self._c is not None:
            await (self._c.aclose() if self.kind == "httpx" else self._c.close())


def client_kind() -> str:
    """The load generator's HTTP client: ``GOSPLAN_BENCH_CLIENT`` (aiohttp or httpx)."""
    kind = os.environ.get("GOSPLAN_BENCH_CLIENT", "aiohttp")
    if kind not in ("aiohttp", "httpx"):
        raise SystemExit(f"GOSPLAN_BENCH_CLIENT={kind!r}: aiohttp or httpx")
    return kind


async def _sign_in(client: Any, name: str, password: str) -> str:
    page = await client.get("/login")
    tok = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert tok, "no CSRF token on /login"
    for _ in range(20):  # 503: the server's hashing slots are busy (a loaded machine); wait
        r = await client.post(
            "/login", data={"username": name, "password": password, "csrf_token": tok.group(1)}
        )
        if r.status_code != 503:
            break
        await asyncio.sleep(float(r.headers.get("retry-after", "2")))
    if r.status_code != 303:
        raise RuntimeError(f"sign-in of {name} failed: {r.status_code}")
    page = await client.get("/account")
    tok = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert tok, "no CSRF token on /account"
    return tok.group(1)


async def _load(
    base: str,
    names: list[str],
    seconds: float,
    *,
    think: bool,
    on_start: Callable[[], None] | None = None,
    kind: str | None = None,
) -> tuple[Stats, float]:
    """Sign every user in, then browse, buy and file for ``seconds``; ``on_start`` is called
    when the clock starts (after the sign-ins, whose password hashing is not the load).
    ``kind``: the HTTP client (:func:`client_kind` by default)."""
    kind = kind or client_kind()
    first = _Client(base, kind)
    goods = [
        g["code"] for g in (await first.get("/catalogue.json")).json()["goods"] if not g["free"]
    ]
    log_size = int((await first.get("/log.json")).json()["size"])
    await first.aclose()
    stats = Stats()
    start_at = [0.0]
    tag = f"{time.time_ns():x}"  # idempotency keys are new in every run
    # sign everyone in first (argon2 on the server), then start the clock for all at once
    sem = asyncio.Semaphore(4)
    clients: list[_Client] = []

    async def signed(n: str) -> tuple[_Client, str]:
        async with sem:
            client = _Client(base, kind)
            tok = await _sign_in(client, n, "load-password")
            clients.append(client)
            return client, tok

    pairs = await asyncio.gather(*(signed(n) for n in names))
    if on_start is not None:
        on_start()
    stats.cpu0 = time.process_time()
    start_at[0] = time.monotonic()
    until = start_at[0] + seconds

    async def loop(n: str, client: _Client, tok: str) -> None:
        rnd = random.Random(n)
        k = 0
        while time.monotonic() < until:
            if think:
                await asyncio.sleep(rnd.uniform(0.25, 0.75))
            k += 1
            roll = rnd.random()
            t0 = time.perf_counter()
            kind = "browse" if roll < 0.70 else "buy" if roll < 0.85 else "file"
            try:
                if kind == "browse":
                    r = await client.get(rnd.choice([*PAGES, f"/log/{rnd.randrange(log_size)}"]))
                elif kind == "buy":
                    r = await client.post(
                        "/account/buy",
                        data={
                            "good": rnd.choice(goods),
                            "quantity": 1,
                            "key": f"{tag}-{n}-{k}",
                            "csrf_token": tok,
                        },
                        headers={"accept": "application/json"},
                    )
                else:
                    r = await client.post(
                        "/criticism",
                        data={
                            "target_kind": "enterprise",
                            "target": "textile-coop",
                            "content": f"load test criticism {n} #{k}",
                            "csrf_token": tok,
                        },
                        headers={"accept": "application/json"},
                    )
                if r.status_code >= 400:
                    stats.errors.append(f"{kind} {r.path}: {r.status_code} {r.text[:120]}")
                else:
                    stats.add(kind, time.perf_counter() - t0)
            except Exception as exc:  # every failure counts as an error
                stats.errors.append(f"{kind}: {type(exc).__name__}: {exc}")

    await asyncio.gather(*(loop(n, c, t) for n, (c, t) in zip(names, pairs, strict=True)))
    elapsed = time.monotonic() - start_at[0]
    stats.client_cpu = time.process_time() - stats.cpu0
    for c in clients:
        await c.aclose()
    return stats, elapsed


def _serve(
    folder: Path, port: int, workers: int = 1, db_url: str | None = None
) -> subprocess.Popen[bytes]:
    """``gosplan serve --workers N`` in a process group of its own."""
    argv = [
        sys.executable,
        "-c",
        "from gosplan.cli import main; main()",
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    proc = subprocess.Popen(
        argv,
        env=_env(folder, db_url),
        cwd=str(ROOT),
        stdout=subprocess.DEVNULL,
        stderr=(folder / "server.log").open("wb"),
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited: " + (folder / "server.log").read_text()[-2000:])
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start in 120 s")


def _tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid`` and its children."""
    import psutil

    total = 0.0
    root = psutil.Process(pid)
    for p in [root, *root.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def load_run(
    users: int, seconds: float, workers: int = 1, postgres: bool = False
) -> dict[str, Any]:
    """Prepare a store, serve it, run the load and the single-user peer; the figures."""
    import signal

    folder = Path(tempfile.mkdtemp(prefix="gosplan-bench-web-"))
    dbname = f"gosplan_bench_{time.time_ns():x}"
    db_url = _fresh_postgres(True, dbname) if postgres else None
    prepare(folder, users, db_url)
    port = _free_port()
    proc = _serve(folder, port, workers, db_url)
    base = f"http://127.0.0.1:{port}"
    try:
        names = [f"load{i:03d}" for i in range(users)]
        kind = client_kind()
        other = "httpx" if kind == "aiohttp" else "aiohttp"
        # warm the caches with the other HTTP client: its CPU a request stands beside the
        # chosen client's, both measured one user with no think time against this server
        warm, _ = asyncio.run(_load(base, names[:1], min(10.0, seconds), think=False, kind=other))
        peer, _ = asyncio.run(_load(base, names[:1], min(10.0, seconds), think=False, kind=kind))
        server0 = [0.0]
        load0 = os.getloadavg()[0]

        def started() -> None:  # the server's CPU from here on: the sign-ins' argon2 is not load
            server0[0] = _tree_cpu(proc.pid)

        stats, elapsed = asyncio.run(_load(base, names, seconds, think=True, on_start=started))
        server_cpu = _tree_cpu(proc.pid) - server0[0]
        load1 = os.getloadavg()[0]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:  # keep-alive connections may hold it open
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if postgres:
            _fresh_postgres(False, dbname)
    done = len(stats.all)
    return {
        "users": users,
        "workers": workers,
        "seconds": elapsed,
        "requests": done,
        "throughput": done / elapsed,
        "p50": pct(stats.all, 0.50),
        "p95": pct(stats.all, 0.95),
        "p99": pct(stats.all, 0.99),
        "by_kind": {k: (len(v), pct(v, 0.95)) for k, v in stats.lat.items()},
        "errors": stats.errors,
        "peer_p95": pct(peer.all, 0.95),
        "peer_p50": pct(peer.all, 0.50),
        "client_cpu_share": stats.client_cpu / elapsed,
        "server_cpu_share": server_cpu / elapsed,
        "load": (load0, load1),
        "peer_requests": len(peer.all),
        "client": kind,
        "clients_ms": {
            kind: 1000 * peer.client_cpu / max(len(peer.all), 1),
            other: 1000 * warm.client_cpu / max(len(warm.all), 1),
        },
    }


def _loop_name() -> str:
    """What uvicorn's ``auto`` picks for the server: uvloop and httptools when installed."""
    import importlib.util

    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return f"{loop} + {http}"


def _rows(r: dict[str, Any], store: str, peer: dict[str, Any] | None) -> list[dict[str, Any]]:
    users = r["users"]
    kinds = ", ".join(f"{k} {n} req p95 {p * 1000:.0f} ms" for k, (n, p) in r["by_kind"].items())
    first = f"; first error: {r['errors'][0]}" if r["errors"] else ""
    procs = f"{r['workers']} process{'es' if r['workers'] > 1 else ''}"
    work = (
        f"web load: {users} users × {r['seconds']:.0f} s (browse 70 %, buy 15 %, "
        f"file 15 %), {store}, {procs}"
    )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    cores = os.cpu_count()

    def per(share: float) -> str:  # CPU ms a completed request
        return f"{1000 * share * r['seconds'] / max(r['requests'], 1):.1f}"

    rows = [
        {
            "work": work + ": p95 latency",
            "size": users,
            "figure": r["p95"] * 1000,
            "unit": "ms",
            "peer": "1 user, no think time: p95",
            "peer_figure": r["peer_p95"] * 1000,
            "ratio": r["peer_p95"] / r["p95"] if r["p95"] else None,
            "goal": "<= 1000 ms" if peer else None,
            "met": (r["p95"] <= 1.0) if peer else None,
            "note": f"p50 {r['p50'] * 1000:.0f} ms, p99 {r['p99'] * 1000:.0f} ms; {kinds}; "
            f"unloaded p50 {r['peer_p50'] * 1000:.0f} ms; CPU of the {cores} cores used by the "
            f"server processes {r['server_cpu_share']:.2f} cores, by the load generator "
            f"{r['client_cpu_share']:.2f} cores; server CPU a request {per(r['server_cpu_share'])} "
            f"ms, load generator's {per(r['client_cpu_share'])} ms; "
            f"load generator {r['client']} (CPU a request, 1 user without think time, same "
            f"server: {', '.join(f'{k} {v:.2f} ms' for k, v in r['clients_ms'].items())}); "
            f"load average at start {r['load'][0]:.1f}, "
            f"at end {r['load'][1]:.1f} (now: {load}); event loop {_loop_name()}",
        },
        {
            "work": work + ": throughput",
            "size": users,
            "figure": r["throughput"],
            "unit": "req/s",
            "note": f"{r['requests']} requests completed",
            **(
                {
                    "peer": f"{peer['workers']} process, same run",
                    "peer_figure": peer["throughput"],
                    "ratio": r["throughput"] / peer["throughput"] if peer["throughput"] else None,
                    "goal": ">= 200 req/s",
                    "met": r["throughput"] >= 200,
                }
                if peer
                else {}
            ),
        },
        {
            "work": work + ": errors",
            "size": users,
            "figure": len(r["errors"]),
            "unit": "errors",
            "goal": "0 errors",
            "met": not r["errors"],
            "note": f"{len(r['errors'])} errors" + first,
        },
    ]
    return rows


def run(quick: bool) -> list[dict[str, Any]]:
    users, seconds = (20, 10.0) if quick else (200, 60.0)
    users = int(os.environ.get("GOSPLAN_BENCH_USERS", users))
    seconds = float(os.environ.get("GOSPLAN_BENCH_SECONDS", seconds))
    if _postgres_base() is None:
        return _rows(load_run(users, seconds), "SQLite", None)
    workers = int(os.environ.get("GOSPLAN_BENCH_WORKERS", "2"))
    one = load_run(users, seconds, 1, postgres=True)
    many = load_run(users, seconds, workers, postgres=True)
    return _rows(one, "PostgreSQL", None) + _rows(many, "PostgreSQL", one)


if __name__ == "__main__":  # python -m benchmarks.bench_web [--quick]
    import json

    print(json.dumps(run("--quick" in sys.argv), indent=2, default=str))
