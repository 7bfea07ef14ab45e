"""Labour-time accounts: sustained purchase throughput and p99 latency, beside pgbench.

Each purchase is one full ledger transaction (idempotency check, the buyer's
account and the good locked, a two-posting entry, a stock move, the cached
balance and stock updated, the request remembered).  ``CLIENTS`` clients buy
at random from ``PERSONS`` accounts and ``GOODS`` goods for ``seconds``, on a
SQLite file and on the PostgreSQL server named by ``GOSPLAN_TEST_POSTGRES_URL``
(``.ci/env``, written by ``scripts/ci-services.sh``).  SQLite is measured with
threads of one process (how the web server uses it: they queue on an
in-process writer lock) and with separate processes (they queue on the file
lock); PostgreSQL with separate processes.  The peer is pgbench's
built-in TPC-B-like script (itself a debit/credit workload), run with the same
number of clients on the same server in the same run.  The issue's goal is at
least 50 % of pgbench's transactions per second.

Run alone with ``.venv/bin/python -m benchmarks.run --only accounts``.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

CLIENTS = 8
PERSONS = 1000
GOODS = 50
ROOT = Path(__file__).resolve().parents[1]


def _postgres_base() -> str | None:
    url = os.environ.get("GOSPLAN_TEST_POSTGRES_URL")
    env = ROOT / ".ci" / "env"
    if not url and env.exists():
        m = re.search(r"GOSPLAN_TEST_POSTGRES_URL=(\S+)", env.read_text())
        url = m.group(1) if m else None
    return url


def _pgbench() -> str | None:
    found = os.environ.get("GOSPLAN_TEST_PGBENCH") or shutil.which("pgbench")
    if found:
        return found
    cands = sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"))
    return str(cands[-1]) if cands else None


def _prepare(url: str) -> None:
    from gosplan.services.accounts import Accounts, Deduction, GoodSpec

    acc = Accounts.open(url, max_hours_per_period=None)  # a year's hours at once: no cap
    for i in range(PERSONS):
        acc.open_account(f"p{i}", "person")
    acc.open_account("works", "enterprise")
    for i in range(PERSONS):
        acc.join("works", f"p{i}", by="bench")
    acc.open_period("bench", Deduction(Decimal("0.25"), {"health": Decimal(1)}))
    acc.record_hours_many(
        "works",
        "bench",
        [(f"p{i}", 5000) for i in range(PERSONS)],
        recorded_by="delegate",
        key="bench-hours",
    )
    acc.approve("works", "bench", approver="planner", key="bench-approve")
    acc.add_goods(
        [
            GoodSpec(code=f"g{j}", name=f"good {j}", labour_value=Decimal("0.013"), stock=10**9)
            for j in range(GOODS)
        ]
    )
    acc.close()


def _client(url: str, seconds: float, start: Any, out: Any, seed: int, shared: Any = None) -> None:
    import random

    from gosplan.services.accounts import Accounts
    from gosplan.storage.base import make_engine

    acc = shared if shared is not None else Accounts(make_engine(url))
    rnd = random.Random(seed)
    acc.good("g0")  # connect before the clock starts
    lat: list[float] = []
    errors = 0
    start.wait()
    t_end = time.perf_counter() + seconds
    while True:
        t0 = time.perf_counter()
        if t0 >= t_end:
            break
        try:
            acc.buy(
                f"p{rnd.randrange(PERSONS)}",
                f"g{rnd.randrange(GOODS)}",
                1,
                key=f"b-{seed}-{uuid.uuid4().hex}",
            )
        except Exception:
            errors += 1
            continue
        lat.append(time.perf_counter() - t0)
    if shared is None:
        acc.close()
    out.put((lat, errors))


def _threads(url: str, seconds: float) -> dict[str, Any]:
    """CLIENTS threads of one process sharing one Accounts (how a web server uses SQLite)."""
    import queue
    import threading

    from gosplan.services.accounts import Accounts
    from gosplan.storage.base import make_engine

    acc = Accounts(make_engine(url))
    start = threading.Event()
    out: queue.Queue[Any] = queue.Queue()
    threads = [
        threading.Thread(target=_client, args=(url, seconds, start, out, i, acc))
        for i in range(CLIENTS)
    ]
    for t in threads:
        t.start()
    time.sleep(1.0)
    try:
        return _collect(threads, start, out, seconds)
    finally:
        acc.close()


def _collect(workers: list[Any], start: Any, out: Any, seconds: float) -> dict[str, Any]:
    t0 = time.perf_counter()
    start.set()
    lat: list[float] = []
    errors = 0
    for _ in workers:
        got, err = out.get(timeout=seconds + 120)
        lat.extend(got)
        errors += err
    elapsed = time.perf_counter() - t0
    for w in workers:
        w.join(timeout=30)
    lat.sort()
    p99 = lat[int(0.99 * (len(lat) - 1))] if lat else float("nan")
    return {
        "tps": len(lat) / min(elapsed, seconds + 1e-9) if lat else 0.0,
        "p99_ms": p99 * 1e3,
        "n": len(lat),
        "errors": errors,
    }


def _processes(url: str, seconds: float) -> dict[str, Any]:
    """CLIENTS processes, each with its own connection (like a server's worker processes)."""
    ctx = mp.get_context("fork")
    start = ctx.Event()
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_client, args=(url, seconds, start, out, i)) for i in range(CLIENTS)
    ]
    for p in procs:
        p.start()
    time.sleep(3.0)  # every client has imported and connected
    return _collect(procs, start, out, seconds)


class PgBench:
    """pgbench's TPC-B-like script on a database of its own, run whenever asked."""

    def __init__(self, base: str) -> None:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        from gosplan.storage.base import normalise_url

        self.exe = _pgbench()
        if self.exe is None:
            raise RuntimeError("pgbench not installed")
        u = make_url(normalise_url(base))
        self.name = f"gosplan_pgbench_{uuid.uuid4().hex[:8]}"
        self.admin = create_engine(u, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{self.name}"'))
        self.env = {**os.environ, "PGPASSWORD": u.password or ""}
        self.args = ["-h", u.host or "127.0.0.1", "-p", str(u.port or 5432), "-U", u.username or ""]
        subprocess.run(
            [self.exe, "-i", "-q", "-s", "1", *self.args, self.name],
            env=self.env,
            check=True,
            capture_output=True,
            timeout=300,
        )

    def run(self, seconds: float) -> dict[str, float]:
        assert self.exe is not None
        res = subprocess.run(
            [
                self.exe,
                "-c",
                str(CLIENTS),
                "-j",
                str(min(CLIENTS, 4)),
                "-T",
                str(int(seconds)),
                *self.args,
                self.name,
            ],
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
            timeout=seconds + 120,
        )
        tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", res.stdout)
        lat = re.search(r"latency average = ([\d.]+) ms", res.stdout)
        return {
            "tps": float(tps.group(1)) if tps else float("nan"),
            "avg_ms": float(lat.group(1)) if lat else float("nan"),
        }

    def close(self) -> None:
        from sqlalchemy import text

        with self.admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{self.name}"'))
        self.admin.dispose()


def run(quick: bool) -> list[dict[str, Any]]:
    """Each of our runs sits between two pgbench runs; its peer is their mean (the shared
    machine's load drifts, so only neighbours in time are compared)."""
    seconds = 5.0 if quick else 20.0
    rows: list[dict[str, Any]] = []
    base = _postgres_base()
    bench: PgBench | None = None
    why = "no PostgreSQL server (GOSPLAN_TEST_POSTGRES_URL)"
    if base:
        try:
            bench = PgBench(base)
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            why = f"pgbench unavailable: {exc}"
    last = bench.run(seconds) if bench else None
    peer_name = f"pgbench TPC-B-like, {CLIENTS} clients, same server, just before and after"

    def row(store: str, how: str, measure: Any) -> None:
        nonlocal last
        r = measure()
        after = bench.run(seconds) if bench else None
        peer_tps = None
        note = f"p99 {r['p99_ms']:.1f} ms; {r['n']} purchases, {r['errors']} errors"
        if last and after:
            peer_tps = (last["tps"] + after["tps"]) / 2
            note += (
                f"; pgbench {last['tps']:.0f} and {after['tps']:.0f} tx/s, latency avg "
                f"{(last['avg_ms'] + after['avg_ms']) / 2:.1f} ms"
            )
        last = after
        ratio = r["tps"] / peer_tps if peer_tps else None
        rows.append(
            {
                "work": f"purchases ({store}, {CLIENTS} {how})",
                "size": f"{PERSONS} accounts, {GOODS} goods",
                "figure": r["tps"],
                "unit": "tx/s",
                "peer": peer_name if peer_tps else why,
                "peer_figure": peer_tps,
                "ratio": ratio,
                "goal": ">= 50% of pgbench tx/s",
                "met": None if ratio is None else ratio >= 0.5,
                "note": note,
            }
        )
        rows.append(
            {
                "work": f"purchase p99 latency ({store}, {how})",
                "figure": r["p99_ms"],
                "unit": "ms",
                "note": f"over {seconds:g} s",
            }
        )

    try:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            _prepare(url)
            row("SQLite", "threads", lambda: _threads(url, seconds))
            row("SQLite", "processes", lambda: _processes(url, seconds))
        if base:
            from sqlalchemy import create_engine, text
            from sqlalchemy.engine import make_url

            from gosplan.storage.base import normalise_url

            u = make_url(normalise_url(base))
            name = f"gosplan_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(u, isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                pg_url = u.set(database=name).render_as_string(hide_password=False)
                _prepare(pg_url)
                row("PostgreSQL", "processes", lambda: _processes(pg_url, seconds))
            finally:
                with admin.connect() as c:
                    c.execute(
                        text(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = :n"
                        ),
                        {"n": name},
                    )
                    c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
                admin.dispose()
    finally:
        if bench:
            bench.close()
    return rows
