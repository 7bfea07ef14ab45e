"""What each server process caches stays right across processes (issue 16).

Two real uvicorn processes on one PostgreSQL store, each with its own caches: the session
cache (a revoked session stops working in both within ``session_cache_seconds``), the plan
board (an adoption recorded elsewhere shows in both on the next page) and the fulfilment
register (a report stored elsewhere shows in both). Also: the fast number formatting
writes exactly what Babel writes."""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from gosplan.config import Settings
from tests.web.conftest import adopt_grain_target, shown_within
from tests.web.test_web_scaleout import _csrf, _env, _login, uvicorn_processes

TTL = 1.0  # the session cache's bound in these tests (seconds)


@pytest.fixture
def servers(web_settings: Settings, tmp_path: Path) -> Iterator[list[str]]:
    """Two uvicorn processes on one PostgreSQL store, trusting a session for ``TTL`` s."""
    env = _env(web_settings, session_cache_seconds=TTL, page_cache_seconds=TTL)
    with uvicorn_processes(env, 2, tmp_path) as urls:
        yield urls


def _refused_within(client: httpx.Client, bound: float) -> float:
    """Seconds until ``client``'s session is refused (401 on /me.json); fails past ``bound``."""
    t0 = time.monotonic()
    while True:
        code = client.get("/me.json").status_code
        waited = time.monotonic() - t0
        if code == 401:
            return waited
        assert code == 200, code
        assert waited <= bound, f"the session still worked {waited:.2f} s after it was ended"
        time.sleep(0.05)


@pytest.mark.parametrize("web_store", ["postgres"], indirect=True)
def test_a_session_ended_on_one_process_stops_on_the_other_within_the_bound(
    servers: list[str],
) -> None:
    a_url, b_url = servers
    with httpx.Client(base_url=a_url, timeout=30) as a:
        assert _login(a, "ana") == 303
        with httpx.Client(base_url=b_url, cookies=dict(a.cookies), timeout=30) as b:
            for _ in range(3):  # b has the session in its cache now
                assert b.get("/me.json").json()["username"] == "ana"
            assert a.get("/me.json").json()["username"] == "ana"
            r = a.post("/logout", data={"csrf_token": _csrf(a)})
            assert r.status_code == 303
            assert a.get("/me.json").status_code == 401  # the process that ended it: at once
            _refused_within(b, TTL + 1.0)  # the other: within the cache's bound
            time.sleep(TTL)
            assert b.get("/me.json").status_code == 401  # and for good


@pytest.mark.parametrize("web_store", ["postgres"], indirect=True)
def test_ending_sessions_from_outside_reaches_both_processes(
    servers: list[str], web_settings: Settings
) -> None:
    """An administrator's `gosplan users end-sessions` (another process again)."""
    from sqlalchemy.orm import Session

    from gosplan.services import users
    from gosplan.storage import sessions as store
    from gosplan.storage.base import make_engine

    clients = [httpx.Client(base_url=u, timeout=30) for u in servers]
    try:
        for c in clients:
            assert _login(c, "bruno") == 303
            assert c.get("/me.json").json()["username"] == "bruno"
        engine = make_engine(web_settings.database_url)
        with Session(engine) as s:
            user = users.by_username(s, "bruno")
            assert user is not None
            assert store.end_sessions(s, user.id) == 2
            s.commit()
        engine.dispose()
        for c in clients:
            _refused_within(c, TTL + 1.0)
    finally:
        for c in clients:
            c.close()


@pytest.mark.parametrize("web_store", ["postgres"], indirect=True)
def test_an_adoption_recorded_elsewhere_shows_in_both_processes(
    servers: list[str], web_settings: Settings
) -> None:
    from gosplan.storage.base import make_engine

    before = [httpx.get(f"{u}/plan.json", timeout=60).json() for u in servers]
    assert before[0]["decisions"] == before[1]["decisions"] == []
    engine = make_engine(web_settings.database_url)
    pid = adopt_grain_target(engine, "Grain +20 %")
    engine.dispose()
    for u in servers:  # written by another process: within the page cache's bound

        def adopted(u: str = u) -> bool:
            after = httpx.get(f"{u}/plan.json", timeout=60).json()
            return [d["proposal"] for d in after["decisions"]] == [pid] and (
                after["charts"] != before[0]["charts"]
            )

        shown_within(TTL + 1.0, adopted)


@pytest.mark.parametrize("web_store", ["postgres"], indirect=True)
def test_a_report_stored_elsewhere_shows_on_the_enterprise_page_of_both(
    servers: list[str], web_settings: Settings
) -> None:
    import pandas as pd
    from sqlalchemy.orm import Session

    from gosplan.services.fulfilment import store as ful
    from gosplan.storage.base import make_engine

    first = [httpx.get(f"{u}/enterprises.json", timeout=60) for u in servers]
    assert first[0].status_code == 200
    code = "textile-coop"
    pages = [httpx.get(f"{u}/enterprise/{code}.json", timeout=60).json() for u in servers]
    periods = pages[0]["fulfilment"]["periods"]
    assert periods and pages[0]["fulfilment"] == pages[1]["fulfilment"]
    target = next((p for p in periods if p["output"] is None), periods[-1])
    output = 12_345.0 if target["output"] != 12_345.0 else 23_456.0
    engine = make_engine(web_settings.database_url)
    frame = pd.DataFrame(
        [
            {"enterprise": code, "period": target["period"], "kind": "output", "quantity": output},
            {"enterprise": code, "period": target["period"], "kind": "hours", "quantity": 500.0},
        ]
    )
    with Session(engine) as s:
        ful.ingest(s, frame, now=dt.datetime.now(dt.UTC).replace(tzinfo=None))
        s.commit()
    engine.dispose()
    for u in servers:  # written by another process: within the page cache's bound

        def stored(u: str = u) -> bool:
            page = httpx.get(f"{u}/enterprise/{code}.json", timeout=60).json()
            got = {p["period"]: p["output"] for p in page["fulfilment"]["periods"]}
            return bool(got[target["period"]] == output)

        shown_within(TTL + 1.0, stored)


def test_fast_numbers_are_babels_numbers() -> None:
    from babel import Locale
    from babel.numbers import format_decimal

    from gosplan.web.i18n import format_number

    rnd = random.Random(16)
    values: list[float | int | Decimal] = [0, -0.0, 0.5, 1.5, 2.675, -1e-9, 1e15, 10**12]
    for _ in range(400):
        values.append(rnd.uniform(-1e7, 1e7))
        values.append(round(rnd.uniform(-100, 100), rnd.randrange(5)))
        values.append(Decimal(str(round(rnd.uniform(-1e4, 1e4), rnd.randrange(6)))))
        values.append(rnd.randrange(-(10**9), 10**9))
    for x in values:
        for loc in ("en", "pt_BR"):
            assert format_number(loc, x) == format_decimal(x, locale=Locale.parse(loc)), x
            for digits in range(4):
                fmt = "#,##0" + ("." + "0" * digits if digits else "")
                want = format_decimal(x, format=fmt, locale=Locale.parse(loc))
                assert format_number(loc, x, digits) == want, (x, loc, digits)
    assert format_number("en", float("nan")) == format_decimal(float("nan"), locale="en")


@pytest.mark.parametrize("web_store", ["sqlite"], indirect=True)
def test_the_cache_answers_and_a_local_revocation_is_immediate_whatever_the_ttl(
    web_settings: Settings,
) -> None:
    """In one process the cache serves repeated requests from memory, and a logout, a
    password change or a role change made by this process ends the session at once even
    with a long TTL."""
    from starlette.testclient import TestClient

    from gosplan.web.app import create_app
    from tests.web.conftest import csrf, login

    app = create_app(web_settings.model_copy(update={"session_cache_seconds": 300.0}))
    cache = app.state.session_cache
    try:
        with TestClient(app) as a, TestClient(app) as b:
            login(a, "ana")
            b.cookies.update(dict(a.cookies))
            hits = cache.hits
            for _ in range(5):
                assert b.get("/me.json").json()["username"] == "ana"
            assert cache.hits >= hits + 4  # one lookup in the store at most
            r = a.post(
                "/me/password",
                data={
                    "current_password": "demo-password",
                    "new_password": "another-password",
                    "csrf_token": csrf(a),
                },
                headers={"accept": "application/json"},
            )
            assert r.status_code == 200, r.text
            assert b.get("/me.json").status_code == 401  # at once, not in 300 s
            tok = login(b, "ana", "another-password")
            assert b.get("/me.json").json()["username"] == "ana"
            b.post("/logout", data={"csrf_token": tok})
            assert b.get("/me.json").status_code == 401
    finally:
        app.state.gosplan.engine.dispose()


@pytest.mark.parametrize("web_store", ["sqlite", "postgres"], indirect=True)
def test_a_rate_window_is_exact_under_concurrent_hits_and_slides(web_store: str) -> None:
    """One statement a hit on PostgreSQL (the row locked only while it runs), three on
    SQLite: either way, 40 concurrent hits on a limit of 7 let exactly 7 through, a hit
    is taken back by ``undo`` and hits leave the window when it has passed."""
    import threading

    from gosplan.storage import sessions as store
    from gosplan.storage.base import make_engine

    engine = make_engine(web_store)
    try:
        results: list[bool] = []
        lock = threading.Lock()

        def go() -> None:
            for _ in range(5):
                ok = store.hit(engine, "filing:user:1", 7, 60.0)[0]
                with lock:
                    results.append(ok)

        threads = [threading.Thread(target=go) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sum(results) == 7 and len(results) == 40
        ok, _, retry = store.hit(engine, "filing:user:1", 7, 60.0)
        assert not ok and 0 < retry <= 60.0
        ok, when, _ = store.hit(engine, "login:u", 3, 60.0)
        assert ok and store.count(engine, "login:u", 60.0) == 1
        store.undo(engine, "login:u", when)
        assert store.count(engine, "login:u", 60.0) == 0
        t0 = time.time()
        slid = [store.hit(engine, "w", 2, 10.0, now=t0 + d)[0] for d in (0, 1, 2, 11, 12, 13)]
        assert slid == [True, True, False, True, True, False]
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("threads", "pool", "expected"), [(7, (3, 2), 7), (None, (3, 2), 2), (None, (1, 0), 1)]
)
def test_the_handler_threads_are_two_and_never_more_than_the_connections_unless_set(
    web_settings: Settings, threads: int | None, pool: tuple[int, int], expected: int
) -> None:
    """Two by default (more only contend for the interpreter lock), never more than the pooled
    connections (a handler without one would only wait for one, or time out)."""
    import anyio.to_thread
    from fastapi.testclient import TestClient

    from gosplan.web.app import create_app

    settings = web_settings.model_copy(
        update={"web_threads": threads, "db_pool_size": pool[0], "db_max_overflow": pool[1]}
    )
    app = create_app(settings, migrate=False)
    try:
        with TestClient(app) as c:
            assert c.get("/plan.json").status_code == 200
            limiter = c.portal.call(anyio.to_thread.current_default_thread_limiter)  # type: ignore[union-attr]
            assert limiter.total_tokens == expected
    finally:
        app.state.gosplan.engine.dispose()


@pytest.mark.parametrize("web_store", ["postgres"], indirect=True)
def test_a_kept_statement_shows_a_purchase_at_once_in_both_processes(
    servers: list[str], web_settings: Settings
) -> None:
    """Each process keeps a person's statement while their account's head is unchanged: a
    purchase on one process, and a purchase made outside the server, show on the very next
    view in both (no bound to wait), and only to the account's holder."""
    from gosplan.services.accounts import Accounts
    from gosplan.storage.base import make_engine
    from tests.web.test_web_scaleout import _twin

    a_url, b_url = servers
    with httpx.Client(base_url=a_url, timeout=60) as a:
        assert _login(a, "ana") == 303
        with _twin(a, b_url) as b:
            first = [c.get("/account.json").json() for c in (a, b)]
            assert first[0]["balance"] == first[1]["balance"]
            again = [c.get("/account.json").json() for c in (a, b)]  # from the kept statement
            assert again == [
                {**f, "buy_key": g["buy_key"]} for f, g in zip(first, again, strict=True)
            ]
            good = next(g for g in first[0]["catalogue"] if not g["free"] and g["stock"] > 2)
            r = a.post(
                "/account/buy",
                data={"good": good["code"], "quantity": 1, "csrf_token": _csrf(a)},
                headers={"accept": "application/json"},
            )
            assert r.status_code == 200, r.text
            balance = r.json()["balance"]
            assert Decimal(balance) < Decimal(first[0]["balance"])
            for c in (a, b):
                page = c.get("/account.json").json()
                assert Decimal(page["balance"]) == Decimal(balance)
                assert page["statement"][0]["transaction"] == r.json()["transaction"]
            engine = make_engine(web_settings.database_url)
            try:
                outside = Accounts(engine).buy("person:ana", good["code"], 1, key="outside")
            finally:
                engine.dispose()
            for c in (a, b):
                page = c.get("/account.json").json()
                assert page["statement"][0]["transaction"] == outside.transaction_id
                assert Decimal(page["balance"]) < Decimal(balance)
    with httpx.Client(base_url=b_url, timeout=60) as bruno:
        assert _login(bruno, "bruno") == 303
        assert bruno.get("/account.json").json()["code"] == "person:bruno"
        assert bruno.get("/accounts/person:ana.json").status_code == 403
