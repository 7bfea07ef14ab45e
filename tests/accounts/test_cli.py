"""End to end from the command line on the default economy (Brazil, IBGE).

A workforce's hours are recorded and approved, goods bought, the period
closed, the feedback report produced and the next plan's targets adjusted.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from gosplan.cli import main
from gosplan.services.accounts import Accounts


def _ok(runner: CliRunner, *args: str, raw: bool = False) -> str:
    """Run `gosplan accounts ARGS`; its output with the console's line wrapping undone."""
    res = runner.invoke(main, ["accounts", *args], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.output if raw else " ".join(res.output.split())


def test_a_period_end_to_end_on_the_default_economy(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'gosplan.db'}"
    runner = CliRunner()
    workforce = {f"w{i:02d}": Decimal(150 + 5 * i) for i in range(12)}
    _ok(runner, "open", "person", *workforce, "--db", db)
    _ok(runner, "open", "enterprise", "steelworks", "--db", db)
    out = _ok(runner, "period", "open", "2027-01", "--source", "default", "--db", db)
    assert "deduction" in out and "% for social funds" in out
    out = _ok(
        runner, "catalogue", "load", "--source", "default", "--personal-hours", "800", "--db", db
    )
    assert (
        "listed 104 goods from default" in out
    )  # 128 products at 68 activities; 24 free or unsold
    hours = tmp_path / "hours.csv"
    hours.write_text("person,hours\n" + "".join(f"{p},{h}\n" for p, h in workforce.items()))
    _ok(runner, "member", "add", "steelworks", *workforce, "--by", "registry", "--db", db)
    out = _ok(
        runner,
        "record",
        "steelworks",
        "--period",
        "2027-01",
        "--csv",
        str(hours),
        "--by",
        "delegate",
        "--key",
        "rec-1",
        "--db",
        db,
    )
    assert "recorded 12 record(s), 2,130 h" in out
    recs = json.loads(_ok(runner, "work", "2027-01", "--json", "--db", db, raw=True))
    assert [r["status"] for r in recs] == ["recorded"] * 12
    _ok(
        runner,
        "approve",
        *[str(r["id"]) for r in recs],
        "--as",
        "planner",
        "--key",
        "ap-1",
        "--db",
        db,
    )

    acc = Accounts.open(db)
    stock = acc.catalogue()["stock"]
    food = "servicos-alimentacao"
    # sell out one good, sell a little of another
    buyers = iter(workforce)
    left = int(stock[food])
    while left:
        q = min(left, 25)
        _ok(runner, "buy", next(buyers), food, str(q), "--key", f"food-{left}", "--db", db)
        left -= q
    _ok(runner, "buy", "w11", "artigos-vestuario", "1", "--key", "ind-1", "--db", db)
    # a retried command with the same key posts once
    again = _ok(runner, "buy", "w11", "artigos-vestuario", "1", "--key", "ind-1", "--db", db)
    assert "(already bought)" in again
    assert acc.good("artigos-vestuario").stock == int(stock["artigos-vestuario"]) - 1

    out = _ok(runner, "statement", "w11", "--csv", "-", "--db", db, raw=True)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["kind"] for r in rows] == ["work", "purchase"]
    assert rows[0]["deduction_rate"] and rows[0]["deduction_shares"]

    out = _ok(runner, "period", "close", "2027-01", "--db", db)
    assert "approved 2130.000000 h" in out
    targets_csv = tmp_path / "targets.csv"
    out = _ok(
        runner,
        "feedback",
        "2027-01",
        "--source",
        "default",
        "--csv",
        str(targets_csv),
        "--apply",
        "--db",
        db,
    )
    assert "next plan: personal-consumption targets of Brazil" in out
    targets = pd.read_csv(targets_csv, index_col="product")
    food_product = acc.good(food).product
    assert food_product is not None
    nxt, cur = targets["next_target"], targets["current_target"]
    assert float(nxt[food_product]) == pytest.approx(
        1.25 * float(cur[food_product])
    )  # sold out: up by the full step
    ind = acc.good("artigos-vestuario").product
    assert ind is not None
    assert float(nxt[ind]) < float(cur[ind])
    goods = pd.read_csv(targets_csv.with_suffix(".goods.csv"), index_col="good")
    assert bool(goods.loc[food, "censored"])
    # --apply moved prices to the clearing ratios
    assert acc.good(food).ratio == Decimal("1.25")
    out = _ok(runner, "check", "--db", db)
    assert "ledger consistent" in out
    totals = acc.period("2027-01").summary["totals_hours"]  # type: ignore[index]
    assert Decimal(totals["credited_persons"]) + Decimal(totals["credited_funds"]) == 2130
    acc.close()

    # the next plan takes the adjusted targets: `[targets] feedback = FILE`
    from gosplan.services.plan_runs import load_config, run_config

    toml = tmp_path / "next-plan.toml"
    toml.write_text(
        '[economy]\nsource = "default"\n[plan]\nmode = "leontief"\n'
        '[targets]\nfeedback = "targets.csv"\n'
    )
    base = tmp_path / "base-plan.toml"
    base.write_text('[economy]\nsource = "default"\n[plan]\nmode = "leontief"\n')
    adjusted = run_config(load_config(toml)).first_year
    before = run_config(load_config(base)).first_year
    personal_next = adjusted.targets["personal"]
    personal_now = before.targets["personal"]
    assert float(personal_now[food_product]) == pytest.approx(float(cur[food_product]))
    assert float(personal_next[food_product]) == pytest.approx(float(nxt[food_product]))
    assert float(personal_next[ind]) == pytest.approx(float(nxt[ind]))
    # every other purpose is untouched, and the plan says what it did
    others = [c for c in adjusted.targets.columns if c != "personal"]
    pd.testing.assert_frame_equal(adjusted.targets[others], before.targets[others])
    assert any("market feedback (targets.csv)" in n for n in adjusted.notes)
    res = runner.invoke(
        main, ["plan", str(toml), "--out", str(tmp_path / "plan-out")], catch_exceptions=False
    )
    assert res.exit_code == 0, res.output
    assert "market feedback" in " ".join(res.output.split())


def test_cli_errors_are_clean(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'gosplan.db'}"
    runner = CliRunner()
    res = runner.invoke(main, ["accounts", "buy", "nobody", "bread", "--key", "k", "--db", db])
    assert res.exit_code == 1
    out = " ".join(res.output.split())
    assert "No period is open: cannot buy good 'bread' for 'nobody'" in out
    assert "Traceback" not in out
    res = runner.invoke(
        main,
        ["accounts", "period", "open", "p", "--rate", "0.2", "--share", "health=0.7", "--db", db],
    )
    assert res.exit_code == 1 and "must sum to 1; they sum to 0.7" in " ".join(res.output.split())


def test_separation_of_duties_from_the_command_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'gosplan.db'}"
    runner = CliRunner()
    _ok(runner, "open", "person", "ana", "dan", "--db", db)
    _ok(runner, "open", "enterprise", "mill", "--db", db)
    _ok(runner, "period", "open", "2027-01", "--rate", "0.3", "--share", "health=1", "--db", db)
    res = runner.invoke(
        main,
        [
            "accounts",
            "record",
            "mill",
            "--period",
            "2027-01",
            "--person",
            "ana",
            "--hours",
            "8",
            "--by",
            "carla",
            "--db",
            db,
        ],
    )
    assert res.exit_code == 1 and "'ana' is not a member of enterprise 'mill'" in res.output
    _ok(runner, "member", "add", "mill", "ana", "dan", "--by", "registry", "--db", db)
    assert json.loads(_ok(runner, "member", "list", "mill", "--json", "--db", db, raw=True)) == [
        "ana",
        "dan",
    ]
    _ok(
        runner,
        "record",
        "mill",
        "--period",
        "2027-01",
        "--person",
        "dan",
        "--hours",
        "9",
        "--by",
        "carla",
        "--key",
        "r1",
        "--db",
        db,
    )
    res = runner.invoke(
        main,
        [
            "accounts",
            "record",
            "mill",
            "--period",
            "2027-01",
            "--person",
            "dan",
            "--hours",
            "9999",
            "--by",
            "carla",
            "--db",
            db,
        ],
    )
    assert res.exit_code == 1 and "over the cap of 300" in " ".join(res.output.split())
    rid = str(json.loads(_ok(runner, "work", "2027-01", "--json", "--db", db, raw=True))[0]["id"])
    for actor in (["--as", "dan"], ["--as", "planner", "--account", "dan"], ["--as", "carla"]):
        res = runner.invoke(main, ["accounts", "approve", rid, *actor, "--key", "a", "--db", db])
        assert res.exit_code == 1, res.output
        assert "cannot approve work record(s)" in " ".join(res.output.split())
    out = json.loads(
        _ok(
            runner,
            "reject",
            rid,
            "--reason",
            "dan was away",
            "--as",
            "eva",
            "--json",
            "--key",
            "rj",
            "--db",
            db,
            raw=True,
        )
    )
    assert (out["status"], out["decided_by"], out["reason"]) == ("rejected", "eva", "dan was away")
    res = runner.invoke(main, ["accounts", "reconcile", "2027-01", "--json", "--db", db])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["success"] is True
