"""Fixtures of the control tests: a migrated store and settings with temporary key files.

Migrating a store runs every area's migrations, which takes seconds; so each
session migrates one template per dialect and every test gets a copy of it
(a file copy for SQLite, ``CREATE DATABASE … TEMPLATE`` for PostgreSQL) in
the place the shared ``database_url`` fixture chose.
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

from gosplan.config import Settings
from gosplan.storage.base import make_engine, normalise_url, upgrade
from tests.conftest import STORE_KINDS, store_url

_templates: dict[str, str] = {}

#: tests that also run on PostgreSQL (SQL behaviour: triggers, locking, proofs from
#: stored hashes, the end-to-end receipt); the rest exercise dialect-free logic and run
#: on SQLite only, to keep the suite fast (a PostgreSQL store costs seconds to make)
POSTGRES_TOO = {
    "test_append_gives_consecutive_indices_and_matching_root",
    "test_rolled_back_append_leaves_no_trace",
    "test_proofs_from_store_verify_for_all_sizes",
    "test_triggers_refuse_update_and_delete",
    "test_verify_store_detects_tampering_behind_the_triggers",
    "test_concurrent_appenders_never_collide",
    "test_filed_criticism_is_in_the_log_with_a_receipt_that_verifies",
    "test_receipt_still_verifies_after_10000_later_entries",
    "test_receipt_fails_when_the_stored_criticism_was_tampered_with",
    "test_no_edit_or_delete_of_criticisms",
    "test_identity_is_sealed_and_every_access_is_logged",
    "test_demotion_of_a_critic_of_their_superior_is_flagged",
    "test_alerts_climb_when_not_resolved_and_close_with_a_resolution",
    "test_appointment_within_k_ties_is_flagged_with_the_path",
    "test_cliques_from_the_store",
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database_url" in metafunc.fixturenames and metafunc.function.__name__ in POSTGRES_TOO:
        metafunc.parametrize("database_url", STORE_KINDS, indirect=True)


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A SQLite store; PostgreSQL as well for the tests in ``POSTGRES_TOO``."""
    yield from store_url(getattr(request, "param", "sqlite"), tmp_path)


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
            path = tmp_factory.mktemp("control-template") / "template.db"
            upgrade(f"sqlite:///{path}")
            _templates["sqlite"] = str(path)
        shutil.copyfile(_templates["sqlite"], str(u.database))
        return
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        if "postgresql" not in _templates:
            name = f"gosplan_ctrl_tpl_{uuid.uuid4().hex[:10]}"
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            upgrade(u.set(database=name).render_as_string(hide_password=False))
            _templates["postgresql"] = name
        with admin.connect() as conn:
            # alembic's engine keeps a pooled connection to the template open
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :n AND pid <> pg_backend_pid()"),
                         {"n": _templates["postgresql"]})
            conn.execute(text(f'DROP DATABASE "{u.database}"'))
            conn.execute(text(f'CREATE DATABASE "{u.database}" TEMPLATE '
                              f'"{_templates["postgresql"]}"'))
    finally:
        admin.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings on the test store, with log and commission keys in ``tmp_path``."""
    return Settings(database_url=database_url, log_key_path=str(tmp_path / "log.key"),
                    commission_key_path=str(tmp_path / "commission.key"))


@pytest.fixture
def engine(settings: Settings, tmp_path_factory: pytest.TempPathFactory,
           _template_cleanup: None) -> Iterator[Engine]:
    """An engine on a store migrated to the newest schema (all branches)."""
    _migrated_copy(settings.database_url, tmp_path_factory)
    eng = make_engine(settings.database_url)
    yield eng
    eng.dispose()
