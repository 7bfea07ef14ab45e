"""Demo data only when asked for; an empty store starts with a documented bootstrap of its
first administrator (issue 13, finding 9)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gosplan.cli import main
from gosplan.config import Settings
from gosplan.services import users
from gosplan.web.app import create_app

from .conftest import csrf, make_settings


def _empty(tmp_path: Path, economy_dir: Path) -> Settings:
    s = make_settings(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path, economy_dir, seed_demo=False)
    return s


def _cli(settings: Settings, *args: str) -> tuple[int, str]:
    res = CliRunner().invoke(main, [*args, "--db", settings.database_url])
    return res.exit_code, res.output


def test_the_default_is_an_empty_store_without_demo_users(
    tmp_path: Path, economy_dir: Path
) -> None:
    assert Settings().seed_demo is False
    settings = _empty(tmp_path, economy_dir)
    app = create_app(settings)
    with Session(app.state.gosplan.engine) as s:
        assert users.count(s) == 0
    with TestClient(app) as c:
        tok = csrf(c)
        r = c.post(
            "/login", data={"username": "elena", "password": "demo-password", "csrf_token": tok}
        )
        assert r.status_code == 401  # no published password opens anything
    app.state.gosplan.engine.dispose()
    seeded = create_app(settings.model_copy(update={"seed_demo": True}), migrate=False)
    with Session(seeded.state.gosplan.engine) as s:
        assert users.by_username(s, "elena") is not None  # --demo seeds when asked
    seeded.state.gosplan.engine.dispose()


def test_bootstrap_the_first_administrator_with_a_one_time_token(
    tmp_path: Path, economy_dir: Path
) -> None:
    settings = _empty(tmp_path, economy_dir)
    code, out = _cli(settings, "users", "bootstrap-admin", "root", "--json")
    assert code == 0, out
    answer = json.loads(out)
    assert answer["role"] == "admin" and answer["setup_path"].startswith("/setup?token=")
    code, out = _cli(settings, "users", "bootstrap-admin", "root2")
    assert code == 1 and "administrator already" in out

    app = create_app(settings, migrate=False)
    with TestClient(app) as admin, TestClient(app) as worker:
        page = admin.get(answer["setup_path"])
        assert page.status_code == 200 and answer["token"] in page.text
        tok = csrf(admin)
        r = admin.post("/login", data={"username": "root", "password": "", "csrf_token": tok})
        assert r.status_code in (401, 422)  # no password works before the token is used
        r = admin.post(
            "/setup",
            data={"token": answer["token"], "password": "first-admin-pw", "csrf_token": tok},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        me = admin.get("/me.json").json()
        assert me["username"] == "root" and me["role"] == "admin"
        # the token was good once
        r = worker.post(
            "/setup",
            data={"token": answer["token"], "password": "stolen-token", "csrf_token": csrf(worker)},
        )
        assert r.status_code == 400 and "token" in r.text

        # a worker registers; the administrator appoints her planner
        wtok = csrf(worker)
        r = worker.post(
            "/register",
            data={"username": "maria", "password": "maria-password", "csrf_token": wtok},
            follow_redirects=False,
        )
        assert r.status_code == 303
        assert worker.get("/me.json").json()["role"] == "worker"
        assert worker.get("/users.json").status_code == 403  # only administrators
        atok = csrf(admin)
        listing = admin.get("/users.json").json()
        assert {u["username"] for u in listing["users"]} == {"root", "maria"}
        r = admin.post(
            "/users/maria/role",
            data={"role": "planner", "csrf_token": atok},
            headers={"accept": "application/json"},
        )
        assert r.status_code == 200, r.text
        assert worker.get("/me.json").status_code == 401  # appointed: signs in again
        # who holds which office is public: both appointments are in the log
        log = admin.get("/log.json?kind=people.").json()["entries"]
        changes = [(e["payload"]["username"], e["payload"]["to"], e["payload"]["by"]) for e in log]
        assert ("maria", "planner", "root") in changes and ("root", "admin", "bootstrap") in changes
        r = admin.post(
            "/users/root/role",
            data={"role": "worker", "csrf_token": atok},
            headers={"accept": "application/json"},
        )
        assert r.status_code == 422 and "own role" in r.json()["error"]
        r = admin.post(
            "/users/maria/role",
            data={"role": "emperor", "csrf_token": atok},
            headers={"accept": "application/json"},
        )
        assert r.status_code == 422 and "role" in r.json()["error"]
        # a lost password: a one-time token from an administrator, or from the command line
        page = admin.post("/users/maria/setup-token", data={"csrf_token": atok}).text
        m = re.search(r'<code id="setup-token">([^<]+)</code>', page)
        assert m
        r = worker.post(
            "/setup",
            data={"token": m.group(1), "password": "maria-new-pw", "csrf_token": csrf(worker)},
            follow_redirects=False,
        )
        assert r.status_code == 303
        assert worker.get("/me.json").json()["role"] == "planner"
        code, out = _cli(settings, "users", "end-sessions", "maria", "--json")
        assert code == 0 and json.loads(out)["ended"] == 1
        assert worker.get("/me.json").status_code == 401
    app.state.gosplan.engine.dispose()


def test_every_web_setting_is_documented() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "web.md").read_text()
    for name in (
        "seed_demo",
        "session_lifetime_hours",
        "cookie_secure",
        "trusted_proxies",
        "login_attempts_per_account",
        "login_attempts_per_client",
        "login_window_minutes",
        "login_concurrency",
        "max_body_bytes",
        "max_json_depth",
        "rate_limit_filing",
        "rate_limit_voting",
        "rate_limit_buying",
        "secret_key_path",
    ):
        assert name in Settings.model_fields
        assert f"`GOSPLAN_{name.upper()}`" in docs, name
