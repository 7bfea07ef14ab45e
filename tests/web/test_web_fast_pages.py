"""Kept pages answered before the routing (issue 16, :mod:`gosplan.web.fast_pages`).

* a page the fast path answers is the answer the normal way gives (the same status,
  headers and bytes, but for the one-time form keys), and the page an uncached build gives
  the same person; with the protective headers and the session cookie as before;
* the asker's own name and token in it, never another's; nobody never gets a signed-in
  person's page, a worker never a planner's;
* the session that wrote sees its write at once, another within the bound;
* what goes wrong on the fast path is answered the normal way, never a 500;
  ``enabled=False`` and ``serve(fast=False)`` keep it out.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import Request
from fastapi.responses import Response
from fastapi.testclient import TestClient

from gosplan.clock import ManualClock, utcnow
from gosplan.config import Settings
from gosplan.web.app import create_app
from gosplan.web.page_cache import PageCache, cache_of
from tests.web.conftest import csrf, login, shown_within, with_twins
from tests.web.test_web_page_cache import PAGES

#: the cached pages and, each, its ``.json`` twin
URLS = with_twins(PAGES)
#: the one-time form keys (a new one in every answer)
_KEY = re.compile(rb"\b[0-9a-f]{32}\b")


def _cache(c: TestClient) -> PageCache:
    cache: PageCache = c.app.state.page_cache  # type: ignore[attr-defined]
    return cache


def _same(body: bytes) -> bytes:
    return _KEY.sub(b"KEY", body)


def _fast(c: TestClient, url: str, **kw: Any) -> Any:
    """``url`` answered by the fast path (asked again while the normal way answers it: the
    first answer keeps the page, a session's own write has its heads read once)."""
    cache = _cache(c)
    for _ in range(4):
        before = cache.fast_hits
        r = c.get(url, **kw)
        assert r.status_code == 200, (url, r.text[:300])
        if cache.fast_hits == before + 1:
            return r
    raise AssertionError(f"{url} never answered by the fast path")


def _normal(c: TestClient, url: str, **kw: Any) -> Any:
    """``url`` answered the normal way (routing, dependencies, ``serve()``)."""
    cache = _cache(c)
    recipes = dict(cache._recipes)
    cache._recipes.clear()
    try:
        before = cache.fast_hits
        r = c.get(url, **kw)
        assert cache.fast_hits == before
        return r
    finally:
        cache._recipes.update(recipes)


def _uncached(c: TestClient, url: str) -> Any:
    cache = _cache(c)
    cache.enabled = False
    try:
        return c.get(url)
    finally:
        cache.enabled = True


@pytest.fixture
def app_client(web_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """One application, its page cache trusted for a minute, its clock still (an uncached
    build shows the same ages as a kept one)."""
    app = create_app(web_settings.model_copy(update={"page_cache_seconds": 60.0}), migrate=False)
    monkeypatch.setattr(app.state.gosplan, "clock", ManualClock(utcnow()))
    with TestClient(app) as c:
        yield c
    app.state.gosplan.engine.dispose()


@pytest.mark.parametrize("web_store", ["sqlite"], indirect=True)
def test_a_fast_answer_is_the_normal_answer_for_each_kind_of_person(
    app_client: TestClient,
) -> None:
    """The most privileged first: when nobody asks last, every other kind's pages are kept."""
    c = app_client
    cache = _cache(c)
    for who in ("diego", "carla", "ana", None):
        if who is None:
            c.cookies.clear()
        else:
            login(c, who)
        for url in URLS:
            if who is not None and url.startswith("/decisions"):
                continue  # kept by the voter's ballots (``vary``): never the fast path
            fast = _fast(c, url)
            hits = cache.hits
            normal = _normal(c, url)
            assert cache.hits == hits + 1  # the same kept page, the normal way
            assert fast.status_code == normal.status_code == 200
            assert fast.headers.multi_items() == normal.headers.multi_items(), url
            assert _same(fast.content) == _same(normal.content), url
            # what a build for this person, without the cache, shows
            assert _same(fast.content) == _same(_uncached(c, url).content), (who, url)
            h = fast.headers
            assert "frame-ancestors 'none'" in h["content-security-policy"]
            assert h["x-frame-options"] == "DENY" and h["x-content-type-options"] == "nosniff"
            assert h["content-length"] == str(len(fast.content))
            json_twin = ".json" in url
            assert h["content-type"].startswith("application/json" if json_twin else "text/html")
            assert "set-cookie" not in h  # the session is unchanged


def _name_and_token(html: str) -> tuple[str, str]:
    who = re.search(r'<a href="/me">([^<]*)</a>', html)
    tok = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert who and tok
    return who[1], tok[1]


@pytest.mark.parametrize("web_store", ["sqlite"], indirect=True)
def test_a_fast_answer_carries_the_askers_own_name_and_token(app_client: TestClient) -> None:
    app = app_client.app
    with TestClient(app) as a, TestClient(app) as b:
        login(a, "ana")
        login(b, "bruno")  # the same kind of person: the same kept page
        seen = {}
        for c in (a, b, a, b):
            seen[c] = _name_and_token(_fast(c, "/criticism").text)
        assert seen[a] == ("Ana Souza", csrf(a))
        assert seen[b] == ("Bruno Lima", csrf(b))
        assert seen[a][1] != seen[b][1]
        # the person's own words in the ``.json`` twin of the enterprise page
        login(a, "carla")
        assert _fast(a, "/enterprise/textile-coop.json").json()["me"] == "carla"


@pytest.mark.parametrize("web_store", ["sqlite"], indirect=True)
def test_a_fast_answer_sets_the_session_cookie_as_the_normal_way_does(
    app_client: TestClient,
) -> None:
    app = app_client.app
    _fast(app_client, "/criticism")  # nobody's page kept
    with TestClient(app) as fresh, TestClient(app) as other:
        cache = _cache(fresh)
        before = cache.fast_hits
        first = fresh.get("/criticism")  # no cookie yet: its token is made now
        assert cache.fast_hits == before + 1
        normal = _normal(other, "/criticism")
        for r in (first, normal):
            assert r.headers["set-cookie"].startswith("gosplan_session=")
            assert "httponly" in r.headers["set-cookie"].lower()
        token = _name_and_token_anon(first.text)
        assert token == csrf(fresh)  # the token in the page is the session's own
        again = _fast(fresh, "/criticism")
        assert "set-cookie" not in again.headers
        assert _name_and_token_anon(again.text) == token


def _name_and_token_anon(html: str) -> str:
    tok = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert tok
    return tok[1]


@pytest.mark.parametrize("web_store", ["sqlite"], indirect=True)
def test_nobody_never_gets_a_signed_in_persons_page(app_client: TestClient) -> None:
    app = app_client.app
    with TestClient(app) as ana, TestClient(app) as diego, TestClient(app) as anon:
        login(ana, "ana")
        login(diego, "diego")
        for c in (diego, ana):
            for url in URLS:
                if url.startswith("/decisions"):
                    assert c.get(url).status_code == 200
                else:
                    _fast(c, url)
            assert c.get("/account", follow_redirects=False).status_code == 200
        # a page that needs a person: nobody is sent to sign in, as before
        r = anon.get("/account", headers={"accept": "text/html"}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
        assert anon.get("/account.json").status_code == 401
        for url in ("/criticism", "/enterprise/textile-coop", "/decisions"):
            page = anon.get(url)
            assert 'href="/me"' not in page.text and 'href="/login"' in page.text
            assert _same(page.content) == _same(_uncached(anon, url).content)
        # a worker never gets the planner's page of an enterprise (kept per planner)
        planner = _fast(diego, "/enterprise/textile-coop").content
        worker = _fast(ana, "/enterprise/textile-coop").content
        assert _same(worker) == _same(_uncached(ana, "/enterprise/textile-coop").content)
        assert _same(worker) != _same(planner)
        assert b"Diego Alves" not in worker


def _file(c: TestClient, text: str) -> str:
    r = c.post(
        "/criticism",
        data={
            "target_kind": "enterprise",
            "target": "textile-coop",
            "content": text,
            "csrf_token": csrf(c),
        },
        headers={"accept": "application/json"},
    )
    assert r.status_code == 201, r.text
    ref: str = r.json()["criticism"]
    return ref


def _newest(r: Any) -> str:
    ref: str = r.json()["criticisms"][0]["criticism"]
    return ref


@pytest.mark.parametrize("web_store", ["sqlite", "postgres"], indirect=True)
def test_the_session_that_wrote_sees_it_at_once(app_client: TestClient) -> None:
    app = app_client.app
    with TestClient(app) as a, TestClient(app) as b:
        login(a, "ana")
        for c in (a, b):
            _fast(c, "/criticism.json")
            _fast(c, "/criticism")
        ref = _file(a, "seen at once by the one who filed it")
        assert _newest(a.get("/criticism.json")) == ref
        assert ref in a.get("/criticism").text
        # and then from the fast path again, still with it
        assert _newest(_fast(a, "/criticism.json")) == ref


@pytest.mark.parametrize("web_store", ["sqlite"], indirect=True)
def test_another_session_sees_it_within_the_bound(web_settings: Settings) -> None:
    ttl = 1.0
    app = create_app(web_settings.model_copy(update={"page_cache_seconds": ttl}), migrate=False)
    with TestClient(app) as a, TestClient(app) as b:
        for c in (a, b):
            _fast(c, "/criticism.json")
        ref = _file(a, "seen by b within the bound")
        assert _newest(a.get("/criticism.json")) == ref
        shown_within(ttl + 1.0, lambda: _newest(b.get("/criticism.json")) == ref)
    app.state.gosplan.engine.dispose()


class _LoopShyClock(ManualClock):
    """A clock that fails when asked on the event loop's thread (where the fast path runs),
    and answers in the worker threads (where the routes run)."""

    def __call__(self) -> Any:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return self.now
        raise RuntimeError("asked on the event loop")


@pytest.mark.parametrize("web_store", ["sqlite"], indirect=True)
def test_a_failure_on_the_fast_path_is_answered_the_normal_way(
    web_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(web_settings.model_copy(update={"page_cache_seconds": 60.0}), migrate=False)
    monkeypatch.setattr(app.state.gosplan, "clock", _LoopShyClock(utcnow()))
    with TestClient(app, raise_server_exceptions=False) as c:
        cache = _cache(c)
        for url in ("/fulfilment", "/fulfilment.json"):
            c.get(url)
            assert any(r.clock is app.state.gosplan.clock for r in cache._recipes.values())
            hits = cache.hits
            for _ in range(3):
                r = c.get(url)
                assert r.status_code == 200, r.text[:300]
            assert cache.hits == hits + 3 and cache.fast_hits == 0
        assert _fast(c, "/criticism").status_code == 200  # no clock: fast as ever
    app.state.gosplan.engine.dispose()


@pytest.mark.parametrize("web_store", ["sqlite"], indirect=True)
def test_disabled_or_opted_out_pages_never_take_the_fast_path(web_settings: Settings) -> None:
    app = create_app(web_settings.model_copy(update={"page_cache_seconds": 60.0}), migrate=False)
    built = {"n": 0}

    @app.get("/opted-out")
    def opted_out(request: Request) -> Response:
        def build(who: Any) -> Response:
            built["n"] += 1
            return Response(b"kept, the normal way", media_type="text/plain")

        return cache_of(request).serve(request, (), build, fast=False)

    with TestClient(app) as c:
        cache = _cache(c)
        for _ in range(3):
            assert c.get("/opted-out").text == "kept, the normal way"
        assert built["n"] == 1 and cache.hits == 2 and cache.fast_hits == 0
        # a page kept with ``vary`` (the decisions of a signed-in voter): no recipe
        login(c, "ana")
        for _ in range(3):
            assert c.get("/decisions.json").status_code == 200
        assert cache.fast_hits == 0
        _fast(c, "/plan.json")
        cache.enabled = False
        fast = cache.fast_hits
        for _ in range(3):
            assert c.get("/plan.json").status_code == 200
        assert cache.fast_hits == fast
    app.state.gosplan.engine.dispose()


@pytest.mark.parametrize("web_store", ["sqlite"], indirect=True)
def test_head_and_bodies_go_the_normal_way(app_client: TestClient) -> None:
    c = app_client
    _fast(c, "/plan.json")
    cache = _cache(c)
    fast = cache.fast_hits
    assert c.head("/plan.json").status_code in (200, 405)
    r = c.request("GET", "/plan.json", content=b"x=1")
    assert r.status_code == 200 and r.json()["ok"] is True
    assert cache.fast_hits == fast


@pytest.mark.parametrize("web_store", ["sqlite"], indirect=True)
def test_each_language_gets_its_own_fast_answer(app_client: TestClient) -> None:
    c = app_client
    english = _fast(c, "/criticism").content
    for how in ("cookie", "accept-language"):
        c.cookies.clear()
        headers = {"accept-language": "pt-BR,pt;q=0.9"} if how == "accept-language" else {}
        if how == "cookie":
            c.cookies.set("lang", "pt_BR")
        portuguese = _fast(c, "/criticism", headers=headers).content
        assert b'<html lang="pt-BR">' in portuguese and b'<html lang="en">' in english
        assert _same(portuguese) == _same(_normal(c, "/criticism", headers=headers).content)
