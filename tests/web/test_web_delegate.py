"""The delegate's jobs (issue 15) through the web application on the seeded demonstration
store (SQLite and PostgreSQL): hours recorded only for the enterprise's members, after a
confirmation; one record decided at a time through one parametrised route; the CSV
template and the report kinds; corrections that settle the right alerts and open no bogus
ones; bars coloured by state and said in words.

In the demonstration, carla is the delegate of textile-coop (members: ana, carla); bruno
and diego (a planner) work at the grain farm; elena (the commission) works at neither.
The textile cooperative's last reported week is 58 % of the plan (a shortfall alert is
open) and its input of grain matches the farm's delivery.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from .conftest import login, logout

JSON = {"accept": "application/json"}
ENT = "/enterprise/textile-coop"


def _page(client: TestClient) -> dict[str, Any]:
    return dict(client.get(f"{ENT}.json").json())


def _open(client: TestClient) -> list[dict[str, Any]]:
    return list(client.get("/fulfilment.json").json()["open"])


def test_only_members_can_be_picked_and_others_are_refused_by_name(client: TestClient) -> None:
    page = _page(client)
    assert sorted(m["code"] for m in page["members"]) == ["person:ana", "person:carla"]
    assert {m["name"] for m in page["members"]} == {"Ana Souza", "Carla Dias"}
    assert page["names"]["person:ana"] == "Ana Souza"  # the page names people, not codes
    assert page["names"]["grain-farm"] == "Grain farm collective"
    tok = login(client, "carla")
    html = client.get(ENT).text
    form = html[html.index('id="record-hours"') :]
    form = form[: form.index("</form>")]
    assert 'action="/enterprise/textile-coop/hours/confirm"' in html
    assert 'value="person:ana"' in form and 'value="person:carla"' in form
    for other in ("person:diego", "person:elena", "person:bruno"):
        assert other not in form  # the planner, the commission, another enterprise's worker
    before = _page(client)["work"]
    for path in (f"{ENT}/hours/confirm", f"{ENT}/hours"):
        for person, name in (
            ("person:diego", "Diego Alves"),
            ("person:elena", "Elena Ramos"),
            ("person:bruno", "Bruno Lima"),
        ):
            r = client.post(
                path, data={"person": person, "hours": "8", "csrf_token": tok}, headers=JSON
            )
            assert r.status_code == 403, r.text
            err = r.json()["error"]
            assert err.startswith("person:") and name in err and person in err
            assert "not a member of enterprise 'textile-coop'" in err
        r = client.post(
            path, data={"person": "person:nobody", "hours": "8", "csrf_token": tok}, headers=JSON
        )
        assert r.status_code == 422 and r.json()["error"].startswith("person:")
        for bad in ("abc", "-2", "0", "NaN", "Infinity"):
            r = client.post(
                path, data={"person": "person:ana", "hours": bad, "csrf_token": tok}, headers=JSON
            )
            assert r.status_code == 422, (bad, r.text)
            assert r.json()["error"].startswith("hours:")
    assert _page(client)["work"] == before  # nothing was recorded


def test_hours_are_recorded_after_a_confirmation(client: TestClient) -> None:
    tok = login(client, "carla")
    before = _page(client)["work"]
    r = client.post(
        f"{ENT}/hours/confirm",
        data={"person": "person:ana", "hours": "7.5", "key": "k1", "csrf_token": tok},
        headers=JSON,
    )
    assert r.status_code == 200, r.text
    summary = r.json()
    assert summary["person"] == "person:ana" and summary["person_name"] == "Ana Souza"
    assert (
        Decimal(summary["hours"]) == Decimal("7.5")
        and summary["period"] == "demo-1"
        and summary["key"] == "k1"
    )
    assert _page(client)["work"] == before  # the confirmation page records nothing
    html = client.post(
        f"{ENT}/hours/confirm",
        data={"person": "person:ana", "hours": "7.5", "key": "k1", "csrf_token": tok},
    ).text
    assert 'id="confirm-hours-form"' in html and 'action="/enterprise/textile-coop/hours"' in html
    assert 'name="person" value="person:ana"' in html and 'name="hours" value="7.5"' in html
    r = client.post(
        f"{ENT}/hours",
        data={"person": "person:ana", "hours": "7.5", "key": "k1", "csrf_token": tok},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith(f"{ENT}?recorded=")
    after = _page(client)["work"]
    assert len(after) == len(before) + 1
    new = after[-1]
    assert new["person"] == "person:ana" and Decimal(new["hours"]) == Decimal("7.5")
    assert new["recorded_by"] == "carla" and new["status"] == "recorded"
    # the same confirmation sent twice (a double click) records once
    client.post(
        f"{ENT}/hours",
        data={"person": "person:ana", "hours": "7.5", "key": "k1", "csrf_token": tok},
    )
    assert len(_page(client)["work"]) == len(after)


def test_one_route_decides_each_record(client: TestClient) -> None:
    app: Any = client.app
    paths = set(app.openapi()["paths"])
    assert "/enterprise/{code}/work/{rid}/{decision}" in paths
    assert not any(p.endswith("/approve") or p.endswith("/reject") for p in paths)
    tok = login(client, "carla")
    ids = []
    for h in ("4", "5"):
        r = client.post(
            f"{ENT}/hours",
            data={"person": "person:ana", "hours": h, "csrf_token": tok},
            headers=JSON,
        )
        ids.append(r.json()["id"])
    tok = logout(client, tok)
    tok = login(client, "diego")  # a planner outside textile-coop
    r = client.post(f"{ENT}/work/{ids[0]}/destroy", data={"csrf_token": tok}, headers=JSON)
    assert r.status_code == 422 and "decision" in r.json()["error"]
    r = client.post(f"{ENT}/work/{ids[0]}/approve", data={"csrf_token": tok}, headers=JSON)
    assert r.status_code == 200 and r.json()["status"] == "approved"
    r = client.post(
        f"{ENT}/work/{ids[1]}/reject",
        data={"csrf_token": tok, "reason": "double entry"},
        headers=JSON,
    )
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    statuses = {w["id"]: w["status"] for w in _page(client)["work"]}
    assert statuses[ids[0]] == "approved" and statuses[ids[1]] == "rejected"
    r = client.post(f"{ENT}/work/{ids[0]}/reject", data={"csrf_token": tok, "reason": "x"})
    assert r.status_code == 409  # decided already: one decision per record


def test_the_csv_template_and_the_report_kinds(client: TestClient) -> None:
    page = _page(client)
    assert [k["kind"] for k in page["report_kinds"]] == ["output", "hours", "input", "delivery"]
    assert all(k["meaning"] for k in page["report_kinds"])
    r = client.get(f"{ENT}/reports-template.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert {"enterprise", "period", "kind", "quantity", "counterparty"} <= set(rows[0])
    assert [x["kind"] for x in rows] == ["output", "hours", "input"]
    assert all(x["enterprise"] == "textile-coop" for x in rows)
    # the template, filled in, is accepted as it is
    period = rows[0]["period"]
    for x, q in zip(rows, ("101", "505", "20"), strict=True):
        x["quantity"] = q
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)
    tok = login(client, "carla")
    html = client.get(ENT).text
    assert 'href="/enterprise/textile-coop/reports-template.csv"' in html
    assert 'id="report-kinds"' in html and "<code>delivery</code>" in html
    r = client.post(
        f"{ENT}/reports.csv",
        data={"csrf_token": tok},
        files={"file": ("filled.csv", out.getvalue().encode(), "text/csv")},
        headers=JSON,
    )
    assert r.status_code == 201, r.text
    assert r.json()["new"] == 1
    row = {p["period"]: p for p in _page(client)["fulfilment"]["periods"]}[period]
    assert row["output"] == 101 and row["version"] == 1
    assert client.get("/enterprise/nowhere/reports-template.csv").status_code == 404


def test_correcting_a_week_settles_its_shortfall_and_opens_no_bogus_alert(
    client: TestClient,
) -> None:
    """Issue 15: correcting a week's report opened "gap +99999900 %" alerts at both ends
    and left the real shortfall open."""
    page = _page(client)
    short = [p for p in page["fulfilment"]["periods"] if p["state"] == "short"]
    assert len(short) == 1 and short[0]["fulfilment"] == 0.58
    week = short[0]["period"]
    before = _open(client)
    shortfall = [a for a in before if a["reason"].startswith("shortfall") and week in a["reason"]]
    assert len(shortfall) == 1 and shortfall[0]["unit"] == "textile-coop"
    farm_before = {a["id"] for a in before if a["unit"] == "grain-farm"}
    tok = login(client, "carla")
    r = client.post(
        f"{ENT}/report",
        data={"period": week, "output": 97, "hours": 485, "csrf_token": tok},
        headers=JSON,
    )
    assert r.status_code == 201, r.text
    res = r.json()
    assert res["corrected"] == 1 and res["new"] == 0
    assert len(res["corrections"]) == 1
    assert res["corrections"][0]["report"] == res["reports"][0]
    assert res["corrections"][0]["corrects"] < res["corrections"][0]["report"]
    assert [a["id"] for a in res["settled"]] == [shortfall[0]["id"]]
    assert "corrects report" in res["settled"][0]["resolution"]
    after = _open(client)
    assert shortfall[0]["id"] not in {a["id"] for a in after}
    for a in after:  # no bogus mismatch, no partner blamed
        assert "99999900" not in a["reason"] and not a["reason"].startswith("mismatch")
        assert not a["reason"].startswith("partner_differs")
    assert {a["id"] for a in after if a["unit"] == "grain-farm"} == farm_before
    # the page says the week was corrected, and the alert is resolved in the same words
    page = _page(client)
    row = {p["period"]: p for p in page["fulfilment"]["periods"]}[week]
    assert row["version"] == 2 and row["output"] == 97 and row["state"] == "near"
    alert = {a["id"]: a for a in page["alerts"]}[shortfall[0]["id"]]
    assert alert["state"] == "resolved"
    # the public log names the report the correction corrects
    entries = client.get("/log.json", params={"kind": "reports.received"}).json()["entries"]
    newest = max(entries, key=lambda e: e["index"])
    assert newest["payload"]["corrections"] == [
        [res["corrections"][0]["report"], res["corrections"][0]["corrects"]]
    ]


def test_a_correction_keeps_the_lines_it_does_not_restate(client: TestClient) -> None:
    """A CSV that restates only output and hours keeps the week's input of grain, so the
    farm's delivery still meets a receipt (no mismatch at either end)."""
    week = next(p for p in _page(client)["fulfilment"]["periods"] if p["state"] == "short")[
        "period"
    ]
    tok = login(client, "carla")
    csv_text = (
        f"enterprise,period,kind,quantity\ntextile-coop,{week},output,96\n"
        f"textile-coop,{week},hours,480\n"
    )
    r = client.post(
        f"{ENT}/reports.csv",
        data={"csrf_token": tok},
        files={"file": ("fix.csv", csv_text.encode(), "text/csv")},
        headers=JSON,
    )
    assert r.status_code == 201 and r.json()["corrected"] == 1
    reasons = [a["reason"] for a in _open(client)]
    assert not any(x.startswith(("mismatch", "partner_differs")) for x in reasons), reasons
    # withdrawing the input (restated as 0) is a real mismatch with the farm's delivery
    r = client.post(
        f"{ENT}/report",
        data={
            "period": week,
            "output": 96,
            "hours": 480,
            "supplier": "grain-farm",
            "input_quantity": 0,
            "csrf_token": tok,
        },
        headers=JSON,
    )
    assert r.status_code == 201 and r.json()["corrected"] == 1
    reasons = [a["reason"] for a in _open(client)]
    gap = [x for x in reasons if x.startswith(("mismatch", "partner_differs"))]
    assert gap and all("99999900" not in x for x in gap)
    assert any("reports as nothing" in x for x in gap)


def test_a_bad_correction_changes_nothing(client: TestClient) -> None:
    week = next(p for p in _page(client)["fulfilment"]["periods"] if p["state"] == "short")[
        "period"
    ]
    before_page, before_open = _page(client)["fulfilment"], _open(client)
    tok = login(client, "carla")
    bad = f"enterprise,period,kind,quantity\ntextile-coop,{week},output,97\n"  # no hours
    r = client.post(
        f"{ENT}/reports.csv",
        data={"csrf_token": tok},
        files={"file": ("bad.csv", bad.encode(), "text/csv")},
        headers=JSON,
    )
    assert r.status_code == 422 and "field `hours`" in r.json()["error"]

    def items(xs: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return [(a["id"], a["state"], a["level"], a["reason"]) for a in xs]

    assert _page(client)["fulfilment"] == before_page
    assert items(_open(client)) == items(before_open)


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_bars_are_coloured_by_state_and_say_it(client: TestClient, lang: str) -> None:
    client.cookies.set("lang", lang)
    html = client.get(ENT).text
    words = {
        "en": {"met": "plan met", "short": "short of plan"},
        "pt_BR": {"met": "plano cumprido", "short": "abaixo do plano"},
    }[lang]
    page = _page(client)
    for p in page["fulfilment"]["periods"]:
        if p["fulfilment"] is None:
            continue
        row = html[html.index(f'data-period="{p["period"]}"') :]
        row = row[: row.index("</tr>")]
        assert f'class="bar state-{p["state"]}"' in row
        if p["state"] in words:
            assert words[p["state"]] in row
    met = [p for p in page["fulfilment"]["periods"] if p["fulfilment"] == 1.0]
    assert met and all(p["state"] == "met" for p in met)  # 100 % is not red
