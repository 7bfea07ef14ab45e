"""Fixtures for the web face: a real app over a real store (SQLite file, PostgreSQL)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from gosplan import Economy
from gosplan.config import Settings
from gosplan.web.app import create_app


def small_economy_dir(tmp_path: Path) -> Path:
    Z = np.array([[20.0, 30.0, 5.0], [10.0, 40.0, 15.0], [5.0, 10.0, 10.0]])
    x = np.array([200.0, 300.0, 100.0])
    fd = pd.DataFrame({"Households": [100.0, 150.0, 20.0], "Government": [20.0, 40.0, 60.0],
                       "Exports": [25.0, 25.0, 0.0]})
    eco = Economy.from_flows(Z, x, [1000.0, 1500.0, 800.0],
                             products=["Grain", "Textiles", "Health care"], final_demand=fd,
                             name="Testland", year=2020, money_unit="TL million",
                             labour_unit="hours")
    return eco.to_parquet(tmp_path / "economy")


@pytest.fixture
def web_settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        economy=str(small_economy_dir(tmp_path)),
        secret_key_path=str(tmp_path / "session.key"),
        log_key_path=str(tmp_path / "log.key"),
        commission_key_path=str(tmp_path / "commission.key"),
        seed_demo=True,
    )


@pytest.fixture
def client(web_settings: Settings) -> Iterator[TestClient]:
    app = create_app(web_settings)
    with TestClient(app) as c:
        yield c
    app.state.gosplan.engine.dispose()


def csrf(client: TestClient) -> str:
    page = client.get("/login")
    m = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert m, "login page must carry a CSRF token"
    return m.group(1)


def login(client: TestClient, username: str, password: str = "demo-password") -> str:
    tok = csrf(client)
    r = client.post("/login", data={"username": username, "password": password,
                                    "csrf_token": tok}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return csrf(client)
