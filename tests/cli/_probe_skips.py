"""Run only by tests/cli/test_summary_line.py (in a pytest of its own): one skip of each kind."""

import pytest


def test_needs_postgres() -> None:
    pytest.skip("no PostgreSQL server (set GOSPLAN_TEST_POSTGRES_URL)")


def test_needs_chromium() -> None:
    pytest.skip("/usr/bin/chromium not present")


def test_needs_data(data_dir: object) -> None:
    pass


def test_runs() -> None:
    assert True
