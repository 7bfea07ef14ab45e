"""The ledger's SQL for many purchases at once (a shop's till closing a period's sales).

:func:`buy_many` writes exactly what :func:`~gosplan.storage.accounts_shop.buy` writes for
each line — one transaction with its posting pair (buyer → ``system:cancelled``), one
stock move, one idempotency key with the purchase as its result — but checks every line
first and writes them with one multi-row statement per table instead of eight statements
a line.  It runs inside the caller's transaction (:meth:`Accounts.batch`): a refused line
refuses the whole set with the error :func:`buy` gives for it, and nothing is written.
Lines whose key was used before go through :func:`buy` one by one (a replay answers the
first result; a key used for something else is refused).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from gosplan.labourtime.units import UNIT, check_quantity, to_hours
from gosplan.storage.accounts import (
    Account,
    Good,
    Membership,
    Period,
    Posting,
    Rejection,
    Request,
    StockMove,
    Transaction,
    Work,
    utcnow,
)
from gosplan.storage.accounts_ledger import check_key, digest_of
from gosplan.storage.accounts_shop import (
    buy,
    buy_refused,
    cancelled_account_id,
    provided_free,
)

__all__ = ["buy_many", "new_works"]

_CHUNK = 500  # values in one IN (...) list


def _rows_in(s: Session, column: Any, values: Sequence[str], *cols: Any) -> list[Any]:
    out: list[Any] = []
    for i in range(0, len(values), _CHUNK):
        out.extend(s.execute(select(*cols).where(column.in_(values[i : i + _CHUNK]))).all())
    return out


def buy_many(s: Session, lines: Sequence[tuple[str, str, int, str]]) -> int:
    """Purchases ``[(person, good, quantity, key), ...]`` in the session's transaction;
    the number of lines written.  Every check of :func:`buy` holds for each line in order:
    the period is open, the good is listed, sold (not free) and in stock, the buyer is a
    person account whose balance covers the cost — so no stock and no balance goes below
    zero, whatever the order of the lines."""
    if not lines:
        return 0
    parsed: list[tuple[str, str, int, str]] = []
    for person, good, quantity, key in lines:
        q = check_quantity(quantity, "quantity", f"purchase of good {good!r} by {person!r}")
        check_key(key)
        parsed.append((str(person), str(good), q, str(key)))
    keys = [k for *_, k in parsed]
    if len(set(keys)) != len(keys):
        seen: set[str] = set()
        dup = next(k for k in keys if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise buy_refused("conflict", person="", good="", q=0, key=dup, used="this same batch")
    if s.get_bind().dialect.name == "postgresql":  # the server-side path, line by line
        for person, good, q, key in parsed:
            buy(s, person, good, q, key)
        return len(parsed)
    used = {r[0] for r in _rows_in(s, Request.key, keys, Request.key)}
    if used:  # replays and conflicts answer as buy() answers them
        for person, good, q, key in parsed:
            if key in used:
                buy(s, person, good, q, key)
        parsed = [line for line in parsed if line[3] not in used]
        if not parsed:
            return 0
    p = s.execute(select(Period.id, Period.code).where(Period.status == "open")).first()
    if p is None:
        person, good, q, key = parsed[0]
        raise buy_refused("no_period", person=person, good=good, q=q, key=key)
    goods = {
        r[0]: r
        for r in _rows_in(
            s,
            Good.code,
            sorted({g for _, g, _, _ in parsed}),
            Good.code,
            Good.id,
            Good.price,
            Good.stock,
            Good.name,
            Good.free_fund,
        )
    }
    buyers = {
        r[0]: r
        for r in _rows_in(
            s,
            Account.code,
            sorted({b for b, _, _, _ in parsed}),
            Account.code,
            Account.id,
            Account.kind,
            Account.balance,
        )
    }
    stock, balance = _check(parsed, goods, buyers)
    _write(s, parsed, goods, buyers, stock, balance, (int(p[0]), str(p[1])))
    return len(parsed)


def _check(
    parsed: list[tuple[str, str, int, str]], goods: dict[str, Any], buyers: dict[str, Any]
) -> tuple[dict[str, int], dict[str, int]]:
    """Every line's checks in order; the stocks and balances after all of them."""
    stock = {c: int(r[3]) for c, r in goods.items()}
    balance = {c: int(r[3] or 0) for c, r in buyers.items()}
    for person, good, q, key in parsed:
        ctx: dict[str, Any] = {"person": person, "good": good, "q": q, "key": key}
        g = goods.get(good)
        if g is None:
            raise buy_refused("unknown_good", **ctx)
        if g[5]:
            raise provided_free(g[4], good, g[5], "bought")
        if stock[good] < q:
            raise buy_refused("out_of_stock", stock=stock[good], **ctx)
        b = buyers.get(person)
        if b is None:
            raise buy_refused("unknown_account", **ctx)
        if b[2] != "person":
            raise buy_refused("wrong_kind", kind=b[2], **ctx)
        cost = int(g[2]) * q
        if balance[person] < cost:
            raise buy_refused("insufficient", balance=balance[person], cost=cost, **ctx)
        stock[good] -= q
        balance[person] -= cost
    return stock, balance


def _insert_transactions(c: Any, tx_rows: list[dict[str, Any]]) -> list[int]:
    """Insert the purchases' transactions; their ids, in order."""
    if c.dialect.name == "sqlite":
        # the batch holds SQLite's write lock (BEGIN IMMEDIATE): the next ids are ours, and
        # a plain executemany is several times faster than one RETURNING per row
        first = int(c.execute(select(func.coalesce(func.max(Transaction.id), 0))).scalar_one()) + 1
        ids = list(range(first, first + len(tx_rows)))
        c.execute(insert(Transaction), [{"id": i, **r} for i, r in zip(ids, tx_rows, strict=True)])
    else:
        ids = [
            int(r[0])
            for r in c.execute(
                insert(Transaction).returning(Transaction.id, sort_by_parameter_order=True),
                tx_rows,
            )
        ]
    return ids


def _write(
    s: Session,
    parsed: list[tuple[str, str, int, str]],
    goods: dict[str, Any],
    buyers: dict[str, Any],
    stock: dict[str, int],
    balance: dict[str, int],
    period: tuple[int, str],
) -> None:
    c = s.connection()
    touched_goods = {g for _, g, _, _ in parsed}
    c.execute(
        update(Good).where(Good.id == bindparam("gid")).values(stock=bindparam("new_stock")),
        [{"gid": int(goods[g][1]), "new_stock": stock[g]} for g in sorted(touched_goods)],
    )
    c.execute(
        update(Account)
        .where(Account.id == bindparam("aid"))
        .values(balance=bindparam("new_balance")),
        [
            {"aid": int(buyers[b][1]), "new_balance": balance[b]}
            for b in sorted({b for b, _, _, _ in parsed})
        ],
    )
    now = utcnow()
    pid, pcode = period
    tx_rows = []
    for _person, good, q, _key in parsed:
        price = int(goods[good][2])
        tx_rows.append(
            {
                "kind": "purchase",
                "period_id": pid,
                "created_at": now,
                "memo": f"bought {q} × {good} at {to_hours(price)} h",
                "reverses_id": None,
            }
        )
    ids = _insert_transactions(c, tx_rows)
    sink = cancelled_account_id(s)
    postings, moves, requests = [], [], []
    for tx, (person, good, q, key) in zip(ids, parsed, strict=True):
        price = int(goods[good][2])
        cost = price * q
        postings.append(
            {"transaction_id": tx, "account_id": int(buyers[person][1]), "amount": -cost}
        )
        postings.append({"transaction_id": tx, "account_id": sink, "amount": cost})
        moves.append(
            {
                "good_id": int(goods[good][1]),
                "period_id": pid,
                "kind": "sale",
                "quantity": -q,
                "transaction_id": tx,
                "price": price,
                "created_at": now,
            }
        )
        data = {
            "transaction_id": tx,
            "person": person,
            "good": good,
            "quantity": q,
            "price": str(to_hours(price)),
            "cost": str(to_hours(cost)),
            "period": pcode,
        }
        digest = digest_of("buy", {"person": person, "good": good, "quantity": q})
        requests.append(
            {"key": key, "kind": "buy", "digest": digest, "result": data, "created_at": now}
        )
    c.execute(insert(Posting), postings)
    c.execute(insert(StockMove), moves)
    c.execute(insert(Request), requests)


def new_works(
    s: Session,
    ent: Account,
    rows: Sequence[tuple[str, int]],
    p: Period,
    recorded_by: str,
    max_hours: Decimal | None,
    pending: dict[int, int],
) -> list[Work]:
    """:func:`~gosplan.storage.accounts_work.new_work` for a whole workforce: the same
    checks (a person account, a member of the enterprise, within the cap of hours per
    period) read with one query each for all the rows.  Where any row fails, the rows go
    through ``new_work`` one by one, which refuses the first with its own error."""
    from gosplan.storage.accounts_work import new_work

    def one_by_one() -> list[Work]:
        return [
            new_work(s, ent, person, p, u, recorded_by, max_hours, pending) for person, u in rows
        ]

    codes = sorted({person for person, _ in rows})
    accounts = {
        a.code: a
        for i in range(0, len(codes), _CHUNK)
        for a in s.scalars(select(Account).where(Account.code.in_(codes[i : i + _CHUNK])))
    }
    if len(accounts) != len(codes) or any(a.kind != "person" for a in accounts.values()):
        return one_by_one()
    ids = [a.id for a in accounts.values()]
    last: dict[int, str] = {}
    for i in range(0, len(ids), _CHUNK):
        for pid, action in s.execute(
            select(Membership.person_id, Membership.action)
            .where(
                Membership.enterprise_id == ent.id, Membership.person_id.in_(ids[i : i + _CHUNK])
            )
            .order_by(Membership.id)
        ):
            last[int(pid)] = str(action)
    if any(last.get(i) != "join" for i in ids):
        return one_by_one()
    mine = dict(pending)
    if max_hours is not None:
        done: dict[int, int] = {}
        for i in range(0, len(ids), _CHUNK):
            for pid, total in s.execute(
                select(Work.person_id, func.sum(Work.hours))
                .outerjoin(Rejection, Rejection.work_id == Work.id)
                .where(
                    Work.period_id == p.id,
                    Work.person_id.in_(ids[i : i + _CHUNK]),
                    Rejection.work_id.is_(None),
                )
                .group_by(Work.person_id)
            ):
                done[int(pid)] = int(total or 0)
        for person, units in rows:
            pid = accounts[person].id
            if done.get(pid, 0) + mine.get(pid, 0) + units > max_hours * UNIT:
                return one_by_one()
            mine[pid] = mine.get(pid, 0) + units
    else:
        for person, units in rows:
            pid = accounts[person].id
            mine[pid] = mine.get(pid, 0) + units
    pending.update(mine)
    works = [
        Work(
            period_id=p.id,
            enterprise_id=ent.id,
            person_id=accounts[person].id,
            hours=units,
            recorded_by=recorded_by,
        )
        for person, units in rows
    ]
    s.add_all(works)
    return works
