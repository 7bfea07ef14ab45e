"""End to end from the command line on a population built from a real table (WIOD GBR 2010)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from gosplan.cli import main

pytestmark = pytest.mark.shared_data


def run(runner: CliRunner, *args: str) -> str:
    res = runner.invoke(main, list(args), catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.output


def test_simulate_check_escalate_from_the_cli(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOSPLAN_LOG_KEY_PATH", str(tmp_path / "log.key"))
    monkeypatch.setenv("COLUMNS", "200")
    db = f"sqlite:///{tmp_path / 'g.db'}"
    wiod = str(data_dir / "wiod-2016" / "GBR_NIOT_nov16.xlsx")
    runner = CliRunner()
    out = run(
        runner,
        "fulfilment",
        "simulate",
        "--source",
        wiod,
        "--year",
        "2010",
        "--enterprises",
        "160",
        "--periods",
        "12",
        "--fault-share",
        "0.15",
        "--out",
        str(tmp_path / "sim"),
        "--store",
        "--db",
        db,
        "--now",
        "2011-01-01",
    )
    assert "160 enterprises in 55 sectors of GBR 2010" in out
    assert re.search(r"honest enterprise-periods", out)
    faults = pd.read_csv(tmp_path / "sim" / "faults.csv")
    assert len(faults) == 24
    stored = int(re.search(r"and ([\d,]+) reports", out).group(1).replace(",", ""))  # type: ignore[union-attr]
    # the simulated store is a cache of its log like any other: the plan is logged as adopted
    # and every report batch recomputes from its rows
    verified = CliRunner().invoke(main, ["log", "verify", "--store", "--json", "--db", db])
    assert verified.exit_code == 0, verified.output
    checked = json.loads(verified.output)["state"]["checked"]
    assert checked["fulfilment reports"] == stored
    # the same file again changes nothing
    out = run(
        runner,
        "fulfilment",
        "ingest",
        str(tmp_path / "sim" / "reports.csv"),
        "--db",
        db,
        "--now",
        "2011-01-01",
    )
    assert f"0 new, 0 corrected (new version), {stored} unchanged" in out
    # a run in February sees the weeks begun by then, as JSON, and nothing later
    flags = json.loads(
        run(
            runner,
            "fulfilment",
            "check",
            "--json",
            "--no-alerts",
            "--db",
            db,
            "--now",
            "2010-02-01",
        )
    )
    assert flags and max(f["week"] for f in flags) <= "2010-02-01"
    assert all(set(f) >= {"enterprise", "check", "week", "evidence", "route"} for f in flags)
    # checks: flags, fulfilment by sector, alerts on the first rung
    flags = json.loads(
        run(runner, "fulfilment", "check", "--db", db, "--now", "2010-04-05", "--json")
    )
    assert flags and {f["route"] for f in flags} <= {"inspection", "help", "information"}
    opened = len(
        json.loads(run(runner, "fulfilment", "alerts", "--json", "--db", db, "--now", "2010-04-05"))
    )
    assert opened > 0
    out = run(runner, "fulfilment", "alerts", "--db", db, "--now", "2010-04-05")
    assert "items by level: 1 enterprise:" in out
    # machine-readable: every open alert with enterprise, check, route, weeks and evidence
    items = json.loads(
        run(runner, "fulfilment", "alerts", "--json", "--db", db, "--now", "2010-04-05")
    )
    assert len(items) == opened and {i["level"] for i in items} == {1}
    assert all(i["enterprise"] and i["check"] and i["weeks"] for i in items)
    # inspection starts with the enterprise's council, help with the sector's supply body
    assert {(i["route"], i["level_name"]) for i in items} <= {
        ("inspection", "enterprise"),
        ("help", "supply"),
    }
    csv_rows = pd.read_csv(
        io.StringIO(run(runner, "fulfilment", "alerts", "--csv", "--db", db, "--now", "2010-04-05"))
    )
    assert list(csv_rows["id"]) == [i["id"] for i in items]
    # a second check opens nothing new for the same flags
    out = run(
        runner,
        "fulfilment",
        "check",
        "--db",
        db,
        "--now",
        "2010-04-06",
        "--chart",
        str(tmp_path / "f.png"),
    )
    assert "0 alert(s) opened" in out
    assert (tmp_path / "f.png").stat().st_size > 10_000

    # resolve one in time; the rest climb when their week is up
    run(
        runner,
        "fulfilment",
        "alerts",
        "--db",
        db,
        "--now",
        "2010-04-08",
        "--resolve",
        "1",
        "--by",
        "workers' council",
        "--resolution",
        "recounted the stock",
    )
    out = run(runner, "fulfilment", "tick", "--db", db, "--now", "2010-04-13")
    assert f"{opened - 1} item(s) climbed" in out
    run(
        runner,
        "fulfilment",
        "alerts",
        "--db",
        db,
        "--now",
        "2010-04-13",
        "--all",
        "--chart",
        str(tmp_path / "ladder.png"),
    )
    assert (tmp_path / "ladder.png").exists()
    items = json.loads(
        run(runner, "fulfilment", "alerts", "--json", "--db", db, "--now", "2010-04-13")
    )
    assert len(items) == opened - 1 and {i["level"] for i in items} == {2}
    assert {i["level_name"] for i in items} <= {"sector", "planning"}
    # a directive with a deadline climbs the same way
    code = faults["code"].iloc[0]
    out = run(
        runner,
        "fulfilment",
        "directive",
        code,
        "repair the kiln",
        "--days",
        "3",
        "--db",
        db,
        "--now",
        "2010-04-13",
    )
    assert f"workers' council and management of {code}" in out
    out = run(runner, "fulfilment", "tick", "--db", db, "--now", "2010-04-17")
    assert f"directive {opened + 1} on enterprise {code}: now level 2" in out


def test_bad_reports_file_is_refused(data_dir: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'g.db'}"
    runner = CliRunner()
    run(
        runner,
        "fulfilment",
        "simulate",
        "--source",
        str(data_dir / "wiod-2016" / "GBR_NIOT_nov16.xlsx"),
        "--year",
        "2010",
        "--enterprises",
        "120",
        "--periods",
        "8",
        "--store",
        "--db",
        db,
        "--now",
        "2011-01-01",
    )
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "enterprise,period,kind,quantity,counterparty\n"
        "E000001,2010-01-04,output,-3,\nE000001,2010-01-04,hours,2,\n"
        "E000001,2010-01-04,input,1,E999999\n"
    )
    res = runner.invoke(main, ["fulfilment", "ingest", str(bad), "--db", db])
    assert res.exit_code == 1
    assert "line 2: report of enterprise 'E000001' for period 2010-01-04" in res.output
    assert "-3 is negative" in res.output and "supplier 'E999999' does not exist" in res.output
