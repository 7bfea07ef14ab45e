"""Checking the log: the store recomputed from its entries; export and verification of files."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gosplan.config import Settings
from gosplan.core import merkle
from gosplan.errors import ValidationError
from gosplan.services.publiclog.heads import SignedTreeHead, signed_heads
from gosplan.services.publiclog.store import canonical_json, leaf_data, size
from gosplan.storage.publiclog import LogEntry, LogNode

# --------------------------------------------------------------------------- verification

if TYPE_CHECKING:
    from gosplan.services.publiclog.witnessing import WitnessPolicy

EXPORT_FORMAT = "gosplan-publiclog/1"


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
            return (
                f"verified: {self.tree_size} entries, root {self.root_hash.hex()}, "
                f"{self.heads_checked} signed tree heads consistent"
            )
        return "; ".join(self.problems)


class _HeadChecker:
    """Compares a stream of leaves with signed heads at their sizes."""

    def __init__(
        self,
        heads: Sequence[SignedTreeHead],
        trusted_key: bytes | None,
        result: Verification,
        what: str,
    ) -> None:
        self.result = result
        self.pending: dict[int, list[SignedTreeHead]] = {}
        for h in heads:
            if not h.verify(trusted_key):
                result.fail(
                    f"{what} tree head of size {h.tree_size} (timestamp {h.timestamp}) "
                    "has a bad signature or an untrusted key: forged"
                )
                continue
            self.pending.setdefault(h.tree_size, []).append(h)
        self.frontier = merkle.Frontier()
        self._check(0)

    def _check(self, n: int) -> None:
        for h in self.pending.pop(n, []):
            if h.root_hash != self.frontier.root():
                self.result.fail(
                    f"signed tree head of size {n} (timestamp {h.timestamp}) does not match "
                    f"entries 0..{n - 1}: the log was changed after that head was signed"
                )
            else:
                self.result.heads_checked += 1

    def push(self, leaf: bytes) -> None:
        self.frontier.append(leaf)
        self._check(self.frontier.size)

    def finish(self) -> None:
        for n, hs in sorted(self.pending.items()):
            for h in hs:
                self.result.fail(
                    f"signed tree head of size {n} (timestamp {h.timestamp}) is "
                    f"larger than the log ({self.frontier.size} entries): entries "
                    "were removed"
                )
        self.result.tree_size = self.frontier.size
        self.result.root_hash = self.frontier.root()


def verify_store(
    session: Session,
    *,
    trusted_key: bytes | None = None,
    known_heads: Sequence[SignedTreeHead] = (),
    witnesses: WitnessPolicy | None = None,
) -> Verification:
    """Recompute the whole log from the stored entries and check everything stored with it.

    Every leaf hash, every stored subtree hash, the counter and every signed tree
    head (the store's own and ``known_heads`` kept by others) must agree.
    """
    result = Verification()
    stored = signed_heads(session)
    if witnesses is not None:  # the head the log shows now must be witnessed (k of n)
        latest = max(stored, key=lambda h: (h.tree_size, h.timestamp), default=None)
        if latest is None:
            result.fail("no signed tree head to check against the witnesses")
        for problem in check_heads([latest] if latest else [], witnesses):
            result.fail("the latest " + problem)
    checker = _HeadChecker([*stored, *known_heads], trusted_key, result, "stored")
    tree = merkle.MerkleTree()
    expected = 0
    for row in session.execute(
        select(LogEntry).order_by(LogEntry.index).execution_options(yield_per=2000)
    ).scalars():
        if row.index != expected:
            result.fail(f"entry {expected} is missing (next stored entry is {row.index})")
            expected = row.index
        lh = merkle.leaf_hash(leaf_data(row.index, row.kind, row.payload, row.logged_at))
        if lh != bytes(row.leaf_hash):
            result.fail(
                f"entry {row.index} ({row.kind}) does not match its leaf hash: "
                "its content was changed"
            )
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
                result.fail(
                    f"stored subtree hash (level {level}, position {pos}) does not "
                    "match the entries"
                )
    return result


def export(session: Session, path: str | Path, settings: Settings | None = None) -> SignedTreeHead:
    """Write the whole log to ``path`` (JSON Lines) with every signed head, the last covering
    every entry (reused if one exists, and cosigned by the configured witnesses).

    Line 1 is a header (format, public key), then one line per entry
    ``{"index", "kind", "payload", "time", "leaf_hash"}``, then one line per
    signed tree head ``{"tree_head": {...}}``, the last covering every entry.
    """
    from gosplan.services.publiclog.witnessing import publish_head

    head = publish_head(session, settings)  # the covering head, cosigned where witnessed
    target = Path(path)
    tmp = target.with_name(target.name + ".part")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(
            canonical_json(
                {
                    "format": EXPORT_FORMAT,
                    "public_key": head.public_key.hex(),
                    "hash": "sha256",
                    "leaf": "canonical JSON of {index, kind, payload, time}",
                }
            )
            + "\n"
        )
        for row in session.execute(
            select(LogEntry)
            .where(LogEntry.index < head.tree_size)
            .order_by(LogEntry.index)
            .execution_options(yield_per=2000)
        ).scalars():
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
                raise ValidationError(
                    f"exported log {p}, line {lineno}: not JSON ({exc.msg})"
                ) from exc
            if not isinstance(obj, dict):
                raise ValidationError(f"exported log {p}, line {lineno}: not a JSON object")
            yield lineno, obj


def read_export(path: str | Path) -> ExportedLog:
    """Load an export made by :func:`export` (structure only; see :func:`verify_export`)."""
    lines = _read_export(path)
    first = next(lines, None)
    if first is None or first[1].get("format") != EXPORT_FORMAT:
        raise ValidationError(
            f"{path} is not a gosplan public-log export "
            f"(its first line must say format {EXPORT_FORMAT!r})."
        )
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
            raise ValidationError(
                f"{path}, line {lineno}: neither an entry (index, kind, "
                "payload, time) nor a tree_head"
            )
    return out


def verify_export(
    path: str | Path,
    *,
    trusted_key: bytes | None = None,
    known_heads: Sequence[SignedTreeHead] = (),
    witnesses: WitnessPolicy | None = None,
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
        raise ValidationError(
            f"{path} is not a gosplan public-log export "
            f"(its first line must say format {EXPORT_FORMAT!r})."
        )
    try:
        header_key = bytes.fromhex(first[1]["public_key"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValidationError(f"{path}, line 1: no valid public_key") from exc
    key = trusted_key if trusted_key is not None else header_key
    result = Verification()
    if header_key != key:
        result.fail("the export's public key is not the trusted key")
    heads = [SignedTreeHead.from_json(obj["tree_head"]) for _, obj in lines if "tree_head" in obj]
    checker = _HeadChecker([*heads, *known_heads], key, result, "exported")
    expected = 0
    for lineno, e in _read_export(path):
        if lineno == 1 or "tree_head" in e:
            continue
        if not {"index", "kind", "payload", "time"} <= e.keys():
            result.fail(
                f"line {lineno}: neither an entry (index, kind, payload, time) nor a tree_head"
            )
            continue
        if e["index"] != expected:
            result.fail(
                f"entry {expected} is missing or out of order (found index "
                f"{e['index']} in its place)"
            )
        try:
            lh = merkle.leaf_hash(leaf_data(e["index"], e["kind"], e["payload"], e["time"]))
        except (TypeError, ValueError) as exc:
            result.fail(f"entry {expected} cannot be encoded: {exc}")
            expected += 1
            continue
        if "leaf_hash" in e and e["leaf_hash"] != lh.hex():
            result.fail(
                f"entry {e['index']} ({e['kind']}) does not match its leaf hash: "
                "its content was changed"
            )
        checker.push(lh)
        expected += 1
    checker.finish()
    covering = [h for h in heads if h.tree_size == expected]
    if not covering:
        result.fail(
            f"no signed tree head covers all {expected} entries: entries were "
            "added or removed after the export was signed"
        )
    elif witnesses is not None and all(check_heads([h], witnesses) for h in covering):
        result.fail("the export's " + check_heads(covering[-1:], witnesses)[0])
    return result


def check_heads(heads: Sequence[SignedTreeHead], pol: WitnessPolicy | None) -> list[str]:
    from gosplan.services.publiclog.witnessing import check_heads as check

    return check(heads, pol)
