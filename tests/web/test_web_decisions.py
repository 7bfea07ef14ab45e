from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from gosplan.clock import ManualClock, utcnow
from gosplan.services.decisions import tally

from .conftest import csrf, login


def test_tally_approval_and_schulze() -> None:
    t = tally("approval", ["a", "b", "c"], [[0], [0, 1], [1], [1, 2]], quorum=3)
    assert t.scores == [2, 3, 1] and t.winner == 1 and t.quorum_met and not t.tie
    # Condorcet cycle broken by Schulze: the classic Wikipedia example (45 voters, 5 options)
    # A=0 .. E=4; winner E (Schulze 1997 / Wikipedia "Schulze method" example)
    groups = [
        (5, "ACBED"),
        (5, "ADECB"),
        (8, "BEDAC"),
        (3, "CABED"),
        (7, "CAEBD"),
        (2, "CBADE"),
        (7, "DCEBA"),
        (8, "EBADC"),
    ]
    ballots = [[ord(c) - 65 for c in order] for n, order in groups for _ in range(n)]
    s = tally("schulze", list("ABCDE"), ballots, quorum=1)
    assert s.winner == 4
    assert s.pairwise is not None and s.pairwise[0][1] == 20  # d[A,B] = 20 in the example
    assert tally("approval", ["a", "b"], [[0]], quorum=2).winner is None


def _propose(client: TestClient, tok: str, voting_hours: float = 0.0015) -> int:
    opts = [
        {"label": "35-hour week", "effect": {"hours": 35}},
        {"label": "32-hour week", "effect": {"hours": 32}},
    ]
    r = client.post(
        "/decisions",
        data={
            "title": "Working week",
            "kind": "working_week",
            "options": json.dumps(opts),
            "method": "approval",
            "discussion_hours": 0,
            "voting_hours": voting_hours,
            "csrf_token": tok,
        },
        headers={"accept": "application/json"},
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_vote_once_then_close_binds(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    # the app's clock is injected: the voting period ends when the test moves it, not by sleeping
    clock = ManualClock(utcnow())
    monkeypatch.setattr(client.app.state.gosplan, "clock", clock)  # type: ignore[attr-defined]
    tok = login(client, "diego")
    pid = _propose(client, tok)
    # a worker cannot propose
    client.post("/logout", data={"csrf_token": tok})
    tok = login(client, "ana")
    r = client.post(
        "/decisions", data={"title": "x", "kind": "other", "options": "[]", "csrf_token": tok}
    )
    assert r.status_code == 403
    r = client.post(
        f"/decisions/{pid}/vote", data={"choice": [1], "csrf_token": tok}, follow_redirects=False
    )
    assert r.status_code == 303
    r = client.post(f"/decisions/{pid}/vote", data={"choice": [0], "csrf_token": tok})
    assert r.status_code == 409 and "already voted" in r.json()["error"]
    page = client.get(f"/decisions/{pid}.json").json()
    assert page["ballots"] == 1 and page["tally"]["scores"] == [0, 1]
    # nobody closes a vote before its deadline, the proposer included
    r = client.post(f"/decisions/{pid}/close", data={"csrf_token": tok})
    assert r.status_code == 409 and "cannot close during voting" in r.json()["error"]
    client.post("/logout", data={"csrf_token": tok})
    tok = login(client, "diego")
    r = client.post(
        f"/decisions/{pid}/vote", data={"choice": [1], "csrf_token": tok}, follow_redirects=False
    )
    assert r.status_code == 303  # a second voter: one person alone adopts nothing
    client.post("/logout", data={"csrf_token": tok})
    tok = login(client, "ana")
    clock.advance(hours=2)  # past the configured minimum voting time
    r = client.post(f"/decisions/{pid}/close", data={"csrf_token": tok}, follow_redirects=False)
    assert r.status_code == 303, r.text  # anyone closes it once due
    d = client.get("/decisions.json").json()
    assert d["adopted"][-1]["option"] == "32-hour week"
    assert d["adopted"][-1]["effect"] == {"hours": 32.0}


def test_bad_proposals_are_refused(client: TestClient) -> None:
    tok = login(client, "diego")
    bad = [
        {"label": "a", "effect": {"shares": {"health": 0.7, "education": 0.7}}},
        {"label": "b", "effect": {"shares": {"health": 1.0}}},
    ]
    r = client.post(
        "/decisions",
        data={
            "title": "split",
            "kind": "fund_split",
            "options": json.dumps(bad),
            "csrf_token": tok,
        },
    )
    assert r.status_code == 422 and "sum to 1" in r.json()["error"]
    bad2 = [
        {"label": "a", "effect": {"product": "Gold", "factor": 1.1}},
        {"label": "b", "effect": {"product": "Grain", "factor": 1.1}},
    ]
    r = client.post(
        "/decisions",
        data={
            "title": "gold",
            "kind": "sector_target",
            "options": json.dumps(bad2),
            "csrf_token": tok,
        },
    )
    assert r.status_code == 422 and "unknown product 'Gold'" in r.json()["error"]


def test_anonymous_cannot_vote(client: TestClient) -> None:
    tok = csrf(client)
    r = client.post("/decisions/1/vote", data={"choice": [0], "csrf_token": tok})
    assert r.status_code == 401
