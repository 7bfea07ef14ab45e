"""Every bad request is a 4xx that names the field (issue 13, finding 10): huge integers in
paths and queries, non-finite or absurd hours, options that are not objects, deeply nested
JSON, concurrent duplicate votes; CSV exports neutralise formulas."""

from __future__ import annotations

import csv
import io
import json
import threading

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from gosplan.cli import main
from gosplan.config import Settings
from gosplan.csvsafe import cell
from gosplan.web.app import create_app

from .conftest import csrf, login

HUGE = "1" + "0" * 23


@pytest.mark.parametrize(
    "path",
    [
        f"/decisions/{HUGE}",
        f"/decisions/{HUGE}.json",
        f"/log/{HUGE}",
        f"/log/{HUGE}.json",
        f"/log/{HUGE}/receipt.json",
        f"/log/-{HUGE}",
    ],
)
def test_huge_integers_in_paths_are_4xx(client: TestClient, path: str) -> None:
    r = client.get(path, headers={"accept": "application/json"})
    assert 400 <= r.status_code < 500, (path, r.status_code, r.text)


def test_huge_integers_in_queries_name_the_field(client: TestClient) -> None:
    seen = 0
    for path, ops in client.get("/openapi.json").json()["paths"].items():
        for p in ops.get("get", {}).get("parameters", []):
            if p["in"] == "query" and p.get("schema", {}).get("type") == "integer":
                if "{" in path:
                    continue
                r = client.get(path, params={p["name"]: HUGE})
                assert r.status_code == 422, (path, p["name"], r.status_code)
                assert p["name"] in r.json()["error"]
                seen += 1
    r = client.get("/criticism.json", params={"before": HUGE})
    assert 400 <= r.status_code < 500


def _propose(c: TestClient, tok: str, **form: object) -> object:
    data = {
        "title": "t",
        "kind": "other",
        "csrf_token": tok,
        "options": json.dumps([{"label": "a", "effect": {}}, {"label": "b", "effect": {}}]),
        "discussion_hours": 0,
        "voting_hours": 1,
        **form,
    }
    return c.post("/decisions", data=data, headers={"accept": "application/json"})


@pytest.mark.parametrize(
    "field,value",
    [
        ("discussion_hours", "inf"),
        ("discussion_hours", "nan"),
        ("discussion_hours", "1e12"),
        ("voting_hours", "-inf"),
        ("voting_hours", "1e300"),
        ("quorum", HUGE),
        ("discussion_hours", "-1e6"),
    ],
)
def test_absurd_numbers_in_forms_name_the_field(client: TestClient, field: str, value: str) -> None:
    tok = login(client, "diego")
    r = _propose(client, tok, **{field: value})
    assert r.status_code == 422, (field, value, r.status_code, r.text)  # type: ignore[attr-defined]
    assert field in r.json()["error"] or any(  # type: ignore[attr-defined]
        f["field"] == field for f in r.json().get("fields", [])
    )  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "options",
    [
        "[1, 2]",
        '["a", "b"]',
        '[{"label": 1}]',
        '{"a": 1}',
        '[{"label": "a", "effect": 3}]',
        "[" * 5000 + "]" * 5000,
        '[{"label": "a", "effect": {"x": NaN}}]',
    ],
)
def test_options_that_are_not_objects_are_refused(client: TestClient, options: str) -> None:
    tok = login(client, "diego")
    r = _propose(client, tok, options=options)
    assert r.status_code == 422, (options[:30], r.status_code, r.text)  # type: ignore[attr-defined]
    assert "options" in r.json()["error"]  # type: ignore[attr-defined]


def test_a_deeply_nested_receipt_is_refused(client: TestClient) -> None:
    tok = csrf(client)
    deep = '{"a":' * 20_000 + "1" + "}" * 20_000
    r = client.post(
        "/receipts/verify",
        data={"receipt": deep, "csrf_token": tok},
        headers={"accept": "application/json"},
    )
    assert r.status_code == 422 and "receipt" in r.json()["error"], r.text
    r = client.post(
        "/receipts/verify",
        data={"csrf_token": tok},
        files={"file": ("r.json", ("[" * 200_000).encode(), "application/json")},
        headers={"accept": "application/json"},
    )
    assert r.status_code == 422 and "receipt" in r.json()["error"], r.text


def test_25_concurrent_duplicate_votes_give_one_vote_and_409s(web_settings: Settings) -> None:
    app = create_app(web_settings.model_copy(update={"rate_limit_voting": 1000}), migrate=False)
    with TestClient(app, raise_server_exceptions=False) as c:
        tok = login(c, "diego")
        pid = _propose(c, tok).json()["id"]  # type: ignore[attr-defined]
        statuses: list[int] = []
        lock = threading.Lock()
        barrier = threading.Barrier(25)

        def vote() -> None:
            barrier.wait()
            r = c.post(
                f"/decisions/{pid}/vote",
                data={"choice": "0", "csrf_token": tok},
                headers={"accept": "application/json"},
            )
            with lock:
                statuses.append(r.status_code)

        threads = [threading.Thread(target=vote) for _ in range(25)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(statuses) == 25 and statuses.count(200) == 1, statuses
        assert sorted(set(statuses)) == [200, 409], statuses
        tally = c.get(f"/decisions/{pid}.json").json()
        assert tally["voted"] is True
    app.state.gosplan.engine.dispose()


def test_csv_cells_never_start_a_formula() -> None:
    for bad in ('=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\rx"):
        assert cell(bad).startswith("'")
    assert cell(-3.5) == -3.5 and cell("plain") == "plain"


def test_criticism_csv_export_neutralises_formulas(
    client: TestClient, web_settings: Settings, tmp_path: object
) -> None:
    tok = csrf(client)
    targets = client.get("/criticism.json").json()["targets"]
    kind = next(k for k, v in targets.items() if v)
    r = client.post(
        "/criticism",
        data={
            "target_kind": kind,
            "target": targets[kind][0]["id"],
            "content": '=HYPERLINK("http://evil","x")',
            "csrf_token": tok,
        },
        headers={"accept": "application/json"},
    )
    assert r.status_code == 201, r.text
    out = str(tmp_path) + "/c.csv"  # type: ignore[operator]
    env = {
        "GOSPLAN_DATABASE_URL": web_settings.database_url,
        "GOSPLAN_LOG_KEY_PATH": web_settings.log_key_path,
        "GOSPLAN_COMMISSION_KEY_PATH": web_settings.commission_key_path,
    }
    res = CliRunner().invoke(main, ["criticism", "show", "--csv", out], env=env)
    assert res.exit_code == 0, res.output
    rows = list(csv.reader(io.StringIO(open(out, encoding="utf-8").read())))
    cells = [c for r in rows for c in r]
    assert any("HYPERLINK" in c for c in cells)
    assert not any(c.startswith(("=", "+", "@", "\t", "\r")) for c in cells), cells
