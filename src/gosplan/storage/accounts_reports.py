"""The ledger's SQL for reports: statements, totals, sales per good, integrity, closing a period."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.orm import Session, aliased

from gosplan.labourtime.deduction import Deduction
from gosplan.labourtime.errors import (
    AccountsError,
)
from gosplan.labourtime.feedback import FeedbackReport, clearing_ratio, target_factor
from gosplan.labourtime.records import (
    PeriodInfo,
    Statement,
    StatementLine,
)
from gosplan.labourtime.units import (
    CANCELLED,
    HOLDING_KINDS,
    price_units,
    to_hours,
)
from gosplan.storage.accounts import (
    Account,
    Approval,
    Good,
    Period,
    Posting,
    Rejection,
    StockMove,
    Transaction,
    Work,
    utcnow,
)
from gosplan.storage.accounts_ledger import (
    Publish,
    account_info,
    deduction_of,
    get_account,
    get_period,
    period_info,
    require_open,
)


# -- reports
def account_statement(s: Session, code: str) -> Statement:
    return account_statement_and_period(s, code)[0]


def account_statement_and_period(s: Session, code: str) -> tuple[Statement, PeriodInfo | None]:
    """The account's statement and the open period (None if none is open), in one
    transaction."""
    acc = get_account(s, code)
    rows = s.execute(
        select(
            Transaction.id,
            Transaction.created_at,
            Transaction.kind,
            Transaction.memo,
            Posting.amount,
            Period.code,
            Period.deduction_rate,
            Period.deduction_shares,
            Period.deduction_source,
        )
        .join(Posting, Posting.transaction_id == Transaction.id)
        .outerjoin(Period, Period.id == Transaction.period_id)
        .where(Posting.account_id == acc.id)
        .order_by(Transaction.id, Posting.id)
    ).all()
    lines: list[StatementLine] = []
    deductions: dict[str, Deduction] = {}
    running = 0
    own = _own_work(s, acc.id) if acc.kind == "person" else {}
    for tid, at, kind, memo, amount, pcode, rate, shares, source in rows:
        running += amount
        ded = None
        if pcode is not None:
            ded = deductions.get(pcode) or Deduction.from_json(rate, shares, source)
            deductions[pcode] = ded
        work = own.get(tid)
        gross: Decimal | None = None
        deducted: dict[str, Decimal] = {}
        ent: tuple[str, str] | None = None
        if work is not None and ded is not None:
            sign, hours, ent = work
            funds: dict[str, int] = {}
            for h in hours:
                for f, part in ded.split(h)[1].items():
                    funds[f] = funds.get(f, 0) + part
            gross = to_hours(sign * sum(hours))
            deducted = {f: to_hours(sign * x) for f, x in sorted(funds.items())}
        lines.append(
            StatementLine(
                transaction_id=tid,
                posted_at=f"{at:%Y-%m-%d %H:%M:%S}",
                period=pcode,
                kind=kind,
                memo=memo,
                amount=to_hours(amount),
                balance=to_hours(running),
                deduction_rate=None if ded is None else ded.rate,
                deduction_shares="" if ded is None else ded.shares_text(),
                gross=gross,
                deducted=deducted,
                enterprise=None if ent is None else ent[0],
                enterprise_name="" if ent is None else ent[1],
            )
        )
    cur = s.scalar(select(Period).where(Period.status == "open"))
    if cur is not None and cur.code not in deductions:
        deductions[cur.code] = deduction_of(cur)
    st = Statement(account=account_info(s, acc), lines=lines, deductions=deductions)
    return st, None if cur is None else period_info(cur)


def _own_work(s: Session, person_id: int) -> dict[int, tuple[int, list[int], tuple[str, str]]]:
    """The person's own approved work by transaction: {transaction: (sign, [micro-hours of
    each of their records], (enterprise code, name))}; a reversal of an approval gets the
    same records with sign −1."""
    ent = aliased(Account)
    rev = aliased(Transaction)
    # the reversals of the approvals with them: one round trip
    rows = s.execute(
        select(Approval.transaction_id, Work.id, Work.hours, ent.code, ent.name, rev.id)
        .join(Work, Work.id == Approval.work_id)
        .join(ent, ent.id == Work.enterprise_id)
        .outerjoin(rev, rev.reverses_id == Approval.transaction_id)
        .where(Work.person_id == person_id)
        .order_by(Work.id, rev.id)
    ).all()
    out: dict[int, tuple[int, list[int], tuple[str, str]]] = {}
    seen: set[tuple[int, int]] = set()
    reversals: dict[int, int] = {}
    for tid, wid, hours, code, name, rid in rows:
        if (int(tid), int(wid)) not in seen:
            seen.add((int(tid), int(wid)))
            out.setdefault(int(tid), (1, [], (code, name or code)))[1].append(int(hours))
        if rid is not None:
            reversals[int(rid)] = int(tid)
    for rid, orig in reversals.items():
        _, own, e = out[orig]
        out[rid] = (-1, own, e)
    return out


def period_totals(s: Session, period: str | None) -> dict[str, Decimal]:
    pid = None if period is None else get_period(s, period).id

    def in_period(stmt: Any, col: Any) -> Any:
        return stmt if pid is None else stmt.where(col == pid)

    reversed_ids = select(Transaction.reverses_id).where(Transaction.reverses_id.is_not(None))
    approved = (
        s.scalar(
            in_period(
                select(func.coalesce(func.sum(Work.hours), 0))
                .join(Approval, Approval.work_id == Work.id)
                .where(Approval.transaction_id.not_in(reversed_ids)),
                Work.period_id,
            )
        )
        or 0
    )
    orig = aliased(Transaction)

    def credited(kind: str) -> int:
        # postings of approvals, and of reversals of approvals, to accounts of this kind
        stmt = (
            select(func.coalesce(func.sum(Posting.amount), 0))
            .join(Transaction, Transaction.id == Posting.transaction_id)
            .join(Account, Account.id == Posting.account_id)
            .outerjoin(orig, orig.id == Transaction.reverses_id)
            .where(
                Account.kind == kind,
                or_(
                    Transaction.kind == "work",
                    and_(Transaction.kind == "reversal", orig.kind == "work"),
                ),
            )
        )
        if pid is not None:
            stmt = stmt.where(Transaction.period_id == pid)
        return int(s.scalar(stmt) or 0)

    cancelled = 0
    sink = s.scalar(select(Account.id).where(Account.code == CANCELLED))
    if sink is not None:
        stmt = (
            select(func.coalesce(func.sum(Posting.amount), 0))
            .join(Transaction, Transaction.id == Posting.transaction_id)
            .where(Posting.account_id == sink)
        )
        cancelled = int(s.scalar(in_period(stmt, Transaction.period_id)) or 0)
    sales = int(
        s.scalar(
            in_period(
                select(func.coalesce(func.sum(-StockMove.quantity * StockMove.price), 0)).where(
                    StockMove.kind.in_(("sale", "return"))
                ),
                StockMove.period_id,
            )
        )
        or 0
    )
    return {
        "approved": to_hours(int(approved)),
        "credited_persons": to_hours(credited("person")),
        "credited_funds": to_hours(credited("fund")),
        "cancelled": to_hours(cancelled),
        "sales_at_price": to_hours(sales),
    }


def period_goods(s: Session, p: Period) -> dict[str, dict[str, int]]:
    moves = s.execute(
        select(Good.code, StockMove.kind, func.sum(StockMove.quantity))
        .join(Good, Good.id == StockMove.good_id)
        .where(StockMove.period_id == p.id)
        .group_by(Good.code, StockMove.kind)
    ).all()
    out: dict[str, dict[str, int]] = {}
    for code, ratio in s.execute(select(Good.code, Good.ratio)):
        out[code] = {
            "opening": int(p.opening_stock.get(code, 0)),
            "delivered": 0,
            "sold": 0,
            "ratio": ratio,  # type: ignore[dict-item]
        }
    for code, kind, q in moves:
        row = out[code]
        if kind == "delivery":
            row["delivered"] += int(q)
        else:
            row["sold"] -= int(q)  # sales are negative, returns positive
    for row in out.values():
        row["closing"] = row["opening"] + row["delivered"] - row["sold"]
    return out


def feedback_report(s: Session, period: str, e: float, st: float, step: float) -> FeedbackReport:
    p = get_period(s, period)
    if p.summary is not None:
        goods = dict(p.summary["goods"])  # type: ignore[call-overload]
    else:
        goods = period_goods(s, p)
    meta = {g.code: g for g in s.scalars(select(Good))}
    rows = []
    for code, row in sorted(goods.items()):
        g = meta.get(code)
        ratio = float(row.get("ratio", g.ratio if g else 1))
        available = row["opening"] + row["delivered"]
        clear, censored = clearing_ratio(
            ratio, row["sold"], available, elasticity=e, target_sell_through=st, max_step=step
        )
        rows.append(
            {
                "good": code,
                "product": None if g is None else g.product,
                "labour_value": None if g is None else float(g.labour_value),
                "ratio": ratio,
                "opening": row["opening"],
                "delivered": row["delivered"],
                "available": available,
                "sold": row["sold"],
                "closing": row["closing"],
                "sell_through": row["sold"] / available if available else float("nan"),
                "clearing_ratio": clear,
                "censored": censored,
                "target_factor": target_factor(clear, elasticity=e),
            }
        )
    cols = [
        "good",
        "product",
        "labour_value",
        "ratio",
        "opening",
        "delivered",
        "available",
        "sold",
        "closing",
        "sell_through",
        "clearing_ratio",
        "censored",
        "target_factor",
    ]
    table = pd.DataFrame(rows, columns=cols).set_index("good")
    return FeedbackReport(
        period=p.code, elasticity=e, target_sell_through=st, max_step=step, table=table
    )


def check_integrity(s: Session) -> list[str]:
    problems: list[str] = []
    for tid, total in s.execute(
        select(Posting.transaction_id, func.sum(Posting.amount))
        .group_by(Posting.transaction_id)
        .having(func.sum(Posting.amount) != 0)
    ):
        problems.append(f"transaction {tid}: postings sum to {to_hours(int(total))} h, not 0")
    sums = dict(
        s.execute(
            select(Posting.account_id, func.sum(Posting.amount)).group_by(Posting.account_id)
        ).all()
    )
    for a in s.scalars(select(Account)):
        derived = int(sums.get(a.id, 0))
        if a.balance is not None and a.balance != derived:
            problems.append(
                f"account {a.code!r}: cached balance {to_hours(a.balance)} h "
                f"differs from its postings' sum {to_hours(derived)} h"
            )
        if a.kind in HOLDING_KINDS and derived < 0:
            problems.append(f"account {a.code!r}: negative balance {to_hours(derived)} h")
        if a.kind == "enterprise" and derived > 0:
            problems.append(f"enterprise {a.code!r} was credited {to_hours(derived)} h")
    stock = dict(
        s.execute(
            select(StockMove.good_id, func.sum(StockMove.quantity)).group_by(StockMove.good_id)
        ).all()
    )
    for g in s.scalars(select(Good)):
        if g.stock != int(stock.get(g.id, 0)):
            problems.append(
                f"good {g.code!r}: cached stock {g.stock} differs from its moves' "
                f"sum {int(stock.get(g.id, 0))}"
            )
        if g.stock < 0:
            problems.append(f"good {g.code!r}: negative stock {g.stock}")
        if g.price != price_units(Decimal(g.labour_value), Decimal(g.ratio)):
            problems.append(f"good {g.code!r}: cached price differs from value × ratio")
    return problems


def close_period(s: Session, code: str, publish: Publish | None = None) -> PeriodInfo:
    if s.get_bind().dialect.name == "postgresql":
        # purchases change a good's row first and read the period after: holding SHARE on
        # the goods makes every purchase either finish before the close or see it closed
        s.execute(text("LOCK TABLE acct_good IN SHARE MODE"))
    p = get_period(s, code, lock=True)
    require_open(p, "close it again")
    pending = s.execute(
        select(Account.code, func.count(Work.id), func.sum(Work.hours))
        .join(Account, Account.id == Work.enterprise_id)
        .outerjoin(Approval, Approval.work_id == Work.id)
        .outerjoin(Rejection, Rejection.work_id == Work.id)
        .where(Work.period_id == p.id, Approval.work_id.is_(None), Rejection.work_id.is_(None))
        .group_by(Account.code)
        .order_by(Account.code)
    ).all()
    if pending:
        detail = "; ".join(f"{e}: {n} record(s), {to_hours(int(h))} h" for e, n, h in pending)
        raise AccountsError(
            f"Period {code!r} cannot be closed: hours await approval ({detail}). "
            f"Approve or reject them first (`gosplan accounts approve` / `reject`)."
        )
    totals = period_totals(s, code)
    goods = period_goods(s, p)
    p.summary = {
        "totals_hours": {k: str(v) for k, v in totals.items()},
        "goods": goods,
        "deduction": {"rate": p.deduction_rate, "shares": p.deduction_shares},
    }
    p.status = "closed"
    p.closed_at = utcnow()
    s.flush()
    if publish is not None:
        publish("accounts.period_closed", {"period": code, **p.summary})
    return period_info(p)


def credited_hours(s: Session, period: str) -> dict[str, int]:
    """Micro-hours of approved, unreversed work per enterprise code in an accounting period."""
    p = get_period(s, period)
    reversed_ids = select(Transaction.reverses_id).where(Transaction.reverses_id.is_not(None))
    rows = s.execute(
        select(Account.code, func.sum(Work.hours))
        .join(Account, Account.id == Work.enterprise_id)
        .join(Approval, Approval.work_id == Work.id)
        .where(Work.period_id == p.id, Approval.transaction_id.not_in(reversed_ids))
        .group_by(Account.code)
    ).all()
    return {str(code): int(h or 0) for code, h in rows}


def reported_hours(s: Session, start: dt.date, end: dt.date) -> dict[str, float]:
    """Hours enterprises reported in their fulfilment reports for periods in ``[start, end)``
    (the latest version of each report), by enterprise code."""
    from gosplan.storage.fulfilment import FulEnterprise, FulReport

    latest = (
        select(FulReport.enterprise_id, FulReport.period, func.max(FulReport.version).label("v"))
        .where(FulReport.period >= start, FulReport.period < end)
        .group_by(FulReport.enterprise_id, FulReport.period)
        .subquery()
    )
    rows = s.execute(
        select(FulEnterprise.code, func.sum(FulReport.hours))
        .join(FulReport, FulReport.enterprise_id == FulEnterprise.id)
        .join(
            latest,
            (latest.c.enterprise_id == FulReport.enterprise_id)
            & (latest.c.period == FulReport.period)
            & (latest.c.v == FulReport.version),
        )
        .group_by(FulEnterprise.code)
    ).all()
    return {str(code): float(h or 0.0) for code, h in rows}
