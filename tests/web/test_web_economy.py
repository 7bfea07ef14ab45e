from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from gosplan.config import Settings
from gosplan.web.app import create_app

from .conftest import csrf, login


def test_home_and_economy_pages_have_json_twins(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200 and "Testland 2020" in r.text
    r = client.get("/economy")
    assert r.status_code == 200
    assert "Textiles" in r.text and 'rel="alternate"' in r.headers["link"]
    j = client.get("/economy.json").json()
    assert j["ok"] is True and j["products"] == 3
    values = {row["product"]: row["labour_value"] for row in j["rows"]}
    # labour values exceed direct labour (inputs carry labour too)
    direct = {row["product"]: row["direct_labour"] for row in j["rows"]}
    assert all(values[p] > direct[p] > 0 for p in values)
    assert j["residual"] < 1e-10


def test_search_and_product_breakdown(client: TestClient) -> None:
    j = client.get("/economy.json", params={"q": "text"}).json()
    assert [r["product"] for r in j["rows"]] == ["Textiles"]
    p = client.get("/economy/product/Textiles.json").json()
    # value = direct labour + labour behind each input
    assert p["labour_value"] == pytest.approx(
        p["direct_labour"] + sum(i["labour_behind"] for i in p["inputs"]), rel=1e-9
    )
    assert {i["input"] for i in p["inputs"]} == {"Grain", "Textiles", "Health care"}
    assert client.get("/economy/product/Gold").status_code == 404


def test_login_wrong_password_and_csrf(client: TestClient) -> None:
    tok = csrf(client)
    r = client.post("/login", data={"username": "ana", "password": "nope-nope", "csrf_token": tok})
    assert r.status_code == 401 and "wrong username or password" in r.text
    r = client.post("/login", data={"username": "ana", "password": "demo-password"})
    assert r.status_code == 403
    login(client, "ana")
    me = client.get("/me.json").json()
    assert me["username"] == "ana" and me["role"] == "worker"


def test_register_validates(client: TestClient) -> None:
    tok = csrf(client)
    r = client.post("/register", data={"username": "X", "password": "short", "csrf_token": tok})
    assert r.status_code == 400 and "username" in r.text
    r = client.post(
        "/register", data={"username": "ana", "password": "long-enough-1", "csrf_token": tok}
    )
    assert r.status_code == 400 and "taken" in r.text
    r = client.post(
        "/register",
        data={"username": "zoe", "password": "long-enough-1", "csrf_token": tok},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert client.get("/me.json").json()["role"] == "worker"


def test_openapi_lists_endpoints(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/economy.json" in spec["paths"] and "/decisions/{pid}/vote" in spec["paths"]


def test_restart_does_not_reseed(web_settings: Settings) -> None:
    for _ in range(2):
        app = create_app(web_settings)
        with TestClient(app) as c:
            assert len(c.get("/decisions.json").json()["proposals"]) == 1
        app.state.gosplan.engine.dispose()
