"""My account, the catalogue and buying: a person sees only their own account."""

from __future__ import annotations

from decimal import Decimal

from fastapi.testclient import TestClient

from gosplan.config import Settings
from gosplan.web.app import create_app

from .conftest import csrf, login


def test_a_worker_sees_only_their_own_account(client: TestClient) -> None:
    r = client.get("/account.json")
    assert r.status_code == 401 and "sign in" in r.json()["error"]
    r = client.get("/account", headers={"accept": "text/html"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    login(client, "ana")
    mine = client.get("/account.json").json()
    assert mine["code"] == "person:ana"
    assert Decimal(mine["balance"]) > 0
    kinds = {ln["kind"] for ln in mine["statement"]}
    assert {"work", "purchase"} <= kinds  # credited hours and the demo purchase
    assert client.get("/accounts/person:ana.json").json()["code"] == "person:ana"
    r = client.get("/accounts/person:bruno.json")
    assert r.status_code == 403 and "only their own account" in r.json()["error"]
    r = client.get("/accounts/person:bruno", headers={"accept": "text/html"})
    assert r.status_code == 403 and "Bruno" not in r.text
    csv = client.get("/account/statement.csv")
    assert csv.status_code == 200 and csv.text.startswith("transaction,posted_at")
    assert "person:bruno" not in csv.text


def test_buying_lowers_the_balance_and_the_stock(client: TestClient) -> None:
    tok = login(client, "bruno")
    before = client.get("/account.json").json()
    good = min(before["catalogue"], key=lambda g: Decimal(g["price"]))
    r = client.post(
        "/account/buy",
        data={"good": good["code"], "quantity": 2, "key": "k1", "csrf_token": tok},
        headers={"accept": "application/json"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert Decimal(body["cost"]) == 2 * Decimal(good["price"])
    assert Decimal(body["balance"]) == Decimal(before["balance"]) - Decimal(body["cost"])
    # the same request again (a double click) is not charged twice
    r = client.post(
        "/account/buy",
        data={"good": good["code"], "quantity": 2, "key": "k1", "csrf_token": tok},
        headers={"accept": "application/json"},
    )
    assert Decimal(r.json()["balance"]) == Decimal(body["balance"])
    after = client.get("/account.json").json()
    assert Decimal(after["balance"]) == Decimal(body["balance"])
    stock = {g["code"]: g["stock"] for g in after["catalogue"]}
    assert stock[good["code"]] == good["stock"] - 2
    cat = client.get("/catalogue.json").json()
    assert {g["code"]: g["stock"] for g in cat["goods"]} == stock
    # the HTML form redirects back to the account with what was bought
    r = client.post(
        "/account/buy", data={"good": good["code"], "csrf_token": tok}, follow_redirects=True
    )
    assert r.status_code == 200 and "Bought 1" in r.text


def test_refused_purchases_name_the_field_and_change_nothing(client: TestClient) -> None:
    tok = login(client, "ana")
    before = client.get("/account.json").json()
    r = client.post("/account/buy", data={"good": "gold-bars", "csrf_token": tok})
    assert r.status_code == 404 and r.json()["error"].startswith("good:")
    good = max(before["catalogue"], key=lambda g: g["stock"])
    r = client.post(
        "/account/buy",
        data={"good": good["code"], "quantity": good["stock"] + 1, "csrf_token": tok},
    )
    assert r.status_code == 409 and "good:" in r.json()["error"]
    dear = max(before["catalogue"], key=lambda g: Decimal(g["price"]))
    n = int(Decimal(before["balance"]) / Decimal(dear["price"])) + 1
    if n <= dear["stock"]:
        r = client.post(
            "/account/buy", data={"good": dear["code"], "quantity": n, "csrf_token": tok}
        )
        assert r.status_code == 409 and "negative" in r.json()["error"]
    r = client.post("/account/buy", data={"good": good["code"], "quantity": 0, "csrf_token": tok})
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "quantity"
    r = client.post("/account/buy", data={"good": good["code"]})
    assert r.status_code == 403 and "CSRF" in r.json()["error"]
    assert client.get("/account.json").json()["balance"] == before["balance"]


def test_a_person_without_an_account_is_told_so(client: TestClient) -> None:
    tok = csrf(client)
    client.post(
        "/register", data={"username": "zoe", "password": "long-enough-1", "csrf_token": tok}
    )
    r = client.get("/account.json")
    assert r.status_code == 404 and "no labour account" in r.json()["error"]


def test_buying_is_rate_limited(web_settings: Settings) -> None:
    app = create_app(web_settings.model_copy(update={"rate_limit_buying": 2}), migrate=False)
    with TestClient(app) as c:
        tok = login(c, "ana")
        good = min(c.get("/catalogue.json").json()["goods"], key=lambda g: Decimal(g["price"]))
        codes = [
            c.post(
                "/account/buy",
                data={"good": good["code"], "csrf_token": tok},
                follow_redirects=False,
            ).status_code
            for _ in range(3)
        ]
        assert codes[:2] == [303, 303] and codes[2] == 429
    app.state.gosplan.engine.dispose()


def test_a_basket_shows_as_one_purchase_in_words(client: TestClient) -> None:
    """A basket rung up at the till (one transaction for several goods) is one line of the
    statement, in the reader's language."""
    login(client, "ana")
    before = client.get("/account.json").json()
    cheap = sorted(
        (g for g in before["catalogue"] if g["stock"] > 0), key=lambda g: Decimal(g["price"])
    )[:2]
    accounts = client.app.state.gosplan.accounts  # type: ignore[attr-defined]
    basket = accounts.buy_basket("person:ana", [(g["code"], 1) for g in cheap], key="basket-1")
    assert basket.goods == 2 and basket.cost == sum(Decimal(g["price"]) for g in cheap)
    mine = client.get("/account.json").json()
    assert Decimal(mine["balance"]) == Decimal(before["balance"]) - basket.cost
    line = next(ln for ln in mine["statement"] if ln["transaction"] == basket.transaction_id)
    assert line["kind"] == "purchase" and Decimal(line["amount"]) == -basket.cost
    assert line["words"].startswith("You bought a basket of 2 goods (2 units)")
    pt = client.get("/account.json", headers={"Accept-Language": "pt-BR"}).json()
    line = next(ln for ln in pt["statement"] if ln["transaction"] == basket.transaction_id)
    assert line["words"].startswith("Você comprou uma cesta de 2 produtos (2 unidades)")
