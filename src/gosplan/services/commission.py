"""The control commission's keys: the server seals, only k of n members together open.

* :func:`keygen` (run offline, once) makes an X25519 key pair, wraps the private
  key under a random 16-byte key ``K`` (AES-128-GCM) and splits ``K`` into ``n``
  Shamir shares with threshold ``k`` (pycryptodome's
  :class:`Crypto.Protocol.SecretSharing.Shamir`, GF(2^128)).  Each member gets
  one *share file*: their share, the wrapped private key (useless alone), and
  their own Ed25519 signing key; a share file may be passphrase-protected
  (scrypt + AES-256-GCM).  The server gets the *public roster*: the commission's
  public key, ``k``, and each member's name and public signing key.  The
  private key is never written anywhere whole.
* :func:`seal` pads the identity to :data:`SEALED_PLAINTEXT` bytes before
  encrypting (ephemeral X25519 + HKDF-SHA256 + ChaCha20-Poly1305), so every
  sealed box has the same length whatever it holds.
* :func:`open_sealed` (offline) combines ``k`` share files, opens one box and
  returns an *opening record* signed by each participating member's signing
  key; the server logs it with :func:`gosplan.services.criticism.record_opening`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from gosplan.errors import ValidationError

SHARE_FORMAT = "gosplan-commission-share/1"
ROSTER_FORMAT = "gosplan-commission-public/1"
SEALED_FORMAT = "gosplan-sealed/1"
OPENING_FORMAT = "gosplan-opening/1"
#: every sealed identity encrypts exactly this many bytes (2-byte length + text + zeros)
SEALED_PLAINTEXT = 512
_SEAL_V1 = b"\x01"
_SEAL_V2 = b"\x02"
_SEAL_INFO = b"gosplan sealed identity v1"
_WRAP_AAD = b"gosplan commission key v1"
_SCRYPT_N = 2**15


def _raw_pub(pub: X25519PublicKey) -> bytes:
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _raw_ed(pub: Ed25519PublicKey) -> bytes:
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


# --------------------------------------------------------------------------- passphrases


def _protect(data: bytes, passphrase: str) -> dict[str, Any]:
    salt, nonce = os.urandom(16), os.urandom(12)
    key = Scrypt(salt=salt, length=32, n=_SCRYPT_N, r=8, p=1).derive(passphrase.encode())
    return {
        "kdf": "scrypt",
        "n": _SCRYPT_N,
        "r": 8,
        "p": 1,
        "salt": salt.hex(),
        "nonce": nonce.hex(),
        "ciphertext": AESGCM(key).encrypt(nonce, data, None).hex(),
    }


def _unprotect(box: Mapping[str, Any], passphrase: str | None, where: str) -> bytes:
    if not passphrase:
        raise ValidationError(f"{where} is passphrase-protected: give its passphrase.")
    try:
        key = Scrypt(
            salt=bytes.fromhex(box["salt"]),
            length=32,
            n=int(box["n"]),
            r=int(box["r"]),
            p=int(box["p"]),
        ).derive(passphrase.encode())
        return AESGCM(key).decrypt(
            bytes.fromhex(box["nonce"]), bytes.fromhex(box["ciphertext"]), None
        )
    except InvalidTag:
        raise ValidationError(f"{where}: wrong passphrase (or the file was altered).") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise ValidationError(f"{where}: malformed encrypted share ({exc}).") from exc


# --------------------------------------------------------------------------- keygen


@dataclass(frozen=True)
class KeygenResult:
    public_path: Path
    share_paths: list[Path]
    public_key: bytes
    threshold: int


def keygen(
    out_dir: str | Path,
    members: Sequence[str],
    *,
    threshold: int = 2,
    passphrases: Sequence[str | None] | None = None,
    public_path: str | Path | None = None,
    existing: X25519PrivateKey | None = None,
) -> KeygenResult:
    """Make the commission's key and write one share file per member and the public roster.

    Run it offline.  Hand each share file to its member, copy the public roster
    to the server (``GOSPLAN_COMMISSION_KEY_PATH``), and keep nothing else:
    the private key exists only inside this call.  ``existing`` splits a key
    made before (an older store's ``gosplan-commission.key``), so identities
    already sealed to it can still be opened, by k members only; destroy the
    old file afterwards.
    """
    from Crypto.Protocol.SecretSharing import Shamir

    names = [m.strip() for m in members]
    n = len(names)
    if n < 2 or any(not m or "\n" in m for m in names) or len(set(names)) != n:
        raise ValidationError("keygen needs at least two distinct, non-empty member names.")
    if not 2 <= threshold <= n:
        raise ValidationError(
            f"threshold must be between 2 and the number of members ({n}); got {threshold}."
        )
    if passphrases is not None and len(passphrases) != n:
        raise ValidationError(f"give one passphrase per member ({n}) or none.")
    out = Path(out_dir)
    private = existing if existing is not None else X25519PrivateKey.generate()
    pub = _raw_pub(private.public_key())
    wrap = os.urandom(16)
    nonce = os.urandom(12)
    raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    wrapped = nonce + AESGCM(wrap).encrypt(nonce, raw, _WRAP_AAD + pub)
    shares = Shamir.split(threshold, n, wrap, ssss=False)
    roster: list[dict[str, str]] = []
    paths: list[Path] = []
    for i, (name, (idx, share)) in enumerate(zip(names, shares, strict=True)):
        signer = Ed25519PrivateKey.generate()
        seed = signer.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        inner = {
            "member": name,
            "index": idx,
            "share": share.hex(),
            "threshold": threshold,
            "members": n,
            "public_key": pub.hex(),
            "wrapped_key": wrapped.hex(),
            "signing_key": seed.hex(),
        }
        phrase = passphrases[i] if passphrases is not None else None
        body: dict[str, Any] = {"format": SHARE_FORMAT, "member": name}
        if phrase:
            body["encrypted"] = _protect(_canonical(inner), phrase)
        else:
            body.update(inner)
        path = out / f"share-{idx}-{_slug(name)}.json"
        _write_private(path, json.dumps(body, indent=1).encode("utf-8"))
        paths.append(path)
        roster.append({"name": name, "signing_key": _raw_ed(signer.public_key()).hex()})
    ppath = Path(public_path) if public_path is not None else out / "commission.pub"
    ppath.parent.mkdir(parents=True, exist_ok=True)
    ppath.write_text(
        json.dumps(
            {
                "format": ROSTER_FORMAT,
                "public_key": pub.hex(),
                "threshold": threshold,
                "members": roster,
            },
            indent=1,
        )
        + "\n",
        encoding="utf-8",
    )
    return KeygenResult(ppath, paths, pub, threshold)


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in name.lower())[:40]


# --------------------------------------------------------------------------- the server's side


@dataclass(frozen=True)
class Roster:
    """What the server holds: the commission's public key, k, and members' signing keys."""

    public_key: bytes
    threshold: int
    members: dict[str, bytes]


def load_roster(path: str | Path) -> Roster:
    p = Path(path)
    if not p.is_file():
        raise ValidationError(
            f"no commission public key at {p}: an identity cannot be sealed until the control "
            "commission runs `gosplan criticism keygen` offline and installs its public roster "
            "there (GOSPLAN_COMMISSION_KEY_PATH)."
        )
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
        if data.get("format") != ROSTER_FORMAT:
            raise ValueError(f"format must be {ROSTER_FORMAT!r}")
        pub = bytes.fromhex(data["public_key"])
        members = {str(m["name"]): bytes.fromhex(m["signing_key"]) for m in data["members"]}
        threshold = int(data["threshold"])
        X25519PublicKey.from_public_bytes(pub)
    except (ValueError, KeyError, TypeError) as exc:
        raise ValidationError(
            f"commission public key {p} is not a public roster written by "
            f"`gosplan criticism keygen` ({exc})."
        ) from exc
    return Roster(pub, threshold, members)


def _kdf(shared: bytes, salt: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=_SEAL_INFO).derive(shared)


def pad(plaintext: bytes) -> bytes:
    if len(plaintext) > SEALED_PLAINTEXT - 2:
        raise ValidationError(
            f"the identity is {len(plaintext)} bytes once encoded; at most "
            f"{SEALED_PLAINTEXT - 2} fit in a sealed box (shorten it)."
        )
    return (
        struct.pack(">H", len(plaintext)) + plaintext + bytes(SEALED_PLAINTEXT - 2 - len(plaintext))
    )


def seal(plaintext: bytes, recipient: bytes, context: bytes) -> bytes:
    """Pad and encrypt to ``recipient`` (raw X25519 public key); every box is the same size."""
    eph = X25519PrivateKey.generate()
    eph_pub = _raw_pub(eph.public_key())
    key = _kdf(eph.exchange(X25519PublicKey.from_public_bytes(recipient)), eph_pub + recipient)
    nonce = os.urandom(12)
    return (
        _SEAL_V2 + eph_pub + nonce + ChaCha20Poly1305(key).encrypt(nonce, pad(plaintext), context)
    )


def unseal(sealed: bytes, private: X25519PrivateKey, context: bytes) -> bytes:
    """Open a box from :func:`seal` (or the unpadded version-1 boxes of older stores)."""
    if sealed[:1] not in (_SEAL_V1, _SEAL_V2) or len(sealed) < 1 + 32 + 12 + 16:
        raise ValidationError("sealed identity has an unknown format")
    eph_pub, nonce, body = sealed[1:33], sealed[33:45], sealed[45:]
    shared = private.exchange(X25519PublicKey.from_public_bytes(eph_pub))
    key = _kdf(shared, eph_pub + _raw_pub(private.public_key()))
    try:
        data = ChaCha20Poly1305(key).decrypt(nonce, body, context)
    except InvalidTag:
        raise ValidationError(
            "sealed identity cannot be opened with this commission key "
            "(wrong key, or the box was altered)"
        ) from None
    if sealed[:1] == _SEAL_V1:
        return data
    (n,) = struct.unpack(">H", data[:2])
    return data[2 : 2 + n]


# --------------------------------------------------------------------------- opening (offline)


@dataclass(frozen=True)
class Share:
    member: str
    index: int
    share: bytes
    threshold: int
    public_key: bytes
    wrapped_key: bytes
    signing_key: Ed25519PrivateKey


def read_share(path: str | Path, passphrase: str | None = None) -> Share:
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValidationError(f"share file {p} cannot be read as JSON ({exc}).") from exc
    if not isinstance(data, dict) or data.get("format") != SHARE_FORMAT:
        raise ValidationError(f"{p} is not a commission share file ({SHARE_FORMAT}).")
    if "encrypted" in data:
        data = json.loads(_unprotect(data["encrypted"], passphrase, f"share file {p}"))
    try:
        return Share(
            str(data["member"]),
            int(data["index"]),
            bytes.fromhex(data["share"]),
            int(data["threshold"]),
            bytes.fromhex(data["public_key"]),
            bytes.fromhex(data["wrapped_key"]),
            Ed25519PrivateKey.from_private_bytes(bytes.fromhex(data["signing_key"])),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValidationError(f"share file {p} is malformed ({exc}).") from exc


def combine(shares: Sequence[Share]) -> X25519PrivateKey:
    """The commission's private key from ``k`` distinct shares; fewer are refused."""
    from Crypto.Protocol.SecretSharing import Shamir

    if not shares:
        raise ValidationError("no share files given.")
    first = shares[0]
    if any(s.public_key != first.public_key or s.wrapped_key != first.wrapped_key for s in shares):
        raise ValidationError("the share files belong to different commission keys.")
    distinct = {s.index: s for s in shares}
    if len(distinct) < first.threshold:
        raise ValidationError(
            f"{len(distinct)} distinct share(s) given; the commission key "
            f"needs {first.threshold} members' shares together."
        )
    wrap = Shamir.combine([(s.index, s.share) for s in distinct.values()], ssss=False)
    nonce, body = first.wrapped_key[:12], first.wrapped_key[12:]
    try:
        raw = AESGCM(wrap).decrypt(nonce, body, _WRAP_AAD + first.public_key)
    except InvalidTag:
        raise ValidationError(
            "these shares do not open the commission key (a share is "
            "forged, altered or from another key)."
        ) from None
    key = X25519PrivateKey.from_private_bytes(raw)
    if _raw_pub(key.public_key()) != first.public_key:
        raise ValidationError("the combined key does not match the commission's public key.")
    return key


def opening_message(record: Mapping[str, Any]) -> bytes:
    """The bytes each member signs: the record without its signatures, canonical JSON."""
    return _canonical({k: v for k, v in record.items() if k != "signatures"})


def open_sealed(
    sealed_export: Mapping[str, Any], shares: Sequence[Share], *, reason: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Offline: open one sealed identity with ``k`` shares.

    Returns ``(identity, record)``: the identity (``{"identity", "person"}``) and
    the opening record signed by every participating member, which must be
    logged on the server (``gosplan criticism record-opening``).
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("opening an identity needs a stated reason; it is published.")
    if sealed_export.get("format") != SEALED_FORMAT:
        raise ValidationError(f"not a sealed-identity export ({SEALED_FORMAT}).")
    try:
        ref = str(sealed_export["criticism"])
        box = bytes.fromhex(sealed_export["sealed"])
        digest = str(sealed_export["identity_sha256"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValidationError(f"sealed-identity export is malformed ({exc}).") from exc
    if hashlib.sha256(box).hexdigest() != digest:
        raise ValidationError(f"the sealed box of {ref} does not match its logged digest.")
    key = combine(shares)
    identity = json.loads(unseal(box, key, ref.encode("ascii")))
    del key
    members = sorted({s.member for s in shares})
    record: dict[str, Any] = {
        "format": OPENING_FORMAT,
        "criticism": ref,
        "reason": reason,
        "identity_sha256": digest,
        "members": members,
        "opened_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    msg = opening_message(record)
    seen: dict[str, dict[str, str]] = {}
    for s in shares:
        seen[s.member] = {
            "member": s.member,
            "signing_key": _raw_ed(s.signing_key.public_key()).hex(),
            "signature": s.signing_key.sign(msg).hex(),
        }
    record["signatures"] = [seen[m] for m in members]
    return identity, record


def check_opening(record: Mapping[str, Any], roster: Roster) -> list[str]:
    """Members whose signatures on ``record`` verify against the roster (at least k, or error)."""
    if record.get("format") != OPENING_FORMAT:
        raise ValidationError(f"not an opening record ({OPENING_FORMAT}).")
    for name in ("criticism", "reason", "identity_sha256", "opened_at"):
        if not isinstance(record.get(name), str) or not record[name].strip():
            raise ValidationError(f"opening record: `{name}` is missing.")
    msg = opening_message(record)
    good: set[str] = set()
    sigs = record.get("signatures")
    if not isinstance(sigs, list):
        raise ValidationError("opening record: `signatures` must be a list.")
    for sig in sigs:
        if not isinstance(sig, Mapping):
            continue
        member = str(sig.get("member"))
        key = roster.members.get(member)
        if key is None:
            raise ValidationError(
                f"opening record: {member!r} is not a member of the commission roster."
            )
        try:
            Ed25519PublicKey.from_public_bytes(key).verify(
                bytes.fromhex(str(sig["signature"])), msg
            )
        except (InvalidSignature, ValueError, KeyError):
            raise ValidationError(
                f"opening record: the signature of {member!r} does not "
                "verify (forged, or the record was altered)."
            ) from None
        good.add(member)
    if len(good) < roster.threshold:
        raise ValidationError(
            f"opening record is signed by {len(good)} member(s); the "
            f"commission's rule is {roster.threshold}."
        )
    return sorted(good)


def read_private_pem(path: str | Path) -> X25519PrivateKey:
    """An older store's commission private key (PEM), to split with :func:`keygen`."""
    p = Path(path)
    try:
        key = serialization.load_pem_private_key(p.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise ValidationError(f"{p} is not a PEM private key ({exc}).") from exc
    if not isinstance(key, X25519PrivateKey):
        raise ValidationError(f"{p} is not an X25519 key.")
    return key
