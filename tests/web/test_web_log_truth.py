"""The public log is the record: an operator who rewrites tables behind the triggers is named
by ``gosplan log verify --store``, refused by the pages, and changes nothing adopted.

Runs on SQLite and PostgreSQL (the ``web_store`` fixture), as a hostile operator would:
with the database owner's rights, dropping the append-only triggers first.
"""

from __future__ import annotations

import datetime as dt
import json
import os

from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text, update

from gosplan.cli import main
from gosplan.config import Settings
from gosplan.services import decisions, publiclog
from gosplan.storage.base import make_engine, session_scope
from gosplan.storage.control import APPEND_ONLY_TABLES, Criticism, SealedIdentity
from gosplan.storage.decisions import Ballot
from gosplan.storage.publiclog import drop_append_only_ddl
from gosplan.storage.users import User

from .conftest import csrf, login

NOW = dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _file(client: TestClient, tok: str, content: str, **kw: str) -> str:
    r = client.post(
        "/criticism",
        data={
            "target_kind": "enterprise",
            "target": "grain-farm",
            "content": content,
            "csrf_token": tok,
            **kw,
        },
        headers={"accept": "application/json"},
    )
    assert r.status_code == 201, r.text
    return str(r.json()["criticism"])


def _verify(settings: Settings) -> tuple[int, dict[str, object]]:
    env = {
        "GOSPLAN_LOG_KEY_PATH": settings.log_key_path,
        "GOSPLAN_COMMISSION_KEY_PATH": settings.commission_key_path,
        "COLUMNS": os.environ.get("COLUMNS", "80"),
    }
    r = CliRunner().invoke(
        main,
        ["log", "verify", "--store", "--json", "--db", settings.database_url],
        env=env,
        catch_exceptions=False,
    )
    return r.exit_code, json.loads(r.output)


def _proposal(engine: Engine) -> tuple[int, list[int]]:
    """A working-week vote: two ballots for 35 h, one for 60 h (cast and logged)."""
    with session_scope(engine) as s:
        voters = list(
            s.scalars(select(User).where(User.account.is_not(None)).order_by(User.id)).all()
        )[:3]
        assert len(voters) == 3
        p = decisions.create_proposal(
            s,
            voters[0],
            title="The working week",
            body="",
            kind="working_week",
            options=[
                {"label": "35 h", "effect": {"hours": 35}},
                {"label": "60 h", "effect": {"hours": 60}},
            ],
            method="approval",
            rules=decisions.Rules(
                min_discussion_hours=0.0, min_voting_hours=0.0, quorum_share=0.01
            ),
            now=NOW - dt.timedelta(hours=2),
            discussion_hours=0.0,
            voting_hours=3.0,
        )
        ballots = [
            decisions.cast_vote(s, p, v, [c], secret=b"k" * 32, now=NOW).id
            for v, c in zip(voters, [0, 0, 1], strict=True)
        ]
        return p.id, ballots


def _drop_triggers(engine: Engine) -> None:
    dialect = engine.dialect.name
    with engine.begin() as conn:
        for table in APPEND_ONLY_TABLES:
            for stmt in drop_append_only_ddl(dialect, table):
                conn.execute(text(stmt))


def test_operator_rewrites_are_named_by_verify_and_refused_by_pages(
    client: TestClient, web_settings: Settings
) -> None:
    tok = csrf(client)
    edited = _file(client, tok, "Seed grain is sold off the books.")
    deleted = _file(client, tok, "The storehouse keeper takes bribes.")
    faked = _file(client, tok, "The tractor brigade's hours are invented.")
    framed = _file(client, tok, "The depot manager sells fuel.", identity="Maria, depot")
    other = _file(client, tok, "The depot manager threatens me.", identity="Jose, depot")
    tok = login(client, "elena")
    r = client.post(
        f"/criticism/{faked}/status",
        data={"status": "under_investigation", "reason": "timesheets requested", "csrf_token": tok},
    )
    assert r.status_code == 200, r.text
    engine = make_engine(web_settings.database_url)
    try:
        pid, ballots = _proposal(engine)
        code, out = _verify(web_settings)
        assert code == 0 and out["ok"], out
        assert client.get(f"/criticism/{edited}.json").status_code == 200
        assert client.get(f"/decisions/{pid}.json").status_code == 200

        # the hostile operator: triggers dropped, rows rewritten
        _drop_triggers(engine)
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE criticism SET content = 'All is well at the farm.' WHERE ref = :r"),
                {"r": edited},
            )
            cid = conn.execute(select(Criticism.id).where(Criticism.ref == deleted)).scalar()
            conn.execute(text("DELETE FROM criticism_status WHERE criticism_id = :c"), {"c": cid})
            conn.execute(text("DELETE FROM criticism WHERE id = :c"), {"c": cid})
            fid = conn.execute(select(Criticism.id).where(Criticism.ref == faked)).scalar()
            conn.execute(
                text(
                    'INSERT INTO criticism_status (criticism_id, status, reason, "by", at, '
                    "log_index) VALUES (:c, 'rejected', 'unfounded', 'control commission', "
                    "'2026-01-01T00:00:00Z', 0)"
                ),
                {"c": fid},
            )
            conn.execute(update(Ballot).where(Ballot.id.in_(ballots[:2])).values(choice=[1]))
            # point the oldest row past its filing: a page that reads the log only from the
            # rows' oldest filing on must not lose it (it reads the whole log again)
            moved = conn.execute(select(Criticism.ref).order_by(Criticism.log_index)).scalar()
            conn.execute(
                text("UPDATE criticism SET log_index = log_index + 1000 WHERE ref = :r"),
                {"r": moved},
            )
            # swap two critics' sealed boxes (to frame one with the other's name), and
            # forge an opening that never happened
            ids = {
                r: conn.execute(select(Criticism.id).where(Criticism.ref == r)).scalar()
                for r in (framed, other)
            }
            boxes = {
                r: conn.execute(
                    select(SealedIdentity.sealed).where(SealedIdentity.criticism_id == i)
                ).scalar()
                for r, i in ids.items()
            }
            conn.execute(
                update(SealedIdentity)
                .where(SealedIdentity.criticism_id == ids[framed])
                .values(sealed=boxes[other])
            )
            conn.execute(
                text(
                    "INSERT INTO criticism_identity_access (criticism_id, accessor, reason, at, "
                    "log_index) VALUES (:c, 'Ivanova, Petrov', 'routine', '2026-01-01T00:00:00Z', "
                    "1)"
                ),
                {"c": ids[other]},
            )

        # the verifier names every rewritten row (the log itself is intact)
        code, out = _verify(web_settings)
        assert code == 1 and not out["ok"]
        assert out["log"]["ok"]  # type: ignore[index]
        diffs = {
            (d["table"], d["key"].split(" ")[0].split("@")[0])  # type: ignore[index]
            for d in out["state"]["differences"]
        }  # type: ignore[index]
        assert ("criticism", edited) in diffs
        assert ("criticism", deleted) in diffs
        assert ("criticism_status", faked) in diffs
        assert {("decision_ballot", str(b)) for b in ballots[:2]} <= diffs
        assert ("decision_ballot", str(ballots[2])) not in diffs
        assert ("criticism_identity", framed) in diffs
        assert ("criticism_identity_access", other) in diffs
        assert ("criticism", moved) in diffs

        # the pages refuse the rows that differ, and say why
        for ref in (edited, deleted, faked, framed, other, moved):
            r = client.get(f"/criticism/{ref}.json")
            assert r.status_code == 409, (ref, r.status_code)
            assert "public log" in r.json()["error"]
        html = client.get(f"/criticism/{edited}", headers={"accept": "text/html"})
        assert html.status_code == 409 and "All is well" not in html.text
        listing = client.get("/criticism.json").json()
        shown = {c["criticism"] for c in listing["criticisms"]}
        assert not shown & {edited, deleted, faked, moved}
        assert all(
            any(ref in w for w in listing["withheld"]) for ref in (edited, deleted, faked, moved)
        )
        assert any(moved in w and "log_index differs" in w for w in listing["withheld"])
        assert client.get(f"/decisions/{pid}.json").status_code == 409
        listing = client.get("/decisions.json").json()  # withheld from the listing too
        assert pid not in {p["id"] for p in listing["proposals"]}
        assert any(f"decision_ballot {ballots[0]}" in w for w in listing["withheld"])

        # closing counts the logged ballots: the rewrite changes nothing adopted
        with session_scope(engine) as s:
            from gosplan.storage.decisions import Proposal

            p = s.get(Proposal, pid)
            assert p is not None
            t = decisions.close(s, p, now=NOW + dt.timedelta(hours=2))
            assert t.winner == 0 and t.scores == [2.0, 1.0]
            assert p.outcome is not None and p.outcome["adopted"]["label"] == "35 h"
        with session_scope(engine) as s:
            logged = [e.to_public() for e in publiclog.entries(s, kind_prefix="decision.")]
            assert decisions.recompute_from_log(logged, pid).winner == 0
        r = CliRunner().invoke(
            main,
            ["log", "tally", str(pid), "--json", "--db", web_settings.database_url],
            catch_exceptions=False,
        )
        assert r.exit_code == 0, r.output
        assert json.loads(r.output)["winner"] == 0
        assert json.loads(r.output)["logged_outcome_agrees"] is True
    finally:
        engine.dispose()


def test_reading_receipts_adds_no_tree_heads(client: TestClient, web_settings: Settings) -> None:
    tok = csrf(client)
    ref = _file(client, tok, "The canteen's rations are short-weighted.")
    engine = make_engine(web_settings.database_url)
    try:
        assert client.get(f"/criticism/{ref}/receipt.json").status_code == 200
        with session_scope(engine) as s:
            before = len(publiclog.signed_heads(s))
            index = s.scalars(select(Criticism.log_index).where(Criticism.ref == ref)).one()
        for _ in range(50):
            assert client.get(f"/criticism/{ref}/receipt.json").status_code == 200
            assert client.get(f"/log/{index}/receipt.json").status_code == 200
            assert client.get(f"/log/{index}.json").status_code == 200
        with session_scope(engine) as s:
            assert len(publiclog.signed_heads(s)) == before
    finally:
        engine.dispose()
