"""Signing tree heads: the log key, signed heads kept in the store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from gosplan.config import Settings
from gosplan.core import merkle, note
from gosplan.errors import ValidationError
from gosplan.keyfiles import private_key
from gosplan.services.publiclog.store import TreeHead, key_id, size, tree_head
from gosplan.storage.publiclog import StoredCosignature, StoredTreeHead

# --------------------------------------------------------------------------- signing

_SIGNING_CONTEXT = b"gosplan tree head v1\x00"


def signing_key(settings: Settings | None = None) -> Ed25519PrivateKey:
    """The log's Ed25519 key, from ``settings.log_key_path``; created (mode 0600) on first use."""
    path = Path((settings or Settings()).log_key_path)
    return private_key(path, "Ed25519", "log signing key")


def public_key(settings: Settings | None = None) -> bytes:
    """The raw 32-byte public key that verifies this log's tree heads."""
    return (
        signing_key(settings)
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )


def log_origin(settings: Settings | None = None) -> str:
    """The checkpoint origin (and note key name) of this log: ``settings.log_origin``, or
    ``gosplan.invalid/log/<key id>`` when none is set."""
    s = settings or Settings()
    if s.log_origin:
        return s.log_origin
    return f"gosplan.invalid/log/{key_id(public_key(s))}"


@dataclass(frozen=True)
class Cosignature:
    """A witness's ``cosignature/v1`` (C2SP tlog-cosignature) on a checkpoint."""

    name: str
    key_id: bytes
    timestamp: int  # seconds since the epoch
    signature: bytes

    def line(self) -> str:
        return note.Signature(
            self.name, self.key_id, self.timestamp.to_bytes(8, "big") + self.signature
        ).line()

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "key_id": self.key_id.hex(),
            "timestamp": self.timestamp,
            "signature": self.signature.hex(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Cosignature:
        return cls(
            str(data["name"]),
            bytes.fromhex(data["key_id"]),
            int(data["timestamp"]),
            bytes.fromhex(data["signature"]),
        )


@dataclass(frozen=True)
class SignedTreeHead:
    """A tree head signed by the log: ``tree_size``, ``timestamp`` (ms), ``root_hash``.

    With an ``origin`` it is a C2SP checkpoint (``<origin>\\n<size>\\n<base64 root>\\n``)
    signed as a C2SP signed note with the log's Ed25519 key under the name
    ``origin``; witnesses add ``cosignatures``.  Without one it is a head in the
    older gosplan format (kept verifiable for old stores and receipts).
    """

    tree_size: int
    timestamp: int
    root_hash: bytes
    signature: bytes
    public_key: bytes
    origin: str | None = None
    cosignatures: tuple[Cosignature, ...] = ()

    @staticmethod
    def message(tree_size: int, timestamp: int, root_hash: bytes) -> bytes:
        """The bytes a head in the older gosplan format signs."""
        return (
            _SIGNING_CONTEXT
            + tree_size.to_bytes(8, "big")
            + timestamp.to_bytes(8, "big")
            + root_hash
        )

    def checkpoint_text(self) -> str:
        if self.origin is None:
            raise ValidationError("a head in the old gosplan format is not a checkpoint")
        return note.Checkpoint(self.origin, self.tree_size, self.root_hash).text()

    @property
    def verifier(self) -> note.Verifier:
        return note.Verifier.of(self.origin or "gosplan", self.public_key)

    def signed_message(self) -> bytes:
        if self.origin is None:
            return self.message(self.tree_size, self.timestamp, self.root_hash)
        return self.checkpoint_text().encode("utf-8")

    def signed_note(self) -> str:
        """The signed checkpoint with every cosignature, as a C2SP signed note."""
        sig = note.Signature(self.origin or "", self.verifier.id, self.signature)
        return (
            self.checkpoint_text()
            + "\n"
            + sig.line()
            + "".join(c.line() for c in self.cosignatures)
        )

    def verify(self, trusted_key: bytes | None = None) -> bool:
        """Is the signature good, and (if given) made by ``trusted_key``?"""
        if trusted_key is not None and trusted_key != self.public_key:
            return False
        if len(self.root_hash) != merkle.HASH_SIZE or self.tree_size < 0 or self.timestamp < 0:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(
                self.signature, self.signed_message()
            )
        except (InvalidSignature, ValueError, note.NoteError):
            return False
        return True

    def cosigned_by(self, witnesses: Sequence[note.Verifier]) -> list[str]:
        """Names of the given witnesses whose cosignature on this checkpoint verifies."""
        if self.origin is None:
            return []
        text = self.checkpoint_text()
        good: list[str] = []
        for w in witnesses:
            for c in self.cosignatures:
                sig = note.Signature(c.name, c.key_id, c.timestamp.to_bytes(8, "big") + c.signature)
                if (
                    w.alg == note.ALG_COSIGNATURE_V1
                    and note.verify_signature(text, w, sig) is not None
                ):
                    good.append(w.name)
                    break
        return good

    def with_cosignatures(self, cos: Sequence[Cosignature]) -> SignedTreeHead:
        return replace(self, cosignatures=tuple(cos))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "tree_size": self.tree_size,
            "timestamp": self.timestamp,
            "root_hash": self.root_hash.hex(),
            "signature": self.signature.hex(),
            "public_key": self.public_key.hex(),
        }
        if self.origin is not None:
            out["origin"] = self.origin
            out["note"] = self.signed_note()
            out["cosignatures"] = [c.to_json() for c in self.cosignatures]
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SignedTreeHead:
        try:
            return cls(
                int(data["tree_size"]),
                int(data["timestamp"]),
                bytes.fromhex(data["root_hash"]),
                bytes.fromhex(data["signature"]),
                bytes.fromhex(data["public_key"]),
                str(data["origin"]) if data.get("origin") is not None else None,
                tuple(Cosignature.from_json(c) for c in data.get("cosignatures") or ()),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValidationError(
                f"signed tree head is malformed ({exc!r}); it needs tree_size, timestamp, "
                "root_hash, signature and public_key (hex)."
            ) from exc


def sign_tree_head(session: Session, settings: Settings | None = None) -> SignedTreeHead:
    """Sign the log's current head as a C2SP checkpoint and keep it in the store.

    Call it on committed data (a fresh transaction), so that no head is ever
    signed over entries that are later rolled back.
    """
    return sign_head(session, tree_head(session), settings)


def sign_head(session: Session, head: TreeHead, settings: Settings | None = None) -> SignedTreeHead:
    """Sign ``head`` (computed on committed data) and keep it in the store."""
    sth = signed(head, settings)
    session.add(StoredTreeHead(**stored_columns(sth)))
    session.flush()
    return sth


def signed(head: TreeHead, settings: Settings | None = None) -> SignedTreeHead:
    """``head`` signed now with the log's key, as a C2SP checkpoint (not stored)."""
    key = signing_key(settings)
    timestamp = int(dt.datetime.now(dt.UTC).timestamp() * 1000)
    pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    unsigned = SignedTreeHead(
        head.tree_size, timestamp, head.root_hash, b"", pub, log_origin(settings)
    )
    return replace(unsigned, signature=key.sign(unsigned.signed_message()))


def stored_columns(sth: SignedTreeHead) -> dict[str, Any]:
    """The columns of ``sth``'s row in the store."""
    return {
        "tree_size": sth.tree_size,
        "timestamp": sth.timestamp,
        "root_hash": sth.root_hash,
        "signature": sth.signature,
        "public_key": sth.public_key,
        "origin": sth.origin,
    }


def _sth(row: StoredTreeHead, cos: Sequence[StoredCosignature] = ()) -> SignedTreeHead:
    return SignedTreeHead(
        int(row.tree_size),
        int(row.timestamp),
        bytes(row.root_hash),
        bytes(row.signature),
        bytes(row.public_key),
        row.origin,
        tuple(
            Cosignature(c.name, bytes(c.key_id), int(c.timestamp), bytes(c.signature)) for c in cos
        ),
    )


def _cosignatures(session: Session, ids: Sequence[int]) -> dict[int, list[StoredCosignature]]:
    out: dict[int, list[StoredCosignature]] = {}
    if ids:
        for c in session.scalars(
            select(StoredCosignature)
            .where(StoredCosignature.tree_head_id.in_(ids))
            .order_by(StoredCosignature.id)
        ):
            out.setdefault(c.tree_head_id, []).append(c)
    return out


def add_cosignatures(
    session: Session, head: SignedTreeHead, cos: Sequence[Cosignature]
) -> SignedTreeHead:
    """Keep witnesses' cosignatures on a stored head (the latest row with that checkpoint)."""
    row = session.scalars(
        select(StoredTreeHead)
        .where(
            StoredTreeHead.tree_size == head.tree_size,
            StoredTreeHead.root_hash == head.root_hash,
            StoredTreeHead.signature == head.signature,
        )
        .order_by(StoredTreeHead.id.desc())
    ).first()
    if row is None:
        raise ValidationError(f"no stored head of size {head.tree_size} to cosign.")
    for c in cos:
        session.add(
            StoredCosignature(
                tree_head_id=row.id,
                name=c.name,
                key_id=c.key_id,
                timestamp=c.timestamp,
                signature=c.signature,
            )
        )
    session.flush()
    have = _cosignatures(session, [row.id]).get(row.id, [])
    return _sth(row, have)


def signed_heads(session: Session) -> list[SignedTreeHead]:
    """Every signed tree head the log has issued, oldest first."""
    rows = list(session.scalars(select(StoredTreeHead).order_by(StoredTreeHead.id)))
    cos = _cosignatures(session, [r.id for r in rows])
    return [_sth(r, cos.get(r.id, ())) for r in rows]


def latest_head_size(session: Session) -> tuple[int, bytes] | None:
    """The size and key of the latest signed head (one row, no cosignatures)."""
    row = session.execute(
        select(StoredTreeHead.tree_size, StoredTreeHead.public_key)
        .order_by(StoredTreeHead.id.desc())
        .limit(1)
    ).first()
    return None if row is None else (int(row[0]), bytes(row[1]))


def latest_signed_head(session: Session) -> SignedTreeHead | None:
    row = session.scalars(
        select(StoredTreeHead).order_by(StoredTreeHead.id.desc()).limit(1)
    ).first()
    if row is None:
        return None
    return _sth(row, _cosignatures(session, [row.id]).get(row.id, ()))


def current_head(session: Session, settings: Settings | None = None) -> SignedTreeHead:
    """The latest signed head if it covers the whole log, else a newly signed one.

    Reading the log never multiplies heads: however many receipts are fetched,
    at most one head is signed per size the log reaches (the first reader after
    a write signs it; everyone after reuses it).
    """
    latest = latest_signed_head(session)
    key = public_key(settings)
    if latest is not None and latest.tree_size == size(session) and latest.public_key == key:
        return latest
    return sign_tree_head(session, settings)
