"""Fixtures of the fulfilment tests: a migrated store per test (copied from a template).

Migrating runs every area's migrations (seconds), so each session migrates
one template per dialect and every test gets a copy of it in the place the
shared ``database_url`` fixture chose.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from gosplan.storage.base import make_engine, normalise_url, upgrade

_templates: dict[str, str] = {}


@pytest.fixture(scope="session")
def _template_cleanup() -> Iterator[None]:
    yield
    base = os.environ.get("GOSPLAN_TEST_POSTGRES_URL")
    name = _templates.get("postgresql")
    if base and name:
        admin = create_engine(normalise_url(base), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def _migrated_copy(url: str, tmp_factory: pytest.TempPathFactory) -> None:
    u = make_url(normalise_url(url))
    if u.get_backend_name() == "sqlite":
        if "sqlite" not in _templates:
            path = tmp_factory.mktemp("fulfilment-template") / "template.db"
            upgrade(f"sqlite:///{path}")
            _templates["sqlite"] = str(path)
        shutil.copyfile(_templates["sqlite"], str(u.database))
        return
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        if "postgresql" not in _templates:
            name = f"gosplan_ful_tpl_{uuid.uuid4().hex[:10]}"
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            upgrade(u.set(database=name).render_as_string(hide_password=False))
            _templates["postgresql"] = name
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :n AND pid <> pg_backend_pid()"),
                         {"n": _templates["postgresql"]})
            conn.execute(text(f'DROP DATABASE "{u.database}"'))
            conn.execute(text(f'CREATE DATABASE "{u.database}" TEMPLATE '
                              f'"{_templates["postgresql"]}"'))
    finally:
        admin.dispose()


@pytest.fixture
def engine(database_url: str, tmp_path_factory: pytest.TempPathFactory,
           _template_cleanup: None) -> Iterator[Engine]:
    """An engine on a store migrated to the newest schema (all branches)."""
    _migrated_copy(database_url, tmp_path_factory)
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def log_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Public-log signing key in ``tmp_path`` (never the working directory)."""
    path = tmp_path / "log.key"
    monkeypatch.setenv("GOSPLAN_LOG_KEY_PATH", str(path))
    return path
