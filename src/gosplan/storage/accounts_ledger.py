"""The ledger's SQL: accounts, idempotency keys, periods, transactions and postings.

Functions take the caller's :class:`~sqlalchemy.orm.Session` (one transaction) and
return the result types of :mod:`gosplan.labourtime.records`; refusals raise the
errors of :mod:`gosplan.labourtime.errors` before anything is written.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gosplan.labourtime.deduction import Deduction
from gosplan.labourtime.errors import (
    AccountsError,
    AccountsInputError,
    IdempotencyConflict,
    InsufficientHours,
    PeriodClosed,
    UnknownAccount,
    UnknownPeriod,
)
from gosplan.labourtime.records import (
    AccountInfo,
    PeriodInfo,
    Posted,
    to_json,
)
from gosplan.labourtime.units import (
    FUND_PREFIX,
    HOLDING_KINDS,
    check_code,
    to_hours,
)
from gosplan.storage.accounts import (
    Account,
    Good,
    Period,
    Posting,
    Request,
    Transaction,
)

#: a service's hook that appends an event to the public log in the same transaction
Publish = Callable[[str, dict[str, Any]], None]


def at_heads(engine: Engine) -> bool:
    """Whether the store already carries every migration head (so no upgrade is needed)."""
    from alembic.script import ScriptDirectory
    from sqlalchemy import inspect

    from gosplan.storage.base import MIGRATIONS, alembic_config

    if not inspect(engine).has_table("alembic_version"):
        return False
    with engine.connect() as conn:
        have = {r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))}
    cfg = alembic_config(str(engine.url))
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return have == set(ScriptDirectory.from_config(cfg).get_heads())


def retryable(exc: BaseException) -> bool:
    if isinstance(exc, IntegrityError):
        return True  # a concurrent writer used the same key/code: retry sees its row
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlstate", None) in ("40001", "40P01")


def digest_of(kind: str, content: Mapping[str, Any]) -> str:
    text = json.dumps({"kind": kind, **content}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def for_update(stmt: Any, s: Session, *, share: bool = False) -> Any:
    """``FOR UPDATE`` (or ``FOR SHARE``) on PostgreSQL; SQLite already has one writer."""
    if s.get_bind().dialect.name == "sqlite":
        return stmt
    return stmt.with_for_update(read=share)


def get_account(
    s: Session,
    code: str,
    *,
    kind: str | tuple[str, ...] | None = None,
    role: str = "account",
    lock: bool = False,
) -> Account:
    stmt = select(Account).where(Account.code == code)
    if lock:
        stmt = for_update(stmt, s)
    acc = s.scalar(stmt)
    if acc is None:
        raise UnknownAccount(
            f"No account {code!r} ({role}): open it first (`gosplan accounts open`)."
        )
    kinds = (kind,) if isinstance(kind, str) else kind
    if kinds is not None and acc.kind not in kinds:
        raise UnknownAccount(
            f"Account {code!r} is a {acc.kind} account; the {role} must be {' or '.join(kinds)}."
        )
    return acc


def derived_balance(s: Session, account_id: int) -> int:
    return int(
        s.scalar(
            select(func.coalesce(func.sum(Posting.amount), 0)).where(
                Posting.account_id == account_id
            )
        )
        or 0
    )


def balances(s: Session, kind: str, *, derived: bool = False) -> dict[str, Decimal]:
    """Balances of every account of ``kind`` by code: the cached ones of persons and
    funds, or (``derived``, and for the other kinds) the sums of their postings."""
    if kind in HOLDING_KINDS and not derived:
        rows = s.execute(select(Account.code, Account.balance).where(Account.kind == kind))
    else:
        rows = s.execute(
            select(Account.code, func.coalesce(func.sum(Posting.amount), 0))
            .outerjoin(Posting, Posting.account_id == Account.id)
            .where(Account.kind == kind)
            .group_by(Account.code)
        )
    return {str(code): to_hours(int(b or 0)) for code, b in rows}


def account_info(s: Session, a: Account) -> AccountInfo:
    bal = a.balance if a.balance is not None else derived_balance(s, a.id)
    return AccountInfo(code=a.code, kind=a.kind, name=a.name, balance=to_hours(bal))


def open_account(s: Session, code: str, kind: str, name: str) -> AccountInfo:
    check_code(code, "code")
    if kind not in ("person", "enterprise", "fund"):
        raise AccountsInputError(
            f"Account {code!r}: `kind` must be person, enterprise or fund; got {kind!r}."
        )
    if (kind == "fund") != code.startswith(FUND_PREFIX):
        raise AccountsInputError(
            f"Account {code!r}: fund accounts, and only they, are named '{FUND_PREFIX}<fund>'."
        )
    if code.startswith("system:"):
        raise AccountsInputError(f"Account {code!r}: 'system:' codes are reserved.")
    existing = s.scalar(select(Account).where(Account.code == code))
    if existing is not None:
        raise AccountsError(f"Account {code!r} already exists (a {existing.kind} account).")
    acc = Account(
        code=code, kind=kind, name=name or code, balance=0 if kind in HOLDING_KINDS else None
    )
    s.add(acc)
    s.flush()
    return account_info(s, acc)


def system_account(s: Session, code: str) -> Account:
    acc = s.scalar(select(Account).where(Account.code == code))
    if acc is None:
        acc = Account(code=code, kind="system", name=code.split(":", 1)[1], balance=None)
        s.add(acc)
        s.flush()
    return acc


def fund_account(s: Session, fund: str) -> Account:
    code = f"{FUND_PREFIX}{fund}"
    acc = s.scalar(select(Account).where(Account.code == code))
    if acc is None:
        acc = Account(code=code, kind="fund", name=f"social fund: {fund}", balance=0)
        s.add(acc)
        s.flush()
    return acc


# -- idempotency
def check_key(key: Any) -> None:
    if not isinstance(key, str) or not key or len(key) > 128:
        raise AccountsInputError(
            f"Every posting request needs an idempotency `key` of 1–128 characters; got {key!r}."
        )


def claim(
    s: Session, key: str, kind: str, content: Mapping[str, Any]
) -> tuple[str, dict[str, Any] | None]:
    """(digest, stored result or None).  Raises on the same key with different content."""
    check_key(key)
    digest = digest_of(kind, content)
    req = s.get(Request, key)
    if req is None:
        return digest, None
    if req.kind != kind or req.digest != digest:
        raise IdempotencyConflict(
            f"Idempotency key {key!r} was already used for a different request "
            f"({req.kind} at {req.created_at:%Y-%m-%d %H:%M:%S}); nothing was posted. "
            f"Use a new key for a new request."
        )
    return digest, dict(req.result)


def remember(s: Session, key: str, kind: str, digest: str, result: Any) -> None:
    data = to_json(result) if not isinstance(result, dict) else result
    data.pop("replayed", None)
    s.add(Request(key=key, kind=kind, digest=digest, result=data))


# -- periods
def get_period(s: Session, code: str, *, lock: bool = False, share: bool = False) -> Period:
    stmt = select(Period).where(Period.code == code)
    if lock or share:
        stmt = for_update(stmt, s, share=not lock)
    p = s.scalar(stmt)
    if p is None:
        raise UnknownPeriod(f"No period {code!r}: open it first (`gosplan accounts period open`).")
    return p


def require_open(p: Period, what: str) -> None:
    if p.status != "open":
        raise PeriodClosed(
            f"Period {p.code!r} is closed (since {p.closed_at:%Y-%m-%d %H:%M:%S}): "
            f"cannot {what} in it."
        )


def current_open_period(s: Session, what: str, *, lock: bool = True) -> Period:
    # FOR SHARE: a concurrent close waits for this transaction (and vice versa)
    stmt = select(Period).where(Period.status == "open")
    p = s.scalar(for_update(stmt, s, share=True) if lock else stmt)
    if p is None:
        raise UnknownPeriod(f"No period is open: cannot {what}. Open one first.")
    return p


def deduction_of(p: Period) -> Deduction:
    return Deduction.from_json(p.deduction_rate, p.deduction_shares, p.deduction_source)


def period_info(p: Period) -> PeriodInfo:
    return PeriodInfo(
        code=p.code,
        status=p.status,
        deduction=deduction_of(p),
        opened_at=f"{p.opened_at:%Y-%m-%d %H:%M:%S}",
        closed_at=None if p.closed_at is None else f"{p.closed_at:%Y-%m-%d %H:%M:%S}",
        summary=p.summary,
    )


def open_period(s: Session, code: str, deduction: Deduction) -> PeriodInfo:
    check_code(code, "period")
    if not isinstance(deduction, Deduction):
        raise AccountsInputError(
            f"Period {code!r}: `deduction` must be a Deduction; got {type(deduction).__name__}."
        )
    if s.scalar(select(Period).where(Period.code == code)) is not None:
        raise AccountsError(f"Period {code!r} already exists.")
    other = s.scalar(select(Period).where(Period.status == "open"))
    if other is not None:
        raise AccountsError(
            f"Period {other.code!r} is still open: close it before opening {code!r}."
        )
    for fund in deduction.shares:
        fund_account(s, fund)
    stock = {g.code: int(g.stock) for g in s.scalars(select(Good))}
    p = Period(
        code=code,
        status="open",
        deduction_rate=str(deduction.rate),
        deduction_shares={k: str(v) for k, v in deduction.shares.items()},
        deduction_source=deduction.source,
        opening_stock=stock,
    )
    s.add(p)
    s.flush()
    return period_info(p)


def post_transaction(
    s: Session,
    kind: str,
    period: Period | None,
    amounts: Mapping[int, int],
    memo: str,
    *,
    reverses: int | None = None,
) -> Transaction:
    """Insert a transaction and its postings, updating cached balances (rows must be locked)."""
    if sum(amounts.values()) != 0:  # an internal bug, never a user error
        raise AssertionError(f"postings of a {kind} transaction do not sum to zero: {amounts}")
    tx = Transaction(
        kind=kind, period_id=None if period is None else period.id, memo=memo, reverses_id=reverses
    )
    s.add(tx)
    s.flush()
    s.add_all(
        [
            Posting(transaction_id=tx.id, account_id=a, amount=amt)
            for a, amt in amounts.items()
            if amt != 0
        ]
    )
    return tx


def lock_holders(s: Session, ids: Iterable[int]) -> dict[int, Account]:
    """Lock (PostgreSQL) the accounts with these ids, in id order; return them by id."""
    ids = sorted(set(ids))
    stmt = for_update(select(Account).where(Account.id.in_(ids)).order_by(Account.id), s)
    return {a.id: a for a in s.scalars(stmt)}


def apply_amounts(
    s: Session, accounts: Mapping[int, Account], amounts: Mapping[int, int], why: str
) -> None:
    """Add amounts to cached balances, refusing any that would go negative."""
    for aid, amt in amounts.items():
        a = accounts.get(aid)
        if a is None or a.balance is None:
            continue
        new = a.balance + amt
        if new < 0:
            raise InsufficientHours(
                f"Account {a.code!r} holds {to_hours(a.balance)} h; {why} needs "
                f"{to_hours(-amt)} h. No balance may go negative; nothing was posted."
            )
        a.balance = new


def posted_result(s: Session, tx: Transaction, amounts: Mapping[int, int]) -> Posted:
    codes = dict(
        s.execute(select(Account.id, Account.code).where(Account.id.in_(list(amounts)))).all()
    )
    period = (
        None
        if tx.period_id is None
        else s.scalar(select(Period.code).where(Period.id == tx.period_id))
    )
    return Posted(
        transaction_id=tx.id,
        kind=tx.kind,
        period=period,
        postings={codes[a]: to_hours(v) for a, v in amounts.items() if v},
        memo=tx.memo,
    )
