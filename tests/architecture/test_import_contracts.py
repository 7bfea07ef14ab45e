"""The import contracts of ``pyproject.toml`` (``[tool.importlinter]``) hold.

The layers (docs/architecture.md) are: core <- readers | analysis | planning
<- storage <- services <- cli | web.  ``lint-imports`` checks them statically;
these tests run it on this tree and on a copy with one wrong arrow added, so
a broken contract fails here and the check itself is known to bite.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

_RUN = (
    "import sys\n"
    "from importlinter.cli import lint_imports\n"
    "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))\n"
)


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    """Run import-linter on the ``gosplan`` package under ``root/src``."""
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    return subprocess.run(
        [sys.executable, "-c", _RUN],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_contracts_hold() -> None:
    res = _lint(ROOT)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "BROKEN" not in res.stdout
    assert "0 broken" in res.stdout


@pytest.mark.parametrize(
    ("module", "wrong_import", "contract"),
    [
        ("core/values.py", "import gosplan.storage.base", "The core imports nothing above it"),
        ("planning/targets.py", "import gosplan.services.users", "Layers"),
        ("storage/base.py", "import gosplan.web.app", "Layers"),
        ("planning/problem.py", "import gosplan.planning.targets", "No import cycles"),
    ],
)
def test_a_wrong_arrow_breaks_a_contract(
    tmp_path: Path, module: str, wrong_import: str, contract: str
) -> None:
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(
        ROOT / "src" / "gosplan",
        tmp_path / "src" / "gosplan",
        ignore=shutil.ignore_patterns("__pycache__", "static", "templates"),
    )
    target = tmp_path / "src" / "gosplan" / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{wrong_import}\n", encoding="utf-8")
    res = _lint(tmp_path)
    assert res.returncode == 1, res.stdout + res.stderr
    assert f"{contract}" in res.stdout and "BROKEN" in res.stdout, res.stdout
