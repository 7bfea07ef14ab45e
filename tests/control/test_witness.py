"""Witnesses against split view: a witness process with its own key and state cosigns one
history of a log and refuses a fork; receipts and verification of the fork then fail.

The operator here holds the log's signing key and forks the store at size 5 (a copy of the
SQLite file), so both histories are validly signed by the log; only the witness tells them
apart.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from gosplan.config import Settings
from gosplan.core import note
from gosplan.services import publiclog, witness
from gosplan.services.publiclog import witnessing
from gosplan.storage.base import make_engine, session_scope

RUN = [sys.executable, "-c", "from gosplan.cli import main; main()"]


def _cli(*args: str) -> str:
    r = subprocess.run(
        [*RUN, *args], capture_output=True, text=True, env=os.environ.copy(), timeout=60
    )
    assert r.returncode == 0, (args, r.stdout, r.stderr)
    return r.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def witness_process(tmp_path: Path) -> Iterator[tuple[str, Path, int]]:
    """A witness in its own process and folder: (vkey, folder, port)."""
    home = tmp_path / "witness-machine"
    vkey = _cli(
        "witness", "keygen", "--name", "witness.test/w1", "--key", str(home / "w.key")
    ).strip()
    port = _free_port()
    proc = subprocess.Popen(
        [
            *RUN,
            "witness",
            "serve",
            "--key",
            str(home / "w.key"),
            "--state",
            str(home / "state.json"),
            "--port",
            str(port),
        ],
        env=os.environ.copy(),
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError("the witness did not start")
        yield vkey, home, port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _append(engine: Engine, kind: str, n: int) -> None:
    with session_scope(engine) as s:
        for i in range(n):
            publiclog.append(s, kind, {"i": i})


def test_witness_refuses_a_fork_and_verification_of_the_fork_fails(
    engine: Engine, settings: Settings, tmp_path: Path, witness_process: tuple[str, Path, int]
) -> None:
    vkey, home, port = witness_process
    _append(engine, "test.common", 5)
    # the operator forks the store at size 5: same entries, same log key
    a_file = Path(settings.database_url.removeprefix("sqlite:///"))
    b_file = tmp_path / "fork.db"
    engine.dispose()
    shutil.copyfile(a_file, b_file)
    fork = make_engine(f"sqlite:///{b_file}")
    _append(engine, "test.shown_to_some", 3)
    _append(fork, "test.shown_to_others", 3)
    conf = {"witnesses": [f"{vkey} http://127.0.0.1:{port}"], "witness_quorum": 1}
    s_a = settings.model_copy(update=conf)
    s_b = s_a.model_copy(update={"database_url": f"sqlite:///{b_file}"})
    _cli(
        "witness",
        "add-log",
        "--state",
        str(home / "state.json"),
        "--origin",
        publiclog.log_origin(s_a),
        "--vkey",
        str(note.Verifier.of(publiclog.log_origin(s_a), publiclog.public_key(s_a))),
    )
    pol = witnessing.policy(s_a)
    assert pol is not None and pol.quorum == 1
    try:
        with session_scope(engine) as s:
            head_a = witnessing.publish_head(s, s_a)
        with session_scope(fork) as s:
            head_b = witnessing.publish_head(s, s_b)
        # both heads are signed by the log at size 8; only one history is cosigned
        assert head_a.tree_size == head_b.tree_size == 8
        assert head_a.root_hash != head_b.root_hash
        assert head_a.verify() and head_b.verify()
        assert pol.accepts(head_a) == (True, ["witness.test/w1"])
        assert pol.accepts(head_b) == (False, [])
        state = json.loads((home / "state.json").read_text())
        assert state["logs"][head_a.origin]["root"] == head_a.root_hash.hex()

        with session_scope(engine) as s:
            assert publiclog.verify_store(s, witnesses=pol).ok
            rec_a = publiclog.receipt(s, 6, s_a)
        with session_scope(fork) as s:
            v = publiclog.verify_store(s, witnesses=pol)
            rec_b = publiclog.receipt(s, 6, s_b)
        assert not v.ok and "0 of the 1 witness cosignatures" in v.message
        assert publiclog.verify_receipt(rec_a, witnesses=pol).ok
        with session_scope(engine) as s:
            publiclog.export(s, tmp_path / "a.jsonl", s_a)
        with session_scope(fork) as s:
            publiclog.export(s, tmp_path / "b.jsonl", s_b)
        assert publiclog.verify_export(tmp_path / "a.jsonl", witnesses=pol).ok
        vb = publiclog.verify_export(tmp_path / "b.jsonl", witnesses=pol)
        assert not vb.ok and "witness cosignatures" in vb.message
        assert publiclog.verify_export(tmp_path / "b.jsonl").ok  # signed by the log itself
        rb = publiclog.verify_receipt(rec_b, witnesses=pol)
        assert not rb.ok and "split view" in rb.message
        # without the witness rule the fork's receipt would pass: the rule is what catches it
        assert publiclog.verify_receipt(rec_b).ok

        # the fork grows: its proof cannot extend what the witness cosigned (422)
        _append(fork, "test.shown_to_others", 1)
        with session_scope(fork) as s:
            assert not pol.accepts(witnessing.publish_head(s, s_b))[0]
        # the true history grows and is cosigned again, from the size the witness holds
        _append(engine, "test.shown_to_some", 2)
        with session_scope(engine) as s:
            head = witnessing.publish_head(s, s_a)
            assert head.tree_size == 10 and pol.accepts(head)[0]
            # the signed note carries the log's signature and the cosignature (C2SP)
            _, good = note.open_note(head.signed_note(), [head.verifier, *pol.verifiers])
            assert set(good) == {head.origin, "witness.test/w1"}
        # the operator deletes the cosignatures (triggers dropped): verification fails
        from sqlalchemy import text

        from gosplan.storage.publiclog import drop_append_only_ddl

        with engine.begin() as conn:
            for stmt in drop_append_only_ddl("sqlite", "publiclog_cosignature"):
                conn.execute(text(stmt))
            conn.execute(text("DELETE FROM publiclog_cosignature"))
        with session_scope(engine) as s:
            assert not publiclog.verify_store(s, witnesses=pol).ok
        # log verify (CLI) on the fork fails with the witness rule configured
        env = {
            **os.environ,
            "GOSPLAN_LOG_KEY_PATH": s_b.log_key_path,
            "GOSPLAN_WITNESSES": json.dumps(conf["witnesses"]),
            "GOSPLAN_WITNESS_QUORUM": "1",
        }
        r = subprocess.run(
            [*RUN, "log", "verify", "--json", "--db", s_b.database_url],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert r.returncode == 1, r.stderr
        assert not json.loads(r.stdout)["log"]["ok"]
    finally:
        fork.dispose()


def test_witness_answers_by_the_protocol(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    vkey = witness.keygen("w.example", tmp_path / "w.key")
    w = witness.Witness(tmp_path / "w.key", tmp_path / "state.json")
    log_key = Ed25519PrivateKey.generate()
    signer = note.Signer("log.example", log_key)
    w.add_log("log.example", str(signer.verifier))
    cos = note.Verifier.parse(vkey)

    def signed(
        size: int, root: bytes, by: note.Signer = signer, origin: str = "log.example"
    ) -> str:
        text = note.Checkpoint(origin, size, root).text()
        return text + "\n" + by.sign(text)

    from gosplan.core.merkle import MerkleTree, leaf_hash

    tree = MerkleTree(leaf_hash(bytes([i])) for i in range(4))
    ok = w.add_checkpoint(note.add_checkpoint_request(0, [], signed(3, tree.root(3))))
    assert ok.status == 200
    n = note.parse_note(
        note.Checkpoint("log.example", 3, tree.root(3)).text() + "\n" + ok.body.decode()
    )
    assert note.verify_signature(n.text, cos, n.signatures[0]) is not None
    impostor = note.Signer("log.example", Ed25519PrivateKey.generate())
    assert (
        w.add_checkpoint(
            note.add_checkpoint_request(
                3, tree.consistency_proof(3, 4), signed(4, tree.root(4), impostor)
            )
        ).status
        == 403
    )
    assert (
        w.add_checkpoint(
            note.add_checkpoint_request(
                0,
                [],
                signed(1, tree.root(1), note.Signer("other.example", log_key), "other.example"),
            )
        ).status
        == 404
    )
    stale = w.add_checkpoint(note.add_checkpoint_request(0, [], signed(4, tree.root(4))))
    assert stale.status == 409 and stale.body == b"3\n"
    assert (
        w.add_checkpoint(note.add_checkpoint_request(3, [], signed(2, tree.root(2)))).status == 400
    )
    assert (
        w.add_checkpoint(
            note.add_checkpoint_request(3, [bytes(32)], signed(4, tree.root(4)))
        ).status
        == 422
    )
    assert (
        w.add_checkpoint(note.add_checkpoint_request(3, [], signed(3, bytes(32)))).status == 409
    )  # a fork at the size it holds
    assert (
        w.add_checkpoint(
            note.add_checkpoint_request(3, tree.consistency_proof(3, 4), signed(4, tree.root(4)))
        ).status
        == 200
    )
    assert w.add_checkpoint(b"garbage").status == 400
