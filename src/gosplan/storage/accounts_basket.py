"""The ledger's SQL for baskets: a person's purchases at the till as one transaction.

A basket is what a till rings up: one ``purchase`` transaction for the whole basket
(one posting debiting the buyer the basket's cost, one crediting ``system:cancelled``),
one stock move a good (``sale``, its quantity and the unit price charged, linked to the
transaction) and one idempotency key.  Every check of a single purchase
(:func:`~gosplan.storage.accounts_shop.buy`) holds for every line — an open period, a
listed good that is sold (not free) and in stock — and the buyer's balance must cover
the basket; a refused basket refuses the whole call and nothing is written.  A reversal
(:func:`~gosplan.storage.accounts_shop.reverse_transaction`) returns every line.

:func:`buy_baskets` checks all baskets of a call first (in order), then writes them with
one multi-row statement a table; on SQLite the rows go to the driver directly (the
statement text is built here, from the models' table and column names).  It runs inside
the caller's transaction (:meth:`Accounts.batch`); on PostgreSQL the goods and buyers are
locked (``FOR UPDATE``, in id order) before they are checked.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from itertools import repeat
from typing import Any

import numpy as np
from sqlalchemy import bindparam, select, text, update
from sqlalchemy.orm import Session

from gosplan.labourtime.errors import AccountsInputError, InsufficientHours
from gosplan.labourtime.records import Basket, from_json
from gosplan.labourtime.units import check_quantity, to_hours
from gosplan.storage.accounts import (
    Account,
    Good,
    Period,
    Posting,
    Request,
    StockMove,
    Transaction,
    utcnow,
)
from gosplan.storage.accounts_bulk import _CHUNK
from gosplan.storage.accounts_ledger import check_key
from gosplan.storage.accounts_rows import (
    as_json,
    claim_many,
    expire_cached,
    insert_rows,
    insert_with_ids,
    stamp,
)
from gosplan.storage.accounts_shop import buy_refused, cancelled_account_id, provided_free

__all__ = ["buy_baskets", "parse_baskets"]

#: a basket: (person, [(good, quantity), ...], idempotency key)
BasketLines = tuple[str, Sequence[tuple[str, int]], str]
_Parsed = tuple[str, list[tuple[str, int]], str]


def parse_baskets(baskets: Sequence[BasketLines]) -> list[_Parsed]:
    """The baskets checked for shape: a person, at least one line, each good once with a
    whole quantity ≥ 1, a key of 1–128 characters used once in the call."""
    parsed: list[_Parsed] = []
    keys: set[str] = set()
    for person, lines, key in baskets:
        check_key(key)
        key, person = str(key), str(person)
        if key in keys:
            raise AccountsInputError(
                f"Idempotency key {key!r} is used by two baskets of the same call; each "
                f"basket needs its own key."
            )
        keys.add(key)
        if not lines:
            raise AccountsInputError(f"The basket of {person!r} ({key!r}) has no lines.")
        ls = list(lines)
        gs = {g for g, _ in ls}
        if (
            len(gs) == len(ls)
            and all(type(g) is str for g in gs)
            and all(type(q) is int and q > 0 for _, q in ls)
        ):  # the common case, checked in bulk: each good once, a whole quantity ≥ 1
            parsed.append((person, ls, key))
            continue
        out: list[tuple[str, int]] = []
        seen: set[str] = set()
        for good, quantity in lines:
            good = str(good)
            q = check_quantity(quantity, "quantity", f"purchase of good {good!r} by {person!r}")
            if good in seen:
                raise AccountsInputError(
                    f"The basket of {person!r} ({key!r}) lists good {good!r} twice; list "
                    f"each good once with its whole quantity."
                )
            seen.add(good)
            out.append((good, q))
        parsed.append((person, out, key))
    return parsed


def _digest(person: str, lines: list[tuple[str, int]]) -> str:
    """The basket's content as a digest (for its idempotency key)."""
    return hashlib.sha256(json.dumps(["basket", person, lines]).encode()).hexdigest()


def _locked_rows(s: Session, column: Any, values: list[str], *cols: Any) -> dict[str, Any]:
    """Rows whose ``column`` is in ``values``, by that value; locked in id order on
    PostgreSQL (so two tills never wait on each other in a circle)."""
    pg = s.get_bind().dialect.name == "postgresql"
    out: dict[str, Any] = {}
    for i in range(0, len(values), _CHUNK):
        stmt = select(column, *cols).where(column.in_(values[i : i + _CHUNK]))
        if pg:
            stmt = stmt.order_by(cols[0]).with_for_update()
        out.update({r[0]: r for r in s.execute(stmt).all()})
    return out


def buy_baskets(s: Session, baskets: Sequence[BasketLines]) -> list[Basket]:
    """Baskets ``[(person, [(good, quantity), ...], key), ...]`` in the session's
    transaction; what each rang up, in order.  A key used before for the same basket is
    a replay (its first result, nothing posted again); for anything else, a conflict."""
    parsed = parse_baskets(baskets)
    if not parsed:
        return []
    s.flush()  # what the session holds unwritten is read below
    digests = [_digest(p, lines) for p, lines, _ in parsed]
    keys = [k for *_, k in parsed]
    if s.get_bind().dialect.name == "postgresql":
        # as a single purchase does: a period's close (SHARE on the goods) waits for this
        # till, or this till waits for the close and then finds the period closed
        s.execute(text("LOCK TABLE acct_good IN ROW EXCLUSIVE MODE"))
    done = {
        k: from_json(Basket, r)
        for k, r in claim_many(
            s, {k: ("basket", d) for k, d in zip(keys, digests, strict=True)}
        ).items()
    }
    todo = [(b, d) for b, d in zip(parsed, digests, strict=True) if b[2] not in done]
    written: dict[str, Basket] = {}
    if todo:
        goods = _locked_rows(
            s,
            Good.code,
            sorted({g for (_, lines, _), _ in todo for g, _ in lines}),
            Good.id,
            Good.price,
            Good.stock,
            Good.name,
            Good.free_fund,
        )
        p = s.execute(select(Period.id, Period.code).where(Period.status == "open")).first()
        if p is None:
            (person, lines, key), _ = todo[0]
            raise buy_refused("no_period", person=person, good=lines[0][0], q=lines[0][1], key=key)
        buyers = _locked_rows(
            s,
            Account.code,
            sorted({b for (b, _, _), _ in todo}),
            Account.id,
            Account.kind,
            Account.balance,
        )
        till, stock, balance = _check([b for b, _ in todo], goods, buyers)
        written = _write(s, todo, till, goods, buyers, stock, balance, (int(p[0]), str(p[1])))
    return [done.get(k) or written[k] for k in keys]


class _Till:
    """The lines of all baskets of a call as arrays (in order), and what they come to."""

    def __init__(self, parsed: list[_Parsed], goods: dict[str, Any]) -> None:
        codes = sorted(goods)
        index = {c: i for i, c in enumerate(codes)}
        self.codes = codes
        self.good_id = np.array([int(goods[c][1]) for c in codes], dtype=np.int64)
        self.price = np.array([int(goods[c][2]) for c in codes], dtype=np.int64)
        self.stock = np.array([int(goods[c][3]) for c in codes], dtype=np.int64)
        self.free = np.array([bool(goods[c][5]) for c in codes], dtype=bool)
        flat = [line for _, lines, _ in parsed for line in lines]
        self.known = all(g in index for g, _ in flat)
        self.line_good = np.array([index.get(g, 0) for g, _ in flat], dtype=np.int64)
        self.qty = np.array([q for _, q in flat], dtype=np.int64)
        sizes = np.array([len(lines) for _, lines, _ in parsed], dtype=np.int64)
        self.start = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        self.sizes = sizes
        self.line_cost = self.price[self.line_good] * self.qty
        self.cost = np.add.reduceat(self.line_cost, self.start) if len(flat) else sizes * 0
        self.units = np.add.reduceat(self.qty, self.start) if len(flat) else sizes * 0


def _check(
    parsed: list[_Parsed], goods: dict[str, Any], buyers: dict[str, Any]
) -> tuple[_Till, dict[str, int], dict[str, int]]:
    """Every basket's checks; the stocks and balances after all of them.

    Quantities and prices are positive, so when each good's total and each buyer's total
    fit, every line fits in any order: that is checked on arrays.  Where something does
    not fit, the baskets are checked line by line in order, which refuses the first line
    or basket that does not fit (as one-at-a-time purchases would)."""
    till = _Till(parsed, goods)
    taken = np.zeros(len(till.codes), dtype=np.int64)
    np.add.at(taken, till.line_good, till.qty)
    spent: dict[str, int] = {}
    for (person, _, _), cost in zip(parsed, till.cost.tolist(), strict=True):
        spent[person] = spent.get(person, 0) + int(cost)
    fits = (
        till.known
        and not bool(till.free[taken > 0].any())
        and bool((taken <= till.stock).all())
        and all(
            (b := buyers.get(person)) is not None and b[2] == "person" and int(b[3] or 0) >= total
            for person, total in spent.items()
        )
    )
    if not fits:
        _check_in_order(parsed, goods, buyers)  # raises for the first line that does not fit
        raise AssertionError("the bulk check refused what the check in order allows")
    stock = {c: int(x) for c, x, n in zip(till.codes, till.stock - taken, taken, strict=True) if n}
    balance = {p: int(buyers[p][3] or 0) - total for p, total in spent.items()}
    return till, stock, balance


def _check_in_order(parsed: list[_Parsed], goods: dict[str, Any], buyers: dict[str, Any]) -> None:
    """Every basket's checks in order, line by line: refuses the first that does not fit."""
    stock = {c: int(r[3]) for c, r in goods.items()}
    balance = {c: int(r[3] or 0) for c, r in buyers.items()}
    for person, lines, key in parsed:
        cost = 0
        for good, q in lines:
            g = goods.get(good)
            if g is None:
                raise buy_refused("unknown_good", person=person, good=good, q=q, key=key)
            if g[5]:
                raise provided_free(g[4], good, g[5], "bought")
            if stock[good] < q:
                raise buy_refused(
                    "out_of_stock", person=person, good=good, q=q, key=key, stock=stock[good]
                )
            stock[good] -= q
            cost += int(g[2]) * q
        b = buyers.get(person)
        if b is None:
            raise buy_refused("unknown_account", person=person, good="", q=0, key=key)
        if b[2] != "person":
            raise buy_refused("wrong_kind", person=person, good="", q=0, key=key, kind=b[2])
        if balance[person] < cost:
            raise InsufficientHours(
                f"Account {person!r} holds {to_hours(balance[person])} h; the basket "
                f"{key!r} of {len(lines)} good(s) costs {to_hours(cost)} h. No balance may "
                f"go negative; nothing was bought."
            )
        balance[person] -= cost


def _write(
    s: Session,
    todo: list[tuple[_Parsed, str]],
    till: _Till,
    goods: dict[str, Any],
    buyers: dict[str, Any],
    stock: dict[str, int],
    balance: dict[str, int],
    period: tuple[int, str],
) -> dict[str, Basket]:
    c = s.connection()
    c.execute(
        update(Good).where(Good.id == bindparam("gid")).values(stock=bindparam("new_stock")),
        [{"gid": int(goods[g][1]), "new_stock": n} for g, n in sorted(stock.items())],
    )
    c.execute(
        update(Account)
        .where(Account.id == bindparam("aid"))
        .values(balance=bindparam("new_balance")),
        [{"aid": int(buyers[b][1]), "new_balance": n} for b, n in sorted(balance.items())],
    )
    at = stamp(c, utcnow())
    pid, pcode = period
    sizes, units, costs = till.sizes.tolist(), till.units.tolist(), till.cost.tolist()
    ids = insert_with_ids(
        c,
        Transaction,
        ("kind", "period_id", "created_at", "memo"),
        [
            ("purchase", pid, at, f"bought a basket of {k} good(s), {n} unit(s), at the till")
            for k, n in zip(sizes, units, strict=True)
        ],
    )
    sink = cancelled_account_id(s)
    postings: list[tuple[Any, ...]] = []
    requests: list[tuple[Any, ...]] = []
    out: dict[str, Basket] = {}
    for tx, ((person, _, key), digest), cost, k, n in zip(
        ids, todo, costs, sizes, units, strict=True
    ):
        postings.append((tx, int(buyers[person][1]), -cost))
        postings.append((tx, sink, cost))
        data = {
            "transaction_id": tx,
            "person": person,
            "goods": k,
            "units": n,
            "cost": str(to_hours(cost)),
            "period": pcode,
        }
        requests.append((key, "basket", digest, as_json(c, data), at))
        out[key] = Basket(
            transaction_id=tx, person=person, goods=k, units=n, cost=to_hours(cost), period=pcode
        )
    line_tx = np.repeat(np.array(ids, dtype=np.int64), till.sizes)
    n_lines = len(till.qty)
    moves = list(
        zip(
            till.good_id[till.line_good].tolist(),
            repeat(pid, n_lines),
            repeat("sale", n_lines),
            (-till.qty).tolist(),
            line_tx.tolist(),
            till.price[till.line_good].tolist(),
            repeat(at, n_lines),
            strict=True,
        )
    )
    insert_rows(c, Posting, ("transaction_id", "account_id", "amount"), postings)
    insert_rows(
        c,
        StockMove,
        ("good_id", "period_id", "kind", "quantity", "transaction_id", "price", "created_at"),
        moves,
    )
    insert_rows(c, Request, ("key", "kind", "digest", "result", "created_at"), requests)
    expire_cached(s)
    return out
