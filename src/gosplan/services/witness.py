"""A witness (C2SP tlog-witness): cosigns a log's checkpoints, never two histories.

A witness runs as its own process (``gosplan witness serve``), away from the
log's operator, with its own Ed25519 key and its own state file.  For each log
it knows (origin and the log's verifier key) it remembers the last checkpoint
it cosigned.  ``POST /add-checkpoint`` carries ``old <size>``, a consistency
proof and a signed checkpoint; the witness

* answers 404 for an unknown origin, 403 when the log's signature fails;
* answers 409 (body: its size, ``text/x.tlog.size``) when ``old`` is not the
  size it holds, and when the checkpoint has the size it holds but another
  root: **a fork** at the same size is never cosigned;
* answers 400 when the checkpoint is smaller than ``old``, 422 when the
  consistency proof does not show the new tree extends the one it holds;
* otherwise stores the new checkpoint and answers 200 with its
  ``cosignature/v1`` line.

The state file is replaced atomically under an exclusive lock, so concurrent
requests see one history.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gosplan.core import merkle, note
from gosplan.errors import ValidationError

KEY_FORMAT = "gosplan-witness-key/1"


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"


def keygen(name: str, key_path: str | Path) -> str:
    """Make a witness key (mode 0600) and return its cosignature verifier key."""
    key = Ed25519PrivateKey.generate()
    signer = note.Signer(name, key, note.ALG_COSIGNATURE_V1)
    vkey = str(signer.verifier)  # also checks the name
    seed = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    p = Path(key_path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"format": KEY_FORMAT, "name": name, "seed": seed.hex()}, fh)
    return vkey


def load_signer(key_path: str | Path) -> note.Signer:
    p = Path(key_path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
        if data.get("format") != KEY_FORMAT:
            raise ValueError(f"format must be {KEY_FORMAT!r}")
        key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(data["seed"]))
        return note.Signer(str(data["name"]), key, note.ALG_COSIGNATURE_V1)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValidationError(f"witness key {p} cannot be read ({exc}).") from exc


class Witness:
    """A witness over its key file and state file (see the module docstring)."""

    def __init__(self, key_path: str | Path, state_path: str | Path) -> None:
        self.key_path = Path(key_path)
        self.state_path = Path(state_path)

    @contextmanager
    def _state(self) -> Iterator[dict[str, Any]]:
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        lock = self.state_path.with_name(self.state_path.name + ".lock")
        with open(lock, "a") as lh:
            fcntl.flock(lh, fcntl.LOCK_EX)
            try:
                state: dict[str, Any] = (
                    json.loads(self.state_path.read_text(encoding="utf-8"))
                    if self.state_path.exists()
                    else {"logs": {}}
                )
                before = json.dumps(state, sort_keys=True)
                yield state
                if json.dumps(state, sort_keys=True) != before:
                    tmp = self.state_path.with_name(self.state_path.name + ".tmp")
                    tmp.write_text(json.dumps(state, indent=1, sort_keys=True), encoding="utf-8")
                    os.replace(tmp, self.state_path)
            finally:
                fcntl.flock(lh, fcntl.LOCK_UN)

    def add_log(self, origin: str, vkey: str) -> None:
        """Start witnessing the log ``origin`` whose checkpoints ``vkey`` signs."""
        v = note.Verifier.parse(vkey)
        if v.alg != note.ALG_ED25519 or v.name != origin:
            raise ValidationError(
                "a log's verifier key must be an Ed25519 note key named "
                f"after its origin {origin!r}."
            )
        with self._state() as st:
            if origin in st["logs"] and st["logs"][origin]["vkey"] != vkey:
                raise ValidationError(f"log {origin!r} is already witnessed with another key.")
            st["logs"].setdefault(
                origin, {"vkey": vkey, "size": 0, "root": merkle.EMPTY_ROOT.hex()}
            )

    def logs(self) -> dict[str, Any]:
        with self._state() as st:
            return dict(st["logs"])

    def add_checkpoint(self, body: bytes, now: float | None = None) -> Reply:
        """Handle one ``add-checkpoint`` request body (tlog-witness)."""
        try:
            old, proof, signed = note.parse_add_checkpoint(body)
            parsed = note.parse_note(signed)
            cp = note.parse_checkpoint(parsed.text)
        except note.NoteError as exc:
            return Reply(400, f"malformed request: {exc}\n".encode())
        signer = load_signer(self.key_path)
        with self._state() as st:
            log = st["logs"].get(cp.origin)
            if log is None:
                return Reply(404, f"unknown log {cp.origin!r}\n".encode())
            try:
                _, good = note.open_note(signed, [note.Verifier.parse(log["vkey"])])
            except note.NoteError:
                good = {}
            if cp.origin not in good:
                return Reply(403, b"the checkpoint is not signed by the log's key\n")
            size, root = int(log["size"]), bytes.fromhex(log["root"])
            if old != size:
                return Reply(409, f"{size}\n".encode(), "text/x.tlog.size")
            if cp.size < size:
                return Reply(400, f"checkpoint size {cp.size} is below {size}\n".encode())
            if cp.size == size and cp.root != root:
                # a second history at the size already cosigned: a fork, never cosigned
                return Reply(409, f"{size}\n".encode(), "text/x.tlog.size")
            if cp.size > size and not merkle.verify_consistency(
                size, cp.size, root, cp.root, proof
            ):
                return Reply(
                    422,
                    b"the consistency proof does not show that the checkpoint "
                    b"extends the one this witness cosigned\n",
                )
            log["size"], log["root"] = cp.size, cp.root.hex()
        ts = int(now if now is not None else time.time())
        return Reply(200, signer.cosign(parsed.text, ts).encode("utf-8"))


def serve(witness: Witness, host: str = "127.0.0.1", port: int = 7380) -> None:
    """Serve ``POST /add-checkpoint`` until interrupted (standard library HTTP server)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.path.rstrip("/") != "/add-checkpoint":
                self._answer(Reply(404, b"not found\n"))
                return
            n = int(self.headers.get("Content-Length") or 0)
            if n > 64 * 1024:
                self._answer(Reply(413, b"request too large\n"))
                return
            self._answer(witness.add_checkpoint(self.rfile.read(n)))

        def _answer(self, r: Reply) -> None:
            self.send_response(r.status)
            self.send_header("Content-Type", r.content_type)
            self.send_header("Content-Length", str(len(r.body)))
            self.end_headers()
            self.wfile.write(r.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    try:
        server.serve_forever()
    finally:
        server.server_close()
