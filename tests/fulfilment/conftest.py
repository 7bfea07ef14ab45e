"""Fixtures of the fulfilment tests: a migrated store per test (copied from a template).

Migrating runs every area's migrations (seconds), so each session migrates
one template per dialect and every test gets a copy of it in the place the
shared ``database_url`` fixture chose.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from gosplan.storage.base import make_engine
from tests.conftest import MigratedTemplates

_templates = MigratedTemplates("ful")


@pytest.fixture(scope="session")
def _template_cleanup() -> Iterator[None]:
    yield
    _templates.drop()


@pytest.fixture
def engine(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, _template_cleanup: None
) -> Iterator[Engine]:
    """An engine on a store migrated to the newest schema (all branches)."""
    _templates.copy_to(database_url, tmp_path_factory)
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def log_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Public-log signing key in ``tmp_path`` (never the working directory)."""
    path = tmp_path / "log.key"
    monkeypatch.setenv("GOSPLAN_LOG_KEY_PATH", str(path))
    return path
