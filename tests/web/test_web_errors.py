"""Errors are answers: a browser gets a page in words with the person still signed in (never
raw JSON or a parser's text) and a refused form comes back with what was typed and each
error by its field; a JSON client gets ``{"ok": false, "error": "field: why"}``; the store is
unchanged."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.web.conftest import csrf, login

HTML = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
JSON = {"accept": "application/json"}


def _field_error(html: str, name: str) -> str | None:
    m = re.search(rf'id="f-{re.escape(name)}-error">([^<]*)<', html)
    return m.group(1) if m else None


def _count(client: TestClient) -> int:
    return len(client.get("/criticism.json").json()["criticisms"])


def test_error_pages_show_who_is_signed_in(client: TestClient) -> None:
    login(client, "ana")
    for path, status in (("/users", 403), ("/economy/product/Gold", 404), ("/commission", 403)):
        r = client.get(path, headers=HTML)
        assert r.status_code == status, path
        assert r.headers["content-type"].startswith("text/html"), path
        assert "Ana Souza" in r.text and 'action="/logout"' in r.text, path
        assert 'href="/login"' not in r.text, path
        assert '{"ok"' not in r.text, path
        # the same error for a JSON client
        r = client.get(path, headers=JSON)
        assert r.status_code == status and r.json()["ok"] is False, path


def test_error_pages_in_portuguese(client: TestClient) -> None:
    login(client, "ana")
    r = client.get("/users", headers={**HTML, "accept-language": "pt-BR"})
    assert r.status_code == 403 and "Não permitido" in r.text and "Ana Souza" in r.text


def test_a_validation_error_shows_the_form_again(client: TestClient) -> None:
    tok = csrf(client)
    r = client.post(
        "/login", data={"password": "x", "csrf_token": tok, "next": "/plan"}, headers=HTML
    )
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
    assert _field_error(r.text, "username") == "this field is required"
    assert 'name="next" value="/plan"' in r.text
    r = client.post(
        "/login", data={"username": "u" * 100, "password": "x", "csrf_token": tok}, headers=HTML
    )
    assert r.status_code == 422 and _field_error(r.text, "username") == "at most 64 characters"
    assert 'value="' + "u" * 100 + '"' in r.text
    # JSON clients keep the JSON answer naming the field
    r = client.post("/login", data={"password": "x", "csrf_token": tok}, headers=JSON)
    assert r.status_code == 422 and r.json()["ok"] is False
    assert r.json()["fields"][0]["field"] == "username"


def test_a_refused_sign_in_keeps_the_username_never_the_password(client: TestClient) -> None:
    tok = csrf(client)
    r = client.post(
        "/login",
        data={"username": "ana", "password": "secret-guess-1", "csrf_token": tok},
        headers=HTML,
    )
    assert r.status_code == 401
    assert _field_error(r.text, "password") == "wrong username or password"
    assert 'value="ana"' in r.text and "secret-guess-1" not in r.text
    r = client.post(
        "/login", data={"username": "ana", "password": "nope", "csrf_token": tok}, headers=JSON
    )
    assert r.status_code == 401 and r.json() == {
        "ok": False,
        "error": "password: wrong username or password",
    }


def test_a_refused_registration_names_the_field(client: TestClient) -> None:
    tok = csrf(client)
    data = {"username": "ana", "display_name": "Another Ana", "password": "long-enough-1"}
    r = client.post("/register", data={**data, "csrf_token": tok}, headers=HTML)
    assert r.status_code == 400 and "taken" in (_field_error(r.text, "username") or "")
    assert 'value="Another Ana"' in r.text
    r = client.post("/register", data={**data, "csrf_token": tok}, headers=JSON)
    assert r.status_code == 400 and r.json()["error"].startswith("username:")


def test_a_refused_criticism_keeps_what_was_typed(client: TestClient) -> None:
    tok = csrf(client)
    before = _count(client)
    data = {
        "target_kind": "official",
        "target": "nobody-at-all",
        "content": "The stores are empty every Friday.",
        "identity": "Maria, store 4",
        "csrf_token": tok,
    }
    r = client.post("/criticism", data=data, headers=HTML)
    assert r.status_code == 422
    assert "unknown" in (_field_error(r.text, "target") or "")
    assert "The stores are empty every Friday." in r.text
    assert "Maria, store 4" not in r.text  # a critic's identity is never shown again
    r = client.post(
        "/criticism",
        data={**data, "target": "dir-textile", "content": "x" * 20_001},
        headers=HTML,
    )
    assert r.status_code == 422
    assert _field_error(r.text, "content") == "at most 20,000 characters"
    assert re.search(r'<option value="dir-textile"[^>]*selected', r.text)
    assert _count(client) == before
    r = client.post("/criticism", data=data, headers=JSON)
    assert r.status_code == 422 and r.json()["error"].startswith("target:")


def test_a_receipt_that_is_not_json_is_said_in_words(client: TestClient) -> None:
    tok = csrf(client)
    r = client.post(
        "/receipts/verify", data={"receipt": "{not json", "csrf_token": tok}, headers=HTML
    )
    assert r.status_code == 422 and "Expecting" not in r.text
    why = _field_error(r.text, "receipt") or ""
    assert "not valid JSON" in why and "line 1, column 2" in why
    assert "{not json</textarea>" in r.text
    r = client.post("/receipts/verify", data={"receipt": "", "csrf_token": tok}, headers=JSON)
    assert r.status_code == 422 and r.json()["error"].startswith("receipt:")


def test_the_commission_changes_a_status_with_a_reason(client: TestClient) -> None:
    tok = login(client, "elena")
    ref = client.get("/criticism.json").json()["criticisms"][0]["criticism"]
    r = client.post(
        f"/criticism/{ref}/status",
        data={"status": "under_investigation", "reason": "", "csrf_token": tok},
        headers=HTML,
    )
    assert r.status_code == 422 and _field_error(r.text, "reason") == "this field is required"
    assert re.search(r'<option value="under_investigation" selected', r.text)
    assert client.get(f"/criticism/{ref}.json").json()["item"]["status"] == "received"


def test_the_users_page_says_what_was_refused(client: TestClient) -> None:
    from sqlalchemy.orm import Session

    from gosplan.services import users

    state = client.app.state.gosplan  # type: ignore[attr-defined]
    with Session(state.engine) as s:
        users.register(s, "root-h4", "long-enough-1", role="admin", display_name="Root")
        s.commit()
    tok = login(client, "root-h4", "long-enough-1")
    r = client.post("/users/root-h4/role", data={"role": "worker", "csrf_token": tok}, headers=HTML)
    assert r.status_code == 422 and 'id="form-error"' in r.text and "root-h4" in r.text
    r = client.post("/users/ana/role", data={"role": "tsar", "csrf_token": tok}, headers=HTML)
    assert r.status_code == 422 and 'id="form-error"' in r.text
    assert client.get("/users.json").json()["users"]
    roles = {u["username"]: u["role"] for u in client.get("/users.json").json()["users"]}
    assert roles["ana"] == "worker" and roles["root-h4"] == "admin"


def test_links_every_page_carries_answer(client: TestClient) -> None:
    for path in ("/.json", "/login.json", "/register.json", "/receipts/verify.json"):
        r = client.get(path)
        assert r.status_code == 200 and r.json()["ok"] is True, path
    assert client.get("/login.json").json()["fields"] == ["username", "password", "next"]
    r = client.get("/", headers=HTML)
    assert 'href="/index.json"' in r.text and 'rel="icon" href="/static/favicon.svg"' in r.text
    r = client.get("/favicon.ico", follow_redirects=False)
    assert r.status_code == 308 and r.headers["location"] == "/static/favicon.svg"
    r = client.get("/static/favicon.svg")
    assert r.status_code == 200 and "<svg" in r.text
    login(client, "ana")
    assert client.get("/login.json").json()["signed_in_as"] == "ana"


def test_a_conflict_is_a_page_for_a_browser(client: TestClient) -> None:
    tok = login(client, "ana")
    pid = client.get("/decisions.json").json()["proposals"][0]["id"]
    p = client.get(f"/decisions/{pid}.json").json()
    assert p["ok"]
    r = client.post(f"/decisions/{pid}/vote", data={"choice": "0", "csrf_token": tok}, headers=HTML)
    if r.status_code < 400:
        r = client.post(
            f"/decisions/{pid}/vote", data={"choice": "0", "csrf_token": tok}, headers=HTML
        )
    assert 400 <= r.status_code < 500
    assert r.headers["content-type"].startswith("text/html") and "Ana Souza" in r.text


def test_a_bare_not_found_is_said_in_words(client: TestClient) -> None:
    r = client.get("/no/such/page", headers=HTML)
    assert r.status_code == 404 and "There is no page at this address." in r.text
    r = client.get("/no/such/page", headers={**HTML, "accept-language": "pt-BR"})
    assert "Não há página neste endereço." in r.text
    r = client.put("/criticism", headers=HTML)
    assert r.status_code == 405 and "does not take that kind of request" in r.text
    assert client.get("/no/such/page").json() == {"ok": False, "error": "Not Found"}


def test_a_refused_password_change_comes_back_to_me(client: TestClient) -> None:
    tok = login(client, "ana")
    r = client.post(
        "/me/password",
        data={
            "current_password": "not-it-at-all",
            "new_password": "long-enough-2",
            "csrf_token": tok,
        },
        headers=HTML,
    )
    assert r.status_code == 422 and "Ana Souza" in r.text
    assert "not your current password" in (_field_error(r.text, "current_password") or "")
    assert "not-it-at-all" not in r.text and "long-enough-2" not in r.text
    assert client.get("/me.json").json()["username"] == "ana"  # still signed in


def test_every_word_of_these_pages_has_its_portuguese() -> None:
    """Every message marked in the templates and code of sign-in, errors, forms and the
    commission, and every word table they show, is in the Portuguese catalog."""
    from pathlib import Path

    from babel.messages.extract import extract_python
    from jinja2.ext import babel_extract

    from gosplan.web import app, i18n
    from gosplan.web.routes import commission

    web = Path(i18n.__file__).parent
    wanted: set[str] = set()
    for name in ("commission.html", "login.html", "error.html", "_form.html"):
        with (web / "templates" / name).open("rb") as fh:
            for _, _, msg, _ in babel_extract(fh, ("_",), [], {"extensions": "jinja2.ext.i18n"}):
                if isinstance(msg, str):  # a literal (``_(heading)`` is a table's word)
                    wanted.add(msg)
    for name in ("forms.py", "routes/commission.py", "routes/auth.py"):
        with (web / name).open("rb") as fh:
            for _, func, msg, _ in extract_python(fh, ["_"], [], {}):
                if func == "_" and isinstance(msg, str):
                    wanted.add(msg)
    for table in (
        app.STATUS_WORDS,
        app.PLAIN_WORDS,
        commission.EVENT_WORDS,
        commission.TIE_WORDS,
        commission.SOURCE_WORDS,
        commission.ROLE_WORDS,
        commission.LEVEL_WORDS,
    ):
        wanted |= set(table.values())
    wanted.discard("")
    missing = sorted(m for m in wanted if m not in i18n.catalog("pt_BR"))
    assert len(wanted) > 60 and not missing, missing
