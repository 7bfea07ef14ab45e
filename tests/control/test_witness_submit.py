"""Witnesses that deliver their own cosignatures: registered by key, verified, rate-limited.

A witness the log cannot reach pulls the checkpoint, checks it with its own
``add-checkpoint`` logic, and hands the cosigned note back.  Only a witness
registered by its ``cosignature/v1`` (Ed25519) key is heard, only a cosignature
that verifies against that key over a checkpoint this log signed is kept, and each
witness has a per-minute allowance; every refusal is a 4xx naming what is wrong,
and the store is unchanged.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from gosplan.cli import main
from gosplan.config import Settings
from gosplan.core import merkle, note
from gosplan.services import publiclog, witness
from gosplan.services.publiclog import submissions, witnessing
from gosplan.storage.base import session_scope
from gosplan.storage.publiclog import StoredCosignature
from tests.conftest import STORE_KINDS


def _cosignatures(engine: Engine) -> int:
    with session_scope(engine) as s:
        return int(s.scalar(select(func.count()).select_from(StoredCosignature)) or 0)


def _witness(tmp: Path, name: str, settings: Settings) -> tuple[str, witness.Witness]:
    """A witness on its own key and state that follows this log (as its operator would)."""
    vkey = witness.keygen(name, tmp / f"{name.replace('/', '_')}.key")
    w = witness.Witness(tmp / f"{name.replace('/', '_')}.key", tmp / f"{name}.state")
    origin = publiclog.log_origin(settings)
    w.add_log(origin, str(note.Verifier.of(origin, publiclog.public_key(settings))))
    return vkey, w


def _signed_head(engine: Engine, settings: Settings, n: int = 4) -> publiclog.SignedTreeHead:
    with session_scope(engine) as s:
        for i in range(n):
            publiclog.append(s, "test.entry", {"i": i})
    with session_scope(engine) as s:
        return publiclog.current_head(s, settings)


def _cosigned_note(w: witness.Witness, head: publiclog.SignedTreeHead) -> str:
    """What a pulling witness hands back: the log's signed note plus its cosignature line."""
    signed = head.with_cosignatures(()).signed_note()
    old = int(w.logs()[head.origin or ""]["size"])  # 0, or this head's size: no proof needed
    reply = w.add_checkpoint(note.add_checkpoint_request(old, [], signed))
    assert reply.status == 200, reply.body
    return signed + reply.body.decode("utf-8")


@pytest.fixture
def registered(
    engine: Engine, settings: Settings, tmp_path: Path
) -> tuple[Settings, witness.Witness, witness.Witness]:
    """Settings registering witness w1 (no URL: it delivers its own cosignatures), w1
    itself, and w2, a witness nobody registered."""
    vkey1, w1 = _witness(tmp_path, "witness.test/w1", settings)
    _, w2 = _witness(tmp_path, "witness.test/w2", settings)
    conf = settings.model_copy(
        update={"witnesses": [vkey1], "witness_quorum": 1, "witness_submissions_per_minute": 3}
    )
    return conf, w1, w2


@pytest.mark.parametrize("database_url", STORE_KINDS, indirect=True)
def test_a_registered_witness_cosignature_is_kept_once(
    engine: Engine, registered: tuple[Settings, witness.Witness, witness.Witness]
) -> None:
    conf, w1, _ = registered
    head = _signed_head(engine, conf)
    text = _cosigned_note(w1, head)
    with session_scope(engine) as s:
        r = submissions.submit_cosignature(s, text, conf)
    assert (r.status, r.stored, r.witnesses, r.tree_size) == (200, 1, ("witness.test/w1",), 4)
    with session_scope(engine) as s:
        shown = witnessing.publish_head(s, conf)
    pol = witnessing.policy(conf)
    assert pol is not None and pol.accepts(shown) == (True, ["witness.test/w1"])
    # the same cosignature again, or another one of the same head: nothing more is kept
    with session_scope(engine) as s:
        again = submissions.submit_cosignature(s, _cosigned_note(w1, head), conf)
    assert (again.status, again.stored) == (200, 0)
    assert _cosignatures(engine) == 1


def test_unregistered_forged_and_foreign_submissions_are_refused(
    engine: Engine,
    registered: tuple[Settings, witness.Witness, witness.Witness],
    tmp_path: Path,
) -> None:
    conf, w1, w2 = registered
    head = _signed_head(engine, conf)
    good = _cosigned_note(w1, head)
    # a witness nobody registered
    stranger = _cosigned_note(w2, head)
    # the registered witness's name with another key
    impostor_key = tmp_path / "impostor.key"
    witness.keygen("witness.test/w1", impostor_key)
    signer = witness.load_signer(impostor_key)
    impostor = head.with_cosignatures(()).signed_note() + signer.cosign(
        head.checkpoint_text(), int(time.time())
    )
    # the registered key's line, its signature bytes flipped
    lines = good.rstrip("\n").split("\n")
    sig = note.parse_note(good).signatures[-1]
    flipped = note.Signature(sig.name, sig.id, sig.blob[:-1] + bytes([sig.blob[-1] ^ 1]))
    forged = "\n".join(lines[:-1]) + "\n" + flipped.line()
    # a checkpoint of another history at the same size, cosigned by the registered witness
    other = note.Checkpoint(head.origin or "", head.tree_size, merkle.EMPTY_ROOT).text()
    fork = other + "\n" + witness.load_signer(w1.key_path).cosign(other, int(time.time()))
    cases = {
        "not a note": (b"hello", 400, "note:"),
        "stranger": (stranger, 403, "witness: no signature line is from a registered"),
        "impostor": (impostor, 403, "not with its registered key"),
        "forged": (forged, 403, "does not verify against its registered key"),
        "fork": (fork, 404, "checkpoint: this log signed no tree head of size 4"),
    }
    for label, (body, status, words) in cases.items():
        text = body.decode() if isinstance(body, bytes) else body
        with session_scope(engine) as s:
            r = submissions.submit_cosignature(s, text, conf)
        assert (r.status, r.success) == (status, False), (label, r)
        assert words in r.message, (label, r.message)
        assert _cosignatures(engine) == 0, label
    # no witness registered at all
    with session_scope(engine) as s:
        r = submissions.submit_cosignature(s, good, conf.model_copy(update={"witnesses": []}))
    assert r.status == 403 and "no witness is registered" in r.message
    with session_scope(engine) as s:
        r = submissions.submit_cosignature(s, good, conf.model_copy(update={"witnesses": ["x"]}))
    assert r.status == 503 and "misconfigured" in r.message
    assert _cosignatures(engine) == 0


def test_each_witness_has_a_per_minute_allowance(
    engine: Engine, registered: tuple[Settings, witness.Witness, witness.Witness]
) -> None:
    conf, w1, w2 = registered
    head = _signed_head(engine, conf)
    text = _cosigned_note(w1, head)
    t0 = 1_000_000.0
    statuses = []
    for i in range(4):
        with session_scope(engine) as s:
            statuses.append(submissions.submit_cosignature(s, text, conf, now=t0 + i).status)
    assert statuses == [200, 200, 200, 429]
    # claims in w1's name that do not verify never spend its allowance
    stranger = _cosigned_note(w2, head)
    with session_scope(engine) as s:
        assert submissions.submit_cosignature(s, stranger, conf, now=t0 + 70).status == 403
    with session_scope(engine) as s:
        late = submissions.submit_cosignature(s, text, conf, now=t0 + 61)
    assert late.status == 200, late
    assert _cosignatures(engine) == 1


def test_web_and_cli_faces(
    engine: Engine,
    registered: tuple[Settings, witness.Witness, witness.Witness],
    tmp_path: Path,
) -> None:
    from gosplan.web.app import create_app

    conf, w1, w2 = registered
    conf = conf.model_copy(update={"secret_key_path": str(tmp_path / "session.key")})
    head = _signed_head(engine, conf)
    app = create_app(conf, migrate=False)
    try:
        with TestClient(app) as client:
            bad = client.post("/log/cosignatures", json={"note": _cosigned_note(w2, head)})
            assert bad.status_code == 403
            assert bad.json()["ok"] is False
            assert bad.json()["error"].startswith("witness: ")
            assert _cosignatures(engine) == 0
            empty = client.post("/log/cosignatures", json={"nothing": 1})
            assert empty.status_code == 422 and empty.json()["ok"] is False
            ok = client.post("/log/cosignatures", json={"note": _cosigned_note(w1, head)})
            assert ok.status_code == 200, ok.text
            assert ok.json()["stored"] == 1 and ok.json()["witnesses"] == ["witness.test/w1"]
    finally:
        app.state.gosplan.engine.dispose()
    assert _cosignatures(engine) == 1
    # the CLI, for a note that came by mail: same checks
    path = tmp_path / "cosigned.txt"
    path.write_text(_cosigned_note(w2, head), encoding="utf-8")
    env = {
        "GOSPLAN_DATABASE_URL": conf.database_url,
        "GOSPLAN_LOG_KEY_PATH": conf.log_key_path,
        "GOSPLAN_WITNESSES": f'["{conf.witnesses[0]}"]',
        "GOSPLAN_WITNESS_QUORUM": "1",
    }
    res = CliRunner().invoke(main, ["log", "add-cosignature", str(path), "--json"], env=env)
    assert res.exit_code == 1
    assert _cosignatures(engine) == 1
