"""The living plan on small runs: conservation, determinism, hand-computed clearing,
convergence beside the open loop, a shock answered, a vote that caps the week, cheats found."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from gosplan.core.values import labour_values
from gosplan.errors import ValidationError
from gosplan.services.living_plan import LivingPlanRun, Scenario, load_scenario, run
from tests.web.conftest import small_economy_dir


@pytest.fixture(scope="module")
def testland(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_economy_dir(tmp_path_factory.mktemp("testland"))


def _run(sc: Scenario, folder: Path) -> LivingPlanRun:
    twin = f"sqlite:///{folder / 'twin.db'}" if sc.open_loop else None
    return run(sc, f"sqlite:///{folder / 'loop.db'}", twin_url=twin)


BASE = dict(persons=20, enterprises=3, periods=6, seed=7, concentration=1e6, unable_share=0.1)


def test_conservation_and_determinism(testland: Path, tmp_path: Path) -> None:
    sc = Scenario(name="t", source=str(testland), taste_fraction=0.3, **BASE)  # type: ignore[arg-type]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one, two = _run(sc, tmp_path / "a"), _run(sc, tmp_path / "b")
    for side in ("loop", "open-loop"):
        checks = one.checks[side]
        assert checks["ledger_problems"] == []
        assert checks["stocks_balance"] and checks["no_negative_balance"]
        assert checks["hours_credited_equal_hours_less_deduction"]
        assert checks["balances_equal_credits_less_purchases"]
        assert checks["grants_debit_the_fund_by_what_persons_receive"]
    pd.testing.assert_frame_equal(one.periods, two.periods)
    pd.testing.assert_frame_equal(one.sold, two.sold)
    # what was bought never exceeds what the shops had, and nobody spent more than credited
    p = one.side("loop")
    assert (p["spent"] <= (p["credited"] + p["granted"]).cumsum() + 1e-6).all()
    assert len(one.log_indices) == 1 + sc.periods


def test_first_period_clearing_ratios_match_the_hand_computation(
    testland: Path, tmp_path: Path
) -> None:
    """Cobb–Douglas households with identical tastes α spend α·B on each good; with S units
    on the shelves at ratio 1 and a target sell-through of 90 %, the clearing ratio is
    r = α·B / (0.9 · S · v) for every good that did not sell out (clamped to ±25 %)."""
    from gosplan.readers.registry import open_source

    sc = Scenario(
        name="hand",
        source=str(testland),
        taste_goods=(("Grain", 1.3),),
        open_loop=False,
        **{**BASE, "periods": 2},
    )  # type: ignore[arg-type]
    res = _run(sc, tmp_path)
    eco = open_source(str(testland))
    # by hand: each good's share of spending is personal consumption (TL million) × its
    # labour value (hours per TL million), and Grain is wanted 30 % more
    v = labour_values(eco).values
    personal = pd.Series([95.0, 140.0, 20.0], index=["Grain", "Textiles", "Health care"])
    alpha = personal * v.reindex(personal.index)
    alpha["Grain"] *= 1.3
    alpha /= alpha.sum()
    goods = res.goods.set_index("product")
    first = res.side("loop").iloc[0]
    budget = first["credited"] + first["granted"]  # all anyone holds in the first period
    r2 = res.ratios.iloc[1]  # the second period's ratio is the first's clearing ratio
    grain = goods.loc["Grain", "code"]
    # Grain sold out (wanted 30 % more than planned): its ratio rose the full step
    assert res.sold.iloc[0][grain] == res.delivered.iloc[0][grain]
    assert r2[grain] == pytest.approx(1.25, abs=1e-6)
    for product in ("Textiles", "Health care"):
        code, hpu = goods.loc[product, "code"], goods.loc[product, "hours_per_unit"]
        shelves = res.delivered.iloc[0][code]
        assert res.sold.iloc[0][code] < shelves
        # what people wanted of it is their spending share of the budget at ratio 1 (less
        # what they could not spend on Grain, which Cobb-Douglas leaves unspent)
        assert res.sold.iloc[0][code] * hpu == pytest.approx(alpha[product] * budget, rel=0.01)
        expected = alpha[product] * budget / (0.9 * shelves * hpu)
        assert r2[code] == pytest.approx(min(max(expected, 1 / 1.25), 1.25), rel=0.01)


def test_the_loop_converges_where_the_open_loop_does_not(testland: Path, tmp_path: Path) -> None:
    sc = Scenario(
        name="conv",
        source=str(testland),
        taste_goods=(("Grain", 1.3), ("Textiles", 0.7)),
        **{**BASE, "periods": 10},
    )  # type: ignore[arg-type]
    res = _run(sc, tmp_path)
    loop, open_ = res.side("loop"), res.side("open-loop")
    assert res.converged_at() is not None and res.converged_at() <= 8
    assert loop["unmet_share"].iloc[-1] <= 0.02
    assert loop["ratio_cv"].iloc[-1] <= 0.05
    assert open_["unmet_share"].iloc[-1] > 0.10  # the base plan repeated leaves shortages


def test_a_supply_shock_is_answered_within_six_periods(testland: Path, tmp_path: Path) -> None:
    sc = Scenario(
        name="shock",
        source=str(testland),
        shock_sector="Textiles",
        shock_loss=0.3,
        shock_at=3,
        shock_recovery=0.05,
        open_loop=False,
        **{**BASE, "periods": 11},
    )  # type: ignore[arg-type]
    res = _run(sc, tmp_path)
    code = res.checks["shock_good"]
    assert res.unmet_by_good[code].iloc[3] > 0.02  # the shock bites
    rec = res.recovery(code, 3)
    assert rec is not None and rec <= 6
    # prices ration what is left: Textiles dearer than its value right after the shock
    assert res.ratios[code].iloc[4] > 1.1
    # rebuilding the lost capacity is investment: labour for it appears after the shock
    loop = res.side("loop")
    assert loop["capacity_built"].iloc[4:].sum() > loop["capacity_built"].iloc[:3].sum()


def test_a_vote_caps_the_working_week(testland: Path, tmp_path: Path) -> None:
    sc0 = Scenario(name="novote", source=str(testland), open_loop=False, **{**BASE, "periods": 4})  # type: ignore[arg-type]
    (tmp_path / "0").mkdir()
    (tmp_path / "1").mkdir()
    week = _run(sc0, tmp_path / "0").side("loop")["working_week"]
    cap = float(week.min()) * 0.85
    sc = dataclasses.replace(sc0, name="vote", vote_at=2, vote_max_week=cap)
    voted = _run(sc, tmp_path / "1").side("loop")
    assert (voted["working_week"].iloc[2:] <= cap * 1.001).all()
    # the cap binds when the vote takes effect: personal consumption shrinks (social
    # consumption and investment are paid first); later plans start from the smaller one
    assert voted["personal_factor"].iloc[2] < 1.0
    assert voted["working_week"].iloc[1] > cap


def test_the_vote_goes_through_the_decisions_service(testland: Path, tmp_path: Path) -> None:
    """The cap is a proposal of the decisions service: households vote on it with their
    labour accounts, the tally is recomputable from the public log, and the plan obeys
    only an adopted cap — a cap that loses the vote leaves the week as planned."""
    from gosplan.services import decisions, publiclog
    from gosplan.storage.base import make_engine, session_scope

    base = dict(source=str(testland), open_loop=False, **{**BASE, "periods": 3})
    (tmp_path / "0").mkdir()
    (tmp_path / "1").mkdir()
    (tmp_path / "2").mkdir()
    free = _run(Scenario(name="free", **base), tmp_path / "0").side("loop")  # type: ignore[arg-type]
    cap = float(free["working_week"].min()) * 0.85
    won = _run(
        Scenario(name="won", vote_at=1, vote_max_week=cap, vote_support=0.8, **base),  # type: ignore[arg-type]
        tmp_path / "1",
    )
    lost = _run(
        Scenario(name="lost", vote_at=1, vote_max_week=cap, vote_support=0.2, **base),  # type: ignore[arg-type]
        tmp_path / "2",
    )
    v = won.checks["vote"]
    assert v["electorate"] == BASE["persons"] and v["quorum_met"]
    assert v["ballots"] == round(0.9 * BASE["persons"]) and v["hours"] == pytest.approx(cap)
    assert v["adopted"].startswith("cap") and v["period"] == won.side("loop").index[1]
    assert (won.side("loop")["working_week"].iloc[1:] <= cap * 1.001).all()
    # the log holds proposal, ballots and outcome: anyone recomputes the same winner
    engine = make_engine(f"sqlite:///{tmp_path / '1' / 'loop.db'}")
    with session_scope(engine) as s:
        entries = [
            {"kind": e.kind, "payload": e.payload}
            for e in publiclog.entries(s, kind_prefix="decision.")
        ]
    engine.dispose()
    assert sum(e["kind"] == "decision.ballot" for e in entries) == v["ballots"]
    again = decisions.recompute_from_log(entries, v["proposal"])
    assert again.winner == 0 and again.scores == v["scores"]
    # a cap that loses binds nothing: the week is the one the plan needs
    assert lost.checks["vote"]["adopted"].startswith("keep")
    assert lost.checks["vote"]["hours"] is None
    assert (lost.side("loop")["personal_factor"] == 1.0).all()
    np.testing.assert_allclose(lost.side("loop")["working_week"], free["working_week"], rtol=1e-9)


def test_cheating_enterprises_are_found(testland: Path, tmp_path: Path) -> None:
    sc = Scenario(
        name="cheats",
        source=str(testland),
        cheater_share=0.4,
        open_loop=False,
        **{**BASE, "enterprises": 3, "periods": 3},
    )  # type: ignore[arg-type]
    res = _run(sc, tmp_path)
    assert res.checks["cheaters"]
    assert set(res.checks["found"]) == set(res.checks["cheaters"])


def test_a_cheat_is_flagged_by_the_statistical_checks_inside_the_loop(
    testland: Path, tmp_path: Path
) -> None:
    """From period 3 a cheat reports 15 % more output than it made; the fulfilment checks
    (run on the reports each period, never shown the shops' receipts) flag it as output
    without the hours it needs, and flag no honest enterprise."""
    from gosplan.services import publiclog
    from gosplan.storage.base import make_engine, session_scope

    sc = Scenario(
        name="cheats-stat",
        source=str(testland),
        cheater_share=0.4,
        cheater_at=3,
        open_loop=False,
        **{**BASE, "enterprises": 3, "periods": 6},
    )  # type: ignore[arg-type]
    res = _run(sc, tmp_path)
    st = res.checks["statistical"]
    assert st["ran"] and res.checks["cheaters"]
    assert set(st["found"]) == set(res.checks["cheaters"]) and st["missed"] == []
    for hit in st["found"].values():
        assert hit["check"] in ("padding", "hours_excess") and hit["t"] >= 3
        assert hit["periods_after_start"] <= 2
    assert st["honest_flagged"] == []
    # nothing before the cheat began; the periods' rows count the flags
    assert all(f["t"] >= 3 for f in st["flags"])
    assert res.side("loop")["statistical_flags"].iloc[:3].sum() == 0
    # the checks opened alerts on the escalation ladder, in the public log
    engine = make_engine(f"sqlite:///{tmp_path / 'loop.db'}")
    with session_scope(engine) as s:
        kinds = [e.kind for e in publiclog.entries(s)]
    engine.dispose()
    assert "fulfilment.alert.opened" in kinds


def test_those_unable_to_work_are_credited_from_the_care_fund(
    testland: Path, tmp_path: Path
) -> None:
    """Each period every person unable to work receives a grant from the care fund, posted
    in the ledger like any credit: their balance rises by what the fund loses, and they
    buy their basket with it."""
    from gosplan.services.accounts import Accounts

    sc = Scenario(name="care", source=str(testland), open_loop=False, **{**BASE, "periods": 2})  # type: ignore[arg-type]
    res = _run(sc, tmp_path)
    loop = res.side("loop")
    assert (loop["granted"] > 0).all() and loop["grants_balanced"].all()
    acc = Accounts.open(f"sqlite:///{tmp_path / 'loop.db'}")
    try:
        fund = acc.statement("fund:care").lines
        persons = [a.code for a in acc.accounts("person")]
        grants: dict[str, list] = {}
        for code in persons:
            lines = acc.statement(code).lines
            got = [ln for ln in lines if ln.kind == "grant"]
            # a person either works or is provided for, never both, never neither
            assert bool(got) != any(ln.kind == "work" for ln in lines)
            if got:
                grants[code] = got
                # what they received they could spend: they bought with it
                assert any(ln.kind == "purchase" for ln in lines)
        assert 1 <= len(grants) < len(persons)
        fund_debits = {ln.transaction_id: -ln.amount for ln in fund if ln.kind == "grant"}
        for lines in grants.values():
            assert len(lines) == sc.periods
            for ln in lines:
                assert ln.amount > 0 and fund_debits[ln.transaction_id] == ln.amount
        total = sum(ln.amount for lines in grants.values() for ln in lines)
        assert float(total) == pytest.approx(loop["granted"].sum(), abs=1e-6)
        assert acc.balance("fund:care") >= 0 and acc.check_integrity() == []
        # the same per head as a working person is credited for consumption
        workers = len(persons) - len(grants)
        per_worker = loop["credited"] / workers
        per_unable = loop["granted"] / len(grants)
        np.testing.assert_allclose(per_unable, per_worker, rtol=1e-3)
    finally:
        acc.close()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("[scenario]\nperiods = 0\n", "`periods`"),
        ("[scenario]\nperiods = 'six'\n", "whole number"),
        ("[nonsense]\nx = 1\n", "unknown section"),
        ("[population]\npeople = 3\n", "unknown key `people`"),
        ("[tastes]\ngoods = { Grain = -1 }\n", "goods must be a table"),
        ("[vote]\nat = 2\n", "vote_max_week"),
        ("[vote]\nat = 2\nmax_week = 30\nsupport = 1.5\n", "vote_support"),
        ("[scenario\n", "not valid TOML"),
    ],
)
def test_bad_scenarios_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError, match=message):
        load_scenario(path)


def test_cli_run_writes_report_and_charts(testland: Path, tmp_path: Path) -> None:
    from gosplan.cli import main

    scenario = tmp_path / "s.toml"
    scenario.write_text(
        f'[scenario]\nname = "cli"\nsource = "{testland}"\nperiods = 3\n'
        f"[population]\npersons = 10\n[enterprises]\ncount = 2\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["run", str(scenario), "--out", str(out), "--json"])
    assert r.exit_code == 0, r.output
    import json

    summary = json.loads(r.stdout)
    assert set(summary) >= {"loop", "open-loop", "checks"}
    for name in ("report.md", "unmet.png", "week.png", "periods.csv", "summary.json"):
        assert (out / name).stat().st_size > 0
    assert "## In one table" in (out / "report.md").read_text(encoding="utf-8")
    again = CliRunner().invoke(main, ["run", str(scenario), "--out", str(out)])
    assert again.exit_code != 0 and "already holds a run" in again.output
    np.testing.assert_array_equal(
        sorted(summary["checks"]["loop"]),
        sorted(
            [
                "ledger_problems",
                "stocks_balance",
                "hours_credited_equal_hours_less_deduction",
                "balances_equal_credits_less_purchases",
                "grants_debit_the_fund_by_what_persons_receive",
                "no_negative_balance",
            ]
        ),
    )


def test_web_pages_read_the_run_from_the_log(testland: Path, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from gosplan.web.app import create_app
    from tests.web.conftest import make_settings

    sc = Scenario(
        name="web", source=str(testland), open_loop=False, **{**BASE, "periods": 3, "persons": 8}
    )  # type: ignore[arg-type]
    url = f"sqlite:///{tmp_path / 'loop.db'}"
    res = run(sc, url)
    app = create_app(make_settings(url, tmp_path, testland))
    with TestClient(app) as client:
        runs = client.get("/runs.json").json()["runs"]
        assert [r["name"] for r in runs] == ["web"]
        page = client.get(f"/runs/{runs[0]['run']}.json").json()
        assert [p["period"] for p in page["periods"]] == list(res.side("loop").index)
        got = [p["unmet_share"] for p in page["periods"]]
        assert got == pytest.approx(list(res.side("loop")["unmet_share"]), abs=1e-8)
        html = client.get(f"/runs/{runs[0]['run']}").text
        assert "<svg" in html and f'href="/log/{page["start_index"]}"' in html
        assert client.get("/runs/nope").status_code == 404


def test_each_household_s_basket_is_one_purchase_a_period(testland: Path, tmp_path: Path) -> None:
    """The tills ring up a basket a household and period: one ``purchase`` transaction
    debiting the household the basket's cost, a stock move a good; what the moves say was
    sold is what the run counts as sold."""
    from sqlalchemy import text

    from gosplan.storage.base import make_engine

    sc = Scenario(name="tills", source=str(testland), open_loop=False, **{**BASE, "periods": 2})  # type: ignore[arg-type]
    res = _run(sc, tmp_path)
    engine = make_engine(f"sqlite:///{tmp_path / 'loop.db'}")
    with engine.connect() as c:
        per_period = c.execute(
            text(
                "SELECT p.code, COUNT(DISTINCT t.id), COUNT(m.id), -SUM(m.quantity) "
                "FROM acct_transaction t JOIN acct_period p ON p.id = t.period_id "
                "JOIN acct_stock_move m ON m.transaction_id = t.id "
                "WHERE t.kind = 'purchase' GROUP BY p.code ORDER BY p.code"
            )
        ).all()
        postings = c.execute(
            text(
                "SELECT COUNT(*) FROM acct_posting x JOIN acct_transaction t "
                "ON t.id = x.transaction_id WHERE t.kind = 'purchase'"
            )
        ).scalar_one()
    engine.dispose()
    assert [code for code, *_ in per_period] == list(res.sold.index)
    for (_, baskets, lines, units), (_, sold) in zip(per_period, res.sold.iterrows(), strict=True):
        assert 0 < baskets <= sc.persons and lines >= baskets
        assert units == sold.sum()
    assert postings == 2 * sum(b for _, b, _, _ in per_period)  # the buyer and the cancelled


def test_an_enterprise_with_no_good_to_make_files_no_reports(
    testland: Path, tmp_path: Path
) -> None:
    """With more enterprises than goods, those that make nothing are not in the fulfilment
    register (they have no planned output to fall short of) and raise no alerts."""
    from sqlalchemy import text

    from gosplan.storage.base import make_engine

    sc = Scenario(
        name="idle",
        source=str(testland),
        open_loop=False,
        **{**BASE, "enterprises": 6, "periods": 3},
    )  # type: ignore[arg-type]
    res = _run(sc, tmp_path)
    makers = {f"ent-{i:04d}" for i in range(len(res.goods))}
    engine = make_engine(f"sqlite:///{tmp_path / 'loop.db'}")
    with engine.connect() as c:
        registered = {r[0] for r in c.execute(text("SELECT code FROM ful_enterprise"))}
        alerted = [r[0] for r in c.execute(text("SELECT subject FROM esc_item"))]
    engine.dispose()
    assert len(res.goods) < 6 and registered == makers
    assert not [s for s in alerted if not any(s.endswith(m) for m in makers)]
    assert res.checks["loop"]["ledger_problems"] == []
