"""Many ledger rows at once: the plumbing of the bulk paths (tills, record sets, approvals,
grants) — idempotency keys claimed together, rows inserted with one statement a table,
the ids of new rows, and the session's cached objects kept true to what was written.

On SQLite the rows go to the driver directly (``exec_driver_sql`` with the statement text
built here from the model's table and column names: one prepared statement, no per-row
parameter processing); on PostgreSQL through a Core multi-row ``INSERT``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from gosplan.labourtime.errors import IdempotencyConflict
from gosplan.labourtime.records import Posted, to_json
from gosplan.labourtime.units import to_hours
from gosplan.storage.accounts import Account, Good, Request, utcnow

#: appends public events together (the services' log), or None
PublishMany = Callable[[list[tuple[str, Mapping[str, Any]]]], None]

T = TypeVar("T")

__all__ = ["as_json", "claim_many", "expire_cached", "insert_rows", "insert_with_ids", "stamp"]

_CHUNK = 500  # values in one IN (...) list


def stamp(c: Connection, at: dt.datetime) -> Any:
    """``at`` as the driver takes it for a ``DateTime`` column: on SQLite the text SQLAlchemy
    itself writes (and reads back)."""
    return at.strftime("%Y-%m-%d %H:%M:%S.%f") if c.dialect.name == "sqlite" else at


def as_json(c: Connection, data: Any) -> Any:
    """``data`` as the driver takes it for a ``JSON`` column."""
    return json.dumps(data) if c.dialect.name == "sqlite" else data


def insert_rows(
    c: Connection, model: Any, cols: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Rows of ``model``'s table, each a tuple in the order of ``cols``; values already as
    the driver takes them (see :func:`stamp`, :func:`as_json`)."""
    if not rows:
        return
    table = model.__table__
    if c.dialect.name == "sqlite":
        names = ", ".join(table.c[col].name for col in cols)
        marks = ", ".join("?" for _ in cols)
        c.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", list(rows))
    else:
        c.execute(insert(table), [dict(zip(cols, r, strict=True)) for r in rows])


def insert_with_ids(
    c: Connection, model: Any, cols: Sequence[str], rows: Sequence[Sequence[Any]]
) -> list[int]:
    """Like :func:`insert_rows` for a table with an integer ``id``: the new ids, in order."""
    if not rows:
        return []
    if c.dialect.name == "sqlite":
        # the caller's transaction holds SQLite's write lock (BEGIN IMMEDIATE): the next
        # ids are ours to give
        first = int(c.execute(select(func.coalesce(func.max(model.id), 0))).scalar_one()) + 1
        ids = list(range(first, first + len(rows)))
        insert_rows(c, model, ("id", *cols), [(i, *r) for i, r in zip(ids, rows, strict=True)])
        return ids
    got = c.execute(
        insert(model.__table__).returning(model.__table__.c.id, sort_by_parameter_order=True),
        [dict(zip(cols, r, strict=True)) for r in rows],
    )
    return [int(r[0]) for r in got]


def claim_many(s: Session, wanted: Mapping[str, tuple[str, str]]) -> dict[str, dict[str, Any]]:
    """:func:`~gosplan.storage.accounts_ledger.claim` for many keys at once:
    ``{key: (kind, digest)}`` → ``{key: stored result}`` for the keys used before for the
    same request (replays); a key used for anything else raises, as ``claim`` does."""
    keys = list(wanted)
    done: dict[str, dict[str, Any]] = {}
    for i in range(0, len(keys), _CHUNK):
        for key, kind, digest, result, at in s.execute(
            select(
                Request.key, Request.kind, Request.digest, Request.result, Request.created_at
            ).where(Request.key.in_(keys[i : i + _CHUNK]))
        ):
            if (kind, digest) != wanted[key]:
                raise IdempotencyConflict(
                    f"Idempotency key {key!r} was already used for a different request "
                    f"({kind} at {at:%Y-%m-%d %H:%M:%S}); nothing was posted. "
                    f"Use a new key for a new request."
                )
            done[key] = dict(result)
    return done


def expire_cached(s: Session) -> None:
    """Forget the session's cached accounts and goods: their balances and stocks were
    changed by statements the session's objects do not see."""
    for obj in list(s.identity_map.values()):
        if isinstance(obj, Account | Good):
            s.expire(obj)


def _remember(s: Session, rows: Sequence[tuple[str, str, str, Any]]) -> None:
    """Idempotency keys ``(key, kind, digest, result)`` (results as ``remember`` keeps them)."""
    c = s.connection()
    at = stamp(c, utcnow())
    insert_rows(
        c,
        Request,
        ("key", "kind", "digest", "result", "created_at"),
        [(k, kind, d, as_json(c, r), at) for k, kind, d, r in rows],
    )


def _posted(
    tx: int, kind: str, period: str, amounts: Mapping[int, int], codes: Mapping[int, str], memo: str
) -> Posted:
    return Posted(
        transaction_id=tx,
        kind=kind,
        period=period,
        postings={codes[a]: to_hours(v) for a, v in amounts.items() if v},
        memo=memo,
    )


def _result(res: Any) -> dict[str, Any]:
    data = to_json(res)
    data.pop("replayed", None)
    return data


# -- record sets


class _Settled(NamedTuple):
    """A posted transaction of a bulk call: what its result, key and public event hold."""

    tx: int
    period: str
    amounts: Mapping[int, int]
    memo: str
    key: str
    digest: str
    event: tuple[str, Mapping[str, Any]]


def _settle(
    s: Session,
    kinds: tuple[str, str],
    rows: Sequence[_Settled],
    codes: Mapping[int, str],
    publish_many: PublishMany | None,
) -> dict[str, Posted]:
    """Each posted transaction's result (transaction kind ``kinds[0]``) by its idempotency
    key, the keys kept (request kind ``kinds[1]``) and the public events published together."""
    out: dict[str, Posted] = {}
    keep: list[tuple[str, str, str, Any]] = []
    for r in rows:
        res = _posted(r.tx, kinds[0], r.period, r.amounts, codes, r.memo)
        out[r.key] = res
        keep.append((r.key, kinds[1], r.digest, _result(res)))
    _remember(s, keep)
    if publish_many is not None:
        publish_many([r.event for r in rows])
    return out


def _publishing(
    publish_many: PublishMany | None,
    run: Callable[[Callable[[str, dict[str, Any]], None]], list[T]],
) -> list[T]:
    """``run(publish)``, the events it publishes appended together once it has run (the
    one-at-a-time fallback of a bulk call; dropped when ``publish_many`` is None)."""
    events: list[tuple[str, Mapping[str, Any]]] = []
    out = run(lambda kind, payload: events.append((kind, payload)))
    if publish_many is not None:
        publish_many(events)
    return out
