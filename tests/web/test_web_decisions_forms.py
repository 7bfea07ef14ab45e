"""Typed proposal forms (one per kind, never JSON in the browser), errors next to the field
with what was typed, the rules of the vote on the proposal page, and "you voted for X"."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gosplan.clock import ManualClock, utcnow

from .conftest import login, logout

PT = {"Accept-Language": "pt-BR"}


def _store(client: TestClient) -> tuple[int, int]:
    """What a refused form must leave as it was: proposals and the public log's size."""
    return len(client.get("/decisions.json").json()["proposals"]), client.get("/log.json").json()[
        "size"
    ]


def _text(html: str) -> str:
    """What a reader sees: the page without its tags."""
    return re.sub(r"<[^>]+>", " ", html)


def _form(tok: str, kind: str, **fields: object) -> dict[str, Any]:
    return {
        "csrf_token": tok,
        "kind": kind,
        "title": "A proposal",
        "discussion_hours": "0",
        "voting_hours": "1",
        **fields,
    }


@pytest.mark.parametrize(
    "kind,fields,effects",
    [
        (
            "working_week",
            {"label_0": "35 hours", "hours_0": "35", "hours_1": "32,5"},
            [{"hours": 35.0}, {"hours": 32.5}],
        ),
        (
            "fund_split",
            {
                "label_0": "Health first",
                "share_0_health": "60",
                "share_0_education": "40",
                "label_1": "Education first",
                "share_1_health": "40",
                "share_1_education": "60",
            },
            [
                {"shares": {"health": 0.6, "education": 0.4}},
                {"shares": {"health": 0.4, "education": 0.6}},
            ],
        ),
        (
            "sector_target",
            {"product_0": "Grain", "change_0": "20", "product_1": "Grain", "change_1": "-10"},
            [{"product": "Grain", "factor": 1.2}, {"product": "Grain", "factor": 0.9}],
        ),
        (
            "purpose_target",
            {"purpose_0": "personal", "change_0": "5", "purpose_1": "exports", "change_1": "-5"},
            [{"purpose": "personal", "factor": 1.05}, {"purpose": "exports", "factor": 0.95}],
        ),
        ("other", {"label_0": "Yes", "label_1": "No"}, [{}, {}]),
    ],
)
def test_each_kind_has_a_typed_form(
    client: TestClient, kind: str, fields: dict[str, str], effects: list[dict[str, Any]]
) -> None:
    tok = login(client, "diego")
    page = client.get(f"/decisions?kind={kind}")
    assert page.status_code == 200
    assert 'name="options"' not in page.text  # no JSON to type
    assert f'name="kind" value="{kind}"' in page.text
    r = client.post("/decisions", data=_form(tok, kind, **fields), follow_redirects=False)
    assert r.status_code == 303, r.text
    pid = int(r.headers["location"].rsplit("/", 1)[1])
    p = client.get(f"/decisions/{pid}.json").json()
    assert p["kind"] == kind
    got = [o["effect"] for o in p["options"]]
    assert len(got) == len(effects)
    for g, e in zip(got, effects, strict=True):
        assert g.keys() == e.keys()
        for k, v in e.items():
            assert g[k] == (pytest.approx(v) if not isinstance(v, dict) else v) or (
                g[k] == pytest.approx(v)
            )
    # options left without a name are named from their numbers, in words
    assert all(o["label"] for o in p["options"])
    html = client.get(f"/decisions/{pid}").text
    assert "How this is decided" in html and (kind == "other" or kind not in _text(html))


def test_the_working_week_form_is_the_default_and_its_example_matches(client: TestClient) -> None:
    login(client, "diego")
    page = client.get("/decisions").text
    # the kind is shown in words; the form's fields are the working week's
    assert 'name="kind" value="working_week"' in page and 'name="hours_0"' in page
    assert "share_0_health" not in page and "fund_split" not in _text(page)


def test_bad_typed_input_is_shown_next_to_the_field_and_kept(client: TestClient) -> None:
    tok = login(client, "diego")
    before = _store(client)
    r = client.post(
        "/decisions",
        data=_form(tok, "working_week", title="", label_0="Long", hours_0="90", hours_1="zz"),
    )
    assert r.status_code == 422
    html = r.text
    errors = dict(re.findall(r'<span class="field-error" id="error-([^"]+)"[^>]*>([^<]*)<', html))
    assert set(errors) == {"title", "hours_0", "hours_1"}
    assert "between 1 and 80" in errors["hours_0"] and "90" in errors["hours_0"]
    assert "must be a number" in errors["hours_1"]
    # what was typed is still there, and the person is still signed in
    assert 'value="90"' in html and 'value="zz"' in html and 'value="Long"' in html
    assert 'aria-invalid="true" aria-describedby="error-hours_0"' in html
    assert "Diego" in re.search(r'<[^>]*class="who"[^>]*>.*?</', html, re.S).group(0)  # type: ignore[union-attr]
    assert "Expecting value" not in html and "Traceback" not in html
    assert _store(client) == before
    # shares that do not add up to 100, in Portuguese
    r = client.post(
        "/decisions",
        data=_form(tok, "fund_split", share_0_health="70", share_0_education="70"),
        headers=PT,
    )
    assert r.status_code == 422 and "as parcelas devem somar 100 %" in r.text
    assert _store(client) == before


def test_a_json_client_gets_the_field_and_why(client: TestClient) -> None:
    tok = login(client, "diego")
    before = _store(client)
    r = client.post(
        "/decisions",
        data=_form(tok, "sector_target", product_0="Gold", change_0="10"),
        headers={"accept": "application/json"},
    )
    assert r.status_code == 422
    assert r.json() == {"ok": False, "error": "product_0: choose a product of the economy"}
    r = client.post(
        "/decisions",
        data=_form(tok, "working_week", hours_0="35", hours_1="30", discussion_hours="-1"),
        headers={"accept": "application/json"},
    )
    assert r.status_code == 422 and r.json()["error"].startswith("discussion_hours")
    assert _store(client) == before
    # a worker's form is refused before anything is read
    tok = logout(client, tok)
    tok = login(client, "ana")
    r = client.post("/decisions", data=_form(tok, "working_week", hours_0="35", hours_1="30"))
    assert r.status_code == 403 and _store(client) == before


def test_a_voter_sees_what_she_voted_for_and_finds_her_ballot(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = ManualClock(utcnow())
    monkeypatch.setattr(client.app.state.gosplan, "clock", clock)  # type: ignore[attr-defined]
    tok = login(client, "diego")
    r = client.post(
        "/decisions",
        data=_form(
            tok,
            "working_week",
            label_0="Thirty-five",
            hours_0="35",
            label_1="Thirty-two",
            hours_1="32",
            method="schulze",
        ),
        follow_redirects=False,
    )
    pid = int(r.headers["location"].rsplit("/", 1)[1])
    tok = logout(client, tok)
    tok = login(client, "ana")
    page = client.get(f"/decisions/{pid}").text
    assert "ranked vote (Schulze method)" in page and 'id="vote-form"' in page
    r = client.post(f"/decisions/{pid}/vote", data={"choice": [1, 0], "csrf_token": tok})
    mine = client.get(f"/decisions/{pid}.json").json()["my_ballot"]
    assert mine["choice"] == [1, 0] and mine["labels"] == ["Thirty-two", "Thirty-five"]
    entry = client.get(f"/log/{mine['log_index']}.json").json()
    payload = entry.get("payload") or entry["entry"]["payload"]
    assert payload["proposal"] == pid and payload["voter"] == mine["pseudonym"]
    assert payload["choice"] == [1, 0]
    html = client.get(f"/decisions/{pid}").text
    assert "Your ranking: Thirty-two &gt; Thirty-five." in html
    assert f'href="/log/{mine["log_index"]}"' in html and 'id="vote-form"' not in html
    pt = client.get(f"/decisions/{pid}", headers=PT).text
    assert "Sua ordem: Thirty-two &gt; Thirty-five." in pt and "Como isto é decidido" in pt
    # she finds it from the list of decisions too
    listed = {x["id"]: x for x in client.get("/decisions.json").json()["proposals"]}
    assert listed[pid]["voted"] is True and listed[1]["voted"] is False
    assert f'href="/decisions/{pid}#my-ballot" class="voted"' in client.get("/decisions").text
    # someone else sees no ballot of hers
    tok = logout(client, tok)
    assert client.get("/decisions.json").json()["proposals"][0]["voted"] is None
    assert client.get(f"/decisions/{pid}.json").json()["my_ballot"] is None


def test_the_proposal_page_states_the_rules_in_words(client: TestClient) -> None:
    p = client.get("/decisions/1.json").json()  # the demonstration's fund split
    assert p["kind"] == "fund_split" and p["kind_words"] == "how the social funds are split"
    assert p["rules"]["quorum_share"] > 0 and p["quorum"] >= 2
    assert p["option_words"][0].startswith("the social funds split: health care 45 %")
    html = client.get("/decisions/1").text
    body = html[html.index("<main") :]
    assert "fund_split" not in _text(body) and '{"shares"' not in body
    rules = body[body.index('id="rules"') :]
    assert "Quorum: at least" in rules and "never fewer than 2" in rules
    assert "approves any options" in rules


def test_an_empty_ballot_or_comment_is_sent_back_with_the_reason(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = ManualClock(utcnow())
    monkeypatch.setattr(client.app.state.gosplan, "clock", clock)  # type: ignore[attr-defined]
    tok = login(client, "diego")
    r = client.post(
        "/decisions",
        data=_form(tok, "working_week", hours_0="35", hours_1="32"),
        follow_redirects=False,
    )
    pid = int(r.headers["location"].rsplit("/", 1)[1])
    tok = logout(client, tok)
    tok = login(client, "ana")
    before = _store(client)
    r = client.post(f"/decisions/{pid}/vote", data={"csrf_token": tok})
    assert r.status_code == 422 and 'id="error-choice"' in r.text
    assert "approve at least one option" in r.text and 'id="vote-form"' in r.text
    assert 'class="who"' in r.text  # still signed in
    r = client.post(
        f"/decisions/{pid}/vote", data={"csrf_token": tok}, headers={"accept": "application/json"}
    )
    assert r.status_code == 422 and r.json()["error"].startswith("choice: ")
    r = client.post(
        f"/decisions/{pid}/comments", data={"csrf_token": tok, "body": "  "}, headers=PT
    )
    assert r.status_code == 422 and "escreva algo para comentar" in r.text
    assert _store(client) == before
    assert client.get(f"/decisions/{pid}.json").json()["ballots"] == 0
