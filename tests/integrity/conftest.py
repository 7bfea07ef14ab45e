"""The control tests' store fixtures (a migrated template copied per test), reused here."""

from __future__ import annotations

import pytest

from tests.conftest import STORE_KINDS
from tests.control.conftest import _template_cleanup, database_url, engine, settings

__all__ = ["_template_cleanup", "database_url", "engine", "settings"]

#: tests that also run on PostgreSQL
POSTGRES_TOO = {
    "test_recompute_from_export_equals_the_served_record",
    "test_tampering_with_the_evidence_is_caught_by_the_log_check",
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database_url" in metafunc.fixturenames and metafunc.function.__name__ in POSTGRES_TOO:
        metafunc.parametrize("database_url", STORE_KINDS, indirect=True)
