"""Fixtures for the web face: a real app over a real store (SQLite file, PostgreSQL).

Migrating and seeding the demonstration takes seconds, so each session builds
one seeded template store per dialect (with its key files) and every test
gets a copy: a file copy for SQLite, ``CREATE DATABASE … TEMPLATE`` for
PostgreSQL.
"""

from __future__ import annotations

import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from gosplan import Economy
from gosplan.config import Settings
from gosplan.readers.parquet import write_parquet
from gosplan.storage.base import normalise_url
from gosplan.web.app import create_app
from tests.conftest import copy_postgres_template, terminate_connections

KEYS = ("session.key", "log.key", "commission.pub", "watch.key")


def small_economy_dir(tmp_path: Path) -> Path:
    """Testland: three products, with households, government, investment and exports."""
    Z = np.array([[20.0, 30.0, 5.0], [10.0, 40.0, 15.0], [5.0, 10.0, 10.0]])
    x = np.array([200.0, 300.0, 100.0])
    fd = pd.DataFrame(
        {
            "Households": [95.0, 140.0, 20.0],
            "Government": [20.0, 40.0, 60.0],
            "Gross fixed capital formation": [5.0, 10.0, 0.0],
            "Exports": [25.0, 25.0, 0.0],
        }
    )
    eco = Economy.from_flows(
        Z,
        x,
        [1000.0, 1500.0, 800.0],
        products=["Grain", "Textiles", "Health care"],
        final_demand=fd,
        name="Testland",
        year=2020,
        money_unit="TL million",
        labour_unit="hours",
    )
    return write_parquet(eco, tmp_path / "economy")


def make_settings(database_url: str, folder: Path, economy: Path, **kw: object) -> Settings:
    from gosplan.services import commission

    if not (folder / "commission.pub").exists():  # the roster the commission made offline
        commission.keygen(
            folder / "shares",
            ["Ivanova", "Petrov", "Sidorova"],
            threshold=2,
            public_path=folder / "commission.pub",
        )
    kw.setdefault("seed_demo", True)  # the demonstration is seeded only when asked for
    # votes in tests last seconds: the configured minimum times are 0 (the default is days)
    kw = {"decision_min_discussion_hours": 0.0, "decision_min_voting_hours": 0.0, **kw}
    return Settings(
        watch_key_path=str(folder / "watch.key"),
        database_url=database_url,
        economy=str(economy),
        secret_key_path=str(folder / "session.key"),
        log_key_path=str(folder / "log.key"),
        commission_key_path=str(folder / "commission.pub"),
        **kw,
    )  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def economy_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_economy_dir(tmp_path_factory.mktemp("economy"))


_templates: dict[str, tuple[str, Path]] = {}


@pytest.fixture(scope="session")
def _drop_templates() -> Iterator[None]:
    yield
    base = os.environ.get("GOSPLAN_TEST_POSTGRES_URL")
    if base and "postgresql" in _templates:
        admin = create_engine(normalise_url(base), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{_templates["postgresql"][0]}"'))
        admin.dispose()


def seeded_copy(url: str, folder: Path, economy: Path, tmp_factory: pytest.TempPathFactory) -> None:
    """Make the store at ``url`` (and the key files in ``folder``) a copy of the seeded demo."""
    u = make_url(normalise_url(url))
    dialect = u.get_backend_name()
    if dialect not in _templates:
        keys = tmp_factory.mktemp(f"web-template-{dialect}")
        if dialect == "sqlite":
            tpl_url = f"sqlite:///{keys / 'template.db'}"
            name = str(keys / "template.db")
        else:
            name = f"gosplan_web_tpl_{uuid.uuid4().hex[:10]}"
            admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            admin.dispose()
            tpl_url = u.set(database=name).render_as_string(hide_password=False)
        app = create_app(make_settings(tpl_url, keys, economy))
        app.state.gosplan.engine.dispose()
        if dialect != "sqlite":  # nothing (autovacuum included) may connect to a template
            admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                terminate_connections(conn, name)
                conn.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false'))
            admin.dispose()
        _templates[dialect] = (name, keys)
    name, keys = _templates[dialect]
    for k in KEYS:
        if (keys / k).exists():
            shutil.copyfile(keys / k, folder / k)
    if (keys / "shares").is_dir() and not (folder / "shares").exists():
        shutil.copytree(keys / "shares", folder / "shares")  # the members' (offline) shares
    if dialect == "sqlite":
        shutil.copyfile(name, str(u.database))
        return
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            copy_postgres_template(conn, str(u.database), name)
    finally:
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def web_store(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    economy_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
    _drop_templates: None,
) -> Iterator[str]:
    """A copy of the seeded demonstration store: a SQLite file, then a PostgreSQL database
    made straight from the template (one CREATE and one DROP per test)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'gosplan-test.db'}"
        seeded_copy(url, tmp_path, economy_dir, tmp_path_factory)
        yield url
        return
    base = os.environ.get("GOSPLAN_TEST_POSTGRES_URL")
    if not base:
        if os.environ.get("CI"):
            raise RuntimeError(
                "CI must provide GOSPLAN_TEST_POSTGRES_URL (see scripts/ci-services.sh)"
            )
        pytest.skip("no PostgreSQL server (set GOSPLAN_TEST_POSTGRES_URL)")
    u = make_url(normalise_url(base))
    url = u.set(database=f"gosplan_web_{uuid.uuid4().hex[:12]}").render_as_string(
        hide_password=False
    )
    seeded_copy(url, tmp_path, economy_dir, tmp_path_factory)
    try:
        yield url
    finally:
        admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            terminate_connections(conn, str(make_url(url).database))
            conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}"'))
        admin.dispose()


@pytest.fixture
def web_settings(tmp_path: Path, web_store: str, economy_dir: Path) -> Settings:
    """Settings on a copy of the seeded demonstration store."""
    return make_settings(web_store, tmp_path, economy_dir)


@pytest.fixture
def client(web_settings: Settings) -> Iterator[TestClient]:
    app = create_app(web_settings, migrate=False)
    with TestClient(app) as c:
        yield c
    app.state.gosplan.engine.dispose()


def csrf(client: TestClient) -> str:
    page = client.get("/login")
    m = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert m, "login page must carry a CSRF token"
    return m.group(1)


def login(client: TestClient, username: str, password: str = "demo-password") -> str:
    tok = csrf(client)
    r = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": tok},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return csrf(client)


def logout(client: TestClient, tok: str) -> str:
    client.post("/logout", data={"csrf_token": tok})
    return csrf(client)


def shown_within(bound: float, shown: Any) -> float:
    """Seconds until ``shown()`` is true; fails past ``bound`` seconds."""
    t0 = time.monotonic()
    while not shown():
        waited = time.monotonic() - t0
        assert waited <= bound, f"not shown {waited:.2f} s after it was written"
        time.sleep(0.05)
    return time.monotonic() - t0


def adopt_grain_target(engine: Any, title: str) -> int:
    """A proposal for +20 % Grain, adopted through the services on ``engine``: two votes
    for it, then the vote closed (as an adoption recorded outside any web request)."""
    import datetime as dt

    from sqlalchemy.orm import Session

    from gosplan.services import decisions, users

    t0 = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(hours=3)
    with Session(engine) as s:
        author = users.by_username(s, "diego")
        voters = [users.by_username(s, n) for n in ("ana", "diego")]
        assert author is not None and all(voters)
        p = decisions.create_proposal(
            s,
            author,
            title=title,
            body="",
            kind="sector_target",
            options=[
                {"label": "+20 %", "effect": {"product": "Grain", "factor": 1.2}},
                {"label": "as it is", "effect": {"product": "Grain", "factor": 1.0}},
            ],
            rules=decisions.Rules(min_discussion_hours=1.0, min_voting_hours=1.0, quorum_share=0.0),
            now=t0,
        )
        for v in voters:
            decisions.cast_vote(
                s, p, v, [0], secret=b"k" * 32, now=t0 + dt.timedelta(hours=1, minutes=30)
            )
        decisions.close(s, p)
        pid = int(p.id)
        s.commit()
    return pid


# --- the browser tests' one Chromium (a session has one Playwright: a second
# ``sync_playwright`` in the same thread fails, so every browser test module shares it)

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def need_browser(what: str) -> None:
    if os.environ.get("CI"):
        raise RuntimeError(
            f"CI must have {what} for the browser tests (scripts/ci-services.sh installs Chromium)"
        )
    pytest.skip(f"{what} not present")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One Chromium for the whole session."""
    if not CHROMIUM.exists():
        need_browser(str(CHROMIUM))
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need_browser("the playwright package")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


def with_twins(pages: list[str]) -> list[str]:
    """Each page and its ``.json`` twin (the home page's is ``/index.json``)."""
    urls = [u for p in pages for u in (p, p.replace("?", ".json?") if "?" in p else p + ".json")]
    return ["/index.json" if u == "/.json" else u for u in urls]
