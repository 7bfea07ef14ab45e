"""Free means free: what the plan provides free for all is listed with its fund and never
sold; the deduction names health and education; a cooperative's real goods load from a CSV
and are sold in their own units; a person's statement shows their own hours."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gosplan import Economy
from gosplan.core.values import labour_values
from gosplan.services.accounts import (
    Accounts,
    AccountsInputError,
    ProvidedFree,
    catalogue_from_economy,
    deduction_with_free,
    goods_from_csv,
)


def _economy() -> Economy:
    return Economy.from_flows(
        np.array([[20.0, 30.0, 5.0], [10.0, 40.0, 15.0], [5.0, 10.0, 10.0]]),
        np.array([200.0, 300.0, 100.0]),
        [1000.0, 1500.0, 800.0],
        products=["Grain", "Textiles", "Health care"],
        final_demand=pd.DataFrame(
            {
                "Households": [95.0, 140.0, 20.0],
                "Government": [20.0, 40.0, 60.0],
                "Gross fixed capital formation": [5.0, 10.0, 0.0],
                "Exports": [25.0, 25.0, 0.0],
            }
        ),
        name="Testland",
        year=2020,
        money_unit="TL million",
        labour_unit="hours",
    )


@pytest.fixture
def shop(ledger: Accounts) -> Accounts:
    """Testland's ledger (SQLite, then PostgreSQL): health care free, two members' hours."""
    eco = _economy()
    acc = ledger
    acc.open_period("p1", deduction_with_free(eco))
    acc.open_account("ana", "person")
    acc.open_account("bea", "person")
    acc.open_account("mill", "enterprise")
    for p in ("ana", "bea"):
        acc.join("mill", p, by="office")
    acc.record_hours_many("mill", "p1", [("ana", "7.5"), ("bea", "250")], key="r", recorded_by="d")
    acc.approve("mill", "p1", key="a", approver="planner")
    acc.add_goods(catalogue_from_economy(eco, personal_hours=100))
    return acc


def test_health_care_is_listed_free_and_never_sold(shop: Accounts) -> None:
    health = next(g for g in shop.goods() if g.product == "Health care")
    assert health.funds == ["health"] and health.stock == 0
    before = (shop.balance("ana"), len(shop.statement("ana").lines))
    with pytest.raises(ProvidedFree, match=r"Health care .* free for all from the health fund"):
        shop.buy("ana", health.code, 1, key="k1")
    with pytest.raises(ProvidedFree, match="delivered to the shops"):
        shop.deliver(health.code, 5, key="d1")
    assert (shop.balance("ana"), len(shop.statement("ana").lines)) == before
    assert shop.good(health.code).stock == 0
    assert shop.check_integrity() == []
    # the goods on sale still sell
    grain = next(g for g in shop.goods() if g.product == "Grain")
    assert grain.free_fund is None and grain.stock > 0
    shop.buy("ana", grain.code, 1, key="k2")


def test_the_deduction_names_health_and_pays_for_it() -> None:
    eco = _economy()
    ded = deduction_with_free(eco)
    assert "health" in ded.shares and "social" in ded.shares and sum(ded.shares.values()) == 1
    v = labour_values(eco).values
    # health: all that households and government consumed of health care
    health = float(v["Health care"]) * (20.0 + 60.0)
    personal = float(v["Grain"]) * 95.0 + float(v["Textiles"]) * 140.0
    funds = health + float(v @ pd.Series([20.0, 40.0, 0.0], index=v.index))  # social
    funds += float(v @ pd.Series([5.0, 10.0, 0.0], index=v.index))  # investment
    assert float(ded.rate) == pytest.approx(funds / (funds + personal), abs=1e-8)
    assert float(ded.shares["health"]) == pytest.approx(health / funds, abs=1e-8)


def test_a_statement_shows_the_persons_own_hours(shop: Accounts) -> None:
    for person, hours in (("ana", Decimal("7.5")), ("bea", Decimal("250"))):
        (line,) = [ln for ln in shop.statement(person).lines if ln.kind == "work"]
        assert line.gross == hours and line.enterprise == "mill"
        assert line.gross - sum(line.deducted.values()) == line.amount
        assert set(line.deducted) == set(shop.current_period().deduction.shares)  # type: ignore[union-attr]
        assert "257.5 h in total by 2 member(s)" in line.memo
    # a reversal of the approval takes back her own hours, not the total
    tid = next(ln for ln in shop.statement("ana").lines if ln.kind == "work").transaction_id
    shop.reverse(tid, reason="entered twice", key="rev")
    rev = shop.statement("ana").lines[-1]
    assert rev.kind == "reversal" and rev.gross == Decimal("-7.5")
    assert rev.gross - sum(rev.deducted.values()) == rev.amount
    assert (
        shop.statement("ana")
        .to_csv()
        .splitlines()[0]
        .endswith("gross_hours,deducted_hours,enterprise")
    )


CSV = """name,unit,product,output_value,labour_value,stock
Cotton shirt,shirt,Textiles,40,,200
Wholemeal bread,loaf (500 g),Grain,,0.4,1000
"""


def test_real_goods_load_from_a_csv_in_their_own_units(shop: Accounts, tmp_path: Path) -> None:
    eco = _economy()
    path = tmp_path / "goods.csv"
    path.write_text(CSV, encoding="utf-8")
    specs = goods_from_csv(path, eco)
    shirt, bread = specs
    v = labour_values(eco).values
    # 40 TL of textiles; the table is in TL million and labour in hours
    assert float(shirt.labour_value) == pytest.approx(float(v["Textiles"]) * 40 / 1e6, abs=1e-6)
    assert shirt.unit == "shirt" and shirt.code == "cotton-shirt" and shirt.stock == 200
    assert bread.labour_value == Decimal("0.4") and bread.unit == "loaf (500 g)"
    shop.add_goods([bread])
    assert shop.buy("ana", "wholemeal-bread", 2, key="b").cost == Decimal("0.8")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("name,unit,product,labour_value\nPills,box,Health care,1\n", r"line 2.*provided free"),
        ("name,unit,product,labour_value\nShirt,shirt,Textile,1\n", r"line 2.*'Textiles'"),
        ("name,unit,product,labour_value\nShirt,,Textiles,1\n", r"line 2, column `unit`"),
        ("name,unit,product,labour_value\nShirt,shirt,Textiles,-1\n", r"`labour_value`"),
        ("name,unit,product\nShirt,shirt,Textiles\n", r"labour_value or output_value"),
        ("name,unit,product,price\nShirt,shirt,Textiles,1\n", r"unknown column.*price"),
        ("name,unit,product,labour_value,stock\nShirt,shirt,Textiles,1,2.5\n", r"`stock`"),
        ("name,unit,product,labour_value\nA b,x,Grain,1\nA b,y,Grain,1\n", r"line 3.*twice"),
    ],
)
def test_a_bad_goods_csv_names_the_line_and_lists_nothing(
    shop: Accounts, text: str, match: str
) -> None:
    before = len(shop.goods())
    with pytest.raises(AccountsInputError, match=match):
        shop.add_goods(goods_from_csv(text, _economy()))
    assert len(shop.goods()) == before


def test_the_cli_loads_real_goods_and_lists_free_ones(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from gosplan.cli import main

    db = f"sqlite:///{tmp_path / 'gosplan.db'}"
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        res = runner.invoke(main, ["accounts", *args, "--db", db])
        return res.exit_code, " ".join(res.output.split())

    # Brazil at 20 activities: its products are whole sectors ("Educação", "Indústrias de
    # transformação"), which the CSV below names
    assert run("period", "open", "2027-01", "--source", "ibge:2021:20")[0] == 0
    code, out = run("catalogue", "load", "--source", "ibge:2021:20", "--personal-hours", "800")
    assert code == 0 and "provided free for all, never sold: Educação (education)" in out
    goods = tmp_path / "coop.csv"
    goods.write_text(
        "name,unit,product,output_value,stock\n"
        "Camisa de algodão,camisa,Indústrias de transformação,40,200\n",
        encoding="utf-8",
    )
    code, out = run("catalogue", "load-goods", str(goods), "--source", "ibge:2021:20")
    assert code == 0 and "listed 1 goods" in out
    shirt = Accounts.open(db).good("camisa-algodao")
    assert shirt.unit == "camisa" and shirt.stock == 200 and shirt.labour_value > 0
    goods.write_text(
        "name,unit,product,labour_value\nConsulta,visita,Saúde humana e serviços sociais,1\n"
    )
    code, out = run("catalogue", "load-goods", str(goods), "--source", "ibge:2021:20")
    assert code != 0 and "line 2" in out and "provided free" in out


def test_the_cli_statement_json_carries_the_persons_own_hours(shop: Accounts) -> None:
    import json

    from click.testing import CliRunner

    from gosplan.cli import main

    db = shop.engine.url.render_as_string(hide_password=False)
    res = CliRunner().invoke(main, ["accounts", "statement", "ana", "--json", "--db", db])
    assert res.exit_code == 0, res.output
    (work,) = [
        ln for ln in json.loads(res.output, parse_float=Decimal)["lines"] if ln["kind"] == "work"
    ]
    assert Decimal(work["gross"]) == Decimal("7.5") and work["enterprise"] == "mill"
    assert Decimal(work["gross"]) - sum(map(Decimal, work["deducted"].values())) == Decimal(
        work["amount"]
    )
    res = CliRunner().invoke(main, ["accounts", "statement", "ana", "--db", db])
    assert res.exit_code == 0 and "worked" in res.output
