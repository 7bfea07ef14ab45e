"""Criticism: anyone files, receipts verify, nothing deletes, the commission alone unseals."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from gosplan.config import Settings
from gosplan.services import commission, criticism
from gosplan.storage.base import make_engine, session_scope
from gosplan.web.app import create_app

from .conftest import csrf, login, logout

SECRET = "Joana Pereira, loom 7"


def _file(client: TestClient, tok: str, **kw: str) -> dict[str, object]:
    data = {
        "target_kind": "enterprise",
        "target": "grain-farm",
        "content": "Seed grain is sold off the books.",
        "csrf_token": tok,
        **kw,
    }
    r = client.post("/criticism", data=data, headers={"accept": "application/json"})
    assert r.status_code == 201, r.text
    body: dict[str, object] = r.json()
    return body


def test_anyone_files_and_the_receipt_verifies(client: TestClient) -> None:
    tok = csrf(client)  # no account: an anonymous session only
    filed = _file(client, tok, identity=SECRET)
    ref = str(filed["criticism"])
    receipt = filed["receipt"]
    assert isinstance(receipt, dict) and receipt["entry"]["kind"] == "criticism.filed"
    r = client.post(
        "/receipts/verify",
        data={"receipt": json.dumps(receipt), "csrf_token": tok},
        headers={"accept": "application/json"},
    )
    assert r.json()["valid"] is True and ref in r.json()["message"]
    # the downloadable receipt verifies too, uploaded as a file, and in the HTML page
    dl = client.get(f"/criticism/{ref}/receipt.json")
    assert dl.status_code == 200 and "attachment" in dl.headers["content-disposition"]
    r = client.post(
        "/receipts/verify",
        data={"csrf_token": tok},
        files={"file": ("receipt.json", dl.content, "application/json")},
    )
    assert r.status_code == 200 and "verifies" in r.text and 'class="ok"' in r.text
    # a receipt whose content was altered does not verify
    bad = json.loads(dl.text)
    bad["entry"]["payload"]["content"] = "Nothing is wrong."
    r = client.post(
        "/receipts/verify",
        data={"receipt": json.dumps(bad), "csrf_token": tok},
        headers={"accept": "application/json"},
    )
    assert r.json()["valid"] is False and "does NOT verify" in r.json()["message"]
    r = client.post("/receipts/verify", data={"receipt": "not json", "csrf_token": tok})
    assert r.status_code == 422 and r.json()["error"].startswith("receipt:")
    # public status page, list and log: the content is there, the identity nowhere
    page = client.get(f"/criticism/{ref}.json").json()
    assert page["item"]["status"] == "received" and page["identity_accesses"] == []
    listed = client.get("/criticism.json").json()
    assert listed["criticisms"][0]["criticism"] == ref and listed["older"] is None
    assert ref in [
        c["criticism"]
        for c in client.get("/criticism.json", params={"status": "received"}).json()["criticisms"]
    ]
    assert client.get("/criticism.json", params={"status": "upheld"}).json()["criticisms"] == []
    assert client.get("/criticism.json", params={"before": 1}).json()["criticisms"] == []
    for path in (
        "/criticism",
        f"/criticism/{ref}",
        "/log.json",
        "/log",
        f"/log/{filed['log_index']}.json",
    ):
        assert SECRET not in client.get(path).text


def test_no_one_can_delete_or_edit_a_criticism(client: TestClient) -> None:
    tok = login(client, "elena")  # not even the control commission
    ref = _file(client, tok)["criticism"]
    for method in ("DELETE", "PUT", "PATCH"):
        for path in (
            f"/criticism/{ref}",
            f"/criticism/{ref}.json",
            "/criticism",
            f"/criticism/{ref}/status",
            f"/criticism/{ref}/receipt.json",
        ):
            r = client.request(method, path, headers={"x-csrf-token": tok})
            assert r.status_code == 405, (method, path, r.status_code)
    assert (
        client.get(f"/criticism/{ref}.json").json()["item"]["content"]
        == "Seed grain is sold off the books."
    )
    spec = client.get("/openapi.json").json()["paths"]
    assert not any(
        m in ("delete", "put", "patch")
        for p, ops in spec.items()
        if p.startswith("/criticism")
        for m in ops
    )


def test_the_server_cannot_open_an_identity_and_openings_are_signed_and_logged(
    client: TestClient, web_settings: Settings
) -> None:
    tok = csrf(client)
    ref = _file(client, tok, identity=SECRET)["criticism"]
    # the old server-side opening is gone: no route opens an identity
    r = client.post(f"/criticism/{ref}/identity", data={"reason": "x", "csrf_token": tok})
    assert r.status_code in (404, 405)
    # two members open it offline from the sealed box
    folder = Path(web_settings.commission_key_path).parent
    shares = [commission.read_share(p) for p in sorted((folder / "shares").glob("share-*"))]
    engine = make_engine(web_settings.database_url)
    try:
        with session_scope(engine) as s:
            box = criticism.export_sealed(s, ref)
    finally:
        engine.dispose()
    identity, record = commission.open_sealed(box, shares[:2], reason="witness needed")
    assert identity["identity"] == SECRET
    r = client.post(
        f"/criticism/{ref}/opening", data={"record": json.dumps(record), "csrf_token": tok}
    )
    assert r.status_code == 401
    tok = login(client, "ana")
    r = client.post(
        f"/criticism/{ref}/opening", data={"record": json.dumps(record), "csrf_token": tok}
    )
    assert r.status_code == 403 and "control commission" in r.json()["error"]
    tok = logout(client, tok)
    tok = login(client, "elena")
    lone = {**record, "signatures": record["signatures"][:1]}
    r = client.post(
        f"/criticism/{ref}/opening", data={"record": json.dumps(lone), "csrf_token": tok}
    )
    assert r.status_code == 422 and r.json()["error"].startswith("record:")
    r = client.post(f"/criticism/{ref}/opening", data={"record": "{", "csrf_token": tok})
    assert r.status_code == 422
    size = client.get("/log.json").json()["size"]
    r = client.post(
        f"/criticism/{ref}/opening",
        data={"record": json.dumps(record), "csrf_token": tok},
        headers={"accept": "application/json"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["members"] == record["members"]
    page = client.get(f"/criticism/{ref}.json").json()
    assert [a["reason"] for a in page["identity_accesses"]] == ["witness needed"]
    log = client.get("/log.json", params={"kind": "criticism.identity_opened"}).json()
    assert log["entries"][0]["payload"]["criticism"] == ref
    assert log["entries"][0]["index"] >= size
    assert SECRET not in json.dumps(log) and SECRET not in r.text


def test_status_moves_only_by_the_commission_with_a_reason(client: TestClient) -> None:
    tok = login(client, "ana")
    ref = _file(client, tok)["criticism"]
    r = client.post(
        f"/criticism/{ref}/status", data={"status": "upheld", "reason": "x", "csrf_token": tok}
    )
    assert r.status_code == 403
    tok = logout(client, tok)
    tok = login(client, "elena")
    r = client.post(
        f"/criticism/{ref}/status", data={"status": "upheld", "reason": " ", "csrf_token": tok}
    )
    assert r.status_code == 422 and "reason" in r.json()["error"]
    r = client.post(
        f"/criticism/{ref}/status",
        data={"status": "under_investigation", "reason": "visit on Monday", "csrf_token": tok},
    )
    assert r.status_code == 200 and "under investigation" in r.text
    hist = client.get(f"/criticism/{ref}.json").json()["item"]["history"]
    assert [h["status"] for h in hist] == ["received", "under_investigation"]


def test_bad_filings_name_the_field(client: TestClient) -> None:
    tok = csrf(client)
    r = client.post(
        "/criticism",
        data={"target_kind": "enterprise", "target": "nowhere", "content": "x", "csrf_token": tok},
    )
    assert r.status_code == 422 and r.json()["error"].startswith("target:")
    r = client.post(
        "/criticism",
        data={
            "target_kind": "official",
            "target": "dir-grain",
            "content": "   ",
            "csrf_token": tok,
        },
    )
    assert r.status_code == 422 and r.json()["error"].startswith("content:")
    r = client.post(
        "/criticism", data={"target_kind": "official", "target": "dir-grain", "content": "x"}
    )
    assert r.status_code == 403
    assert client.get("/criticism/C-NOSUCH.json").status_code == 404


def test_filing_is_rate_limited(web_settings: Settings) -> None:
    app = create_app(web_settings.model_copy(update={"rate_limit_filing": 2}), migrate=False)
    with TestClient(app) as c:
        tok = csrf(c)
        codes = [
            c.post(
                "/criticism",
                data={
                    "target_kind": "official",
                    "target": "dir-grain",
                    "content": f"complaint {i}",
                    "csrf_token": tok,
                },
                headers={"accept": "application/json"},
            ).status_code
            for i in range(3)
        ]
        assert codes == [201, 201, 429]
        r = c.post(
            "/criticism",
            data={
                "target_kind": "official",
                "target": "dir-grain",
                "content": "again",
                "csrf_token": tok,
            },
        )
        assert "at most 2 a minute" in r.json()["error"] and r.headers["retry-after"]
    app.state.gosplan.engine.dispose()


def test_html_filing_shows_the_receipt(client: TestClient) -> None:
    tok = csrf(client)
    r = client.post(
        "/criticism",
        data={
            "target_kind": "official",
            "target": "dir-textile",
            "content": "Overtime is not recorded.",
            "csrf_token": tok,
        },
        files={"attachment": ("photo.txt", b"evidence", "text/plain")},
    )
    assert r.status_code == 201 and "Keep your receipt" in r.text
    assert "gosplan-receipt/1" in r.text
    ref = r.text.split('id="ref">')[1].split("<")[0]
    item = client.get(f"/criticism/{ref}.json").json()["item"]
    assert item["attachment"]["name"] == "photo.txt" and item["attachment"]["size"] == 8
