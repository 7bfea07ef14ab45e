"""Authorisation over every endpoint: no state change without a CSRF token, none without
signing in except where the issue says anyone may act, and rate limits on voting."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from gosplan.config import Settings
from gosplan.web.app import create_app

from .conftest import csrf, login, logout

#: the state-changing endpoints that need no account
PUBLIC_POSTS = {"/login", "/logout", "/register", "/setup", "/criticism", "/receipts/verify"}
#: machine endpoints that no browser session drives: the caller is authenticated by a
#: signature in the body (a witness's cosignature), so CSRF does not apply; without one they
#: are refused
SIGNED_POSTS = {"/log/cosignatures"}
ARGS = {
    "pid": "1",
    "ref": "C-X",
    "code": "textile-coop",
    "item_id": "1",
    "index": "0",
    "username": "ana",
}


def _posts(client: TestClient) -> list[str]:
    """Every POST endpoint of the OpenAPI description, with its path parameters filled."""
    out = []
    for path, ops in client.get("/openapi.json").json()["paths"].items():
        if "post" in ops:
            for k, v in ARGS.items():
                path = path.replace(f"{{{k}}}", v)
            out.append(path)
    return out


def test_every_post_needs_csrf_and_all_but_public_ones_a_user(client: TestClient) -> None:
    posts = _posts(client)
    assert len(posts) >= 15
    for path in posts:
        r = client.post(path, data={})
        if path in SIGNED_POSTS:
            assert 400 <= r.status_code < 500 and r.json()["ok"] is False, path
            continue
        assert r.status_code == 403 and "CSRF" in r.json()["error"], path
    tok = csrf(client)
    for path in posts:
        if path in PUBLIC_POSTS or path in SIGNED_POSTS:
            continue
        r = client.post(path, data={"csrf_token": tok})
        assert r.status_code in (401, 422), (path, r.status_code)
        if r.status_code == 422:  # a form field is missing: fine, but signed-in is checked too
            r = client.post(
                path,
                data={
                    "csrf_token": tok,
                    "choice": 0,
                    "body": "x",
                    "good": "x",
                    "person": "x",
                    "hours": "1",
                    "reason": "x",
                    "status": "upheld",
                    "resolution": "x",
                    "period": "2020-01-01",
                    "output": 1,
                    "title": "x",
                    "kind": "other",
                    "options": "[]",
                },
                files={"file": ("x.csv", b"enterprise\n", "text/csv")},
            )
            assert r.status_code == 401, (path, r.status_code, r.text)


def test_roles_guard_what_each_person_may_do(client: TestClient) -> None:
    tok = login(client, "bruno")  # a worker
    forbidden = [
        ("/decisions", {"title": "t", "kind": "other", "options": "[]"}),
        ("/enterprise/textile-coop/work/1/approve", {}),
        ("/enterprise/textile-coop/hours", {"person": "person:bruno", "hours": "8"}),
        ("/enterprise/textile-coop/report", {"period": "2020-01-06", "output": 1, "hours": 1}),
        ("/criticism/C-X/status", {"status": "upheld", "reason": "x"}),
        ("/criticism/C-X/opening", {"record": "{}"}),
        ("/fulfilment/items/1/resolve", {"resolution": "x"}),
    ]
    for path, data in forbidden:
        r = client.post(path, data={**data, "csrf_token": tok})
        assert r.status_code == 403, (path, r.status_code, r.text)


def test_a_vote_cannot_be_cast_twice_and_voting_is_rate_limited(web_settings: Settings) -> None:
    app = create_app(web_settings.model_copy(update={"rate_limit_voting": 3}), migrate=False)
    with TestClient(app) as c:
        tok = login(c, "diego")
        opts = json.dumps([{"label": "a", "effect": {}}, {"label": "b", "effect": {}}])
        pids = [
            c.post(
                "/decisions",
                data={
                    "title": f"p{i}",
                    "kind": "other",
                    "options": opts,
                    "discussion_hours": 0,
                    "voting_hours": 1,
                    "csrf_token": tok,
                },
                headers={"accept": "application/json"},
            ).json()["id"]
            for i in range(4)
        ]
        tok = logout(c, tok)
        tok = login(c, "ana")
        codes = [
            c.post(
                f"/decisions/{pids[0]}/vote",
                data={"choice": [0], "csrf_token": tok},
                follow_redirects=False,
            ).status_code,
            c.post(
                f"/decisions/{pids[0]}/vote",
                data={"choice": [1], "csrf_token": tok},
                follow_redirects=False,
            ).status_code,
            c.post(
                f"/decisions/{pids[1]}/vote",
                data={"choice": [1], "csrf_token": tok},
                follow_redirects=False,
            ).status_code,
            c.post(
                f"/decisions/{pids[2]}/vote",
                data={"choice": [1], "csrf_token": tok},
                follow_redirects=False,
            ).status_code,
        ]
        assert codes == [303, 409, 303, 429]
        page = c.get(f"/decisions/{pids[0]}.json").json()
        assert page["ballots"] == 1 and page["tally"]["scores"] == [1, 0]
        assert c.get(f"/decisions/{pids[2]}.json").json()["ballots"] == 0
    app.state.gosplan.engine.dispose()
