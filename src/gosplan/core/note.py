"""C2SP signed notes, checkpoints and cosignatures (pure functions over text and bytes).

Implements, for Ed25519 only:

* **signed-note** (https://c2sp.org/signed-note): a UTF-8 text ending in a
  newline, a blank line, then signature lines ``"— <name> <base64(key ID ||
  signature)>\\n"``; key ID = ``SHA-256(name || 0x0A || type || public key)[:4]``;
  a verifier key is ``<name>+<hex key ID>+<base64(type || public key)>``; the
  Ed25519 note signature (type ``0x01``) signs the text itself.
* **tlog-checkpoint** (https://c2sp.org/tlog-checkpoint): the text is
  ``<origin>\\n<tree size>\\n<base64 root hash>\\n`` plus optional extension lines.
* **tlog-cosignature** (https://c2sp.org/tlog-cosignature), ``cosignature/v1``:
  type ``0x04``; the signature is ``key ID || uint64 timestamp || Ed25519 sig``
  over ``"cosignature/v1\\ntime <timestamp>\\n" || checkpoint text``.
* the **tlog-witness** ``add-checkpoint`` request body
  (https://c2sp.org/tlog-witness): ``"old <size>\\n"``, one base64 consistency
  proof hash per line, a blank line, then the signed checkpoint.

Tested against the Go reference implementation's published vectors
(``golang.org/x/mod/sumdb/note``: the PeterNeumann key and note) and real
checkpoints of the Go checksum database (``sum.golang.org``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

ALG_ED25519 = 0x01
ALG_COSIGNATURE_V1 = 0x04
DASH = "\u2014 "
MAX_SIGNATURES = 100


class NoteError(ValueError):
    """A note, key, checkpoint or request that does not follow the format; says why."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError(f"{what} is not base64") from None


def _check_name(name: str) -> None:
    if not name or any(c.isspace() for c in name) or "+" in name:
        raise NoteError(f"key name {name!r} must be non-empty, without spaces or '+'")


def key_id(name: str, alg: int, public: bytes) -> bytes:
    """``SHA-256(name || 0x0A || alg || public)[:4]``."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([alg]) + public).digest()[:4]


def raw_public(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass(frozen=True)
class Verifier:
    """A parsed verifier key: name, key ID, type (``0x01`` note, ``0x04`` cosignature), key."""

    name: str
    id: bytes
    alg: int
    public: bytes

    @classmethod
    def parse(cls, vkey: str) -> Verifier:
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3:
            raise NoteError(f"verifier key {vkey!r} is not <name>+<hex id>+<base64 key>")
        name, hid, b64 = parts
        _check_name(name)
        if len(hid) != 8 or any(c not in "0123456789abcdef" for c in hid):
            raise NoteError(f"verifier key {vkey!r}: the key ID must be 8 lower-case hex digits")
        raw = _unb64(b64, f"verifier key {vkey!r}")
        if len(raw) != 33 or raw[0] not in (ALG_ED25519, ALG_COSIGNATURE_V1):
            raise NoteError(f"verifier key {vkey!r}: not an Ed25519 note or cosignature key")
        v = cls(name, bytes.fromhex(hid), raw[0], raw[1:])
        if key_id(name, v.alg, v.public) != v.id:
            raise NoteError(f"verifier key {vkey!r}: the key ID does not match the key")
        return v

    @classmethod
    def of(cls, name: str, public: bytes, alg: int = ALG_ED25519) -> Verifier:
        _check_name(name)
        return cls(name, key_id(name, alg, public), alg, public)

    def __str__(self) -> str:
        return f"{self.name}+{self.id.hex()}+{_b64(bytes([self.alg]) + self.public)}"


@dataclass(frozen=True)
class Signer:
    """An Ed25519 note signer (type ``0x01``) or cosigner (type ``0x04``)."""

    name: str
    key: Ed25519PrivateKey
    alg: int = ALG_ED25519

    @classmethod
    def parse(cls, skey: str) -> Signer:
        """The Go ``note`` private key format ``PRIVATE+KEY+<name>+<hex id>+<base64>``."""
        parts = skey.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise NoteError("signer key must be PRIVATE+KEY+<name>+<hex id>+<base64 key>")
        raw = _unb64(parts[4], "signer key")
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise NoteError("signer key is not an Ed25519 key")
        s = cls(parts[2], Ed25519PrivateKey.from_private_bytes(raw[1:]))
        if s.verifier.id.hex() != parts[3]:
            raise NoteError("signer key: the key ID does not match the key")
        return s

    @property
    def verifier(self) -> Verifier:
        return Verifier.of(self.name, raw_public(self.key), self.alg)

    def sign(self, text: str) -> str:
        """The signature line of this signer over ``text`` (type 0x01 only)."""
        if self.alg != ALG_ED25519:
            raise NoteError("a cosigner signs with cosign(), not sign()")
        check_text(text)
        sig = self.key.sign(text.encode("utf-8"))
        return f"{DASH}{self.name} {_b64(self.verifier.id + sig)}\n"

    def cosign(self, text: str, timestamp: int) -> str:
        """A ``cosignature/v1`` line over checkpoint ``text`` at ``timestamp`` (seconds)."""
        if self.alg != ALG_COSIGNATURE_V1:
            raise NoteError("only a cosignature key (type 0x04) cosigns")
        check_text(text)
        if not 0 <= timestamp < 2**63:
            raise NoteError(f"timestamp {timestamp} is out of range")
        sig = self.key.sign(cosignature_message(text, timestamp))
        blob = self.verifier.id + timestamp.to_bytes(8, "big") + sig
        return f"{DASH}{self.name} {_b64(blob)}\n"


def cosignature_message(text: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n".encode() + text.encode("utf-8")


def check_text(text: str) -> None:
    if not text.endswith("\n") or "\n\n" in text:
        raise NoteError("a note's text must end in a newline and hold no blank line")
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise NoteError("a note's text may hold no control characters but newlines")


@dataclass(frozen=True)
class Signature:
    name: str
    id: bytes
    blob: bytes  # what follows the key ID

    def line(self) -> str:
        return f"{DASH}{self.name} {_b64(self.id + self.blob)}\n"


@dataclass
class Note:
    text: str
    signatures: list[Signature] = field(default_factory=list)

    def format(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)


def parse_note(data: str | bytes) -> Note:
    """Split a signed note into its text and signature lines (nothing verified yet)."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise NoteError("a note must be UTF-8") from None
    cut = data.rfind("\n\n")
    if cut < 0:
        raise NoteError("a signed note needs a blank line between its text and signatures")
    text, sigs = data[: cut + 1], data[cut + 2 :]
    check_text(text)
    if not sigs.endswith("\n"):
        raise NoteError("the last signature line must end in a newline")
    out = Note(text)
    for line in sigs[:-1].split("\n"):
        if not line.startswith(DASH):
            raise NoteError(f"signature line {line!r} does not start with an em dash")
        name, _, b64 = line[len(DASH) :].partition(" ")
        _check_name(name)
        raw = _unb64(b64, f"signature of {name}")
        if len(raw) < 5:
            raise NoteError(f"signature of {name} is too short")
        out.signatures.append(Signature(name, raw[:4], raw[4:]))
    if len(out.signatures) > MAX_SIGNATURES:
        raise NoteError(f"a note may carry at most {MAX_SIGNATURES} signatures")
    return out


def _verify(public: bytes, sig: bytes, msg: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(sig, msg)
    except (InvalidSignature, ValueError):
        return False
    return True


def verify_signature(text: str, v: Verifier, sig: Signature) -> int | None:
    """Does ``sig`` by ``v`` verify over ``text``?  ``0`` for a note signature, the timestamp
    for a cosignature, ``None`` if it is not this key's or does not verify."""
    if sig.name != v.name or sig.id != v.id:
        return None
    if v.alg == ALG_ED25519:
        return (
            0 if len(sig.blob) == 64 and _verify(v.public, sig.blob, text.encode("utf-8")) else None
        )
    if len(sig.blob) != 72:
        return None
    ts = int.from_bytes(sig.blob[:8], "big")
    if ts >= 2**63 or not _verify(v.public, sig.blob[8:], cosignature_message(text, ts)):
        return None
    return ts


def open_note(data: str | bytes, verifiers: list[Verifier]) -> tuple[Note, dict[str, int]]:
    """Parse and verify: returns the note and ``{verifier name: timestamp or 0}`` for every
    known key that signed it.  A known key whose signature fails rejects the whole note."""
    note = parse_note(data)
    good: dict[str, int] = {}
    for sig in note.signatures:
        for v in verifiers:
            if sig.name == v.name and sig.id == v.id:
                ts = verify_signature(note.text, v, sig)
                if ts is None:
                    raise NoteError(f"the signature of {v.name} does not verify")
                good.setdefault(v.name, ts)
    return note, good


# --------------------------------------------------------------------------- checkpoints


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        lines = [self.origin, str(self.size), _b64(self.root), *self.extensions]
        out = "\n".join(lines) + "\n"
        check_text(out)
        return out


def parse_checkpoint(text: str) -> Checkpoint:
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise NoteError("a checkpoint has an origin, a size and a root hash, each on a line")
    origin, size, root = lines[0], lines[1], lines[2]
    if not origin:
        raise NoteError("a checkpoint's origin is empty")
    if not size.isdigit() or (size != "0" and size.startswith("0")):
        raise NoteError(f"a checkpoint's size {size!r} is not a decimal number")
    raw = _unb64(root, "the checkpoint's root hash")
    if len(raw) != 32:
        raise NoteError("a checkpoint's root hash must be 32 bytes")
    return Checkpoint(origin, int(size), raw, tuple(lines[3:-1]))


# --------------------------------------------------------------------------- tlog-witness


def add_checkpoint_request(old_size: int, proof: list[bytes], signed_note: str) -> bytes:
    """The body of a tlog-witness ``POST /add-checkpoint`` request."""
    head = f"old {old_size}\n" + "".join(_b64(p) + "\n" for p in proof) + "\n"
    return head.encode("ascii") + signed_note.encode("utf-8")


def parse_add_checkpoint(body: bytes) -> tuple[int, list[bytes], str]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise NoteError("request is not UTF-8") from None
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise NoteError("request needs a blank line before the checkpoint")
    lines = head.split("\n")
    if not lines[0].startswith("old ") or not lines[0][4:].isdigit():
        raise NoteError("request must start with 'old <size>'")
    proof = [_unb64(x, "consistency proof line") for x in lines[1:]]
    if any(len(p) != 32 for p in proof) or len(proof) > 63:
        raise NoteError("consistency proof lines must be 32-byte hashes (at most 63)")
    return int(lines[0][4:]), proof, note
