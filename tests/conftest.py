"""Shared fixtures.

Real data from ``../shared/data`` is read in place (``GOSPLAN_DATA`` overrides
the folder).  Outside CI a missing folder skips those tests; in CI it fails,
so a test can never pass by being skipped there.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("GOSPLAN_DATA", ROOT.parent / "shared" / "data")).resolve()


def _data_dir() -> Path:
    if DATA.is_dir():
        return DATA
    if os.environ.get("CI"):
        raise RuntimeError(f"CI must have the shared data folder at {DATA}")
    pytest.skip(f"shared data folder {DATA} not present")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The folder of real publishers' files (``../shared/data``)."""
    return _data_dir()
