"""Shared fixtures.

Real data from ``../shared/data`` is read in place (``GOSPLAN_DATA`` overrides
the folder).  Outside CI a missing folder skips those tests; in CI it fails,
so a test can never pass by being skipped there.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("GOSPLAN_DATA", ROOT.parent / "shared" / "data")).resolve()


def _data_dir() -> Path:
    if DATA.is_dir():
        return DATA
    if os.environ.get("CI"):
        raise RuntimeError(f"CI must have the shared data folder at {DATA}")
    pytest.skip(f"shared data folder {DATA} not present")


def _skip_cause(reason: str) -> str:
    """What a skip's reason says was missing, in a few words."""
    low = reason.lower()
    if "postgresql" in low:
        return "PostgreSQL (GOSPLAN_TEST_POSTGRES_URL unset)"
    if "chromium" in low or "playwright" in low:
        return "Chromium/Playwright"
    if "shared data folder" in low:
        return f"the data folder {DATA}"
    if "could not import" in low:
        return "an optional package (" + reason.split("'")[1] + ")" if "'" in reason else reason
    return reason.removeprefix("Skipped: ")


def pytest_unconfigure(config: pytest.Config) -> None:
    """End the run with one line: what was not run, why, and how to run it all.

    Written last (after pytest's "N passed, M skipped" line) so that the test
    command's final line says it; nothing is written when nothing was skipped.
    """
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    causes: dict[str, int] = {}
    for rep in reporter.stats.get("skipped", []):
        longrepr = getattr(rep, "longrepr", None)
        reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else ""
        cause = _skip_cause(str(reason))
        causes[cause] = causes.get(cause, 0) + 1
    if not causes:
        return
    total = sum(causes.values())
    parts = "; ".join(
        f"{n} need{'s' if n == 1 else ''} {cause}"
        for cause, n in sorted(causes.items(), key=lambda kv: -kv[1])
    )
    reporter.write_line(
        f"NOT RUN: {total} test{'s' if total != 1 else ''} skipped ({parts}). "
        "To run them all: bash scripts/ci-services.sh && . .ci/env && "
        ".venv/bin/python -m pytest -q (installs and starts PostgreSQL and Chromium; "
        "the data folder is GOSPLAN_DATA), or .ci/run as CI does.",
        yellow=True,
        bold=True,
    )


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The folder of real publishers' files (``../shared/data``)."""
    return _data_dir()


def _fresh_postgres(base_url: str) -> tuple[str, object]:
    """Create a throw-away database on the server at ``base_url``; return its URL and a dropper."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from gosplan.storage.base import normalise_url

    url = make_url(normalise_url(base_url))
    name = f"gosplan_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            terminate_connections(conn, name)
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


STORE_KINDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def store_url(kind: str, tmp_path: Path) -> Iterator[str]:
    """Yield an empty store of ``kind`` ("sqlite" or "postgres"), dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'gosplan-test.db'}"
        return
    base = os.environ.get("GOSPLAN_TEST_POSTGRES_URL")
    if not base:
        if os.environ.get("CI"):
            raise RuntimeError(
                "CI must provide GOSPLAN_TEST_POSTGRES_URL (see scripts/ci-services.sh)"
            )
        pytest.skip("no PostgreSQL server (set GOSPLAN_TEST_POSTGRES_URL)")
    url, drop = _fresh_postgres(base)
    try:
        yield url
    finally:
        drop()  # type: ignore[operator]


@pytest.fixture(params=STORE_KINDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty store: a SQLite file, and (second run) a fresh PostgreSQL database.

    PostgreSQL comes from ``GOSPLAN_TEST_POSTGRES_URL`` (``.ci/run`` starts a
    server on loopback and sets it).  In CI a missing server is a failure.
    """
    yield from store_url(request.param, tmp_path)


def terminate_connections(conn: Any, name: str) -> None:
    """End every other session connected to PostgreSQL database ``name``."""
    from sqlalchemy import text

    # only our own sessions: an autovacuum worker runs as a superuser, cannot be ended by
    # this role (InsufficientPrivilege), and leaves by itself when the database is dropped
    conn.execute(
        text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = :n AND pid <> pg_backend_pid() "
            "AND usename = current_user"
        ),
        {"n": name},
    )


def copy_postgres_template(conn: Any, target: str, template: str) -> None:
    """(Re)create PostgreSQL database ``target`` as a copy of ``template``.

    ``CREATE DATABASE … TEMPLATE`` fails while anything (autovacuum, a pooled
    connection) is connected to the template; then its sessions are ended and
    the copy is retried, for up to about five seconds.
    """
    import time

    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    conn.execute(text(f'DROP DATABASE IF EXISTS "{target}"'))
    for attempt in range(20):
        try:
            conn.execute(text(f'CREATE DATABASE "{target}" TEMPLATE "{template}"'))
            return
        except OperationalError:  # "source database is being accessed by others"
            if attempt == 19:
                raise
            terminate_connections(conn, template)
            time.sleep(0.25)


class MigratedTemplates:
    """One store per dialect migrated once a session; each test's store is a copy of it.

    Migrating runs every area's migrations (seconds); copying is a file copy for
    SQLite and ``CREATE DATABASE … TEMPLATE`` for PostgreSQL.  The PostgreSQL
    template refuses connections once made, so nothing (alembic's pooled
    connection, autovacuum) holds it open when a copy is taken; a copy that
    still finds it busy is retried.
    """

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.names: dict[str, str] = {}

    def copy_to(self, url: str, tmp_factory: pytest.TempPathFactory) -> None:
        """Make the (empty) store at ``url`` a copy of the migrated template."""
        import shutil
        import uuid

        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        from gosplan.storage.base import normalise_url, upgrade

        u = make_url(normalise_url(url))
        if u.get_backend_name() == "sqlite":
            if "sqlite" not in self.names:
                path = tmp_factory.mktemp(f"{self.tag}-template") / "template.db"
                upgrade(f"sqlite:///{path}")
                self.names["sqlite"] = str(path)
            shutil.copyfile(self.names["sqlite"], str(u.database))
            return
        admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                if "postgresql" not in self.names:
                    name = f"gosplan_{self.tag}_tpl_{uuid.uuid4().hex[:10]}"
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
                    upgrade(u.set(database=name).render_as_string(hide_password=False))
                    terminate_connections(conn, name)
                    conn.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false'))
                    self.names["postgresql"] = name
                copy_postgres_template(conn, str(u.database), self.names["postgresql"])
        finally:
            admin.dispose()

    def drop(self) -> None:
        """Drop the PostgreSQL template (SQLite's lives in pytest's temporary folder)."""
        from sqlalchemy import create_engine, text

        from gosplan.storage.base import normalise_url

        base = os.environ.get("GOSPLAN_TEST_POSTGRES_URL")
        name = self.names.pop("postgresql", None)
        if base and name:
            admin = create_engine(normalise_url(base), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            admin.dispose()
