"""The control commission's pages: retaliation warnings and appointment checks with their
path of ties, for the commission only, never about oneself (TestClient, SQLite and
PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gosplan.services import appointments as appt
from gosplan.services import criticism, retaliation
from gosplan.web.state import AppState
from tests.web.conftest import login

JSON = {"accept": "application/json"}
HTML = {"accept": "text/html"}


def seed_control(state: AppState) -> dict[str, str]:
    """People, posts and ties on record; a critic demoted by the official she criticised
    (a retaliation warning); an appointment by a colleague of the appointee's relative (a
    flagged appointment); one more flagged appointment in which the commission member
    ``elena`` sits on the panel (it concerns her)."""
    today = dt.datetime.now(dt.UTC).date()
    with Session(state.engine) as s:
        appt.add_person(s, "paulo", "Paulo Mendes")
        appt.add_person(s, "ana-s", "Ana Souza", hometown="Olinda")
        appt.add_person(s, "joao", "João Pereira", hometown="Recife")
        appt.add_person(s, "lucia", "Lúcia Costa")
        appt.add_person(s, "elena", "Elena Ramos")
        appt.add_position(
            s, "spinning-lead", "Head of spinning", "textile-coop", "textile-director"
        )
        appt.add_position(s, "weaving-lead", "Head of weaving", "textile-coop", "textile-director")
        appt.add_position(s, "grain-lead", "Head of harvest", "grain-farm", "grain-director")
        appt.add_tie(s, "lucia", "joao", "family")
        appt.add_tie(s, "joao", "dir-textile", "colleague", source="found")
        day0 = today - dt.timedelta(days=60)
        appt.appoint(
            s, position="textile-director", appointee="dir-textile", appointer="paulo", day=day0
        )
        appt.appoint(
            s, position="spinning-lead", appointee="ana-s", appointer="dir-textile", day=day0
        )
        appt.appoint(
            s, position="weaving-lead", appointee="lucia", appointer="dir-textile", day=today
        )
        appt.appoint(
            s,
            position="grain-lead",
            appointee="joao",
            appointer="dir-textile",
            panel=["elena"],
            day=today,
        )
        c = criticism.file(
            s,
            target_kind="official",
            target="dir-textile",
            content="The director hides the idle spinning line.",
            person="ana-s",
            settings=state.settings,
            today=today - dt.timedelta(days=10),
        )
        _, alerts = retaliation.record_event(
            s,
            person="ana-s",
            kind="demotion",
            day=today,
            actor="dir-textile",
            settings=state.settings,
        )
        assert alerts, "the seed must open a retaliation warning"
        s.commit()
        return {"criticism": c.ref, "alert": str(alerts[0].id)}


@pytest.fixture
def seeded(client: TestClient) -> dict[str, str]:
    return seed_control(client.app.state.gosplan)  # type: ignore[attr-defined]


def test_only_the_commission_sees_it(client: TestClient, seeded: dict[str, str]) -> None:
    r = client.get("/commission.json")
    assert r.status_code == 401 and r.json()["ok"] is False
    r = client.get("/commission", headers=HTML, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    for who in ("ana", "carla", "diego"):
        login(client, who)
        r = client.get("/commission.json")
        assert r.status_code == 403 and "commission" in r.json()["error"], who
        r = client.get(
            "/commission/check.json", params={"appointee": "lucia", "appointer": "paulo"}
        )
        assert r.status_code == 403, who


def test_warning_and_flagged_appointment(client: TestClient, seeded: dict[str, str]) -> None:
    login(client, "elena")
    page = client.get("/commission.json").json()
    assert page["ok"] is True and page["you"] == ["elena"] and page["open_warnings"] == 1
    (w,) = page["warnings"]
    assert w["concerns_you"] is False and w["criticism"] == seeded["criticism"]
    assert w["event_kind"] == "demotion" and w["person"]["name"] == "Ana Souza"
    assert w["actor"]["id"] == "dir-textile" and w["why"] == "decided_by_criticised"
    assert w["level"] == 1 and w["level_words"] == "control commission officer"
    flagged = {a["appointee"]["id"]: a for a in page["appointments"]}
    lucia = flagged["lucia"]
    assert lucia["concerns_you"] is False
    (f,) = lucia["findings"]
    assert f["role"] == "appointer" and f["distance"] == 2.0
    steps = [
        (s["from_person"]["id"], s["to_person"]["id"], s["ties"][0]["kind"]) for s in f["path"]
    ]
    assert steps == [("lucia", "joao", "family"), ("joao", "dir-textile", "colleague")]
    assert f["path"][1]["ties"][0]["words"] == "former colleagues (found in records)"
    # the one where elena sat on the panel concerns her: no detail
    joao = flagged["joao"]
    assert joao["concerns_you"] is True and joao["findings"] == []
    html = client.get("/commission", headers=HTML).text
    assert "Possible retaliation: demotion of Ana Souza" in html
    assert "whom the critic criticised" in html and "person:" not in html
    assert "former colleagues (found in records)" in html


def test_check_a_proposed_appointment(client: TestClient, seeded: dict[str, str]) -> None:
    login(client, "elena")
    r = client.get(
        "/commission/check.json",
        params={"appointee": "lucia", "appointer": "paulo", "panel": ["dir-textile"], "k": 2},
    )
    assert r.status_code == 200, r.text
    check = r.json()["check"]
    assert check["checked"] and check["flagged"]
    (f,) = check["findings"]
    assert f["decider"]["id"] == "dir-textile" and f["role"] == "panel"
    r = client.get("/commission/check.json", params={"appointee": "lucia", "appointer": "paulo"})
    assert r.json()["check"]["flagged"] is False
    # a hometown tie: joao and dir-textile's town (Recife) through a found record
    r = client.get(
        "/commission/check.json",
        params={"appointee": "ana-s", "appointer": "paulo", "k": 2},
    )
    assert r.status_code == 200 and r.json()["check"]["findings"] == []
    # errors name the field, store unchanged
    r = client.get("/commission/check.json", params={"appointee": "nobody", "appointer": "paulo"})
    assert r.status_code == 422 and r.json()["error"].startswith("appointee:")
    r = client.get("/commission/check.json", params={"appointee": "lucia", "appointer": "x"})
    assert r.status_code == 422 and r.json()["error"].startswith("appointer:")
    r = client.get(
        "/commission/check.json", params={"appointee": "lucia", "appointer": "paulo", "k": "lots"}
    )
    assert r.status_code == 422
    # nobody checks what concerns themselves
    r = client.get("/commission/check.json", params={"appointee": "lucia", "appointer": "elena"})
    assert r.status_code == 403 and r.json()["error"].startswith("appointer:")
    r = client.get(
        "/commission/check.json",
        params={"appointee": "lucia", "appointer": "paulo", "panel": ["elena"]},
    )
    assert r.status_code == 403 and r.json()["error"].startswith("panel:")


def test_check_form_keeps_what_was_typed(client: TestClient, seeded: dict[str, str]) -> None:
    login(client, "elena")
    r = client.get(
        "/commission/check",
        params={"appointee": "lucia", "appointer": "paulo", "k": "lots"},
        headers=HTML,
    )
    assert r.status_code == 422 and "Elena Ramos" in r.text
    assert re.search(r'id="f-k-error">a number is needed here<', r.text)
    assert re.search(r'<option value="lucia" selected>', r.text)
    assert 'value="lots"' in r.text


def test_resolve_a_warning(client: TestClient, seeded: dict[str, str]) -> None:
    tok = login(client, "elena")
    alert = seeded["alert"]
    r = client.post(
        f"/commission/warnings/{alert}/resolve",
        data={"resolution": "  ", "csrf_token": tok},
        headers=HTML,
    )
    assert r.status_code == 422 and 'id="f-resolution-error"' in r.text
    assert client.get("/commission.json").json()["open_warnings"] == 1
    r = client.post(
        f"/commission/warnings/{alert}/resolve",
        data={"resolution": "demotion reversed; director warned", "csrf_token": tok},
        headers=JSON,
    )
    assert r.status_code == 200 and r.json()["resolved"] is True
    page = client.get("/commission.json").json()
    assert page["open_warnings"] == 0
    assert page["warnings"][0]["resolution"] == "demotion reversed; director warned"
    r = client.post(
        "/commission/warnings/99999/resolve",
        data={"resolution": "x", "csrf_token": tok},
        headers=JSON,
    )
    assert r.status_code == 404


def test_a_warning_about_oneself_is_withheld(client: TestClient, seeded: dict[str, str]) -> None:
    state = client.app.state.gosplan  # type: ignore[attr-defined]
    today = dt.datetime.now(dt.UTC).date()
    with Session(state.engine) as s:
        criticism.file(
            s,
            target_kind="official",
            target="elena",
            content="The commission member sits on panels of her friends.",
            person="joao",
            settings=state.settings,
            today=today,
        )
        _, alerts = retaliation.record_event(
            s, person="joao", kind="transfer", day=today, actor="elena", settings=state.settings
        )
        (alert_id,) = [a.id for a in alerts]
        s.commit()
    tok = login(client, "elena")
    page = client.get("/commission.json").json()
    w = next(w for w in page["warnings"] if w["alert"] == alert_id)
    assert w["concerns_you"] is True and w["criticism"] is None and w["person"] is None
    r = client.post(
        f"/commission/warnings/{alert_id}/resolve",
        data={"resolution": "nothing to see", "csrf_token": tok},
        headers=JSON,
    )
    assert r.status_code == 403 and r.json()["error"].startswith("resolution:")
