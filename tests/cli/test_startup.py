"""A lean start: ``gosplan --help`` imports no heavy module, and a missing extra is named."""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import gosplan.cli
from gosplan.cli import COMMANDS, main

ROOT = Path(__file__).resolve().parents[2]
HEAVY = [
    "numba",
    "dask",
    "distributed",
    "statsmodels",
    "matplotlib",
    "highspy",
    "scipy.optimize",
    "pandas",
    "sqlalchemy",
    "fastapi",
    "rich",
]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    return env


def _modules_after(*argv: str) -> tuple[str, set[str]]:
    code = (
        "import json, runpy, sys\n"
        f"sys.argv = ['gosplan', *{list(argv)!r}]\n"
        "try:\n"
        "    runpy.run_module('gosplan', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stderr.write('\\nMODULES ' + json.dumps(sorted(sys.modules)))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    mods = json.loads(proc.stderr.rsplit("MODULES ", 1)[1])
    return proc.stdout, set(mods)


def test_help_imports_no_heavy_module() -> None:
    out, mods = _modules_after("--help")
    assert "Commands:" in out and "values" in out
    assert sorted(m for m in HEAVY if m in mods) == []


def test_a_group_help_imports_only_its_own_module() -> None:
    out, mods = _modules_after("db", "--help")
    assert "upgrade" in out
    assert "gosplan.cli.db" in mods
    assert "gosplan.cli.values" not in mods and "numba" not in mods


def test_the_command_table_matches_the_commands() -> None:
    """Every command module is listed, and each listed line is the command's own help."""
    ctx = click.Context(main)
    for name, (module, attr, line) in COMMANDS.items():
        cmd = getattr(importlib.import_module(f"gosplan.cli.{module}"), attr)
        assert isinstance(cmd, click.Command) and cmd.name == name
        own = " ".join((cmd.help or "").split("\n\n")[0].split()).replace("`", "'")
        assert own.split()[:5] == line.split()[:5], (name, own, line)
        assert main.get_command(ctx, name) is cmd
    defined = set()
    for info in pkgutil.iter_modules(gosplan.cli.__path__):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"gosplan.cli.{info.name}")
        for cmd in getattr(mod, "COMMANDS", [getattr(mod, "command", None)]):
            if isinstance(cmd, click.Command):
                defined.add(cmd.name)
    assert defined == set(COMMANDS)


def test_a_missing_extra_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "e.npz"
    r = CliRunner().invoke(main, ["synth", "600", "--out", str(out), "--chunk", "600"])
    assert r.exit_code == 0, r.output
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    r = CliRunner().invoke(main, ["synth-values", str(out), "--local-workers", "1"])
    assert r.exit_code == 1
    assert "pip install 'gosplan[distributed]'" in r.output
    assert "Traceback" not in r.output


def test_get_renders_a_page_without_httpx(tmp_path: Path) -> None:
    """``gosplan get`` works on the default install, which has no HTTP client: a page,
    then a path with no page (exit 1), in one process (the start-up is paid once)."""
    url = f"sqlite:///{tmp_path / 'g.db'}"
    code = (
        "import sys\n"
        "sys.modules['httpx'] = None\n"  # as if not installed
        "from gosplan.cli import main\n"
        "codes = []\n"
        "for path in ('/economy.json', '/no-such'):\n"
        "    try:\n"
        f"        main(['get', path, '--db', {url!r}])\n"
        "    except SystemExit as exc:\n"
        "        codes.append(exc.code or 0)\n"
        "    print('\\x1e', flush=True)\n"  # a record separator between the two answers
        "print(codes)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env=_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    page, missing, codes = proc.stdout.split("\x1e")
    assert codes.strip() == "[0, 1]", (codes, proc.stderr)
    answer = json.loads(page)
    assert answer["ok"] is True and answer["products"] == 128
    assert json.loads(missing)["error"] == "Not Found"


def test_help_texts_are_plain_text() -> None:
    """Click prints help as it is: no reST/Markdown backticks, no "(s)" plurals."""
    ctx = click.Context(main)
    bad: list[str] = []

    def walk(cmd: click.Command, path: str) -> None:
        for text in [cmd.help or "", *(getattr(p, "help", None) or "" for p in cmd.params)]:
            if "`" in text or "(s)" in text:
                bad.append(f"{path}: {text[:80]}")
        if isinstance(cmd, click.Group):
            for name, sub in cmd.commands.items():
                walk(sub, f"{path} {name}")

    for name in COMMANDS:
        cmd = main.get_command(ctx, name)
        assert cmd is not None
        walk(cmd, name)
    assert bad == []
