"""A migrated store per test (copied from one template per dialect), with key files in tmp."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from gosplan.config import Settings
from gosplan.storage.base import make_engine
from tests.conftest import STORE_KINDS, MigratedTemplates, store_url

_templates = MigratedTemplates("integ")

#: tests that also run on PostgreSQL
POSTGRES_TOO = {
    "test_recompute_from_export_equals_the_served_record",
    "test_tampering_with_the_evidence_is_caught_by_the_log_check",
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database_url" in metafunc.fixturenames and metafunc.function.__name__ in POSTGRES_TOO:
        metafunc.parametrize("database_url", STORE_KINDS, indirect=True)


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from store_url(getattr(request, "param", "sqlite"), tmp_path)


@pytest.fixture(scope="session")
def _template_cleanup() -> Iterator[None]:
    yield
    _templates.drop()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        log_key_path=str(tmp_path / "log.key"),
        commission_key_path=str(tmp_path / "commission.key"),
    )


@pytest.fixture
def engine(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory, _template_cleanup: None
) -> Iterator[Engine]:
    _templates.copy_to(settings.database_url, tmp_path_factory)
    eng = make_engine(settings.database_url)
    yield eng
    eng.dispose()
