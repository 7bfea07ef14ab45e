"""Fixtures of the control tests: a migrated store and settings with temporary key files.

Migrating a store runs every area's migrations, which takes seconds; so each
session migrates one template per dialect and every test gets a copy of it
(a file copy for SQLite, ``CREATE DATABASE … TEMPLATE`` for PostgreSQL) in
the place the shared ``database_url`` fixture chose.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from gosplan.config import Settings
from gosplan.storage.base import make_engine
from tests.conftest import STORE_KINDS, MigratedTemplates, store_url

_templates = MigratedTemplates("ctrl")

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
    "test_criticisms_filed_at_once_from_threads_keep_log_and_rows_together",
    "test_filed_criticism_is_in_the_log_with_a_receipt_that_verifies",
    "test_receipt_still_verifies_after_10000_later_entries",
    "test_receipt_fails_when_the_stored_criticism_was_tampered_with",
    "test_no_edit_or_delete_of_criticisms",
    "test_identity_is_sealed_and_every_access_is_logged",
    "test_demotion_of_a_critic_of_their_superior_is_flagged",
    "test_alerts_climb_when_not_resolved_and_close_with_a_resolution",
    "test_appointment_within_k_ties_is_flagged_with_the_path",
    "test_cliques_from_the_store",
    "test_rewritten_alerts_are_named",
    "test_hours_credited_behind_the_log_are_named",
    "test_a_rewritten_plan_target_is_named",
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
    _templates.drop()


MEMBERS = ("Ivanova", "Petrov", "Sidorova")


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings on the test store, with the log key and the commission's public roster in
    ``tmp_path``; the members' share files are in ``tmp_path / "shares"`` (2 of 3)."""
    from gosplan.services import commission

    commission.keygen(
        tmp_path / "shares", MEMBERS, threshold=2, public_path=tmp_path / "commission.pub"
    )
    return Settings(
        database_url=database_url,
        log_key_path=str(tmp_path / "log.key"),
        commission_key_path=str(tmp_path / "commission.pub"),
        watch_key_path=str(tmp_path / "watch.key"),
    )


@pytest.fixture
def engine(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory, _template_cleanup: None
) -> Iterator[Engine]:
    """An engine on a store migrated to the newest schema (all branches)."""
    _templates.copy_to(settings.database_url, tmp_path_factory)
    eng = make_engine(settings.database_url)
    yield eng
    eng.dispose()


def in_threads(n: int, work: Callable[[int], object]) -> None:
    """Run ``work(0)`` … ``work(n - 1)`` on ``n`` threads at once; re-raise the first error."""
    import threading

    errors: list[BaseException] = []
    start = threading.Barrier(n)

    def run(w: int) -> None:
        try:
            start.wait()
            work(w)
        except BaseException as exc:  # re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
