"""The public log: browse entries; every entry comes with an inclusion proof that checks out."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from gosplan.services import merkle

from .conftest import csrf


def test_browse_newest_first_with_paging_and_kinds(client: TestClient) -> None:
    log = client.get("/log.json").json()
    n = log["size"]
    assert n > 5 and log["entries"][0]["index"] == n - 1
    assert [e["index"] for e in log["entries"]] == list(range(n - 1, -1, -1))[:50]
    kinds = log["kinds"]
    assert {"decision.proposed", "criticism.filed", "unit.registered"} <= set(kinds)
    only = client.get("/log.json", params={"kind": "criticism."}).json()
    assert only["entries"] and all(e["kind"].startswith("criticism.") for e in only["entries"])
    older = client.get("/log.json", params={"before": 3}).json()
    assert [e["index"] for e in older["entries"]] == [2, 1, 0] and older["older"] is None
    assert "public log" in client.get("/log").text.lower()


def test_each_entry_has_a_proof_that_verifies(client: TestClient) -> None:
    n = client.get("/log.json").json()["size"]
    for index in (0, n // 2, n - 1):
        page = client.get(f"/log/{index}.json").json()
        p = page["proof"]
        leaf = merkle.leaf_hash(p["leaf_data"].encode("utf-8"))
        assert leaf.hex() == p["leaf_hash"]
        assert json.loads(p["leaf_data"])["index"] == index
        assert merkle.verify_inclusion(
            index,
            p["tree_size"],
            leaf,
            [bytes.fromhex(h) for h in p["inclusion_proof"]],
            bytes.fromhex(p["root_hash"]),
        )
        # a proof for another entry does not fit this one
        assert not merkle.verify_inclusion(
            index,
            p["tree_size"],
            merkle.leaf_hash(b"forged"),
            [bytes.fromhex(h) for h in p["inclusion_proof"]],
            bytes.fromhex(p["root_hash"]),
        )
    html = client.get(f"/log/{n - 1}").text
    assert 'id="proof-data"' in html and "/static/verify.js" in html
    assert client.get("/static/verify.js").status_code == 200
    r = client.get(f"/log/{n + 100}.json")
    assert r.status_code == 404 and "no entry" in r.json()["error"]
    receipt = client.get(f"/log/{n - 1}/receipt.json").text
    r = client.post(
        "/receipts/verify",
        data={"receipt": receipt, "csrf_token": csrf(client)},
        headers={"accept": "application/json"},
    )
    assert r.json()["valid"] is True
