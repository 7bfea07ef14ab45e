"""The public log over the store: append, heads, proofs, export, verification, immutability."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from gosplan.config import Settings
from gosplan.errors import ValidationError
from gosplan.services import merkle, publiclog
from gosplan.storage.base import session_scope
from tests.control.conftest import in_threads


def _fill(engine: Engine, n: int, kind: str = "test.entry") -> None:
    with session_scope(engine) as s:
        publiclog.append_many(s, [(kind, {"n": i, "text": f"entry {i}"}) for i in range(n)])


def test_append_gives_consecutive_indices_and_matching_root(engine: Engine) -> None:
    with session_scope(engine) as s:
        a = publiclog.append(s, "plan.adopted", {"plan": 1})
        b = publiclog.append(s, "report.received", {"enterprise": "E1", "hours": 12.5})
        assert (a.index, b.index) == (0, 1)
    with session_scope(engine) as s:
        rows = publiclog.entries(s)
        head = publiclog.tree_head(s)
    tree = merkle.MerkleTree(
        merkle.leaf_hash(publiclog.leaf_data(r.index, r.kind, r.payload, r.logged_at)) for r in rows
    )
    assert head.tree_size == 2
    assert head.root_hash == tree.root()
    assert rows[1].payload == {"enterprise": "E1", "hours": 12.5}


def test_rolled_back_append_leaves_no_trace(engine: Engine) -> None:
    _fill(engine, 3)
    with pytest.raises(RuntimeError), session_scope(engine) as s:
        publiclog.append(s, "plan.adopted", {"plan": 2})
        raise RuntimeError("caller fails after appending")
    with session_scope(engine) as s:
        assert publiclog.size(s) == 3
        assert publiclog.verify_store(s).ok


@pytest.mark.parametrize(
    "kind, payload, match",
    [
        ("Plan Adopted", {}, "dotted lower-case"),
        ("plan.adopted", [1, 2], "must be a dict"),
        ("plan.adopted", {"x": float("nan")}, "not JSON"),
        ("plan.adopted", {"x": object()}, "not JSON"),
    ],
)
def test_bad_entries_are_refused_and_nothing_written(
    engine: Engine, kind: str, payload: object, match: str
) -> None:
    with pytest.raises(ValidationError, match=match), session_scope(engine) as s:
        publiclog.append(s, kind, payload)  # type: ignore[arg-type]
    with session_scope(engine) as s:
        assert publiclog.size(s) == 0


def test_proofs_from_store_verify_for_all_sizes(engine: Engine) -> None:
    _fill(engine, 21)
    with session_scope(engine) as s:
        heads = {m: publiclog.tree_head(s, m) for m in range(22)}
        for m in range(1, 22):
            for i in (0, m // 2, m - 1):
                proof = publiclog.inclusion_proof(s, i, m)
                leaf = publiclog.entry(s, i).leaf_hash
                assert merkle.verify_inclusion(i, m, leaf, proof, heads[m].root_hash)
            for first in (0, 1, m // 3, m - 1, m):
                c = publiclog.consistency_proof(s, first, m)
                assert merkle.verify_consistency(
                    first, m, heads[first].root_hash, heads[m].root_hash, c
                ), (first, m)
        with pytest.raises(ValidationError, match="outside the log"):
            publiclog.tree_head(s, 22)


def test_signed_head_verifies_and_forgeries_fail(engine: Engine, settings: Settings) -> None:
    _fill(engine, 5)
    with session_scope(engine) as s:
        sth = publiclog.sign_tree_head(s, settings)
    key = publiclog.public_key(settings)
    assert sth.verify(key)
    assert Path(settings.log_key_path).stat().st_mode & 0o077 == 0
    forged = [
        publiclog.SignedTreeHead(
            sth.tree_size + 1, sth.timestamp, sth.root_hash, sth.signature, sth.public_key
        ),
        publiclog.SignedTreeHead(
            sth.tree_size, sth.timestamp, merkle.leaf_hash(b"x"), sth.signature, sth.public_key
        ),
        publiclog.SignedTreeHead(
            sth.tree_size, sth.timestamp + 1, sth.root_hash, sth.signature, sth.public_key
        ),
    ]
    for f in forged:
        assert not f.verify(key)
    # a head signed by another key is rejected when the log's key is pinned
    other = Settings(log_key_path=str(Path(settings.log_key_path).with_name("other.key")))
    with session_scope(engine) as s:
        foreign = publiclog.sign_tree_head(s, other)
    assert foreign.verify() and not foreign.verify(key)


def test_export_verifies_and_detects_forged_head(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    _fill(engine, 9)
    out = tmp_path / "log.jsonl"
    with session_scope(engine) as s:
        publiclog.export(s, out, settings)
    key = publiclog.public_key(settings)
    v = publiclog.verify_export(out, trusted_key=key)
    assert v.ok, v.message
    assert v.tree_size == 9
    lines = out.read_text().splitlines()
    head = json.loads(lines[-1])
    head["tree_head"]["root_hash"] = merkle.leaf_hash(b"forged").hex()
    lines[-1] = json.dumps(head)
    out.write_text("\n".join(lines) + "\n")
    v = publiclog.verify_export(out, trusted_key=key)
    assert not v.ok
    assert "forged" in v.message


@st.composite
def _tampering(draw: st.DrawFn) -> tuple[str, int, int]:
    how = draw(st.sampled_from(["change", "delete", "insert", "swap", "rehash-change"]))
    i = draw(st.integers(0, 11))
    j = draw(st.integers(0, 11).filter(lambda x: x != i))
    return how, i, j


@hsettings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(t=_tampering())
def test_any_tampering_of_an_export_is_detected(
    exported: tuple[Path, bytes], t: tuple[str, int, int]
) -> None:
    path, key = exported
    how, i, j = t
    lines = path.read_text().splitlines()
    header, body, heads = lines[0], lines[1:13], lines[13:]
    rows = [json.loads(x) for x in body]
    if how == "change":
        rows[i]["payload"]["text"] = "rewritten"
    elif how == "rehash-change":  # a careful forger also fixes the leaf hash
        rows[i]["payload"]["text"] = "rewritten"
        rows[i]["leaf_hash"] = merkle.leaf_hash(
            publiclog.leaf_data(
                rows[i]["index"], rows[i]["kind"], rows[i]["payload"], rows[i]["time"]
            )
        ).hex()
    elif how == "delete":
        del rows[i]
    elif how == "insert":
        rows.insert(i, dict(rows[j]))
    elif how == "swap":
        rows[i], rows[j] = rows[j], rows[i]
    tampered = path.with_name("tampered.jsonl")
    tampered.write_text("\n".join([header, *(json.dumps(r) for r in rows), *heads]) + "\n")
    v = publiclog.verify_export(tampered, trusted_key=key)
    assert not v.ok, (how, i, j)


@pytest.fixture
def exported(engine: Engine, settings: Settings, tmp_path: Path) -> tuple[Path, bytes]:
    _fill(engine, 12)
    out = tmp_path / "log.jsonl"
    with session_scope(engine) as s:
        publiclog.export(s, out, settings)
    assert len(out.read_text().splitlines()) == 1 + 12 + 1
    return out, publiclog.public_key(settings)


def test_rewritten_and_resigned_log_is_caught_by_an_earlier_head(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    """Even the log's own key cannot rewrite history unnoticed by someone holding a head."""
    _fill(engine, 6)
    with session_scope(engine) as s:
        early = publiclog.sign_tree_head(s, settings)
    _fill(engine, 4)
    out = tmp_path / "log.jsonl"
    with session_scope(engine) as s:
        publiclog.export(s, out, settings)
    assert publiclog.verify_export(out, known_heads=[early]).ok
    # forge: rewrite entry 2 and every hash, re-sign with the real key, drop old heads
    log = publiclog.read_export(out)
    log.entries[2]["payload"]["text"] = "rewritten"
    tree = merkle.MerkleTree(
        merkle.leaf_hash(publiclog.leaf_data(e["index"], e["kind"], e["payload"], e["time"]))
        for e in log.entries
    )
    key = publiclog.signing_key(settings)
    ts = int(time.time() * 1000)
    sig = key.sign(publiclog.SignedTreeHead.message(10, ts, tree.root()))
    forged = publiclog.SignedTreeHead(10, ts, tree.root(), sig, log.public_key)
    lines = [json.dumps({"format": publiclog.EXPORT_FORMAT, "public_key": log.public_key.hex()})]
    lines += [json.dumps({**e, "leaf_hash": tree.leaves[e["index"]].hex()}) for e in log.entries]
    lines.append(json.dumps({"tree_head": forged.to_json()}))
    out.write_text("\n".join(lines) + "\n")
    assert publiclog.verify_export(out).ok  # self-consistent on its own...
    v = publiclog.verify_export(out, known_heads=[early])
    assert not v.ok  # ...but not with the head someone kept
    assert "changed after that head was signed" in v.message


def _dialect(engine: Engine) -> str:
    return engine.dialect.name


REFUSED = [
    "UPDATE publiclog_entry SET kind = 'x.y' WHERE idx = 0",
    "DELETE FROM publiclog_entry WHERE idx = 0",
    "DELETE FROM publiclog_node",
    "UPDATE publiclog_node SET hash = hash",
    "UPDATE publiclog_tree_head SET tree_size = 0",
    "DELETE FROM publiclog_tree_head",
]


def test_triggers_refuse_update_and_delete(engine: Engine, settings: Settings) -> None:
    _fill(engine, 3)
    with session_scope(engine) as s:
        publiclog.sign_tree_head(s, settings)
    for stmt in REFUSED:
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(stmt))
    with session_scope(engine) as s:
        assert publiclog.size(s) == 3
        assert len(publiclog.signed_heads(s)) == 1
        assert publiclog.verify_store(s).ok


def test_verify_store_detects_tampering_behind_the_triggers(
    engine: Engine, settings: Settings
) -> None:
    """Someone with the database's owner rights drops the trigger and edits a row."""
    _fill(engine, 8)
    with session_scope(engine) as s:
        publiclog.sign_tree_head(s, settings)
    drop = (
        "DROP TRIGGER publiclog_entry_no_update"
        if _dialect(engine) == "sqlite"
        else "DROP TRIGGER publiclog_entry_append_only ON publiclog_entry"
    )
    with engine.begin() as conn:
        conn.execute(text(drop))
        conn.execute(
            text("UPDATE publiclog_entry SET payload_json = :p WHERE idx = 3"), {"p": '{"n":99}'}
        )
    with session_scope(engine) as s:
        v = publiclog.verify_store(s, trusted_key=publiclog.public_key(settings))
    assert not v.ok
    assert "entry 3" in v.message


def test_concurrent_appenders_never_collide(engine: Engine, settings: Settings) -> None:
    """Areas append from several threads (web workers): indices stay unique and dense."""

    def worker(w: int) -> None:
        for i in range(15):
            with session_scope(engine) as s:
                publiclog.append(s, "test.concurrent", {"worker": w, "i": i})

    in_threads(4, worker)
    with session_scope(engine) as s:
        rows = publiclog.entries(s)
        assert [r.index for r in rows] == list(range(60))
        assert sorted((r.payload["worker"], r.payload["i"]) for r in rows) == [
            (w, i) for w in range(4) for i in range(15)
        ]
        v = publiclog.verify_store(s)
    assert v.ok, v.message
