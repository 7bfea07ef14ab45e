"""The command line's output holds at any width: piped it is never wrapped or cut,
tables become tab-separated lines; on a terminal it wraps at COLUMNS; --json, --csv -
and --quiet give data alone on standard output."""

from __future__ import annotations

import io
import json
import re

import pytest
from click.testing import CliRunner

from gosplan.cli import main
from gosplan.cli._common import make_console, table_as_tsv

LONG = "Agricultura, pecuária, produção florestal, pesca e aquicultura"  # 62 characters
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture(params=[40, 80, 200])
def width(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """The suite's widths, set per test (the console is made per invocation)."""
    monkeypatch.setenv("COLUMNS", str(request.param))
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    return int(request.param)


def values(*args: str) -> str:
    r = CliRunner().invoke(main, ["values", "ibge:2021:20", *args])
    assert r.exit_code == 0, r.output + repr(r.exception)
    return r.output


def test_piped_output_is_neither_wrapped_nor_cut(width: int) -> None:
    out = values("--top", "10")
    lines = out.splitlines()
    assert any(
        line.startswith("method direct (sparse LU), 1 iteration, relative residual")
        and "unit: persons employed (jobs) per BRL million" in line
        for line in lines
    )
    rows = [line.split("\t") for line in lines if "\t" in line]
    assert rows[0] == ["product", "labour value", "direct share"]
    assert len(rows) == 21 and all(len(r) == 3 for r in rows)
    assert [LONG, "15.8263", "76%"] in rows
    assert not ANSI.search(out) and "━" not in out


def test_a_terminal_wraps_at_columns(monkeypatch: pytest.MonkeyPatch, width: int) -> None:
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # Rich's switch: treat the output as a terminal
    monkeypatch.setenv("NO_COLOR", "1")
    out = ANSI.sub("", values("--top", "10"))
    assert max(len(line) for line in out.splitlines()) <= width
    assert "┃" in out  # a drawn table
    if width >= 200:
        assert LONG in out


def test_json_and_csv_dash_put_data_alone_on_stdout(width: int) -> None:
    data = json.loads(values("--json"))
    assert data["products"] == 20 and data["economy"] == "Brazil"
    assert data["values"][LONG] == pytest.approx(15.8263, rel=1e-5)
    csv = values("--csv", "-")
    lines = csv.splitlines()
    assert lines[0].startswith("product,labour value")
    assert len(lines) == 21 and f'"{LONG}",15.826' in csv


def test_csv_dash_writes_no_file(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    values("--csv", "-")
    assert list(tmp_path.iterdir()) == []


def test_quiet_prints_only_what_was_asked_for(tmp_path, width: int) -> None:  # type: ignore[no-untyped-def]
    csv = tmp_path / "v.csv"
    r = CliRunner().invoke(main, ["--quiet", "values", "ibge:2021:20", "--csv", str(csv)])
    assert r.exit_code == 0 and r.output == ""
    assert csv.stat().st_size > 0
    r = CliRunner().invoke(main, ["-q", "values", "ibge:2021:20", "--json"])
    assert json.loads(r.output)["products"] == 20


def test_table_as_tsv_drops_markup() -> None:
    from rich.table import Table

    t = Table(title="[bold]t[/bold]")
    t.add_column("a")
    t.add_column("b")
    t.add_row("[red]x[/red]", "y\tz")
    assert table_as_tsv(t) == "t\na\tb\nx\ty z"


def test_console_reads_the_environment_when_made(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdout", io.StringIO())
    monkeypatch.setenv("COLUMNS", "40")
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    assert make_console().width == 40
    monkeypatch.setenv("COLUMNS", "200")
    assert make_console().width == 200
    monkeypatch.setenv("TTY_COMPATIBLE", "0")
    piped = make_console()
    assert not piped.is_terminal and piped.soft_wrap and piped.no_color


def test_analyse_csv_dash_is_standard_output(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(main, ["analyse", "ibge:2021:20", "--csv", "-"])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0].startswith("product,price of output") and len(lines) == 21
    assert list(tmp_path.iterdir()) == []
