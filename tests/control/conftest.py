"""Fixtures of the control tests: a migrated store and settings with temporary key files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from gosplan.config import Settings
from gosplan.storage.base import make_engine, upgrade


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings on the test store, with log and commission keys in ``tmp_path``."""
    return Settings(database_url=database_url, log_key_path=str(tmp_path / "log.key"),
                    commission_key_path=str(tmp_path / "commission.key"))


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    """An engine on a store migrated to the newest schema (all branches)."""
    upgrade(settings.database_url)
    eng = make_engine(settings.database_url)
    yield eng
    eng.dispose()
