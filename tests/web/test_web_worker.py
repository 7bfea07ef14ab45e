"""The worker's jobs through the JSON twins: a statement she can reconcile (her own hours,
the deduction by fund with health and education named, the net, purchases), goods in
human units, health care that is provided free and never sold, her enterprise on /me."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from gosplan.web.demo import DEMO_HOURS

from .conftest import login

PT = {"accept-language": "pt-BR,pt;q=0.9"}


def _free_good(client: TestClient) -> dict:
    goods = client.get("/catalogue.json").json()["goods"]
    free = [g for g in goods if g["free"]]
    assert free, goods
    return next(g for g in free if g["name"] == "Health care")


def test_the_statement_reconciles_with_her_own_hours(client: TestClient) -> None:
    login(client, "ana")
    me = client.get("/account.json").json()
    work = [ln for ln in me["statement"] if ln["kind"] == "work"]
    assert len(work) == 1
    line = work[0]
    # her own hours, not the approval's total (ana 152 h + carla 160 h in textile-coop)
    assert Decimal(line["gross"]) == DEMO_HOURS["textile-coop"]["ana"]
    assert line["enterprise"] == "textile-coop"
    assert "152" in line["words"] and "312" not in line["words"]
    assert Decimal(line["gross"]) - Decimal(line["deduction"]) == Decimal(line["amount"])
    assert sum(Decimal(f["hours"]) for f in line["deducted"]) == Decimal(line["deduction"])
    r = me["reconciliation"]
    gross, ded, net = (Decimal(r[k]) for k in ("gross_hours", "deduction_hours", "net_credit"))
    assert gross == 152 and gross - ded == net and ded > 0
    assert net - Decimal(r["purchases"]) + Decimal(r["other"]) == Decimal(me["balance"])
    assert Decimal(r["purchases"]) > 0 and Decimal(r["other"]) == 0  # the demo purchase
    funds = {f["fund"]: f for f in r["deduction_by_fund"]}
    assert "health" in funds  # Testland has health care but no education
    assert funds["health"]["label"] == "health care"
    assert sum(Decimal(f["hours"]) for f in funds.values()) == ded
    assert abs(sum(Decimal(f["share"]) for f in funds.values()) - 1) < Decimal("0.001")
    shares = {f["fund"]: f for f in me["deduction_funds"]}
    assert shares["health"]["free"] and not shares["investment"]["free"]
    # the balance over time ends at the balance
    assert Decimal(me["balance_over_time"][-1]["balance"]) == Decimal(me["balance"])
    # the same in Portuguese: the numbers do not change, the words do
    pt = client.get("/account.json", headers=PT).json()
    assert pt["reconciliation"] == {
        **r,
        "deduction_by_fund": pt["reconciliation"]["deduction_by_fund"],
    }
    assert {f["fund"]: f["label"] for f in pt["reconciliation"]["deduction_by_fund"]}[
        "health"
    ] == "saúde"
    pt_work = next(ln for ln in pt["statement"] if ln["kind"] == "work")
    assert "Você trabalhou 152" in pt_work["words"]
    # the CSV carries her own hours too
    csv = client.get("/account/statement.csv").text.splitlines()
    head = csv[0].split(",")
    assert "gross_hours" in head


def test_each_worker_sees_only_their_own_hours(client: TestClient) -> None:
    for who, ent in (("carla", "textile-coop"), ("bruno", "grain-farm")):
        client.cookies.clear()
        login(client, who)
        work = [ln for ln in client.get("/account.json").json()["statement"] if ln["gross"]]
        assert [Decimal(ln["gross"]) for ln in work] == [DEMO_HOURS[ent][who]]


def test_health_care_is_provided_free_and_never_sold(client: TestClient) -> None:
    tok = login(client, "ana")
    health = _free_good(client)
    assert health["funds"] == ["health"] and health["stock"] == 0
    assert "health care" in health["funds_words"]
    before = client.get("/account.json").json()
    r = client.post(
        "/account/buy",
        data={"good": health["code"], "quantity": 1, "key": "free-1", "csrf_token": tok},
        headers={"accept": "application/json"},
    )
    assert r.status_code == 409, r.text
    err = r.json()["error"]
    assert err.startswith("good:") and "Health care" in err and "health care fund" in err
    assert "never sold" in err
    # in Portuguese
    r = client.post(
        "/account/buy",
        data={"good": health["code"], "quantity": 1, "key": "free-2", "csrf_token": tok},
        headers={"accept": "application/json", **PT},
    )
    assert r.status_code == 409 and "gratuitamente" in r.json()["error"]
    after = client.get("/account.json").json()
    assert after["balance"] == before["balance"]
    assert len(after["statement"]) == len(before["statement"])
    assert _free_good(client)["stock"] == 0


def test_goods_are_in_human_units_and_purchases_name_them(client: TestClient) -> None:
    tok = login(client, "bruno")
    goods = [g for g in client.get("/catalogue.json").json()["goods"] if not g["free"]]
    for g in goods:
        assert "million" not in g["unit_words"] and "e-0" not in g["unit_words"]
        assert g["unit_words"].endswith("of output at 2020 prices")
    good = min(goods, key=lambda g: Decimal(g["price"]))
    r = client.post(
        "/account/buy",
        data={"good": good["code"], "quantity": 1, "key": "units-1", "csrf_token": tok},
        headers={"accept": "application/json"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["name"] == good["name"] and r.json()["unit_words"] == good["unit_words"]
    line = client.get("/account.json").json()["statement"][0]
    assert line["kind"] == "purchase" and good["name"] in line["words"]
    assert good["code"] not in line["words"]


def test_me_shows_the_workers_enterprise(client: TestClient) -> None:
    login(client, "ana")
    me = client.get("/me.json").json()
    assert [e["code"] for e in me["enterprises"]] == ["textile-coop"]
    assert me["enterprises"][0]["name"] == "Textile cooperative"
    client.cookies.clear()
    login(client, "elena")  # the commission works at no enterprise
    assert client.get("/me.json").json()["enterprises"] == []


def test_labour_values_are_also_hours_behind_an_amount_of_money(client: TestClient) -> None:
    eco = client.get("/economy.json").json()
    assert eco["value_unit_words"] == "hours per TL 1,000,000 of output"
    assert eco["money_unit"] == "TL 100 of output at 2020 prices"
    for row in eco["rows"]:  # Testland counts labour in hours: 100 TL is 1e-4 TL million
        assert row["hours"] == pytest.approx(row["labour_value"] * 1e-4)
    health = client.get("/economy/product/Health care.json").json()
    assert health["free_funds"] == ["health"] and "health care" in health["free_words"]
    assert client.get("/economy/product/Grain.json").json()["free_funds"] == []
    pt = client.get("/economy.json", headers=PT).json()
    assert pt["money_unit"] == "TL 100 de produção a preços de 2020"
    assert [r["hours"] for r in pt["rows"]] == [r["hours"] for r in eco["rows"]]
