"""Enterprises: hours by delegates, approval by planners, reports (form and CSV) only for one's
own enterprise, checks that open alerts; the fulfilment dashboard and its ladder."""

from __future__ import annotations

from decimal import Decimal

from fastapi.testclient import TestClient

from .conftest import login, logout


def test_only_the_enterprises_delegate_records_hours(client: TestClient) -> None:
    tok = login(client, "carla")  # delegate of textile-coop
    r = client.post(
        "/enterprise/textile-coop/hours",
        data={"person": "person:ana", "hours": "7.5", "csrf_token": tok},
        headers={"accept": "application/json"},
    )
    assert r.status_code == 201 and r.json()["status"] == "recorded"
    r0 = r.json()["id"]
    r = client.post(
        "/enterprise/grain-farm/hours",
        data={"person": "person:ana", "hours": "7.5", "csrf_token": tok},
    )
    assert r.status_code == 403 and "only a delegate of grain-farm" in r.json()["error"]
    r = client.post(
        "/enterprise/textile-coop/hours",
        data={"person": "person:ana", "hours": "-3", "csrf_token": tok},
    )
    assert r.status_code == 422 and r.json()["error"].startswith("hours:")
    r = client.post(
        "/enterprise/textile-coop/hours",
        data={"person": "person:nobody", "hours": "3", "csrf_token": tok},
    )
    assert r.status_code == 422 and r.json()["error"].startswith("person:")
    rid = r0
    r = client.post(f"/enterprise/textile-coop/work/{rid}/approve", data={"csrf_token": tok})
    assert r.status_code == 403
    page = client.get("/enterprise/textile-coop.json").json()
    assert page["can_report"] and Decimal(page["hours_awaiting_approval"]) == Decimal("7.5")
    tok = logout(client, tok)
    tok = login(client, "ana")
    before = Decimal(client.get("/account.json").json()["balance"])
    r = client.post(
        "/enterprise/textile-coop/hours",
        data={"person": "person:ana", "hours": "100", "csrf_token": tok},
    )
    assert r.status_code == 403  # a worker does not record their own hours
    tok = logout(client, tok)
    tok = login(client, "diego")
    r = client.post(
        f"/enterprise/textile-coop/work/{rid}/approve",
        data={"csrf_token": tok},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = client.get("/enterprise/textile-coop.json").json()
    assert Decimal(page["hours_awaiting_approval"]) == 0
    tok = logout(client, tok)
    login(client, "ana")
    after = Decimal(client.get("/account.json").json()["balance"])
    assert before < after < before + Decimal("7.5")  # credited, less the deduction
    assert client.get("/enterprise/nowhere.json").status_code == 404


def test_an_enterprise_cannot_report_for_another(client: TestClient) -> None:
    page = client.get("/enterprise/textile-coop.json").json()
    period = page["fulfilment"]["open_periods"][1]
    tok = login(client, "carla")
    r = client.post(
        "/enterprise/grain-farm/report",
        data={"period": period, "output": 100, "hours": 500, "csrf_token": tok},
    )
    assert r.status_code == 403
    csv = (
        f"enterprise,period,kind,quantity\ngrain-farm,{period},output,10\n"
        f"grain-farm,{period},hours,50\n"
    )
    r = client.post(
        "/enterprise/textile-coop/reports.csv",
        data={"csrf_token": tok},
        files={"file": ("r.csv", csv.encode(), "text/csv")},
    )
    assert r.status_code == 403 and "reports only for textile-coop" in r.json()["error"]
    r = client.post(
        "/enterprise/grain-farm/reports.csv",
        data={"csrf_token": tok},
        files={"file": ("r.csv", csv.encode(), "text/csv")},
    )
    assert r.status_code == 403
    tok = logout(client, tok)
    tok = login(client, "ana")
    r = client.post(
        "/enterprise/textile-coop/report",
        data={"period": period, "output": 100, "hours": 500, "csrf_token": tok},
    )
    assert r.status_code == 403
    # nothing was stored
    grain = {
        p["period"]: p
        for p in client.get("/enterprise/grain-farm.json").json()["fulfilment"]["periods"]
    }
    assert grain[period]["output"] != 10


def test_a_report_far_below_the_plan_opens_an_alert(client: TestClient) -> None:
    tok = login(client, "elena")  # the commission: a member of neither enterprise
    dash = client.get("/fulfilment.json").json()
    for item in dash["open"]:  # put right what the demo left open
        r = client.post(
            f"/fulfilment/items/{item['id']}/resolve",
            data={"resolution": "spare parts arrived", "csrf_token": tok},
            follow_redirects=False,
        )
        assert r.status_code == 303
    assert client.get("/fulfilment.json").json()["open"] == []
    tok = logout(client, tok)
    tok = login(client, "carla")
    page = client.get("/enterprise/textile-coop.json").json()
    period = page["fulfilment"]["open_periods"][0]
    r = client.post(
        "/enterprise/textile-coop/report",
        data={"period": period, "output": 20, "hours": 100, "csrf_token": tok},
        headers={"accept": "application/json"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["new"] == 1
    first_report = r.json()["reports"][0]
    reasons = [a["reason"] for a in r.json()["alerts"]]
    assert any(x.startswith("shortfall: output 20 % of plan") for x in reasons)
    dash = client.get("/fulfilment.json").json()
    assert dash["by_level"] == {"enterprise": len(dash["open"])} and dash["open"]
    assert all(i["unit"] == "textile-coop" for i in dash["open"])
    assert [lv["name"] for lv in dash["ladder"]] == ["enterprise", "sector", "planning", "public"]
    row = {
        p["period"]: p
        for p in client.get("/enterprise/textile-coop.json").json()["fulfilment"]["periods"]
    }[period]
    assert row["output"] == 20 and row["fulfilment"] == 0.2
    # the same report again changes nothing; a CSV correction is the next version
    r = client.post(
        "/enterprise/textile-coop/report",
        data={"period": period, "output": 20, "hours": 100, "csrf_token": tok},
        headers={"accept": "application/json"},
    )
    assert r.json()["unchanged"] == 1
    # a delegate may resolve their own enterprise's alert, not another's
    alert = client.get("/fulfilment.json").json()["open"][0]
    r = client.post(
        f"/fulfilment/items/{alert['id']}/acknowledge",
        data={"note": "we are on it", "csrf_token": tok},
        follow_redirects=False,
    )
    assert r.status_code == 303
    csv = (
        f"enterprise,period,kind,quantity\ntextile-coop,{period},output,95\n"
        f"textile-coop,{period},hours,475\n"
    )
    r = client.post(
        "/enterprise/textile-coop/reports.csv",
        data={"csrf_token": tok},
        files={"file": ("week.csv", csv.encode(), "text/csv")},
        headers={"accept": "application/json"},
    )
    assert r.status_code == 201 and r.json()["corrected"] == 1
    # the correction is linked to the report it corrects and settles the shortfall alert
    assert [c["corrects"] for c in r.json()["corrections"]] == [first_report]
    settled = {a["id"]: a for a in r.json()["settled"]}
    assert alert["id"] in settled and settled[alert["id"]]["state"] == "resolved"
    assert "corrects report" in settled[alert["id"]]["resolution"]
    bad = "enterprise,period,kind,quantity\ntextile-coop,2001-01-01,output,-5\n"
    r = client.post(
        "/enterprise/textile-coop/reports.csv",
        data={"csrf_token": tok},
        files={"file": ("bad.csv", bad.encode(), "text/csv")},
    )
    assert r.status_code == 422 and "field `quantity`" in r.json()["error"]
    tok = logout(client, tok)
    tok = login(client, "bruno")
    r = client.post(
        f"/fulfilment/items/{alert['id']}/resolve", data={"resolution": "x", "csrf_token": tok}
    )
    assert r.status_code == 403
    r = client.post("/fulfilment/items/99999/resolve", data={"resolution": "x", "csrf_token": tok})
    assert r.status_code == 404
    html = client.get("/fulfilment").text
    assert "The ladder" in html and "shortfall" in html
