"""The test command's last line says what was not run, why, and how to run it all."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_last_line_names_every_skip_and_how_to_run_them(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "GOSPLAN_TEST_POSTGRES_URL")}
    env["GOSPLAN_DATA"] = str(tmp_path / "no-data-here")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            str(ROOT / "tests" / "cli" / "_probe_skips.py"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("NOT RUN: 3 tests skipped"), last
    assert "1 needs PostgreSQL" in last
    assert "1 needs Chromium" in last
    assert f"1 needs the data folder {tmp_path / 'no-data-here'}" in last
    assert "scripts/ci-services.sh" in last and ".ci/run" in last


def test_nothing_is_said_when_nothing_is_skipped() -> None:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-n",
            "0",  # one test: no workers to start (the line above is checked with them)
            str(ROOT / "tests" / "cli" / "_probe_skips.py") + "::test_runs",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "NOT RUN" not in proc.stdout
