"""The ledger's SQL for a period's work in bulk: many enterprises' record sets and their
approvals, each written with one statement a table (grants: :mod:`.accounts_bulk_grants`).

Each function writes exactly the rows its one-at-a-time counterpart writes for each item
(:func:`~gosplan.storage.accounts_work.record_hours_many`,
:func:`~gosplan.storage.accounts_work.approve_enterprise`,
:func:`~gosplan.storage.accounts_grants.grant`) — the same transactions, postings,
memos, idempotency keys and results, and the same public events, appended together — and
keeps every check.  The checks are read with one query a table for all items; where any
item would be refused, the items go through the one-at-a-time function in order, which
refuses the first bad one with its own error (the caller's transaction then writes
nothing).  They run inside the caller's transaction (:meth:`Accounts.batch`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from gosplan.labourtime.deduction import Deduction
from gosplan.labourtime.errors import AccountsInputError, InsufficientHours
from gosplan.labourtime.records import Posted, WorkRecord, from_json
from gosplan.labourtime.units import MAX_HOURS_PER_RECORD, UNIT, to_hours
from gosplan.storage.accounts import (
    Account,
    Approval,
    Membership,
    Period,
    Posting,
    Rejection,
    Transaction,
    Work,
    utcnow,
)
from gosplan.storage.accounts_ledger import (
    check_key,
    deduction_of,
    digest_of,
    for_update,
    fund_account,
    get_account,
    get_period,
    require_open,
)
from gosplan.storage.accounts_rows import (
    PublishMany,
    _publishing,
    _remember,
    _settle,
    _Settled,
    claim_many,
    expire_cached,
    insert_rows,
    insert_with_ids,
    stamp,
)
from gosplan.storage.accounts_work import check_actor, check_hours

__all__ = ["approve_many", "record_hours_sets"]

_CHUNK = 500
#: appends several public events in order inside the transaction
#: an enterprise's record set: (enterprise, period, [(person, hours), ...], key, recorded by)
RecordSet = tuple[str, str, Sequence[tuple[str, Any]], str, str]
#: an approval: (enterprise, period, key, approver, approver's account or None)
ApprovalItem = tuple[str, str, str, str, str | None]


def _in(s: Session, stmt: Any, column: Any, values: Sequence[Any]) -> list[Any]:
    """``stmt`` filtered on ``column IN values``, in chunks; every row."""
    out: list[Any] = []
    for i in range(0, len(values), _CHUNK):
        out.extend(s.execute(stmt.where(column.in_(values[i : i + _CHUNK]))).all())
    return out


def _periods(s: Session, codes: Sequence[str], *, lock: bool, share: bool) -> dict[str, Period]:
    """The periods named, locked as :func:`get_period` locks them (missing ones: its error)."""
    stmt = select(Period).where(Period.code.in_(sorted(set(codes))))
    if lock or share:
        stmt = for_update(stmt, s, share=not lock)
    got = {p.code: p for p in s.scalars(stmt)}
    for code in codes:
        if code not in got:
            get_period(s, code)  # raises UnknownPeriod
    return got


def _holders(s: Session, ids: Sequence[int]) -> dict[int, tuple[str, int | None]]:
    """(code, cached balance) of accounts by id, locked in id order on PostgreSQL."""
    out: dict[int, tuple[str, int | None]] = {}
    ids = sorted(set(ids))
    for i in range(0, len(ids), _CHUNK):
        stmt = (
            select(Account.id, Account.code, Account.balance)
            .where(Account.id.in_(ids[i : i + _CHUNK]))
            .order_by(Account.id)
        )
        for aid, code, bal in s.execute(for_update(stmt, s)):
            out[int(aid)] = (str(code), None if bal is None else int(bal))
    return out


def _set_balances(s: Session, balances: Mapping[int, int]) -> None:
    if balances:
        s.connection().execute(
            update(Account)
            .where(Account.id == bindparam("aid"))
            .values(balance=bindparam("new_balance")),
            [{"aid": a, "new_balance": b} for a, b in sorted(balances.items())],
        )


def _post(
    s: Session,
    kind: str,
    txs: Sequence[tuple[int, str, Mapping[int, int]]],
    held: dict[int, tuple[str, int | None]],
    why: Sequence[str],
) -> list[int]:
    """Transactions ``(period id, memo, {account id: amount})`` with their postings;
    cached balances are moved in order and none may go below zero.  Their ids."""
    balance = {a: b for a, (_, b) in held.items() if b is not None}
    changed: dict[int, int] = {}
    for (_, _, amounts), what in zip(txs, why, strict=True):
        if sum(amounts.values()) != 0:  # an internal bug, never a user error
            raise AssertionError(f"postings of a {kind} transaction do not sum to zero")
        for aid, amt in amounts.items():
            if aid not in balance:
                continue
            new = balance[aid] + amt
            if new < 0:
                raise InsufficientHours(
                    f"Account {held[aid][0]!r} holds {to_hours(balance[aid])} h; {what} needs "
                    f"{to_hours(-amt)} h. No balance may go negative; nothing was posted."
                )
            balance[aid] = changed[aid] = new
    c = s.connection()
    at = stamp(c, utcnow())
    ids = insert_with_ids(
        c,
        Transaction,
        ("kind", "period_id", "created_at", "memo"),
        [(kind, pid, at, memo) for pid, memo, _ in txs],
    )
    insert_rows(
        c,
        Posting,
        ("transaction_id", "account_id", "amount"),
        [
            (tx, a, amt)
            for tx, (_, _, amounts) in zip(ids, txs, strict=True)
            for a, amt in amounts.items()
            if amt != 0
        ],
    )
    _set_balances(s, changed)
    return ids


def record_hours_sets(
    s: Session,
    sets: Sequence[RecordSet],
    max_hours: Decimal | None,
    *,
    max_record: int = MAX_HOURS_PER_RECORD,
) -> list[list[WorkRecord]]:
    """Several enterprises' record sets; each set's records as
    :func:`~gosplan.storage.accounts_work.record_hours_many` returns them."""
    from gosplan.storage.accounts_work import record_hours_many

    def one_by_one() -> list[list[WorkRecord]]:
        return [
            record_hours_many(s, e, p, list(rows), k, by, max_hours, max_record=max_record)
            for e, p, rows, k, by in sets
        ]

    if not sets:
        return []
    s.flush()
    parsed: list[tuple[str, str, list[tuple[str, int]], str, str, str]] = []
    for enterprise, period, rows, key, recorded_by in sets:
        if not rows:
            raise AccountsInputError(
                f"No hours given for enterprise {enterprise!r}, period {period!r}."
            )
        by = check_actor(recorded_by, "recorded_by", f"hours of enterprise {enterprise!r}")
        check_key(key)
        memo: dict[Any, int] = {}  # the members of a set often work the same hours
        rs: list[tuple[str, int]] = []
        for person, h in rows:
            try:
                units = memo[h]
            except (KeyError, TypeError):
                units = check_hours(h, str(person), enterprise, period, max_record)
                try:
                    memo[h] = units
                except TypeError:
                    pass
            rs.append((str(person), units))
        content = {"enterprise": enterprise, "period": period, "rows": rs, "recorded_by": by}
        parsed.append((enterprise, period, rs, key, by, digest_of("work-many", content)))
    if len({k for *_, k, _, _ in parsed}) != len(parsed):
        return one_by_one()
    done = claim_many(s, {k: ("work-many", d) for _, _, _, k, _, d in parsed})
    todo = [x for x in parsed if x[3] not in done]
    written: dict[str, list[WorkRecord]] = {}
    if todo:
        got = _record(s, todo, max_hours)
        if got is None:
            return one_by_one()
        written = got
    return [
        [from_json(WorkRecord, r) for r in done[k]["records"]] if k in done else written[k]
        for _, _, _, k, _, _ in parsed
    ]


def _kinds(s: Session, codes: Sequence[str]) -> dict[str, tuple[int, str]]:
    """(id, kind) of the accounts with these codes."""
    rows = _in(s, select(Account.code, Account.id, Account.kind), Account.code, sorted(set(codes)))
    return {str(code): (int(i), str(kind)) for code, i, kind in rows}


def _enterprises_in_open_periods(
    s: Session, todo: Sequence[tuple[Any, ...]], role: str, action: str, *, lock: bool
) -> tuple[dict[str, tuple[int, str]], dict[str, Period]]:
    """The enterprises and periods of ``todo`` (items starting ``(enterprise, period, ...)``):
    each an enterprise's account (else the one-at-a-time path's error, naming ``role``) and
    each period open (else ``action`` is refused); periods locked for writing when ``lock``,
    else shared."""
    ents = _kinds(s, [e for e, *_ in todo])
    for e, *_ in todo:
        if ents.get(e, (0, ""))[1] != "enterprise":
            get_account(s, e, kind="enterprise", role=role)
    periods = _periods(s, [p for _, p, *_ in todo], lock=lock, share=not lock)
    for e, p, *_ in todo:
        require_open(periods[p], f"{action} enterprise {e!r}")
    return ents, periods


_Set = tuple[str, str, list[tuple[str, int]], str, str, str]


def _record(
    s: Session, todo: list[_Set], max_hours: Decimal | None
) -> dict[str, list[WorkRecord]] | None:
    """The record sets written (``None``: one would be refused; nothing written)."""
    ents, periods = _enterprises_in_open_periods(
        s, todo, "enterprise recording hours", "record hours for", lock=False
    )
    people = _kinds(s, [person for _, _, rows, *_ in todo for person, _ in rows])
    if any(
        people.get(person, (0, ""))[1] != "person" for _, _, rows, *_ in todo for person, _ in rows
    ):
        return None
    pid = {code: i for code, (i, _) in people.items()}
    if not _members(s, todo, {e: i for e, (i, _) in ents.items()}, pid):
        return None
    if max_hours is not None and not _within_cap(s, todo, periods, pid, max_hours * UNIT):
        return None
    return _write_sets(s, todo, ents, periods, pid)


def _members(
    s: Session, todo: list[_Set], ents: Mapping[str, int], people: Mapping[str, int]
) -> bool:
    """Whether every person of every set is a member of the set's enterprise now."""
    ids = sorted(set(people.values()))
    eids = sorted({ents[e] for e, *_ in todo})
    last: dict[tuple[int, int], str] = {}
    for i in range(0, len(ids), _CHUNK):
        for eid, pid, action in s.execute(
            select(Membership.enterprise_id, Membership.person_id, Membership.action)
            .where(
                Membership.person_id.in_(ids[i : i + _CHUNK]), Membership.enterprise_id.in_(eids)
            )
            .order_by(Membership.id)
        ):
            last[(int(eid), int(pid))] = str(action)
    return all(
        last.get((ents[e], people[person])) == "join"
        for e, _, rows, *_ in todo
        for person, _ in rows
    )


def _within_cap(
    s: Session,
    todo: list[_Set],
    periods: Mapping[str, Period],
    people: Mapping[str, int],
    cap: Decimal,
) -> bool:
    """Whether every person's hours in a period, recorded before and in these sets (not
    rejected), stay within ``cap`` micro-hours."""
    ids = sorted(set(people.values()))
    pids = sorted({periods[p].id for _, p, *_ in todo})
    worked: dict[tuple[int, int], int] = {}
    for i in range(0, len(ids), _CHUNK):
        for per, pid, total in s.execute(
            select(Work.period_id, Work.person_id, func.sum(Work.hours))
            .outerjoin(Rejection, Rejection.work_id == Work.id)
            .where(
                Work.period_id.in_(pids),
                Work.person_id.in_(ids[i : i + _CHUNK]),
                Rejection.work_id.is_(None),
            )
            .group_by(Work.period_id, Work.person_id)
        ):
            worked[(int(per), int(pid))] = int(total or 0)
    for _, p, rows, *_ in todo:
        per = periods[p].id
        for person, units in rows:
            k = (per, people[person])
            worked[k] = worked.get(k, 0) + units
            if worked[k] > cap:
                return False
    return True


def _write_sets(
    s: Session,
    todo: list[_Set],
    ents: Mapping[str, tuple[int, str]],
    periods: Mapping[str, Period],
    people: Mapping[str, int],
) -> dict[str, list[WorkRecord]]:
    c = s.connection()
    at = stamp(c, utcnow())
    flat = [
        (periods[p].id, ents[e][0], people[person], units, at, by)
        for e, p, rows, _, by, _ in todo
        for person, units in rows
    ]
    wids = insert_with_ids(
        c,
        Work,
        ("period_id", "enterprise_id", "person_id", "hours", "recorded_at", "recorded_by"),
        flat,
    )
    out: dict[str, list[WorkRecord]] = {}
    results: list[tuple[str, str, str, Any]] = []
    n = 0
    for e, p, rows, key, by, digest in todo:
        recs = [
            WorkRecord(
                id=wid,
                period=p,
                enterprise=e,
                person=person,
                hours=to_hours(units),
                status="recorded",
                recorded_by=by,
            )
            for wid, (person, units) in zip(wids[n : n + len(rows)], rows, strict=True)
        ]
        n += len(rows)
        out[key] = recs
        results.append((key, "work-many", digest, {"records": [_record_json(r) for r in recs]}))
    _remember(s, results)
    return out


def _record_json(r: WorkRecord) -> dict[str, Any]:
    """``to_json(r)`` of a new record, without the round trip through JSON text."""
    return {
        "id": r.id,
        "period": r.period,
        "enterprise": r.enterprise,
        "person": r.person,
        "hours": str(r.hours),
        "status": r.status,
        "replayed": r.replayed,
        "recorded_by": r.recorded_by,
        "decided_by": r.decided_by,
        "reason": r.reason,
    }


# -- approvals
def approve_many(
    s: Session, items: Sequence[ApprovalItem], publish_many: PublishMany | None = None
) -> list[Posted]:
    """Each enterprise's pending records of a period approved, one ``work`` transaction an
    enterprise, as :func:`~gosplan.storage.accounts_work.approve_enterprise` does."""
    from gosplan.storage.accounts_work import approve_enterprise

    def one_by_one() -> list[Posted]:
        return _publishing(
            publish_many,
            lambda publish: [
                approve_enterprise(s, e, p, k, a, acct, publish) for e, p, k, a, acct in items
            ],
        )

    if not items:
        return []
    s.flush()
    parsed = []
    for enterprise, period, key, approver, account in items:
        who = check_actor(approver, "approver", f"hours of enterprise {enterprise!r}")
        check_key(key)
        digest = digest_of("approve", {"enterprise": enterprise, "period": period, "approver": who})
        parsed.append((enterprise, period, key, who, account, digest))
    pairs = [(e, p) for e, p, *_ in parsed]
    if len(set(pairs)) != len(pairs) or len({x[2] for x in parsed}) != len(parsed):
        return one_by_one()
    done = claim_many(s, {x[2]: ("approve", x[5]) for x in parsed})
    todo = [x for x in parsed if x[2] not in done]
    written: dict[str, Posted] = {}
    if todo:
        got = _approve(s, todo, publish_many)
        if got is None:
            return one_by_one()
        written = got
    return [from_json(Posted, done[x[2]]) if x[2] in done else written[x[2]] for x in parsed]


_Item = tuple[str, str, str, str, str | None, str]
_Works = list[tuple[int, int, int, str]]  # (record, person id, micro-hours, recorded by)


def _approve(
    s: Session, todo: list[_Item], publish_many: PublishMany | None
) -> dict[str, Posted] | None:
    """The approvals written (``None``: one would be refused; nothing written)."""
    ents, periods = _enterprises_in_open_periods(
        s, todo, "enterprise whose hours are approved", "approve hours of", lock=True
    )
    works = _pending(s, todo, {e: i for e, (i, _) in ents.items()}, periods)
    if works is None:
        return None  # approve_enterprise says there is nothing to approve
    deductions: dict[str, Deduction] = {p: deduction_of(periods[p]) for _, p, *_ in todo}
    funds = {f: fund_account(s, f).id for d in deductions.values() for f in d.shares}
    persons = sorted({pid for w in works for _, pid, _, _ in w})
    held = _holders(s, [*persons, *funds.values()])  # locked together, in id order
    for (_, _, _, who, account, _), w in zip(todo, works, strict=True):
        if any(held[pid][0] in {who, account} for _, pid, _, _ in w) or any(
            by and by == who for *_, by in w
        ):
            return None  # approve_enterprise refuses it (separation of duties)
    txs = [
        _credit(e, ents[e][0], periods[p].id, w, deductions[p], funds)
        for (e, p, *_), w in zip(todo, works, strict=True)
    ]
    tx_ids = _post(s, "work", txs, held, [f"approval for {e!r}" for e, *_ in todo])
    insert_rows(
        s.connection(),
        Approval,
        ("work_id", "transaction_id", "approver"),
        [
            (wid, tx, who)
            for tx, (_, _, _, who, _, _), w in zip(tx_ids, todo, works, strict=True)
            for wid, *_ in w
        ],
    )
    expire_cached(s)
    codes = {a: c for a, (c, _) in held.items()}
    codes.update({i: e for e, (i, _) in ents.items()})
    return _approved(s, todo, works, txs, tx_ids, codes, publish_many)


def _pending(
    s: Session, todo: list[_Item], ents: Mapping[str, int], periods: Mapping[str, Period]
) -> list[_Works] | None:
    """Each item's records awaiting approval, in record order (``None``: an item has none)."""
    pids = sorted({periods[p].id for _, p, *_ in todo})
    pending: dict[tuple[int, int], _Works] = {}
    for wid, per, eid, pid, hours, by in _in(
        s,
        select(
            Work.id,
            Work.period_id,
            Work.enterprise_id,
            Work.person_id,
            Work.hours,
            Work.recorded_by,
        )
        .outerjoin(Approval, Approval.work_id == Work.id)
        .outerjoin(Rejection, Rejection.work_id == Work.id)
        .where(Work.period_id.in_(pids), Approval.work_id.is_(None), Rejection.work_id.is_(None))
        .order_by(Work.id),
        Work.enterprise_id,
        sorted({ents[e] for e, *_ in todo}),
    ):
        pending.setdefault((int(eid), int(per)), []).append((int(wid), int(pid), int(hours), by))
    works = [sorted(pending.get((ents[e], periods[p].id), [])) for e, p, *_ in todo]
    return None if any(not w for w in works) else works


def _credit(
    ent: str, ent_id: int, period_id: int, w: _Works, ded: Deduction, funds: Mapping[str, int]
) -> tuple[int, str, dict[int, int]]:
    """The ``work`` transaction of one approval, as ``credit_works`` makes it: (period,
    memo, {account: amount}) — each person less the deduction, the funds by their share,
    the enterprise debited the whole."""
    splits: dict[int, tuple[int, dict[str, int]]] = {}
    amounts: dict[int, int] = {}
    total = 0
    for _, pid, hours, _ in w:
        if hours not in splits:
            splits[hours] = ded.split(hours)
        person_part, fund_parts = splits[hours]
        amounts[pid] = amounts.get(pid, 0) + person_part
        for f, part in fund_parts.items():
            amounts[funds[f]] = amounts.get(funds[f], 0) + part
        total += hours
    amounts[ent_id] = amounts.get(ent_id, 0) - total
    ids = ", ".join(str(x[0]) for x in w)
    people = len({x[1] for x in w})
    memo = (
        f"approval in {ent}: {to_hours(total).normalize():f} h in total by "
        f"{people} member(s) ({len(w)} record(s): {ids}), deduction {ded.rate * 100:.4f}%"
    )
    return period_id, memo, amounts


def _approved(
    s: Session,
    todo: list[_Item],
    works: list[_Works],
    txs: list[tuple[int, str, dict[int, int]]],
    tx_ids: list[int],
    codes: Mapping[int, str],
    publish_many: PublishMany | None,
) -> dict[str, Posted]:
    """The approvals' results, kept with their keys, and their public events."""
    return _settle(
        s,
        ("work", "approve"),
        [
            _Settled(
                tx,
                p,
                amounts,
                memo,
                key,
                digest,
                (
                    "accounts.hours_approved",
                    {
                        "records": [x[0] for x in w],
                        "enterprise": e,
                        "period": p,
                        "hours": str(to_hours(sum(x[2] for x in w))),
                        "approved_by": who,
                        "transaction": tx,
                    },
                ),
            )
            for tx, (e, p, key, who, _, digest), w, (_, memo, amounts) in zip(
                tx_ids, todo, works, txs, strict=True
            )
        ],
        codes,
        publish_many,
    )
