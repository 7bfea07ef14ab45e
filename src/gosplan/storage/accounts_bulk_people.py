"""The ledger's SQL for many accounts and memberships at once (a workforce enrolled).

:func:`open_accounts` and :func:`join_many` write exactly the rows that
:func:`~gosplan.storage.accounts_ledger.open_account` and
:func:`~gosplan.storage.accounts_work.change_membership` write for each item (and the same
public events, appended together), with every check read in one query a table; where any
item would be refused, the items go through the one-at-a-time function in order, which
refuses the first bad one with its own error.  Inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gosplan.labourtime.units import FUND_PREFIX, HOLDING_KINDS, check_code
from gosplan.storage.accounts import Account, Membership, utcnow
from gosplan.storage.accounts_ledger import open_account
from gosplan.storage.accounts_rows import insert_rows, stamp
from gosplan.storage.accounts_work import change_membership, check_actor, member_digest

__all__ = ["join_many", "open_accounts"]

_CHUNK = 500
PublishMany = Callable[[list[tuple[str, Mapping[str, Any]]]], None]


def _ids(s: Session, codes: Sequence[str]) -> dict[str, tuple[int, str]]:
    """(id, kind) of the accounts with these codes."""
    out: dict[str, tuple[int, str]] = {}
    codes = sorted(set(codes))
    for i in range(0, len(codes), _CHUNK):
        for code, aid, kind in s.execute(
            select(Account.code, Account.id, Account.kind).where(
                Account.code.in_(codes[i : i + _CHUNK])
            )
        ):
            out[str(code)] = (int(aid), str(kind))
    return out


def open_accounts(s: Session, items: Sequence[tuple[str, str, str]]) -> int:
    """Accounts ``[(code, kind, name), ...]`` opened as :func:`open_account` opens each
    (person, enterprise or fund; a code used once); the number opened."""
    if not items:
        return 0
    s.flush()
    codes = [str(c) for c, _, _ in items]
    fine = len(set(codes)) == len(codes) and all(
        isinstance(c, str)
        and kind in ("person", "enterprise", "fund")
        and (kind == "fund") == c.startswith(FUND_PREFIX)
        and not c.startswith("system:")
        for c, kind, _ in items
    )
    if fine:
        for c in codes:
            check_code(c, "code")
    if not fine or _ids(s, codes):
        for code, kind, name in items:  # refuses the first bad one with its own error
            open_account(s, code, kind, name)
        return len(items)
    conn = s.connection()
    at = stamp(conn, utcnow())
    insert_rows(
        conn,
        Account,
        ("code", "kind", "name", "created_at", "balance"),
        [
            (code, kind, name or code, at, 0 if kind in HOLDING_KINDS else None)
            for code, kind, name in items
        ],
    )
    return len(items)


def join_many(
    s: Session,
    pairs: Sequence[tuple[str, str]],
    by: str,
    publish_many: PublishMany | None = None,
) -> int:
    """``(enterprise, person)`` memberships, each the event :func:`change_membership`
    records ("join"; nothing for a current member); the number that changed."""

    def one_by_one() -> int:
        events: list[tuple[str, Mapping[str, Any]]] = []
        n = sum(
            change_membership(s, e, p, "join", by, lambda k, d: events.append((k, d)))
            for e, p in pairs
        )
        if publish_many is not None:
            publish_many(events)
        return n

    if not pairs:
        return 0
    s.flush()
    who = check_actor(by, "by", "the membership changes")
    ids = _ids(s, [e for e, _ in pairs] + [p for _, p in pairs])
    if any(
        ids.get(e, (0, ""))[1] != "enterprise" or ids.get(p, (0, ""))[1] != "person"
        for e, p in pairs
    ) or len(set(pairs)) != len(pairs):
        return one_by_one()
    persons = sorted({ids[p][0] for _, p in pairs})
    last: dict[tuple[int, int], str] = {}
    for i in range(0, len(persons), _CHUNK):
        for eid, pid, action in s.execute(
            select(Membership.enterprise_id, Membership.person_id, Membership.action)
            .where(Membership.person_id.in_(persons[i : i + _CHUNK]))
            .order_by(Membership.id)
        ):
            last[(int(eid), int(pid))] = str(action)
    new = [(e, p) for e, p in pairs if last.get((ids[e][0], ids[p][0])) != "join"]
    c = s.connection()
    at = stamp(c, utcnow())
    insert_rows(
        c,
        Membership,
        ("enterprise_id", "person_id", "action", "by", "created_at"),
        [(ids[e][0], ids[p][0], "join", who, at) for e, p in new],
    )
    if publish_many is not None:
        publish_many(
            [
                (
                    "accounts.membership",
                    {"enterprise": e, "member": member_digest(e, p), "action": "join", "by": who},
                )
                for e, p in new
            ]
        )
    return len(new)
