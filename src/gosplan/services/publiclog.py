"""The public log: an append-only RFC 9162 Merkle-tree log of everything gosplan decides.

Every area records what it decides or observes with one call, inside its own
transaction (the entry commits or rolls back with the caller's work)::

    from gosplan.services import publiclog
    publiclog.append(session, "plan.adopted", {"plan": 7, "year": 2027})

The leaf for entry ``i`` is the canonical JSON (sorted keys, no spaces, UTF-8)
of ``{"index": i, "kind": ..., "payload": ..., "time": ...}``, hashed as
``SHA-256(0x00 || leaf)``.  The store keeps the hash of every complete subtree,
so a tree head, an inclusion proof or a consistency proof costs ``O(log² n)``
lookups whatever the log's size.

Tree heads are signed with Ed25519; the key lives in the file named by
:attr:`gosplan.config.Settings.log_key_path` and is created on first use.
:func:`export` writes the log as JSON Lines; :func:`verify_export` checks such
a file without any access to the store, and :func:`verify_store` checks the
store itself.  Nothing here ever changes or deletes an entry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from gosplan.config import Settings
from gosplan.errors import StorageError, ValidationError
from gosplan.keyfiles import private_key
from gosplan.services import merkle
from gosplan.storage.publiclog import LogEntry, LogNode, LogState, StoredTreeHead

EXPORT_FORMAT = "gosplan-publiclog/1"
RECEIPT_FORMAT = "gosplan-receipt/1"
_SIGNING_CONTEXT = b"gosplan tree head v1\x00"
_KIND = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")

__all__ = [
    "EXPORT_FORMAT",
    "RECEIPT_FORMAT",
    "LogEntry",
    "SignedTreeHead",
    "TreeHead",
    "Verification",
    "append",
    "append_many",
    "canonical_json",
    "consistency_proof",
    "entries",
    "entry",
    "export",
    "inclusion_proof",
    "latest_signed_head",
    "leaf_data",
    "public_key",
    "receipt",
    "sign_tree_head",
    "signing_key",
    "size",
    "tree_head",
    "verify_export",
    "verify_receipt",
    "verify_store",
]


# --------------------------------------------------------------------------- encoding


def _json_default(value: object) -> object:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def canonical_json(value: object) -> str:
    """Sorted keys, no spaces, UTF-8 text, no NaN: the same value always gives the same bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False, default=_json_default)


def leaf_data(index: int, kind: str, payload: Mapping[str, Any], time: str) -> bytes:
    """The bytes hashed into leaf ``index``."""
    return canonical_json({"index": index, "kind": kind, "payload": payload,
                           "time": time}).encode("utf-8")


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _check(kind: str, payload: object) -> str:
    if not isinstance(kind, str) or not _KIND.match(kind) or len(kind) > 64:
        raise ValidationError(
            f"log entry kind {kind!r} is not a dotted lower-case name of at most 64 "
            "characters (e.g. 'plan.adopted')."
        )
    if not isinstance(payload, Mapping):
        raise ValidationError(
            f"payload of log entry {kind!r} must be a dict; got {type(payload).__name__}."
        )
    try:
        text = canonical_json(dict(payload))
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"payload of log entry {kind!r} is not JSON: {exc}.") from exc
    # the stored text must round-trip to the value that is hashed
    return canonical_json(json.loads(text))


# --------------------------------------------------------------------------- append


def append(session: Session, kind: str, payload: Mapping[str, Any]) -> LogEntry:
    """Add one entry inside the caller's transaction (flushed, not committed).

    ``kind`` is a dotted name such as ``"report.received"``; ``payload`` any
    JSON-able dict (dates become ISO strings, Decimals strings).
    """
    return append_many(session, [(kind, payload)])[0]


def append_many(
    session: Session, items: Iterable[tuple[str, Mapping[str, Any]]]
) -> list[LogEntry]:
    """Add several entries in order, with one round trip per table."""
    prepared = [(kind, _check(kind, payload)) for kind, payload in items]
    if not prepared:
        return []
    n = len(prepared)
    new_size = session.execute(
        update(LogState).where(LogState.id == 1).values(size=LogState.size + n)
        .returning(LogState.size)
    ).scalar_one_or_none()
    if new_size is None:  # a store made without the migration's counter row
        session.add(LogState(id=1, size=n))
        session.flush()
        new_size = n
    start = new_size - n
    # the complete subtrees left of `start` that the new leaves will close
    need = [(lv, (start >> lv) - 1) for lv in range(start.bit_length()) if (start >> lv) & 1]
    known = _fetch_nodes(session, need)
    missing = [k for k in need if k not in known]
    if missing:
        raise StorageError(
            f"public log is damaged: subtree hashes {missing} needed to append entry "
            f"{start} are not stored; run `gosplan log verify`."
        )
    time = _now()
    rows: list[LogEntry] = []
    nodes: list[dict[str, Any]] = []
    for offset, (kind, text) in enumerate(prepared):
        index = start + offset
        lh = merkle.leaf_hash(leaf_data(index, kind, json.loads(text), time))
        rows.append(LogEntry(index=index, kind=kind, payload_json=text, logged_at=time,
                             leaf_hash=lh))
        for level, pos, h in merkle.complete_subtrees(index, lh, lambda lv, p: known[(lv, p)]):
            known[(level, pos)] = h
            nodes.append({"level": level, "pos": pos, "hash": h})
    session.add_all(rows)
    session.flush()
    session.execute(insert(LogNode), nodes)
    return rows


def _fetch_nodes(session: Session, keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    by_level: dict[int, list[int]] = {}
    for level, pos in keys:
        by_level.setdefault(level, []).append(pos)
    if not by_level:
        return {}
    out: dict[tuple[int, int], bytes] = {}
    conds = [and_(LogNode.level == lv, LogNode.pos.in_(ps)) for lv, ps in by_level.items()]
    for level, pos, h in session.execute(
        select(LogNode.level, LogNode.pos, LogNode.hash).where(or_(*conds))
    ):
        out[(level, pos)] = bytes(h)
    return out


def _stored(session: Session, compute: Any) -> Any:
    """Run ``compute(subtree)`` twice: once to learn which nodes it reads, once on them."""
    wanted: list[tuple[int, int]] = []

    def collect(level: int, pos: int) -> bytes:
        wanted.append((level, pos))
        return bytes(merkle.HASH_SIZE)

    compute(collect)
    known = _fetch_nodes(session, set(wanted))

    def lookup(level: int, pos: int) -> bytes:
        try:
            return known[(level, pos)]
        except KeyError:
            raise StorageError(
                f"public log is damaged: subtree hash (level {level}, position {pos}) is "
                "not stored; run `gosplan log verify`."
            ) from None

    return compute(lookup)


# --------------------------------------------------------------------------- reading


def size(session: Session) -> int:
    """Number of entries in the log."""
    value = session.scalar(select(LogState.size).where(LogState.id == 1))
    return int(value or 0)


def entry(session: Session, index: int) -> LogEntry:
    """Entry ``index``; a :class:`ValidationError` names the log size if there is none."""
    row = session.get(LogEntry, index)
    if row is None:
        raise ValidationError(
            f"public log has no entry {index}; it holds entries 0..{size(session) - 1}."
        )
    return row


def entries(
    session: Session, *, start: int = 0, limit: int | None = None, kind: str | None = None,
    kind_prefix: str | None = None,
) -> list[LogEntry]:
    """Entries in index order, optionally of one kind or kind prefix (``"criticism."``)."""
    q = select(LogEntry).where(LogEntry.index >= start).order_by(LogEntry.index)
    if kind is not None:
        q = q.where(LogEntry.kind == kind)
    if kind_prefix is not None:
        q = q.where(LogEntry.kind.startswith(kind_prefix, autoescape=True))
    if limit is not None:
        q = q.limit(limit)
    return list(session.scalars(q))


@dataclass(frozen=True)
class TreeHead:
    """The root hash of the log's first ``tree_size`` entries."""

    tree_size: int
    root_hash: bytes


def tree_head(session: Session, tree_size: int | None = None) -> TreeHead:
    """The (unsigned) head of the log now, or of its first ``tree_size`` entries."""
    n = size(session)
    m = n if tree_size is None else tree_size
    if not 0 <= m <= n:
        raise ValidationError(f"tree size {m} is outside the log's 0..{n} entries.")
    root = _stored(session, lambda sub: merkle.range_hash(sub, 0, m))
    return TreeHead(m, root)


def inclusion_proof(session: Session, index: int, tree_size: int | None = None) -> list[bytes]:
    """Audit path of entry ``index`` in the tree of ``tree_size`` entries (default: all)."""
    n = size(session)
    m = n if tree_size is None else tree_size
    if not 0 <= m <= n:
        raise ValidationError(f"tree size {m} is outside the log's 0..{n} entries.")
    if not 0 <= index < m:
        raise ValidationError(f"entry {index} is not in a tree of {m} entries.")
    proof: list[bytes] = _stored(session, lambda sub: merkle.inclusion_proof(sub, index, m))
    return proof


def consistency_proof(session: Session, first: int, second: int | None = None) -> list[bytes]:
    """Proof that the first ``first`` entries are a prefix of the first ``second``."""
    n = size(session)
    m = n if second is None else second
    if not 0 <= first <= m <= n:
        raise ValidationError(
            f"a consistency proof needs 0 <= first <= second <= {n} (the log size); "
            f"got first={first}, second={m}."
        )
    proof: list[bytes] = _stored(session, lambda sub: merkle.consistency_proof(sub, first, m))
    return proof


# --------------------------------------------------------------------------- signing


def signing_key(settings: Settings | None = None) -> Ed25519PrivateKey:
    """The log's Ed25519 key, from ``settings.log_key_path``; created (mode 0600) on first use."""
    path = Path((settings or Settings()).log_key_path)
    return private_key(path, "Ed25519", "log signing key")


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


# --------------------------------------------------------------------------- verification


@dataclass
class Verification:
    """Outcome of a check: ``ok``, and if not, ``problems`` naming entry/head and why."""

    ok: bool = True
    tree_size: int = 0
    root_hash: bytes = b""
    heads_checked: int = 0
    problems: list[str] = field(default_factory=list)

    def fail(self, problem: str) -> None:
        self.ok = False
        if len(self.problems) < 50:
            self.problems.append(problem)

    @property
    def message(self) -> str:
        if self.ok:
            return (f"verified: {self.tree_size} entries, root {self.root_hash.hex()}, "
                    f"{self.heads_checked} signed tree heads consistent")
        return "; ".join(self.problems)


class _HeadChecker:
    """Compares a stream of leaves with signed heads at their sizes."""

    def __init__(self, heads: Sequence[SignedTreeHead], trusted_key: bytes | None,
                 result: Verification, what: str) -> None:
        self.result = result
        self.pending: dict[int, list[SignedTreeHead]] = {}
        for h in heads:
            if not h.verify(trusted_key):
                result.fail(f"{what} tree head of size {h.tree_size} (timestamp {h.timestamp}) "
                            "has a bad signature or an untrusted key: forged")
                continue
            self.pending.setdefault(h.tree_size, []).append(h)
        self.frontier = merkle.Frontier()
        self._check(0)

    def _check(self, n: int) -> None:
        for h in self.pending.pop(n, []):
            if h.root_hash != self.frontier.root():
                self.result.fail(
                    f"signed tree head of size {n} (timestamp {h.timestamp}) does not match "
                    f"entries 0..{n - 1}: the log was changed after that head was signed")
            else:
                self.result.heads_checked += 1

    def push(self, leaf: bytes) -> None:
        self.frontier.append(leaf)
        self._check(self.frontier.size)

    def finish(self) -> None:
        for n, hs in sorted(self.pending.items()):
            for h in hs:
                self.result.fail(f"signed tree head of size {n} (timestamp {h.timestamp}) is "
                                 f"larger than the log ({self.frontier.size} entries): entries "
                                 "were removed")
        self.result.tree_size = self.frontier.size
        self.result.root_hash = self.frontier.root()


def verify_store(
    session: Session, *, trusted_key: bytes | None = None,
    known_heads: Sequence[SignedTreeHead] = (),
) -> Verification:
    """Recompute the whole log from the stored entries and check everything stored with it.

    Every leaf hash, every stored subtree hash, the counter and every signed tree
    head (the store's own and ``known_heads`` kept by others) must agree.
    """
    result = Verification()
    checker = _HeadChecker([*signed_heads(session), *known_heads], trusted_key, result, "stored")
    tree = merkle.MerkleTree()
    expected = 0
    for row in session.execute(select(LogEntry).order_by(LogEntry.index)
                               .execution_options(yield_per=2000)).scalars():
        if row.index != expected:
            result.fail(f"entry {expected} is missing (next stored entry is {row.index})")
            expected = row.index
        lh = merkle.leaf_hash(leaf_data(row.index, row.kind, row.payload, row.logged_at))
        if lh != bytes(row.leaf_hash):
            result.fail(f"entry {row.index} ({row.kind}) does not match its leaf hash: "
                        "its content was changed")
        tree.append(lh)
        checker.push(lh)
        expected += 1
    checker.finish()
    counter = size(session)
    if counter != len(tree):
        result.fail(f"the log counter says {counter} entries but {len(tree)} are stored")
    bad_nodes = 0
    for level, pos, h in session.execute(select(LogNode.level, LogNode.pos, LogNode.hash)):
        try:
            ok = tree.subtree(level, pos) == bytes(h)
        except (IndexError, ValueError):
            ok = False
        if not ok:
            bad_nodes += 1
            if bad_nodes <= 5:
                result.fail(f"stored subtree hash (level {level}, position {pos}) does not "
                            "match the entries")
    return result


def export(session: Session, path: str | Path, settings: Settings | None = None) -> SignedTreeHead:
    """Write the whole log to ``path`` (JSON Lines) with every signed head and a fresh one.

    Line 1 is a header (format, public key), then one line per entry
    ``{"index", "kind", "payload", "time", "leaf_hash"}``, then one line per
    signed tree head ``{"tree_head": {...}}``, the last covering every entry.
    """
    head = sign_tree_head(session, settings)
    target = Path(path)
    tmp = target.with_name(target.name + ".part")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(canonical_json({"format": EXPORT_FORMAT, "public_key": head.public_key.hex(),
                                 "hash": "sha256", "leaf": "canonical JSON of "
                                 "{index, kind, payload, time}"}) + "\n")
        for row in session.execute(select(LogEntry).where(LogEntry.index < head.tree_size)
                                   .order_by(LogEntry.index)
                                   .execution_options(yield_per=2000)).scalars():
            public = row.to_public()
            public["leaf_hash"] = bytes(row.leaf_hash).hex()
            fh.write(canonical_json(public) + "\n")
        for sth in signed_heads(session):
            if sth.tree_size <= head.tree_size:
                fh.write(canonical_json({"tree_head": sth.to_json()}) + "\n")
    tmp.replace(target)
    return head


@dataclass
class ExportedLog:
    """An export read back: header, entries (public form) and signed heads."""

    public_key: bytes
    entries: list[dict[str, Any]]
    heads: list[SignedTreeHead]


def _read_export(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    p = Path(path)
    try:
        fh = p.open(encoding="utf-8")
    except OSError as exc:
        raise ValidationError(f"cannot read exported log {p}: {exc.strerror}") from exc
    with fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValidationError(f"exported log {p}, line {lineno}: not JSON ({exc.msg})"
                                      ) from exc
            if not isinstance(obj, dict):
                raise ValidationError(f"exported log {p}, line {lineno}: not a JSON object")
            yield lineno, obj


def read_export(path: str | Path) -> ExportedLog:
    """Load an export made by :func:`export` (structure only; see :func:`verify_export`)."""
    lines = _read_export(path)
    first = next(lines, None)
    if first is None or first[1].get("format") != EXPORT_FORMAT:
        raise ValidationError(f"{path} is not a gosplan public-log export "
                              f"(its first line must say format {EXPORT_FORMAT!r}).")
    try:
        key = bytes.fromhex(first[1]["public_key"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValidationError(f"{path}, line 1: no valid public_key") from exc
    out = ExportedLog(key, [], [])
    for lineno, obj in lines:
        if "tree_head" in obj:
            out.heads.append(SignedTreeHead.from_json(obj["tree_head"]))
        elif {"index", "kind", "payload", "time"} <= obj.keys():
            out.entries.append(obj)
        else:
            raise ValidationError(f"{path}, line {lineno}: neither an entry (index, kind, "
                                  "payload, time) nor a tree_head")
    return out


def verify_export(
    path: str | Path, *, trusted_key: bytes | None = None,
    known_heads: Sequence[SignedTreeHead] = (),
) -> Verification:
    """Check an exported log on its own: every leaf, every signed head, and ``known_heads``.

    ``trusted_key`` pins the log's public key (otherwise the export's header key
    is used, which proves integrity but not authorship).  ``known_heads`` are
    heads obtained earlier (receipts, other exports): each must match a prefix.
    Two streaming passes (heads, then entries): memory stays O(log n).
    """
    lines = _read_export(path)
    first = next(lines, None)
    if first is None or first[1].get("format") != EXPORT_FORMAT:
        raise ValidationError(f"{path} is not a gosplan public-log export "
                              f"(its first line must say format {EXPORT_FORMAT!r}).")
    try:
        header_key = bytes.fromhex(first[1]["public_key"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValidationError(f"{path}, line 1: no valid public_key") from exc
    key = trusted_key if trusted_key is not None else header_key
    result = Verification()
    if header_key != key:
        result.fail("the export's public key is not the trusted key")
    heads = [SignedTreeHead.from_json(obj["tree_head"]) for _, obj in lines
             if "tree_head" in obj]
    checker = _HeadChecker([*heads, *known_heads], key, result, "exported")
    expected = 0
    for lineno, e in _read_export(path):
        if lineno == 1 or "tree_head" in e:
            continue
        if not {"index", "kind", "payload", "time"} <= e.keys():
            result.fail(f"line {lineno}: neither an entry (index, kind, payload, time) nor a "
                        "tree_head")
            continue
        if e["index"] != expected:
            result.fail(f"entry {expected} is missing or out of order (found index "
                        f"{e['index']} in its place)")
        try:
            lh = merkle.leaf_hash(leaf_data(e["index"], e["kind"], e["payload"], e["time"]))
        except (TypeError, ValueError) as exc:
            result.fail(f"entry {expected} cannot be encoded: {exc}")
            expected += 1
            continue
        if "leaf_hash" in e and e["leaf_hash"] != lh.hex():
            result.fail(f"entry {e['index']} ({e['kind']}) does not match its leaf hash: "
                        "its content was changed")
        checker.push(lh)
        expected += 1
    checker.finish()
    if not any(h.tree_size == expected for h in heads):
        result.fail(f"no signed tree head covers all {expected} entries: entries were "
                    "added or removed after the export was signed")
    return result


# --------------------------------------------------------------------------- receipts


def receipt(session: Session, index: int, settings: Settings | None = None,
            **extra: Any) -> dict[str, Any]:
    """A receipt for entry ``index``: the entry, its inclusion proof and a signed head.

    The holder can verify it alone (:func:`verify_receipt`) and, later, against a
    newer head with a consistency proof.  Call on committed data.
    """
    row = entry(session, index)
    sth = sign_tree_head(session, settings)
    proof = inclusion_proof(session, index, sth.tree_size)
    return {"format": RECEIPT_FORMAT, **extra, "entry": row.to_public(),
            "leaf_hash": bytes(row.leaf_hash).hex(),
            "inclusion_proof": [p.hex() for p in proof], "tree_head": sth.to_json()}


def verify_receipt(
    data: Mapping[str, Any], *, trusted_key: bytes | None = None,
    later_head: SignedTreeHead | None = None, consistency: Sequence[bytes] | None = None,
) -> Verification:
    """Check a receipt: entry ↔ leaf hash, signature, inclusion, and a later head if given.

    With ``later_head`` and ``consistency`` (a proof from the receipt's tree size
    to the later one) it also shows the log still contains the entry unchanged.
    """
    result = Verification()
    if data.get("format") != RECEIPT_FORMAT:
        result.fail(f"not a gosplan receipt (format must be {RECEIPT_FORMAT!r})")
        return result
    try:
        e = data["entry"]
        sth = SignedTreeHead.from_json(data["tree_head"])
        proof = [bytes.fromhex(p) for p in data["inclusion_proof"]]
        lh = merkle.leaf_hash(leaf_data(int(e["index"]), e["kind"], e["payload"], e["time"]))
    except (KeyError, TypeError, ValueError, ValidationError) as exc:
        result.fail(f"receipt is malformed: {exc}")
        return result
    result.tree_size, result.root_hash = sth.tree_size, sth.root_hash
    if data.get("leaf_hash") != lh.hex():
        result.fail(f"receipt entry {e['index']} does not match its leaf hash: it was altered")
    if not sth.verify(trusted_key):
        result.fail("receipt's tree head has a bad signature or an untrusted key: forged")
    if not merkle.verify_inclusion(int(e["index"]), sth.tree_size, lh, proof, sth.root_hash):
        result.fail(f"inclusion proof does not put entry {e['index']} in the signed tree of "
                    f"{sth.tree_size} entries")
    else:
        result.heads_checked += 1
    if later_head is not None:
        if not later_head.verify(trusted_key if trusted_key is not None else sth.public_key):
            result.fail("the later tree head has a bad signature or another key: forged")
        elif consistency is None or not merkle.verify_consistency(
            sth.tree_size, later_head.tree_size, sth.root_hash, later_head.root_hash,
            consistency,
        ):
            result.fail(f"the log of {later_head.tree_size} entries is not an extension of "
                        f"the receipt's {sth.tree_size}: the log was rewritten")
        else:
            result.heads_checked += 1
            result.tree_size, result.root_hash = later_head.tree_size, later_head.root_hash
    return result


def key_id(key: bytes) -> str:
    """Short fingerprint of a public key (first 16 hex digits of its SHA-256)."""
    return hashlib.sha256(key).hexdigest()[:16]


def count_by_kind(session: Session) -> dict[str, int]:
    """How many entries of each kind the log holds."""
    return {k: int(n) for k, n in session.execute(
        select(LogEntry.kind, func.count()).group_by(LogEntry.kind).order_by(LogEntry.kind))}
