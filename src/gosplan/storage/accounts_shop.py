"""The ledger's SQL for goods: the catalogue, deliveries, prices, purchases, reversals."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from gosplan.labourtime.errors import (
    AccountsError,
    AccountsInputError,
    IdempotencyConflict,
    InsufficientHours,
    OutOfStock,
    ProvidedFree,
    UnknownAccount,
    UnknownGood,
    UnknownPeriod,
)
from gosplan.labourtime.records import (
    GoodInfo,
    GoodSpec,
    Posted,
    Purchase,
    from_json,
)
from gosplan.labourtime.units import (
    CANCELLED,
    check_code,
    check_quantity,
    price_units,
    to_decimal,
    to_hours,
)
from gosplan.storage.accounts import (
    Account,
    Good,
    Period,
    Posting,
    PriceChange,
    Request,
    StockMove,
    Transaction,
    utcnow,
)
from gosplan.storage.accounts_ledger import (
    Publish,
    apply_amounts,
    check_key,
    claim,
    digest_of,
    for_update,
    lock_holders,
    post_transaction,
    posted_result,
    remember,
    system_account,
)


# -- goods
def get_good(s: Session, code: str, *, lock: bool = False) -> Good:
    stmt = select(Good).where(Good.code == code)
    if lock:
        stmt = for_update(stmt, s)
    g = s.scalar(stmt)
    if g is None:
        raise UnknownGood(f"No good {code!r} in the catalogue.")
    return g


def good_info(g: Good) -> GoodInfo:
    return GoodInfo(
        code=g.code,
        name=g.name,
        unit=g.unit,
        product=g.product,
        labour_value=Decimal(g.labour_value),
        ratio=Decimal(g.ratio),
        price=to_hours(g.price),
        stock=int(g.stock),
        free_fund=g.free_fund,
    )


def all_goods(s: Session) -> list[GoodInfo]:
    """Every good, by code, as :func:`good_info` gives each (read as rows, not objects)."""
    cols = (Good.code, Good.name, Good.unit, Good.product, Good.labour_value, Good.ratio)
    rows = s.execute(
        select(*cols, Good.price, Good.stock, Good.free_fund).order_by(Good.code)
    ).all()
    return [
        GoodInfo(
            code=code,
            name=name,
            unit=unit,
            product=product,
            labour_value=Decimal(value),
            ratio=Decimal(ratio),
            price=to_hours(price),
            stock=int(stock),
            free_fund=free_fund,
        )
        for code, name, unit, product, value, ratio, price, stock, free_fund in rows
    ]


def _funds_text(free_fund: str) -> str:
    funds = [f for f in free_fund.split(",") if f]
    return " and ".join(funds) + (" funds" if len(funds) > 1 else " fund")


def provided_free(name: str, code: str, free_fund: str, doing: str) -> ProvidedFree:
    """The refusal for a good the plan provides free for all."""
    return ProvidedFree(
        f"{name or code} ({code!r}) is provided free for all from the "
        f"{_funds_text(free_fund)}; it is never sold, so it cannot be {doing}. "
        f"Nothing was {'bought' if doing == 'bought' else 'changed'}."
    )


def add_good(s: Session, g: GoodSpec, reason: str) -> GoodInfo:
    check_code(g.code, "good")
    value = to_decimal(g.labour_value, field="labour_value", what=f"good {g.code!r}")
    ratio = to_decimal(g.ratio, field="ratio", what=f"good {g.code!r}")
    if value <= 0 or ratio <= 0:
        raise AccountsInputError(
            f"Good {g.code!r}: labour value and ratio must be positive; got {value}, {ratio}."
        )
    if g.stock < 0 or not isinstance(g.stock, int | np.integer):
        raise AccountsInputError(
            f"Good {g.code!r}: `stock` must be a whole number >= 0; got {g.stock!r}."
        )
    if s.scalar(select(Good.id).where(Good.code == g.code)) is not None:
        raise AccountsError(f"Good {g.code!r} is already in the catalogue.")
    free = ",".join(sorted({f.strip() for f in (g.free_fund or "").split(",") if f.strip()}))
    if free and g.stock:
        raise AccountsInputError(
            f"Good {g.code!r} is provided free from the {_funds_text(free)}: it is never "
            f"sold, so it has no stock in the shops; got stock {g.stock!r}."
        )
    price = price_units(value, ratio)
    if price <= 0:
        raise AccountsInputError(
            f"Good {g.code!r}: price {value} × {ratio} rounds to zero micro-hours; use a "
            f"larger unit."
        )
    good = Good(
        code=g.code,
        name=g.name or g.code,
        unit=g.unit,
        product=g.product,
        labour_value=str(value),
        ratio=str(ratio),
        price=price,
        stock=int(g.stock),
        free_fund=free or None,
    )
    s.add(good)
    s.flush()
    cur = s.scalar(select(Period.id).where(Period.status == "open"))
    s.add(
        PriceChange(
            good_id=good.id,
            period_id=cur,
            labour_value=str(value),
            ratio=str(ratio),
            price=price,
            reason=reason,
        )
    )
    if g.stock:
        s.add(StockMove(good_id=good.id, period_id=cur, kind="delivery", quantity=int(g.stock)))
    return good_info(good)


def deliver(s: Session, code: str, quantity: int, key: str) -> GoodInfo:
    q = check_quantity(quantity, "quantity", f"delivery of good {code!r}")
    digest, done = claim(s, key, "deliver", {"good": code, "quantity": q})
    if done is not None:
        return good_info(get_good(s, code))
    g = get_good(s, code, lock=True)
    if g.free_fund:
        raise provided_free(g.name, g.code, g.free_fund, "delivered to the shops")
    cur = s.scalar(select(Period.id).where(Period.status == "open"))
    s.add(StockMove(good_id=g.id, period_id=cur, kind="delivery", quantity=q))
    g.stock = g.stock + q
    s.flush()
    remember(s, key, "deliver", digest, {"good": code, "quantity": q})
    return good_info(g)


def reprice(
    s: Session,
    code: str,
    ratio: Any,
    labour_value: Any,
    reason: str,
    publish: Publish | None = None,
) -> GoodInfo:
    if not reason or not str(reason).strip():
        raise AccountsInputError(f"A price change of good {code!r} needs a `reason`.")
    g = get_good(s, code, lock=True)
    new_ratio = (
        Decimal(g.ratio)
        if ratio is None
        else to_decimal(ratio, field="ratio", what=f"good {code!r}")
    )
    new_value = (
        Decimal(g.labour_value)
        if labour_value is None
        else to_decimal(labour_value, field="labour_value", what=f"good {code!r}")
    )
    if new_ratio <= 0 or new_value <= 0:
        raise AccountsInputError(
            f"Good {code!r}: ratio and labour value must be positive; got {new_ratio}, {new_value}."
        )
    price = price_units(new_value, new_ratio)
    if price <= 0:
        raise AccountsInputError(f"Good {code!r}: the new price rounds to zero micro-hours.")
    old = good_info(g)
    g.ratio, g.labour_value, g.price = str(new_ratio), str(new_value), price
    cur = s.scalar(select(Period.id).where(Period.status == "open"))
    s.add(
        PriceChange(
            good_id=g.id,
            period_id=cur,
            labour_value=str(new_value),
            ratio=str(new_ratio),
            price=price,
            reason=str(reason),
        )
    )
    s.flush()
    if publish is not None:
        publish(
            "accounts.price_changed",
            {
                "good": code,
                "reason": str(reason),
                "old": {
                    "labour_value": str(old.labour_value),
                    "ratio": str(old.ratio),
                    "price_hours": str(old.price),
                },
                "new": {
                    "labour_value": str(new_value),
                    "ratio": str(new_ratio),
                    "price_hours": str(to_hours(price)),
                },
            },
        )
    return good_info(g)


# -- buying
def buy_refused(
    reason: str,
    *,
    person: str,
    good: str,
    q: int,
    key: str,
    stock: int = 0,
    kind: str = "",
    balance: int = 0,
    cost: int = 0,
    used: str = "",
) -> AccountsError:
    """The error for a refused purchase (one wording for the SQLite and PostgreSQL paths)."""
    if reason == "conflict":
        return IdempotencyConflict(
            f"Idempotency key {key!r} was already used for a different request ({used}); "
            f"nothing was posted. Use a new key for a new request."
        )
    if reason == "no_period":
        return UnknownPeriod(
            f"No period is open: cannot buy good {good!r} for {person!r}. Open one first."
        )
    if reason == "unknown_good":
        return UnknownGood(f"No good {good!r} in the catalogue.")
    if reason == "out_of_stock":
        return OutOfStock(
            f"Good {good!r} has {stock} unit(s) in stock; {person!r} asked for "
            f"{q}. Nothing was bought."
        )
    if reason == "unknown_account":
        return UnknownAccount(
            f"No account {person!r} (buyer): open it first (`gosplan accounts open`)."
        )
    if reason == "wrong_kind":
        return UnknownAccount(f"Account {person!r} is a {kind} account; the buyer must be person.")
    return InsufficientHours(
        f"Account {person!r} holds {to_hours(balance)} h; {q} × {good!r} costs "
        f"{to_hours(cost)} h. No balance may go negative; nothing was bought."
    )


def buy(s: Session, person: str, good: str, quantity: int, key: str) -> Purchase:
    """One purchase in few statements: the good's stock and the buyer's balance are each
    changed by one conditional ``UPDATE … RETURNING`` (which also locks the row), so no
    stock and no balance can go below zero whatever runs at the same time.  On PostgreSQL
    the same steps run server-side in ``acct_buy()`` (one round trip)."""
    q = check_quantity(quantity, "quantity", f"purchase of good {good!r} by {person!r}")
    check_key(key)
    content = {"person": person, "good": good, "quantity": q}
    digest = digest_of("buy", content)
    ctx: dict[str, Any] = {"person": person, "good": good, "q": q, "key": key}
    if s.get_bind().dialect.name == "postgresql":
        return buy_pg(s, digest, ctx)
    c = s.connection()  # Core statements built once (below): the hot path stays cheap
    req = c.execute(_Q_REQUEST, {"key": key}).first()
    if req is not None:
        if req[0] != "buy" or req[1] != digest:
            raise buy_refused("conflict", used=f"{req[0]} at {req[3]:%Y-%m-%d %H:%M:%S}", **ctx)
        return from_json(Purchase, req[2])
    row = c.execute(_U_GOOD, {"g": good, "q": q}).first()
    if row is None:
        refuse_if_free(c, good)
        if c.execute(_Q_PERIOD).first() is None:
            raise buy_refused("no_period", **ctx)
        stock = c.execute(select(Good.stock).where(Good.code == good)).scalar()
        if stock is None:
            raise buy_refused("unknown_good", **ctx)
        raise buy_refused("out_of_stock", stock=int(stock), **ctx)
    good_id, price = int(row[0]), int(row[1])
    p = c.execute(_Q_PERIOD).first()
    if p is None:
        raise buy_refused("no_period", **ctx)
    cost = price * q
    got = c.execute(_U_BUYER, {"p": person, "cost": cost}).first()
    if got is None:
        buyer = c.execute(
            select(Account.kind, Account.balance).where(Account.code == person)
        ).first()
        if buyer is None:
            raise buy_refused("unknown_account", **ctx)
        if buyer[0] != "person":
            raise buy_refused("wrong_kind", kind=buyer[0], **ctx)
        raise buy_refused("insufficient", balance=int(buyer[1] or 0), cost=cost, **ctx)
    buyer_id = int(got[0])
    sink_id = cancelled_account_id(s)
    now = utcnow()
    tx_id = int(
        c.execute(
            _I_TX,
            {
                "kind": "purchase",
                "period_id": p[0],
                "created_at": now,
                "memo": f"bought {q} × {good} at {to_hours(price)} h",
                "reverses_id": None,
            },
        ).scalar_one()
    )
    c.execute(
        _I_POSTING,
        [
            {"transaction_id": tx_id, "account_id": buyer_id, "amount": -cost},
            {"transaction_id": tx_id, "account_id": sink_id, "amount": cost},
        ],
    )
    c.execute(
        _I_MOVE,
        {
            "good_id": good_id,
            "period_id": p[0],
            "kind": "sale",
            "quantity": -q,
            "transaction_id": tx_id,
            "price": price,
            "created_at": now,
        },
    )
    res = Purchase(
        transaction_id=tx_id,
        person=person,
        good=good,
        quantity=q,
        price=to_hours(price),
        cost=to_hours(cost),
        period=p[1],
    )
    data = {
        "transaction_id": tx_id,
        "person": person,
        "good": good,
        "quantity": q,
        "price": str(res.price),
        "cost": str(res.cost),
        "period": p[1],
    }
    c.execute(
        _I_REQUEST, {"key": key, "kind": "buy", "digest": digest, "result": data, "created_at": now}
    )
    return res


_Q_REQUEST = select(Request.kind, Request.digest, Request.result, Request.created_at).where(
    Request.key == bindparam("key")
)
_Q_PERIOD = select(Period.id, Period.code).where(Period.status == "open")
_U_GOOD = (
    update(Good)
    .where(Good.code == bindparam("g"), Good.stock >= bindparam("q"))
    .values(stock=Good.stock - bindparam("q"))
    .returning(Good.id, Good.price)
)
_U_BUYER = (
    update(Account)
    .where(
        Account.code == bindparam("p"),
        Account.kind == "person",
        Account.balance >= bindparam("cost"),
    )
    .values(balance=Account.balance - bindparam("cost"))
    .returning(Account.id)
)
_I_TX = insert(Transaction).returning(Transaction.id)
_I_POSTING = insert(Posting)
_I_MOVE = insert(StockMove)
_I_REQUEST = insert(Request)


def refuse_if_free(db: Any, good: str) -> None:
    """Raise :class:`ProvidedFree` if ``good`` is provided free (only read once a purchase
    has failed: free goods have no stock, so the hot path never pays for this check)."""
    row = db.execute(select(Good.name, Good.free_fund).where(Good.code == good)).first()
    if row is not None and row[1]:
        raise provided_free(row[0], good, row[1], "bought")


def buy_pg(s: Session, digest: str, ctx: dict[str, Any]) -> Purchase:
    return call_acct_buy(s, digest, ctx)


def call_acct_buy(db: Any, digest: str, ctx: dict[str, Any]) -> Purchase:
    """Call ``acct_buy()`` on a session or connection; its refusals become our errors."""
    try:
        out = db.execute(
            text("SELECT acct_buy(:person, :good, :q, :key, :digest)"), {**ctx, "digest": digest}
        ).scalar_one()
    except DBAPIError as exc:
        diag = getattr(exc.orig, "diag", None)
        msg = str(getattr(diag, "message_primary", "") or "")
        if not msg.startswith("acct:"):
            raise
        detail = str(getattr(diag, "message_detail", "") or "")
        reason = msg.removeprefix("acct:")
        if reason == "out_of_stock":  # a free good has no stock: say why it is not sold
            # on a fresh connection: the failed statement aborted ``db``'s transaction
            bind = db.get_bind() if hasattr(db, "get_bind") else db.engine
            with bind.engine.connect() as fresh:
                refuse_if_free(fresh, str(ctx["good"]))
        extra: dict[str, Any] = {}
        if reason == "conflict":
            extra["used"] = detail
        elif reason == "out_of_stock":
            extra["stock"] = int(detail)
        elif reason == "wrong_kind":
            extra["kind"] = detail
        elif reason == "insufficient":
            bal, cost = detail.split()
            extra.update(balance=int(bal), cost=int(cost))
        raise buy_refused(reason, **extra, **ctx) from None
    data = json.loads(out) if isinstance(out, str) else out
    result = from_json(Purchase, data["result"])
    return result if data["replayed"] else dataclasses.replace(result, replayed=False)


def cancelled_account_id(s: Session) -> int:
    """Id of ``system:cancelled``, remembered on the database connection (it never changes)."""
    info = s.connection().info
    if "acct_sink" not in info:
        got = s.scalar(select(Account.id).where(Account.code == CANCELLED))
        if got is None:
            return system_account(s, CANCELLED).id  # not remembered until committed
        info["acct_sink"] = int(got)
    return int(info["acct_sink"])


# -- corrections
def reverse_transaction(s: Session, transaction_id: int, reason: str, key: str) -> Posted:
    if not reason or not str(reason).strip():
        raise AccountsInputError(
            f"Reversing transaction {transaction_id} needs a `reason` (it is kept for good)."
        )
    digest, done = claim(
        s, key, "reverse", {"transaction": int(transaction_id), "reason": str(reason)}
    )
    if done is not None:
        return from_json(Posted, done)
    tx = s.get(Transaction, int(transaction_id))
    if tx is None:
        raise AccountsError(f"No transaction {transaction_id} to reverse.")
    if tx.reverses_id is not None:
        raise AccountsError(
            f"Transaction {transaction_id} is itself a reversal (of {tx.reverses_id}); "
            f"post the correct transaction anew instead."
        )
    if s.scalar(select(Transaction.id).where(Transaction.reverses_id == tx.id)) is not None:
        raise AccountsError(f"Transaction {transaction_id} has already been reversed.")
    amounts: dict[int, int] = {}
    for a, amt in s.execute(
        select(Posting.account_id, Posting.amount).where(Posting.transaction_id == tx.id)
    ):
        amounts[a] = amounts.get(a, 0) - amt
    cur = s.scalar(select(Period).where(Period.status == "open"))
    held = lock_holders(s, amounts)
    new = post_transaction(
        s,
        "reversal",
        cur,
        amounts,
        f"reverses transaction {tx.id} ({tx.kind}): {reason}",
        reverses=tx.id,
    )
    apply_amounts(s, held, amounts, f"reversing transaction {tx.id}")
    for m in list(s.scalars(select(StockMove).where(StockMove.transaction_id == tx.id))):
        g = get_good(s, s.scalar(select(Good.code).where(Good.id == m.good_id)) or "", lock=True)
        s.add(
            StockMove(
                good_id=m.good_id,
                period_id=None if cur is None else cur.id,
                kind="return",
                quantity=-m.quantity,
                transaction_id=new.id,
                price=m.price,
            )
        )
        g.stock = g.stock - m.quantity
    s.flush()
    res = posted_result(s, new, amounts)
    remember(s, key, "reverse", digest, res)
    return res
