"""Controls that hold against the officials they control (issue 13, items 4, 5 and 7), through
the web application on the seeded demonstration store (SQLite and PostgreSQL).

Each attack of the review is repeated and must be refused with a message naming the field:
self-approval, recording for people outside the enterprise, hours over the cap, sock-puppet
votes, proposer-set quorum and times, a lone planner adopting a decision, an enterprise's
delegate resolving the alert about it, and ``Infinity`` as reported output.
"""

from __future__ import annotations

import datetime as dt
import json
import time

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gosplan.config import Settings
from gosplan.services import escalation as esc
from gosplan.services import users
from gosplan.services.accounts import Accounts
from gosplan.storage.base import make_engine, session_scope
from gosplan.web.app import create_app

from .conftest import csrf, login, logout

JSON = {"accept": "application/json"}


def _ledger(settings: Settings) -> Accounts:
    return Accounts(make_engine(settings.database_url))


def test_a_planner_cannot_approve_hours_that_credit_himself(
    client: TestClient, web_settings: Settings
) -> None:
    ledger = _ledger(web_settings)
    try:  # diego (planner) works at the grain farm; its delegate records his hours
        rec = ledger.record_hours(
            "grain-farm", "person:diego", "demo-1", "9", key="t-diego", recorded_by="farm-delegate"
        )
    finally:
        ledger.engine.dispose()
    tok = login(client, "diego")
    r = client.post(
        f"/enterprise/grain-farm/work/{rec.id}/approve", data={"csrf_token": tok}, headers=JSON
    )
    assert r.status_code == 403 and r.json()["error"].startswith("record:")
    assert "nobody decides on their own hours" in r.json()["error"]
    r = client.post(
        f"/enterprise/grain-farm/work/{rec.id}/reject",
        data={"csrf_token": tok, "reason": "x"},
        headers=JSON,
    )
    assert r.status_code == 403
    page = client.get("/enterprise/grain-farm.json").json()
    assert [w["status"] for w in page["work"] if w["id"] == rec.id] == ["recorded"]
    # the record of another enterprise is not reachable under this one
    r = client.post(f"/enterprise/textile-coop/work/{rec.id}/approve", data={"csrf_token": tok})
    assert r.status_code == 404


def test_a_delegate_records_only_for_members_and_within_the_cap(client: TestClient) -> None:
    tok = login(client, "carla")  # delegate of textile-coop; bruno works at the grain farm
    r = client.post(
        "/enterprise/textile-coop/hours",
        data={"person": "person:bruno", "hours": "9999", "csrf_token": tok},
        headers=JSON,
    )
    assert r.status_code == 403 and r.json()["error"].startswith("person:")
    assert "not a member of enterprise 'textile-coop'" in r.json()["error"]
    # ana has 152 h in the period: 148 more reach the cap of 300 h, one more is refused
    r = client.post(
        "/enterprise/textile-coop/hours",
        data={"person": "person:ana", "hours": "148", "csrf_token": tok},
        headers=JSON,
    )
    assert r.status_code == 201, r.text
    for hours in ("1", "9999"):
        r = client.post(
            "/enterprise/textile-coop/hours",
            data={"person": "person:ana", "hours": hours, "csrf_token": tok},
            headers=JSON,
        )
        assert r.status_code == 422 and r.json()["error"].startswith("hours:")
        assert "over the cap of 300" in r.json()["error"]
    rid = client.get("/enterprise/textile-coop.json").json()["work"][-1]
    assert rid["recorded_by"] == "carla" and rid["status"] == "recorded"
    tok = logout(client, tok)
    tok = login(client, "diego")  # a planner outside textile-coop decides, one record at a time
    r = client.post(
        f"/enterprise/textile-coop/work/{rid['id']}/reject",
        data={"csrf_token": tok, "reason": ""},
        headers=JSON,
    )
    assert r.status_code == 422 and r.json()["error"].startswith("reason:")
    r = client.post(
        f"/enterprise/textile-coop/work/{rid['id']}/reject",
        data={"csrf_token": tok, "reason": "ana was on leave"},
        headers=JSON,
    )
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert r.json()["reason"] == "ana was on leave" and r.json()["decided_by"] == "diego"


def test_self_registered_accounts_cannot_vote(web_settings: Settings) -> None:
    app = create_app(web_settings, migrate=False)
    with TestClient(app) as c:
        tok = login(c, "diego")
        pid = _propose(c, tok, voting_hours=1)
        tok = logout(c, tok)
        puppets = []
        for i in range(3):  # sock puppets: open registration, no enrolment
            r = c.post(
                "/register",
                data={"username": f"puppet{i}", "password": "12345678x", "csrf_token": tok},
                follow_redirects=False,
            )
            assert r.status_code == 303
            tok = csrf(c)
            r = c.post(
                f"/decisions/{pid}/vote", data={"choice": [0], "csrf_token": tok}, headers=JSON
            )
            assert r.status_code == 403 and "may not vote" in r.json()["error"]
            assert r.json()["error"].startswith("choice:")
            puppets.append(f"puppet{i}")
            tok = logout(c, tok)
        assert c.get(f"/decisions/{pid}.json").json()["ballots"] == 0
        # a registrar enrols one of them, who then votes; nobody enrols themselves
        engine = make_engine(web_settings.database_url)
        with session_scope(engine) as s:
            users.register(s, "rita", "registrar-pw", role="registrar")
        engine.dispose()
        tok = login(c, "rita", "registrar-pw")
        r = c.post("/people/rita/enrol", data={"csrf_token": tok}, headers=JSON)
        assert r.status_code == 403 and r.json()["error"].startswith("username:")
        r = c.post("/people/puppet0/enrol", data={"csrf_token": tok}, headers=JSON)
        assert r.status_code == 200 and r.json()["enrolled_by"] == "rita"
        tok = logout(c, tok)
        tok = login(c, "diego")
        r = c.post("/people/puppet1/enrol", data={"csrf_token": tok}, headers=JSON)
        assert r.status_code == 403  # only registrars enrol
        tok = logout(c, tok)
        tok = login(c, "puppet0", "12345678x")
        r = c.post(f"/decisions/{pid}/vote", data={"choice": [0], "csrf_token": tok}, headers=JSON)
        assert r.status_code == 200
    app.state.gosplan.engine.dispose()


def _propose(c: TestClient, tok: str, voting_hours: float = 0.0015, **extra: object) -> int:
    opts = [
        {"label": "60-hour week", "effect": {"hours": 60}},
        {"label": "35-hour week", "effect": {"hours": 35}},
    ]
    r = c.post(
        "/decisions",
        data={
            "title": "Working week",
            "kind": "working_week",
            "options": json.dumps(opts),
            "voting_hours": voting_hours,
            "csrf_token": tok,
            **extra,
        },
        headers=JSON,
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_the_proposer_sets_neither_quorum_nor_times(web_settings: Settings) -> None:
    rules = {"decision_min_discussion_hours": 72.0, "decision_min_voting_hours": 48.0}
    app = create_app(web_settings.model_copy(update=rules), migrate=False)
    opts = json.dumps(
        [{"label": "a", "effect": {"hours": 60}}, {"label": "b", "effect": {"hours": 35}}]
    )
    base = {"title": "Week", "kind": "working_week", "options": opts}
    with TestClient(app) as c:
        tok = login(c, "diego")
        for field, value in [
            ("quorum", "1"),
            ("discussion_hours", "0"),
            ("discussion_hours", "-1e6"),
            ("voting_hours", "0.001"),
            ("voting_hours", "inf"),
            ("discussion_hours", "nan"),
            ("voting_hours", "1e12"),
        ]:
            r = c.post("/decisions", data={**base, field: value, "csrf_token": tok}, headers=JSON)
            assert r.status_code == 422, (field, value, r.text)
            assert field in r.json()["error"], (field, r.json())
        r = c.post("/decisions", data={**base, "csrf_token": tok}, headers=JSON)
        assert r.status_code == 201
        p = c.get(f"/decisions/{r.json()['id']}.json").json()
        start = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        assert p["phase"] == "discussion" and p["quorum"] >= 2
        assert abs(
            (dt.datetime.fromisoformat(p["discussion_until"]) - start) - dt.timedelta(hours=72)
        ) < dt.timedelta(minutes=5)
        assert abs(
            (dt.datetime.fromisoformat(p["voting_until"]) - start) - dt.timedelta(hours=120)
        ) < dt.timedelta(minutes=5)
        rules_shown = c.get("/decisions.json").json()["rules"]
        assert rules_shown["min_discussion_hours"] == 72.0 and rules_shown["quorum"] >= 2
    app.state.gosplan.engine.dispose()


def test_a_lone_planner_cannot_adopt_a_decision(client: TestClient) -> None:
    week_before = client.get("/plan.json").json()
    tok = login(client, "diego")
    pid = _propose(client, tok)
    r = client.post(f"/decisions/{pid}/vote", data={"choice": [0], "csrf_token": tok}, headers=JSON)
    assert r.status_code == 200
    r = client.post(f"/decisions/{pid}/close", data={"csrf_token": tok}, headers=JSON)
    assert r.status_code == 409  # not before the deadline, not by the proposer's hand
    deadline = time.monotonic() + 30
    while True:  # reading the page after the deadline closes the vote
        page = client.get(f"/decisions/{pid}.json").json()
        if page["phase"] == "closed":
            break
        assert time.monotonic() < deadline, "the vote did not close at its deadline"
        time.sleep(0.5)
    assert page["outcome"]["adopted"] is None and page["outcome"]["quorum"] >= 2
    assert page["outcome"]["ballots"] == 1 and not page["outcome"]["quorum_met"]
    adopted = [a["proposal"] for a in client.get("/decisions.json").json()["adopted"]]
    assert pid not in adopted
    assert client.get("/plan.json").json().get("binding") == week_before.get("binding")


def test_an_enterprise_does_not_resolve_the_alert_about_itself(
    client: TestClient, web_settings: Settings
) -> None:
    engine = make_engine(web_settings.database_url)
    with session_scope(engine) as s:
        now = esc.utcnow()
        ids = {
            code: esc.open_alert(
                s,
                area="fulfilment",
                subject=f"enterprise {code}",
                reason="output far below plan",
                context={"sector": "x"},
                details={"unit": code},
                now=now,
            ).id
            for code in ("textile-coop", "grain-farm")
        }
    engine.dispose()
    tok = login(client, "carla")  # delegate of textile-coop
    r = client.post(
        f"/fulfilment/items/{ids['textile-coop']}/resolve",
        data={"resolution": "all fine", "csrf_token": tok},
        headers=JSON,
    )
    assert r.status_code == 403 and r.json()["error"].startswith("resolution:")
    assert "resolved by someone outside it" in r.json()["error"]
    r = client.post(
        f"/fulfilment/items/{ids['textile-coop']}/acknowledge",
        data={"note": "we are on it", "csrf_token": tok},
        follow_redirects=False,
    )
    assert r.status_code == 303  # its people take it up
    tok = logout(client, tok)
    tok = login(client, "diego")  # a planner who works at the grain farm
    r = client.post(
        f"/fulfilment/items/{ids['grain-farm']}/resolve",
        data={"resolution": "all fine", "csrf_token": tok},
        headers=JSON,
    )
    assert r.status_code == 403
    r = client.post(
        f"/fulfilment/items/{ids['textile-coop']}/resolve",
        data={"resolution": "stock recounted", "csrf_token": tok},
        follow_redirects=False,
    )
    assert r.status_code == 303
    with Session(make_engine(web_settings.database_url)) as s:
        got = {i.id: i.resolved_at for i in esc.items(s, ids=list(ids.values()))}
    assert got[ids["grain-farm"]] is None and got[ids["textile-coop"]] is not None


def test_infinite_output_is_refused_in_the_form_and_the_csv(client: TestClient) -> None:
    page = client.get("/enterprise/textile-coop.json").json()
    period = page["fulfilment"]["open_periods"][1]
    before = {p["period"]: p["output"] for p in page["fulfilment"]["periods"]}
    tok = login(client, "carla")
    for field in ("output", "hours"):
        for bad in ("Infinity", "-Infinity", "NaN", "1e400"):
            data = {"period": period, "output": "10", "hours": "20", field: bad, "csrf_token": tok}
            r = client.post("/enterprise/textile-coop/report", data=data, headers=JSON)
            assert r.status_code == 422, (field, bad, r.text)
            assert field in r.text
    for bad in ("Infinity", "inf", "nan", "-5", "ten"):
        csv = (
            f"enterprise,period,kind,quantity\ntextile-coop,{period},output,{bad}\n"
            f"textile-coop,{period},hours,50\n"
        )
        r = client.post(
            "/enterprise/textile-coop/reports.csv",
            data={"csrf_token": tok},
            files={"file": ("r.csv", csv.encode(), "text/csv")},
            headers=JSON,
        )
        assert r.status_code == 422, (bad, r.text)
        assert "quantity" in r.json()["error"] and "row 2" in r.json()["error"].replace(
            "line 2", "row 2"
        )
    after = client.get("/enterprise/textile-coop.json")
    assert after.status_code == 200
    assert {p["period"]: p["output"] for p in after.json()["fulfilment"]["periods"]} == before
