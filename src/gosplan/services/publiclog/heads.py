"""Signing tree heads: the log key, signed heads kept in the store."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
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
from gosplan.core import merkle
from gosplan.errors import ValidationError
from gosplan.services.publiclog.store import size, tree_head
from gosplan.storage.publiclog import StoredTreeHead

# --------------------------------------------------------------------------- signing

_SIGNING_CONTEXT = b"gosplan tree head v1\x00"


def signing_key(settings: Settings | None = None) -> Ed25519PrivateKey:
    """The log's Ed25519 key, from ``settings.log_key_path``; created (mode 0600) on first use."""
    path = Path((settings or Settings()).log_key_path)
    if not path.exists():
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first: use theirs
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
    try:
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise ValidationError(f"log signing key {path} is not a PEM private key: {exc}") from exc
    if not isinstance(loaded, Ed25519PrivateKey):
        raise ValidationError(f"log signing key {path} is not an Ed25519 key.")
    return loaded


def public_key(settings: Settings | None = None) -> bytes:
    """The raw 32-byte public key that verifies this log's tree heads."""
    return signing_key(settings).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass(frozen=True)
class SignedTreeHead:
    """A tree head signed by the log: ``tree_size``, ``timestamp`` (ms), ``root_hash``."""

    tree_size: int
    timestamp: int
    root_hash: bytes
    signature: bytes
    public_key: bytes

    @staticmethod
    def message(tree_size: int, timestamp: int, root_hash: bytes) -> bytes:
        """The exact bytes that are signed."""
        return (_SIGNING_CONTEXT + tree_size.to_bytes(8, "big") + timestamp.to_bytes(8, "big")
                + root_hash)

    def verify(self, trusted_key: bytes | None = None) -> bool:
        """Is the signature good, and (if given) made by ``trusted_key``?"""
        if trusted_key is not None and trusted_key != self.public_key:
            return False
        if len(self.root_hash) != merkle.HASH_SIZE or self.tree_size < 0 or self.timestamp < 0:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(
                self.signature, self.message(self.tree_size, self.timestamp, self.root_hash))
        except (InvalidSignature, ValueError):
            return False
        return True

    def to_json(self) -> dict[str, Any]:
        return {"tree_size": self.tree_size, "timestamp": self.timestamp,
                "root_hash": self.root_hash.hex(), "signature": self.signature.hex(),
                "public_key": self.public_key.hex()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SignedTreeHead:
        try:
            return cls(int(data["tree_size"]), int(data["timestamp"]),
                       bytes.fromhex(data["root_hash"]), bytes.fromhex(data["signature"]),
                       bytes.fromhex(data["public_key"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError(
                f"signed tree head is malformed ({exc!r}); it needs tree_size, timestamp, "
                "root_hash, signature and public_key (hex)."
            ) from exc


def sign_tree_head(session: Session, settings: Settings | None = None) -> SignedTreeHead:
    """Sign the log's current head and keep the signed head in the store.

    Call it on committed data (a fresh transaction), so that no head is ever
    signed over entries that are later rolled back.
    """
    key = signing_key(settings)
    head = tree_head(session)
    timestamp = int(dt.datetime.now(dt.UTC).timestamp() * 1000)
    sig = key.sign(SignedTreeHead.message(head.tree_size, timestamp, head.root_hash))
    pub = key.public_key().public_bytes(serialization.Encoding.Raw,
                                        serialization.PublicFormat.Raw)
    sth = SignedTreeHead(head.tree_size, timestamp, head.root_hash, sig, pub)
    session.add(StoredTreeHead(tree_size=sth.tree_size, timestamp=sth.timestamp,
                               root_hash=sth.root_hash, signature=sth.signature,
                               public_key=sth.public_key))
    session.flush()
    return sth


def _sth(row: StoredTreeHead) -> SignedTreeHead:
    return SignedTreeHead(int(row.tree_size), int(row.timestamp), bytes(row.root_hash),
                          bytes(row.signature), bytes(row.public_key))


def signed_heads(session: Session) -> list[SignedTreeHead]:
    """Every signed tree head the log has issued, oldest first."""
    return [_sth(r) for r in session.scalars(select(StoredTreeHead).order_by(StoredTreeHead.id))]


def latest_signed_head(session: Session) -> SignedTreeHead | None:
    row = session.scalars(select(StoredTreeHead).order_by(StoredTreeHead.id.desc())
                          .limit(1)).first()
    return None if row is None else _sth(row)




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
