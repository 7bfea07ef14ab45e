"""The plan page: targets by purpose, the working week, charts; adopted decisions bind it."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from gosplan.readers.parquet import write_parquet
from gosplan.services.plan_board import apply_effects

from .conftest import login, logout


def test_plan_shows_targets_week_and_charts(client: TestClient) -> None:
    p = client.get("/plan.json").json()
    assert p["economy"] == "Testland 2020"
    rows = {r["purpose"]: r for r in p["purposes"]}
    assert {"personal", "health", "social", "exports"} <= set(rows)
    # health care is free for all: its personal consumption moved into the health fund
    assert rows["health"]["target"] == pytest.approx(80.0)
    # the working week by purpose adds up to the whole week
    assert sum(r["hours_per_week"] for r in p["purposes"]) == pytest.approx(p["working_week"])
    assert p["working_week"] == pytest.approx(p["base_working_week"])
    assert p["decisions"] == [] and len(p["years"]) == 5
    assert "multi-year plan" in p["method"]
    assert p["years"][-1]["targets"]["health"] > p["years"][0]["targets"]["health"]
    html = client.get("/plan")
    assert html.status_code == 200 and "No decision adopted yet" in html.text
    for url in p["charts"].values():
        r = client.get(url)
        assert r.status_code == 200 and r.headers["content-type"] == "image/png"
        assert r.content[:8] == b"\x89PNG\r\n\x1a\n" and len(r.content) > 10_000
    assert client.get(p["charts"]["week"].replace("week", "pie")).status_code == 404


def _propose(
    client: TestClient,
    tok: str,
    kind: str,
    options: list[dict[str, object]],
    voting_hours: float = 0.0015,
) -> int:
    r = client.post(
        "/decisions",
        data={
            "title": f"{kind} decision",
            "kind": kind,
            "options": json.dumps(options),
            "method": "approval",
            "discussion_hours": 0,
            "voting_hours": voting_hours,
            "csrf_token": tok,
        },
        headers={"accept": "application/json"},
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_an_adopted_decision_changes_the_plan_and_says_so(client: TestClient) -> None:
    before = client.get("/plan.json").json()
    tok = login(client, "diego")
    grain = _propose(
        client,
        tok,
        "sector_target",
        [
            {"label": "Grain +20 %", "effect": {"product": "Grain", "factor": 1.2}},
            {"label": "Grain as it is", "effect": {"product": "Grain", "factor": 1.0}},
        ],
    )
    week = _propose(
        client,
        tok,
        "working_week",
        [
            {"label": "60-hour cap", "effect": {"hours": 60}},
            {"label": "70-hour cap", "effect": {"hours": 70}},
        ],
    )
    client.post(f"/decisions/{grain}/vote", data={"choice": [0], "csrf_token": tok})
    client.post(f"/decisions/{week}/vote", data={"choice": [0], "csrf_token": tok})
    tok = logout(client, tok)
    tok = login(client, "ana")
    client.post(f"/decisions/{grain}/vote", data={"choice": [0, 1], "csrf_token": tok})
    client.post(f"/decisions/{week}/vote", data={"choice": [0], "csrf_token": tok})
    tok = logout(client, tok)
    tok = login(client, "diego")
    for pid in (grain, week):
        deadline = time.monotonic() + 30
        while True:  # the vote closes once its (short) voting window has passed
            r = client.post(
                f"/decisions/{pid}/close", data={"csrf_token": tok}, follow_redirects=False
            )
            if r.status_code != 409 or time.monotonic() > deadline:
                break
            time.sleep(0.25)
        assert r.status_code == 303, r.text
    after = client.get("/plan.json").json()
    assert [d["proposal"] for d in after["decisions"]] == [grain, week]
    assert after["decisions"][0]["products"] == {"Grain": 1.2}
    assert after["week_limit"] == 60.0
    b = {r["purpose"]: r for r in before["purposes"]}
    for r in after["purposes"]:
        if r["purpose"] in ("personal", "social", "exports"):  # Grain is in these bundles
            assert r["target"] > b[r["purpose"]]["target"]
            assert grain in r["changed_by"]
        if r["purpose"] == "health":
            assert r["target"] == pytest.approx(b["health"]["target"])
            assert r["changed_by"] == []
    assert after["working_week"] > before["working_week"]
    assert after["charts"] != before["charts"]  # new charts for the new plan
    html = client.get("/plan").text
    assert f'href="/decisions/{grain}">#{grain}' in html and "the target of Grain +20 %" in html


def test_fund_split_decision_re_splits_the_social_fund() -> None:
    bundles = pd.DataFrame(
        {"health": [0.0, 10.0], "education": [5.0, 0.0], "personal": [3.0, 3.0]},
        index=["School", "Clinic"],
    )
    values = pd.Series([2.0, 1.0], index=["School", "Clinic"])
    out, changes, week = apply_effects(
        bundles,
        [
            {
                "proposal": 1,
                "title": "split",
                "kind": "fund_split",
                "option": "a",
                "effect": {"shares": {"health": 0.25, "education": 0.75}},
            }
        ],
        values,
    )
    # labour for health and education together (10 + 10 hours) is kept, re-split 25/75
    assert float(values @ out["health"]) == pytest.approx(5.0)
    assert float(values @ out["education"]) == pytest.approx(15.0)
    assert (out["personal"] == bundles["personal"]).all() and week is None
    assert changes[0].by_purpose["education"] == pytest.approx(1.5)


def test_an_economy_measured_in_wages_starts_and_says_why_there_is_no_week(tmp_path: Path) -> None:
    import numpy as np

    from gosplan import Economy
    from gosplan.web.app import create_app

    from .conftest import make_settings

    Z = np.array([[20.0, 30.0], [10.0, 40.0]])
    fd = pd.DataFrame({"Households": [150.0, 250.0]})
    eco = Economy.from_flows(
        Z,
        np.array([200.0, 300.0]),
        [50.0, 80.0],
        products=["Grain", "Cloth"],
        final_demand=fd,
        name="Wageland",
        labour_unit="money of wages",
    )
    eco.labour_kind = "wages"
    folder = write_parquet(eco, tmp_path / "wageland")
    app = create_app(make_settings(f"sqlite:///{tmp_path / 'w.db'}", tmp_path, folder))
    with TestClient(app) as c:
        r = c.get("/plan.json")
        assert r.status_code == 409 and r.json()["error"].startswith("plan:")
        assert "wages" in r.json()["error"]
        assert c.get("/criticism.json").json()["criticisms"]  # the rest of the demo is there
        assert c.get("/decisions.json").json()["proposals"]
    app.state.gosplan.engine.dispose()
