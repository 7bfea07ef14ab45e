"""Whole-page caches (issue 16): right for whoever asks, fresh at once in the process that
wrote, within ``page_cache_seconds`` in another process.

* every cached page declares the tables it reads: building each, as nobody and as each
  kind of person, reads no other table (so a change of any of them changes the page's key);
* a page answered from memory carries the asker's own name and CSRF token, never another's,
  and a fresh form key each time;
* a criticism filed, a log entry appended, a purchase show at once to the session that made
  them (whatever the bound), an adoption recorded outside any request at once in that
  process, and all of them to other sessions and in another server process within the
  bound.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from gosplan.config import Settings
from gosplan.storage import page_heads
from gosplan.web.app import create_app
from gosplan.web.routes import (
    accounts,
    criticism,
    decisions,
    enterprise,
    fulfilment,
    plan,
    publiclog,
)
from tests.web.conftest import adopt_grain_target, csrf, login, shown_within, with_twins
from tests.web.test_web_scaleout import _csrf, _env, _login, uvicorn_processes

TTL = 1.0  # the page cache's bound in the two-process tests (seconds)

#: each cached page, the tables it declares
DECLARED: dict[str, tuple[str, ...]] = {
    "/": (),
    "/economy": (),
    "/plan": plan.PLAN_TABLES,
    "/decisions": decisions.DECISIONS_TABLES,
    "/catalogue": accounts.CATALOGUE_TABLES,
    "/criticism": criticism.CRITICISM_TABLES,
    "/log": publiclog.LOG_TABLES,
    "/log/{index}": publiclog.LOG_TABLES,
    "/fulfilment": fulfilment.FULFILMENT_TABLES,
    "/enterprises": enterprise.ENTERPRISES_TABLES,
    "/enterprise/{code}": enterprise.ENTERPRISE_TABLES,
}
PAGES = [
    "/",
    "/economy",
    "/plan",
    "/decisions",
    "/catalogue",
    "/criticism",
    "/criticism?status=received",
    "/log",
    "/log/1",
    "/fulfilment",
    "/enterprises",
    "/enterprise/textile-coop",
    "/enterprise/grain-farm",
]


def _covered(table: str, declared: tuple[str, ...]) -> bool:
    if table in declared:
        return True
    # the adoptions are what the plan reads of the proposals; the log's entries and
    # subtree hashes move with its size; the enterprise page reads of the transactions only
    # whether one reverses an approval
    pseudo = {
        "acct_transaction": page_heads.REVERSALS,
        "decision_proposal": page_heads.ADOPTED,
        "publiclog_entry": page_heads.LOG,
        "publiclog_node": page_heads.LOG,
    }
    return pseudo.get(table) in declared


@pytest.fixture
def app_client(web_settings: Settings) -> Iterator[TestClient]:
    """One application, its page cache trusted for a minute: whatever shows at once below
    shows because this process wrote it, not because the bound ran out."""
    app = create_app(web_settings.model_copy(update={"page_cache_seconds": 60.0}), migrate=False)
    with TestClient(app) as c:
        yield c
    app.state.gosplan.engine.dispose()


@pytest.mark.parametrize("web_store", ["sqlite"], indirect=True)
def test_every_cached_page_reads_only_the_tables_it_declares(app_client: TestClient) -> None:
    cache = app_client.app.state.page_cache  # type: ignore[attr-defined]
    cache.record = {}
    for who in (None, "ana", "carla", "diego", "elena"):
        if who is not None:
            login(app_client, who)
        for url in with_twins(PAGES):
            r = app_client.get(url)
            assert r.status_code == 200, (url, r.text[:300])
        cache._pages.clear()  # the next kind of person builds every page again
    read: dict[str, set[str]] = {}
    for route, tables in cache.record.items():
        page = route.removesuffix(".json").replace("/index", "/").replace(":int}", "}")
        read.setdefault(page, set()).update(tables)
    assert set(read) <= set(DECLARED), read
    assert read.get("/criticism") and read.get("/enterprise/{code}")
    for route, tables in read.items():
        declared = DECLARED[route]
        extra = sorted(t for t in tables if not _covered(t, declared))
        assert not extra, f"{route} reads {extra} but is not keyed by them"


def _name_and_token(html: str) -> tuple[str, str]:
    who = re.search(r'<a href="/me">([^<]*)</a>', html)
    tok = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert who and tok
    return who[1], tok[1]


@pytest.mark.parametrize("web_store", ["sqlite"], indirect=True)
def test_a_cached_page_carries_the_askers_own_name_token_and_form_key(
    web_settings: Settings,
) -> None:
    app = create_app(web_settings.model_copy(update={"page_cache_seconds": 60.0}), migrate=False)
    with TestClient(app) as a, TestClient(app) as b:
        login(a, "ana")
        login(b, "bruno")  # the same kind of person: the same cached page
        cache = app.state.page_cache
        pages = []
        for c in (a, b, a, b):
            r = c.get("/criticism")
            assert r.status_code == 200
            pages.append(_name_and_token(r.text))
        assert cache.hits >= 3
        assert pages[0][0] == pages[2][0] == "Ana Souza"
        assert pages[1][0] == pages[3][0] == "Bruno Lima"
        assert pages[0][1] == csrf(a) and pages[1][1] == csrf(b)
        assert pages[0][1] != pages[1][1]
        # a cached page's form still files, with the token it carries
        r = a.post(
            "/criticism",
            data={
                "target_kind": "enterprise",
                "target": "textile-coop",
                "content": "cached form works",
                "csrf_token": pages[2][1],
            },
            headers={"accept": "application/json"},
        )
        assert r.status_code == 201, r.text
        # a delegate's enterprise page: a new one-time form key in every answer
        login(a, "carla")
        keys = [a.get("/enterprise/textile-coop.json").json()["form_key"] for _ in range(3)] + [
            re.findall(
                r'name="key" value="([0-9a-f]{32})"', a.get("/enterprise/textile-coop").text
            )[0]
        ]
        assert len(set(keys)) == 4
        me = a.get("/enterprise/textile-coop.json").json()
        assert me["me"] == "carla"
        # nobody signed in: no name, a token of their own
        with TestClient(app) as anon:
            page = anon.get("/criticism").text
            assert "Ana Souza" not in page and "Bruno Lima" not in page
            assert 'href="/login"' in page
    app.state.gosplan.engine.dispose()


def _file(c: Any, text: str, tok: str) -> dict[str, Any]:
    r = c.post(
        "/criticism",
        data={
            "target_kind": "enterprise",
            "target": "textile-coop",
            "content": text,
            "csrf_token": tok,
        },
        headers={"accept": "application/json"},
    )
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def _refs(c: Any) -> list[str]:
    return [x["criticism"] for x in c.get("/criticism.json").json()["criticisms"]]


@pytest.mark.parametrize("web_store", ["sqlite", "postgres"], indirect=True)
def test_what_this_process_writes_shows_at_once(app_client: TestClient) -> None:
    c = app_client
    before_refs = _refs(c)
    size = c.get("/log.json").json()["size"]
    plan_before = c.get("/plan.json").json()["decisions"]
    c.get("/catalogue.json")
    filed = _file(c, "shows at once", csrf(c))
    assert _refs(c)[0] == filed["criticism"] and filed["criticism"] not in before_refs
    log = c.get("/log.json").json()
    assert log["size"] > size and log["entries"][0]["payload"]["criticism"] == filed["criticism"]
    assert c.get(f"/log/{filed['log_index']}.json").status_code == 200
    pid = adopt_grain_target(c.app.state.gosplan.engine, "Grain, adopted here")  # type: ignore[attr-defined]
    after = c.get("/plan.json").json()["decisions"]
    assert [d["proposal"] for d in after] == [*[d["proposal"] for d in plan_before], pid]
    # a purchase moves the stock the catalogue shows, at once
    tok = login(c, "ana")
    good = next(g for g in c.get("/catalogue.json").json()["goods"] if not g["free"])
    r = c.post(
        "/account/buy",
        data={"good": good["code"], "quantity": 1, "key": "pc-1", "csrf_token": tok},
        headers={"accept": "application/json"},
    )
    assert r.status_code < 300, r.text
    now = {g["code"]: g["stock"] for g in c.get("/catalogue.json").json()["goods"]}
    assert float(now[good["code"]]) == float(good["stock"]) - 1


@pytest.mark.parametrize("web_store", ["sqlite"], indirect=True)
def test_another_session_of_the_same_process_sees_it_within_the_bound(
    web_settings: Settings,
) -> None:
    """The session that wrote sees its write at once; another session of the same process
    within ``page_cache_seconds`` (its pages are kept until then)."""
    app = create_app(web_settings.model_copy(update={"page_cache_seconds": TTL}), migrate=False)
    with TestClient(app) as a, TestClient(app) as b:
        for _ in range(2):
            _refs(a), _refs(b)
        filed = _file(a, "seen by a, then by b", csrf(a))["criticism"]
        assert _refs(a)[0] == filed
        waited = shown_within(TTL + 1.0, lambda: _refs(b)[0] == filed)
        assert waited <= TTL + 1.0
    app.state.gosplan.engine.dispose()


@pytest.fixture
def servers(web_settings: Settings, tmp_path: Path) -> Iterator[list[str]]:
    env = _env(web_settings, page_cache_seconds=TTL)
    with uvicorn_processes(env, 2, tmp_path) as urls:
        yield urls


@pytest.mark.parametrize("web_store", ["postgres"], indirect=True)
def test_another_process_shows_a_change_within_the_bound(
    servers: list[str], web_settings: Settings
) -> None:
    from gosplan.storage.base import make_engine

    a_url, b_url = servers
    with (
        httpx.Client(base_url=a_url, timeout=30) as a,
        httpx.Client(base_url=b_url, timeout=30) as b,
    ):
        for c in (a, b):  # both have the pages in memory
            for _ in range(2):
                c.get("/criticism.json")
                c.get("/log.json")
                c.get("/plan.json")
        size = b.get("/log.json").json()["size"]
        assert _login(a, "ana") == 303
        filed = _file(a, "seen by the other process", _csrf(a))
        ref = filed["criticism"]
        assert _refs(a)[0] == ref  # the process that filed it: at once
        shown_within(TTL + 1.0, lambda: _refs(b)[0] == ref)
        shown_within(TTL + 1.0, lambda: b.get("/log.json").json()["size"] > size)
        engine = make_engine(web_settings.database_url)
        try:
            pid = adopt_grain_target(engine, "Grain, adopted elsewhere")
        finally:
            engine.dispose()
        for c in (a, b):
            shown_within(
                TTL + 1.0,
                lambda c=c: pid in [d["proposal"] for d in c.get("/plan.json").json()["decisions"]],
            )


@pytest.mark.parametrize("web_store", ["sqlite"], indirect=True)
def test_parts_kept_from_many_threads_at_once_never_fail(app_client: TestClient) -> None:
    """Handler threads keep parts (the catalogue) in the page cache at once: adding one while
    another thread drops old ones was a 500 under load ('dictionary changed size during
    iteration'). Threads switched as often as the interpreter allows."""
    import sys
    import threading

    cache = app_client.app.state.page_cache  # type: ignore[attr-defined]
    errors: list[BaseException] = []

    def keep(w: int) -> None:
        try:
            for i in range(1500):
                got = cache.memo("race", ("acct_good",), (w, i), lambda i=i: i)
                assert got == i
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=keep, args=(w,)) for w in range(8)]
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(before)
    assert errors == []


@pytest.mark.parametrize("web_store", ["sqlite", "postgres"], indirect=True)
def test_a_sale_or_a_filing_leaves_the_enterprise_page_cached_and_a_reversal_shows(
    app_client: TestClient,
) -> None:
    """The enterprise page shows whether approved work was reversed: it is keyed by the
    ledger's reversals, not by every transaction, so a purchase (a transaction too) does not
    rebuild it, and a reversal shows at once. Neither it nor the fulfilment dashboard reads
    the public log: a filing rebuilds neither."""
    from sqlalchemy import select

    from gosplan.services import criticism
    from gosplan.storage.accounts import Approval
    from gosplan.storage.base import session_scope
    from gosplan.web.demo import person_code

    c = app_client
    state = c.app.state.gosplan  # type: ignore[attr-defined]
    cache = c.app.state.page_cache  # type: ignore[attr-defined]
    url = "/enterprise/grain-farm.json"  # ana, who buys, works elsewhere: the credit of
    work = c.get(url).json()["work"]  # this enterprise's work can be reversed in full
    approved = next(w for w in work if w["status"] == "approved")
    assert person_code("ana") not in {w["person"] for w in work}
    good = next(g for g in state.accounts.goods() if not g.funds and g.stock > 0)
    alerts = c.get("/fulfilment.json").json()
    built = cache.misses
    state.accounts.buy(person_code("ana"), good.code, 1, key="pc-sale")  # outside a request
    with session_scope(state.engine) as s:  # the log grows: these pages do not read it
        criticism.file(
            s, target_kind="enterprise", target="grain-farm", content="x", settings=state.settings
        )
    assert c.get(url).json()["work"] == work and c.get("/fulfilment.json").json() == alerts
    assert cache.misses == built  # answered from the cache: a sale is not a reversal
    with state.engine.connect() as conn:
        tid = conn.scalar(select(Approval.transaction_id).where(Approval.work_id == approved["id"]))
    state.accounts.reverse(int(tid), reason="recorded twice", key="pc-reverse")
    now = {w["id"]: w["status"] for w in c.get(url).json()["work"]}
    assert now[approved["id"]] == "reversed" and cache.misses == built + 1
