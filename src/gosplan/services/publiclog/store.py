"""The public log store: canonical entries, appends, reads and Merkle proofs from stored hashes."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Insert, bindparam, func, insert, select, tuple_, update
from sqlalchemy.orm import Session, make_transient_to_detached

from gosplan.core import merkle
from gosplan.errors import StorageError, ValidationError
from gosplan.storage.base import rows_insert
from gosplan.storage.publiclog import LogEntry, LogNode, LogState

# --------------------------------------------------------------------------- encoding

_KIND = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")


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
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=_json_default,
    )


def leaf_data(index: int, kind: str, payload: Mapping[str, Any], time: str) -> bytes:
    """The bytes hashed into leaf ``index``."""
    return canonical_json({"index": index, "kind": kind, "payload": payload, "time": time}).encode(
        "utf-8"
    )


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


#: appends of at most this many entries are written in one statement (see append_many)
_TOGETHER = 32


_STATE: Any = LogState.__table__
_NODE: Any = LogNode.__table__
#: the log's counter moved by ``n`` (its row is the appends' lock), built once
_BUMP = (
    update(_STATE)
    .where(_STATE.c.id == 1)
    .values(size=_STATE.c.size + bindparam("n"))
    .returning(_STATE.c.size)
)
#: stored subtree hashes by (level, position), built once (one statement whatever the keys)
_NODES = select(_NODE.c.level, _NODE.c.pos, _NODE.c.hash).where(
    tuple_(_NODE.c.level, _NODE.c.pos).in_(bindparam("keys", expanding=True))
)

#: ``append_many(with_head=...)``: (the new entries, the log's size with them, the hash of a
#: complete subtree by level and position) -> statements to write with them
WithHead = Callable[[list[LogEntry], int, Callable[[int, int], bytes]], Sequence[Insert]]


def append(
    session: Session,
    kind: str,
    payload: Mapping[str, Any],
    *,
    with_rows: Callable[[int], Sequence[Insert]] | None = None,
    with_head: WithHead | None = None,
) -> LogEntry:
    """Add one entry inside the caller's transaction (flushed, not committed).

    ``kind`` is a dotted name such as ``"report.received"``; ``payload`` any
    JSON-able dict (dates become ISO strings, Decimals strings).  ``with_rows``: given
    the entry's index, the caller's own ``INSERT`` statements that keep it (no
    ``RETURNING``), written with the entry in the same round trip; ``with_head`` likewise;
    see :func:`append_many`.
    """
    rows = None if with_rows is None else (lambda idx: with_rows(idx[0]))
    return append_many(session, [(kind, payload)], with_rows=rows, with_head=with_head)[0]


def append_many(
    session: Session,
    items: Iterable[tuple[str, Mapping[str, Any]]],
    *,
    with_rows: Callable[[list[int]], Sequence[Insert]] | None = None,
    with_head: WithHead | None = None,
) -> list[LogEntry]:
    """Add several entries in order.

    The log's counter row is the lock that keeps appends in order: it is held from the
    first statement here to the caller's commit, so everything between is kept short:
    the counter (``UPDATE … RETURNING``), the stored subtree hashes the new leaves close
    (a statement of its own: read after the counter's lock is held, it sees the appends
    committed before), then the entries, their subtree hashes and the caller's
    ``with_rows(indices)`` written together: on PostgreSQL in **one** statement (each
    ``INSERT`` but the last a data-modifying CTE), elsewhere one after the other (a batch
    of more than ``_TOGETHER`` entries: in the driver's batches of rows).  The
    entries returned are in the session (persistent, as if loaded).

    ``with_head(rows, size, subtree)``: more ``INSERT``s made from the log as it will
    stand, ``size`` entries with the new ones last, and ``subtree(level, pos)`` the hash
    of every complete subtree in it that a head's root or the new entries' inclusion
    proofs need (no read): :func:`gosplan.services.publiclog.receipts.head_with_append`
    signs the receipt's head there, in the same statement and under the same lock."""
    prepared = [(kind, _check(kind, payload)) for kind, payload in items]
    if not prepared:
        return []
    n = len(prepared)
    new_size = session.connection().execute(_BUMP, {"n": n}).scalar_one_or_none()
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
        rows.append(
            LogEntry(index=index, kind=kind, payload_json=text, logged_at=time, leaf_hash=lh)
        )
        for level, pos, h in merkle.complete_subtrees(index, lh, lambda lv, p: known[(lv, p)]):
            known[(level, pos)] = h
            nodes.append({"level": level, "pos": pos, "hash": h})
    more = list(with_rows([r.index for r in rows])) if with_rows is not None else []
    if with_head is not None:
        more += with_head(rows, start + n, lambda level, pos: known[(level, pos)])
    _write(session, rows, nodes, more)
    for r in rows:  # written above: in the session as if loaded, with nothing to flush
        make_transient_to_detached(r)
        session.add(r)
    return rows


def _write(
    session: Session, rows: list[LogEntry], nodes: list[dict[str, Any]], more: Sequence[Insert]
) -> None:
    """The new entries, their subtree hashes and ``more``: on PostgreSQL (up to
    ``_TOGETHER`` entries) in one statement, elsewhere one after the other."""
    values = [
        {
            "index": r.index,
            "kind": r.kind,
            "payload_json": r.payload_json,
            "logged_at": r.logged_at,
            "leaf_hash": r.leaf_hash,
        }
        for r in rows
    ]
    if len(rows) <= _TOGETHER and session.get_bind().dialect.name == "postgresql":
        execute_together(
            session, [rows_insert(LogEntry, values), rows_insert(LogNode, nodes), *more]
        )
    else:  # a batch (a seed, a bulk import): the driver's batches of rows, then the rest
        session.execute(insert(LogEntry), values)
        session.execute(insert(LogNode), nodes)
        for stmt in more:
            session.execute(stmt)


def execute_together(session: Session, statements: Sequence[Insert]) -> None:
    """Run ``statements`` (``INSERT``s without ``RETURNING``) in the caller's transaction:
    on PostgreSQL as one statement, each but the last a data-modifying CTE (every one runs,
    once, on the same snapshot; foreign keys between them are checked at its end), so one
    round trip; elsewhere one after the other."""
    session.flush()  # what the session holds goes first, as if each were a flush of its own
    if session.get_bind().dialect.name == "postgresql" and len(statements) > 1:
        *first, last = statements
        together = last.add_cte(*(s.cte(f"w{i}") for i, s in enumerate(first)))
        session.connection().execute(together)  # Core: no ORM bulk-insert handling
        return
    for s in statements:
        session.execute(s)


def _fetch_nodes(session: Session, keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    wanted = list(keys)
    if not wanted:
        return {}
    rows = session.connection().execute(_NODES, {"keys": wanted})
    return {(int(level), int(pos)): bytes(h) for level, pos, h in rows}


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
    session: Session,
    *,
    start: int = 0,
    limit: int | None = None,
    kind: str | None = None,
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


def key_id(key: bytes) -> str:
    """Short fingerprint of a public key (first 16 hex digits of its SHA-256)."""
    return hashlib.sha256(key).hexdigest()[:16]


def count_by_kind(session: Session) -> dict[str, int]:
    """How many entries of each kind the log holds."""
    return {
        k: int(n)
        for k, n in session.execute(
            select(LogEntry.kind, func.count()).group_by(LogEntry.kind).order_by(LogEntry.kind)
        )
    }


def append_event(session: Session, kind: str, payload: Mapping[str, Any]) -> int:
    """Append one public event inside the caller's transaction; returns its log index.

    The one call every area makes when it changes public state: call it in the
    same transaction as the row that caches the change (and keep the returned
    index on that row), so that the row and its entry commit or roll back
    together.  ``kind`` is a dotted name (``"hours.approved"``); ``payload`` a
    JSON-able dict holding only what is public.
    """
    return append(session, kind, payload).index
