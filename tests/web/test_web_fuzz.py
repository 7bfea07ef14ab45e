"""An OpenAPI-driven fuzz of every route as each role (issue 13): Schemathesis generates
valid and invalid requests from /openapi.json and sends them in-process to the ASGI
application on a SQLite copy of the seeded store; not one may be answered with a 5xx.

The request count is printed (``-s``) and written to ``$GOSPLAN_FUZZ_REPORT`` when set.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from gosplan.config import Settings
from gosplan.web.app import create_app

if os.environ.get("CI"):  # in CI the [test] extra is installed: a missing one fails
    import schemathesis
else:
    schemathesis = pytest.importorskip("schemathesis")

ROLES = {
    "anonymous": None,
    "worker": "ana",
    "delegate": "carla",
    "planner": "diego",
    "commission": "elena",
    "admin": "root",
}
#: ends the role's own session (tested in test_web_sessions); the fuzz must stay signed in
SKIP = {("POST", "/logout"), ("POST", "/me/password")}
#: examples per operation and role, valid and invalid (6: 1 734 requests, about 30 s on a
#: quiet 2-core machine; raise it for a longer run)
EXAMPLES = int(os.environ.get("GOSPLAN_FUZZ_EXAMPLES", "6"))


@pytest.fixture
def fuzz_app(web_settings: Settings) -> Iterator[FastAPI]:
    settings = web_settings.model_copy(
        update={
            "rate_limit_filing": 100_000,
            "rate_limit_voting": 100_000,
            "rate_limit_buying": 100_000,
            "login_attempts_per_client": 1000,
        }
    )
    app = create_app(settings, migrate=False)
    yield app
    app.state.gosplan.engine.dispose()


def _sign_in(app: FastAPI, username: str | None) -> tuple[dict[str, str], str]:
    """Cookies and CSRF token of a fresh session of ``username`` (None: anonymous)."""
    from sqlalchemy.orm import Session

    from gosplan.services import users

    if username == "root":
        with Session(app.state.gosplan.engine) as s:
            if users.by_username(s, "root") is None:
                _, token = users.bootstrap_admin(s, "root")
                users.redeem_setup_token(s, token, "root-password")
                s.commit()
    with TestClient(app) as c:
        page = c.get("/login").text
        tok = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert tok
        if username:
            r = c.post(
                "/login",
                data={
                    "username": username,
                    "csrf_token": tok.group(1),
                    "password": "root-password" if username == "root" else "demo-password",
                },
                follow_redirects=False,
            )
            assert r.status_code == 303, r.text
            tok = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text)
            assert tok
        return dict(c.cookies), tok.group(1)


def _fuzz(
    strategy: Any,
    role: str,
    cookies: dict[str, str],
    tok: str,
    sent: Counter[str],
    statuses: Counter[int],
    errors: list[str],
) -> None:
    from hypothesis import HealthCheck, Phase, given, settings

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        resp = case.call(cookies=cookies, headers={"x-csrf-token": tok})
        sent[role] += 1
        statuses[resp.status_code] += 1
        if resp.status_code >= 500:
            errors.append(
                f"{role} {case.method} {case.formatted_path} -> "
                f"{resp.status_code}: {resp.text[:300]}"
            )

    run()


# the fuzz runs on SQLite only (the same routes run on PostgreSQL in the other web tests)
@pytest.mark.parametrize("web_store", ["sqlite"], indirect=True)
def test_no_route_answers_any_role_with_a_server_error(fuzz_app: FastAPI) -> None:
    from schemathesis import GenerationMode

    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) >= 40
    roles = {role: _sign_in(fuzz_app, name) for role, name in ROLES.items()}
    sent: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    errors: list[str] = []
    started = time.monotonic()

    for op in operations:
        if (op.method.upper(), op.path) in SKIP:
            continue
        strategy = op.as_strategy(generation_mode=GenerationMode.POSITIVE) | op.as_strategy(
            generation_mode=GenerationMode.NEGATIVE
        )
        for role, (cookies, tok) in roles.items():
            _fuzz(strategy, role, cookies, tok, sent, statuses, errors)
    elapsed = time.monotonic() - started
    total = sum(sent.values())
    report = {
        "requests": total,
        "by_role": dict(sent),
        "operations": len(operations),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "server_errors": len(errors),
        "seconds": round(elapsed, 1),
        "examples_per_operation_and_role": EXAMPLES,
    }
    print("fuzz:", json.dumps(report))
    if os.environ.get("GOSPLAN_FUZZ_REPORT"):
        with open(os.environ["GOSPLAN_FUZZ_REPORT"], "w") as fh:
            json.dump(report, fh, indent=2)
    assert not errors, "\n".join(errors[:20])
    assert total >= len(operations) * len(ROLES)
    # the roles stayed signed in throughout: the fuzz really ran as each of them
    with TestClient(fuzz_app) as c:
        for role, name in ROLES.items():
            if name:
                c.cookies.clear()
                c.cookies.update(roles[role][0])
                assert c.get("/me.json").json()["username"] == name, role
