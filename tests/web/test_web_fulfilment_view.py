"""The planner's side of fulfilment (issue 15) on the seeded demonstration store (SQLite and
PostgreSQL): the economy-wide view (sectors and enterprises, worst first, trends as inline
SVG charts), directives issued and followed on the "alerts and directives" page, and one
vocabulary of item states on every page.

In the demonstration diego is a planner who works at the grain farm, carla the delegate
of textile-coop, elena the commission (she works at neither enterprise).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gosplan.errors import ValidationError
from gosplan.services.fulfilment import overview
from gosplan.storage.base import session_scope

from .conftest import login, logout

JSON = {"accept": "application/json"}
STATES = {"open", "taken up", "overdue", "resolved"}


def _dash(client: TestClient) -> dict[str, Any]:
    return dict(client.get("/fulfilment.json").json())


def test_the_economy_view_puts_the_worst_first_with_trend_charts(client: TestClient) -> None:
    r = client.get("/fulfilment/economy.json")
    assert r.status_code == 200
    ov = r.json()
    assert ov["plan_name"] == "demo weekly plan" and ov["freq"] == "week"
    assert len(ov["periods"]) == 5 and ov["recent"] == 4  # five weeks ended, four judged
    ents = ov["enterprises"]
    assert [e["code"] for e in ents] == ["textile-coop", "grain-farm"]  # worst first
    tex, farm = ents
    assert tex["ratios"] == pytest.approx([1.01, 0.99, 1.03, 1.00, 0.58])
    assert tex["recent"] == pytest.approx((99 + 103 + 100 + 58) / 400)
    assert tex["state"] == "near" and tex["name"] == "Textile cooperative"
    assert farm["recent"] == pytest.approx(1.0) and farm["state"] == "met"
    assert tex["open_alerts"] >= 1 and tex["unreported"] == 0
    recents = [s["recent"] for s in ov["sectors"]]
    assert recents == sorted(recents) and len(ov["sectors"]) == 2
    assert {s["enterprises"] for s in ov["sectors"]} == {1}
    html = client.get("/fulfilment/economy").text
    assert html.count('<svg class="spark"') == 4  # one chart per sector and enterprise
    assert "<script>" not in html and "<script " not in html.split("</header>", 1)[1]
    rows = re.findall(r'<tr data-code="([^"]+)" data-state="([^"]+)"', html)
    assert rows[-2:] == [("textile-coop", "near"), ("grain-farm", "met")]
    assert 'href="/fulfilment/economy"' in client.get("/fulfilment").text


def test_an_unreported_week_counts_as_nothing(client: TestClient) -> None:
    """A week an enterprise did not report lowers its share; silence never looks better."""
    app: Any = client.app
    state = app.state.gosplan
    with session_scope(state.engine) as s:
        later = state.clock() + dt.timedelta(days=7)
        ov = overview.economy_fulfilment(s, later, periods=3, recent=2)
        assert ov is not None and len(ov.periods) == 3
        tex = next(t for t in ov.enterprises if t.code == "textile-coop")
        assert tex.ratios[-1] is None and tex.unreported == 1
        assert tex.recent == pytest.approx(58 / 200)  # the unreported week counts as 0
        with pytest.raises(ValidationError, match="at least 1"):
            overview.economy_fulfilment(s, later, periods=0)


def test_a_planner_issues_a_directive_and_everyone_follows_it(client: TestClient) -> None:
    tok = login(client, "carla")  # a delegate does not issue directives
    r = client.post(
        "/fulfilment/directives",
        data={"enterprise": "grain-farm", "instruction": "more grain", "csrf_token": tok},
        headers=JSON,
    )
    assert r.status_code == 403 and r.json()["error"].startswith("role:")
    assert 'id="issue-directive"' not in client.get("/fulfilment").text
    tok = logout(client, tok)
    tok = login(client, "diego")
    html = client.get("/fulfilment").text
    assert 'id="issue-directive"' in html
    before = _dash(client)
    bad = [
        ({"enterprise": "grain-farm", "instruction": "sow more"}, 403, "enterprise:"),
        ({"enterprise": "nowhere", "instruction": "sow more"}, 422, "enterprise:"),
        ({"enterprise": "textile-coop", "instruction": "   "}, 422, "instruction:"),
        ({"enterprise": "textile-coop", "instruction": "x", "days": "0"}, 422, "days"),
        ({"enterprise": "textile-coop", "instruction": "x", "days": "lots"}, 422, "days"),
    ]
    for data, code, field in bad:
        r = client.post("/fulfilment/directives", data={**data, "csrf_token": tok}, headers=JSON)
        assert r.status_code == code, (data, r.text)
        assert field in r.json()["error"]
    assert (
        "nobody controls themselves"
        in client.post(
            "/fulfilment/directives",
            data={"enterprise": "grain-farm", "instruction": "sow more", "csrf_token": tok},
            headers=JSON,
        ).json()["error"]
    )
    after = _dash(client)
    assert after["directives"] == before["directives"] == []  # nothing was stored
    r = client.post(
        "/fulfilment/directives",
        data={
            "enterprise": "textile-coop",
            "instruction": "Repair loom 4 and make up the short week",
            "days": "10",
            "csrf_token": tok,
        },
        headers=JSON,
    )
    assert r.status_code == 201, r.text
    d = r.json()
    assert d["kind"] == "directive" and d["state"] == "open" and d["unit"] == "textile-coop"
    assert d["issued_by"] == "Diego Alves (diego)"
    r = client.post(
        "/fulfilment/directives",
        data={"enterprise": "textile-coop", "instruction": "Report weekly", "csrf_token": tok},
        follow_redirects=False,
    )
    assert r.status_code == 303 and "#directives" in r.headers["location"]
    dash = _dash(client)
    assert [x["reason"] for x in dash["directives"]] == [
        "Report weekly",
        "Repair loom 4 and make up the short week",
    ]
    assert d["id"] in {x["id"] for x in dash["open"]}
    tok = logout(client, tok)
    # the enterprise's delegate takes it up, but cannot declare it done
    tok = login(client, "carla")
    r = client.post(
        f"/fulfilment/items/{d['id']}/acknowledge",
        data={"note": "loom ordered", "csrf_token": tok},
        follow_redirects=False,
    )
    assert r.status_code == 303
    state = {x["id"]: x["state"] for x in _dash(client)["directives"]}
    assert state[d["id"]] == "taken up"
    r = client.post(
        f"/fulfilment/items/{d['id']}/resolve", data={"resolution": "done", "csrf_token": tok}
    )
    assert r.status_code == 403
    tok = logout(client, tok)
    tok = login(client, "elena")  # someone outside the enterprise checks and closes it
    r = client.post(
        f"/fulfilment/items/{d['id']}/resolve",
        data={"resolution": "loom 4 runs again", "csrf_token": tok},
        follow_redirects=False,
    )
    assert r.status_code == 303
    follow = {x["id"]: x for x in _dash(client)["directives"]}[d["id"]]
    assert follow["state"] == "resolved" and follow["resolution"] == "loom 4 runs again"
    html = client.get("/fulfilment").text
    row = html[html.index(f'<tr data-item="{d["id"]}" data-state="resolved"') :]
    assert "resolved: loom 4 runs again" in row[: row.index("</tr>")]


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_one_vocabulary_of_states_on_every_page(client: TestClient, lang: str) -> None:
    client.cookies.set("lang", lang)
    dash = _dash(client)
    ent = client.get("/enterprise/textile-coop.json").json()
    items = dash["open"] + dash["resolved"] + dash["directives"] + ent["alerts"]
    assert items and {i["state"] for i in items} <= STATES
    shared = {i["id"]: i["state"] for i in dash["open"]}
    for a in ent["alerts"]:  # the same item says the same state on both pages
        if a["id"] in shared:
            assert a["state"] == shared[a["id"]]
    words = {"en": "open", "pt_BR": "aberto"}[lang]
    for page in ("/fulfilment", "/enterprise/textile-coop"):
        html = client.get(page).text
        cells = re.findall(r'data-state="open">.*?</tr>', html, flags=re.S)
        assert cells and all(f">{words}<" in c for c in cells), page
        assert ">new<" not in html and ">novo<" not in html
