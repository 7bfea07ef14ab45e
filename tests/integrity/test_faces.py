"""The integrity record's faces: the CLI (show, export, recompute, finding) and the web pages."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from gosplan.cli import main
from gosplan.config import Settings
from gosplan.services import publiclog
from gosplan.storage.base import session_scope
from gosplan.web.app import create_app
from tests.integrity.test_store import build_world
from tests.web.conftest import make_settings, small_economy_dir


def _env(settings: Settings) -> dict[str, str]:
    return {
        "GOSPLAN_DATABASE_URL": settings.database_url,
        "GOSPLAN_LOG_KEY_PATH": settings.log_key_path,
        "GOSPLAN_COMMISSION_KEY_PATH": settings.commission_key_path,
    }


def test_cli_show_export_recompute_and_finding(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    w = build_world(engine, settings, n=8, n_corrupt=2, n_shortfall=1, quarters=2, seed=2)
    run = CliRunner()
    # the commission's roster names its members; each signs with their own share file
    from gosplan.services import commission

    commission.keygen(
        tmp_path / "cc", [w.commission, "cm2"], threshold=2, public_path=tmp_path / "cc.pub"
    )
    (member_key,) = (tmp_path / "cc").glob(f"share-*-{w.commission}.json")
    env = {**_env(settings), "GOSPLAN_COMMISSION_KEY_PATH": str(tmp_path / "cc.pub")}

    r = run.invoke(main, ["integrity", "show", "--json"], env=env)
    assert r.exit_code == 0, r.output
    ov = json.loads(r.stdout)
    assert {o["org"] for o in ov["organisations"]} >= set(w.units)
    corrupt = sorted(w.corrupt)[0]
    r = run.invoke(main, ["integrity", "show", corrupt, "--json"], env=env)
    org = json.loads(r.stdout)
    assert org["org"] == corrupt and org["events"], org
    assert all(e["evidence"] for e in org["events"])

    r = run.invoke(main, ["integrity", "show", "NOPE"], env=env)
    assert r.exit_code != 0 and "NOPE" in r.output

    r = run.invoke(main, ["integrity", "export", "--csv", "-"], env=env)
    assert r.exit_code == 0
    header = r.stdout.splitlines()[0].split(",")
    assert header[:4] == ["org", "period", "kind", "count"]

    log = tmp_path / "log.jsonl"
    with session_scope(engine) as s:
        publiclog.export(s, log, settings)
    key = publiclog.public_key(settings).hex()
    r = run.invoke(
        main,
        [
            "integrity",
            "recompute",
            str(log),
            "--public-key",
            key,
            "--compare",
            "--json",
            str(tmp_path / "rec.json"),
        ],
        env=env,
    )
    assert r.exit_code == 0, r.output
    assert json.loads((tmp_path / "rec.json").read_text())["log_size"] > 0

    # a finding by someone outside the unit changes the record; after it the old export
    # no longer matches what the store serves
    with session_scope(engine) as s:
        opened = publiclog.entries(s, kind="fulfilment.alert.opened")[-1]
    r = run.invoke(
        main,
        [
            "integrity",
            "finding",
            opened.payload["subject"].split()[-1],
            "--kind",
            "infringement",
            "--outcome",
            "upheld",
            "--evidence",
            str(opened.index),
            "--key",
            str(member_key),
            "--reason",
            "recount",
            "--day",
            "2025-06-01",
        ],
        env=env,
    )
    assert r.exit_code == 0, r.output
    r = run.invoke(main, ["integrity", "recompute", str(log), "--compare"], env=env)
    assert r.exit_code == 1 and "DIFFERS" in r.output

    r = run.invoke(
        main,
        [
            "integrity",
            "finding",
            "E000",
            "--kind",
            "infringement",
            "--outcome",
            "upheld",
            "--evidence",
            "x,y",
            "--key",
            str(member_key),
            "--reason",
            "r",
        ],
        env=env,
    )
    assert r.exit_code != 0 and "--evidence" in r.output


def test_web_overview_and_organisation_pages(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    w = build_world(engine, settings, n=8, n_corrupt=2, n_shortfall=1, quarters=3, seed=4)
    economy = small_economy_dir(tmp_path / "eco")
    app = create_app(make_settings(settings.database_url, tmp_path, economy))
    with TestClient(app) as client:
        ov = client.get("/integrity.json").json()
        assert ov["ok"] and {r["org"] for r in ov["rows"]} >= set(w.units)
        changes = [r["change"] for r in ov["rows"]]
        assert changes == sorted(changes, reverse=True)  # by change, not by level
        corrupt = sorted(w.corrupt)[0]
        page = client.get(f"/integrity/{corrupt}.json").json()
        assert page["name"].startswith(corrupt)
        assert {k["kind"] for k in page["kinds"]} >= {"infringement", "criticism_upheld"}
        assert any(e["evidence"] for e in page["events"])
        html = client.get(f"/integrity/{corrupt}").text
        assert "<svg" in html and f'href="/log/{page["events"][0]["evidence"][0]}"' in html
        assert client.get("/integrity").status_code == 200
        assert client.get("/integrity/NOPE").status_code == 404
        assert client.get("/integrity.json?granularity=week").status_code == 422
