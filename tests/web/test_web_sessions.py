"""Sessions and sign-in (issue 13, finding 6): revocable sessions kept in the store, Secure
cookies, throttled sign-in with bounded hashing, trusted proxies only when named, protective
headers, body limits enforced while reading."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

from fastapi.testclient import TestClient

from gosplan.config import Settings
from gosplan.web.app import create_app

from .conftest import csrf, login


def _app_client(settings: Settings, **update: object) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update=update), migrate=False)
    with TestClient(app) as c:
        yield c
    app.state.gosplan.engine.dispose()


def _me(c: TestClient) -> int:
    return c.get("/me.json").status_code


def test_a_cookie_saved_before_logout_does_not_work_after_it(client: TestClient) -> None:
    tok = login(client, "ana")
    saved = dict(client.cookies)
    assert client.get("/me.json").json()["username"] == "ana"
    client.post("/logout", data={"csrf_token": tok})
    assert _me(client) == 401
    client.cookies.clear()
    client.cookies.update(saved)  # the attacker replays the cookie copied before logout
    assert _me(client) == 401
    assert client.get("/account.json").status_code == 401


def test_logout_ends_every_session_of_the_person(web_settings: Settings) -> None:
    app = create_app(web_settings, migrate=False)
    with TestClient(app) as phone, TestClient(app) as laptop:
        login(phone, "ana")
        tok = login(laptop, "ana")
        assert phone.get("/me.json").json()["sessions"] == 2
        laptop.post("/logout", data={"csrf_token": tok})
        assert _me(phone) == 401 and _me(laptop) == 401
    app.state.gosplan.engine.dispose()


def test_a_password_change_ends_every_session(web_settings: Settings) -> None:
    app = create_app(web_settings, migrate=False)
    with TestClient(app) as a, TestClient(app) as b:
        login(a, "bruno")
        tok = login(b, "bruno")
        r = b.post(
            "/me/password",
            data={
                "current_password": "wrong-one!",
                "new_password": "a-new-password",
                "csrf_token": tok,
            },
            headers={"accept": "application/json"},
        )
        assert r.status_code == 422 and "current_password" in r.json()["error"]
        r = b.post(
            "/me/password",
            data={
                "current_password": "demo-password",
                "new_password": "a-new-password",
                "csrf_token": tok,
            },
            headers={"accept": "application/json"},
        )
        assert r.status_code == 200, r.text
        assert _me(a) == 401 and _me(b) == 401
        t = csrf(a)
        r = a.post(
            "/login",
            data={"username": "bruno", "password": "demo-password", "csrf_token": t},
            follow_redirects=False,
        )
        assert r.status_code == 401
        login(a, "bruno", "a-new-password")
        assert a.get("/me.json").json()["username"] == "bruno"
    app.state.gosplan.engine.dispose()


def test_cookies_are_secure_over_https_and_when_told(web_settings: Settings) -> None:
    app = create_app(web_settings, migrate=False)
    with TestClient(app) as plain:
        r = plain.get("/login")
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    with TestClient(app, base_url="https://testserver") as tls:
        r = tls.get("/login")
        assert "; secure" in r.headers["set-cookie"].lower()
        assert "max-age=31536000" in r.headers["strict-transport-security"]
    app.state.gosplan.engine.dispose()
    for c in _app_client(web_settings, cookie_secure=True):
        assert "; secure" in c.get("/login").headers["set-cookie"].lower()


def test_sessions_last_as_long_as_the_setting(web_settings: Settings) -> None:
    for c in _app_client(web_settings, session_lifetime_hours=2 / 3600):
        tok = csrf(c)
        r = c.post(
            "/login",
            data={"username": "ana", "password": "demo-password", "csrf_token": tok},
            follow_redirects=False,
        )
        assert "max-age=2;" in r.headers["set-cookie"].lower()
        assert c.get("/me.json").status_code == 200
        time.sleep(2.5)
        assert _me(c) == 401  # the row has expired in the store, whatever the cookie says


def test_sign_in_is_throttled_per_account(web_settings: Settings) -> None:
    for c in _app_client(web_settings, login_attempts_per_account=5):
        tok = csrf(c)
        codes = [
            c.post(
                "/login", data={"username": "ana", "password": f"guess-{i}", "csrf_token": tok}
            ).status_code
            for i in range(8)
        ]
        assert codes[:5] == [401] * 5 and codes[5:] == [429] * 3, codes
        r = c.post(
            "/login",
            data={"username": "ana", "password": "demo-password", "csrf_token": tok},
            follow_redirects=False,
        )
        assert r.status_code == 429 and "username" in r.json()["error"]
        assert int(r.headers["retry-after"]) > 0
        # another account from the same client is not locked by ana's attacker
        login(c, "bruno")


def test_sign_in_is_throttled_per_client_across_accounts(web_settings: Settings) -> None:
    for c in _app_client(web_settings, login_attempts_per_client=6):
        tok = csrf(c)
        codes = [
            c.post(
                "/login", data={"username": name, "password": "nope-nope", "csrf_token": tok}
            ).status_code
            for name in ["ana", "bruno", "carla", "diego", "elena", "x1", "x2", "x3"]
        ]
        assert codes[:6] == [401] * 6 and codes[6:] == [429, 429], codes


def test_forty_parallel_sign_ins_hash_at_most_n_at_once(web_settings: Settings) -> None:
    app = create_app(
        web_settings.model_copy(
            update={
                "login_concurrency": 2,
                "login_attempts_per_client": 1000,
                "login_attempts_per_account": 1000,
            }
        ),
        migrate=False,
    )
    guard = app.state.login_guard
    with TestClient(app) as c:
        tok = csrf(c)
        codes: list[int] = []
        lock = threading.Lock()
        barrier = threading.Barrier(40)

        def sign_in(i: int) -> None:
            barrier.wait()
            r = c.post(
                "/login",
                data={
                    "username": "ana",
                    "csrf_token": tok,
                    "password": "demo-password" if i % 2 else "wrong-pass",
                },
                follow_redirects=False,
            )
            with lock:
                codes.append(r.status_code)

        threads = [threading.Thread(target=sign_in, args=(i,)) for i in range(40)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    app.state.gosplan.engine.dispose()
    assert len(codes) == 40 and set(codes) <= {303, 401, 503}, codes
    assert codes.count(303) >= 1
    assert 1 <= guard.peak <= 2  # never more than two Argon2 hashes (64 MiB each) at once


def test_x_forwarded_for_is_ignored_unless_the_proxy_is_named(web_settings: Settings) -> None:
    def file_from(c: TestClient, addresses: list[str]) -> list[int]:
        tok = csrf(c)
        targets = c.get("/criticism.json").json()["targets"]
        kind = next(k for k, v in targets.items() if v)
        return [
            c.post(
                "/criticism",
                data={
                    "target_kind": kind,
                    "target": targets[kind][0]["id"],
                    "content": f"criticism {i}",
                    "csrf_token": tok,
                },
                headers={"accept": "application/json", "x-forwarded-for": ip},
            ).status_code
            for i, ip in enumerate(addresses)
        ]

    spoofed = [f"10.0.0.{i}" for i in range(5)]
    for c in _app_client(web_settings, rate_limit_filing=2):
        assert file_from(c, spoofed) == [201, 201, 429, 429, 429]  # one client, whatever it says
    for c in _app_client(web_settings, rate_limit_filing=2, trusted_proxies="testclient"):
        assert file_from(c, spoofed) == [201] * 5  # a named proxy's word is taken


def test_protective_headers_on_every_page(client: TestClient) -> None:
    for path in ("/", "/login", "/criticism", "/plan.json", "/nowhere"):
        h = client.get(path).headers
        csp = h["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, path
        assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert h["x-frame-options"] == "DENY" and h["x-content-type-options"] == "nosniff"
        assert h["referrer-policy"] == "same-origin"
    page = client.get("/criticism").text
    assert "<script>" not in page  # no inline script for the CSP to block


def test_bodies_over_the_limit_are_refused_while_read(web_settings: Settings) -> None:
    for c in _app_client(web_settings, max_body_bytes=64 * 1024):
        tok = csrf(c)
        big = b"x" * (200 * 1024)
        r = c.post(
            "/receipts/verify",
            content=big,
            headers={"content-type": "application/x-www-form-urlencoded", "x-csrf-token": tok},
        )
        assert r.status_code == 413 and "body" in r.json()["error"]  # by Content-Length

        r = c.post(
            "/criticism",
            data={"csrf_token": tok, "target_kind": "official", "target": "x", "content": "y"},
            files={"attachment": ("e.txt", b"z" * (100 * 1024), "text/plain")},
        )
        assert r.status_code == 413
