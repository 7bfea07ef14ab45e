"""The ledger's SQL for work: hours recorded by enterprises, and their approval."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gosplan.labourtime.errors import (
    AccountsError,
    AccountsInputError,
)
from gosplan.labourtime.records import (
    Posted,
    WorkRecord,
    from_json,
    to_json,
)
from gosplan.labourtime.units import (
    MAX_HOURS_PER_RECORD,
    UNIT,
    to_hours,
    to_units,
)
from gosplan.storage.accounts import (
    Account,
    Approval,
    Period,
    Transaction,
    Work,
)
from gosplan.storage.accounts_ledger import (
    apply_amounts,
    claim,
    deduction_of,
    fund_account,
    get_account,
    get_period,
    lock_holders,
    post_transaction,
    posted_result,
    remember,
    require_open,
)


# -- work
def work_record(s: Session, w: Work, replayed: bool = False) -> WorkRecord:
    approval = s.get(Approval, w.id)
    status = "recorded"
    if approval is not None:
        rev = s.scalar(select(Transaction.id).where(
            Transaction.reverses_id == approval.transaction_id))
        status = "reversed" if rev is not None else "approved"
    codes = dict(s.execute(select(Account.id, Account.code).where(
        Account.id.in_([w.enterprise_id, w.person_id]))).all())
    period = s.scalar(select(Period.code).where(Period.id == w.period_id)) or ""
    return WorkRecord(id=w.id, period=period, enterprise=codes[w.enterprise_id],
                      person=codes[w.person_id], hours=to_hours(w.hours), status=status,
                      replayed=replayed)


def check_hours(hours: Any, person: str, enterprise: str, period: str) -> int:
    what = f"person {person!r} in enterprise {enterprise!r}, period {period!r}"
    units = to_units(hours, field="hours", what=what)
    if units > MAX_HOURS_PER_RECORD * UNIT:
        raise AccountsInputError(
            f"`hours` for {what} is {hours}; one record may carry at most "
            f"{MAX_HOURS_PER_RECORD} hours.")
    return units


def new_work(s: Session, ent: Account, person: str, p: Period, units: int) -> Work:
    per = get_account(s, person, kind="person", role=f"worker of enterprise {ent.code!r}")
    w = Work(period_id=p.id, enterprise_id=ent.id, person_id=per.id, hours=units)
    s.add(w)
    return w


def record_hours(s: Session, enterprise: str, person: str, period: str, hours: Any,
                  key: str) -> WorkRecord:
    units = check_hours(hours, person, enterprise, period)
    digest, done = claim(s, key, "work", {"enterprise": enterprise, "person": person,
                                          "period": period, "hours": units})
    if done is not None:
        return from_json(WorkRecord, done)
    ent = get_account(s, enterprise, kind="enterprise", role="enterprise recording hours")
    p = get_period(s, period, share=True)
    require_open(p, f"record hours of {person!r} for enterprise {enterprise!r}")
    w = new_work(s, ent, person, p, units)
    s.flush()
    rec = WorkRecord(id=w.id, period=p.code, enterprise=ent.code, person=person,
                     hours=to_hours(units), status="recorded")
    remember(s, key, "work", digest, rec)
    return rec


def record_hours_many(s: Session, enterprise: str, period: str,
                       rows: Sequence[tuple[str, Any]], key: str) -> list[WorkRecord]:
    if not rows:
        raise AccountsInputError(
            f"No hours given for enterprise {enterprise!r}, period {period!r}.")
    parsed = [(str(person), check_hours(h, str(person), enterprise, period))
              for person, h in rows]
    digest, done = claim(s, key, "work-many", {"enterprise": enterprise, "period": period,
                                               "rows": parsed})
    if done is not None:
        return [from_json(WorkRecord, r) for r in done["records"]]
    ent = get_account(s, enterprise, kind="enterprise", role="enterprise recording hours")
    p = get_period(s, period, share=True)
    require_open(p, f"record hours for enterprise {enterprise!r}")
    works = [(new_work(s, ent, person, p, units), person) for person, units in parsed]
    s.flush()
    recs = [WorkRecord(id=w.id, period=p.code, enterprise=ent.code, person=person,
                       hours=to_hours(w.hours), status="recorded") for w, person in works]
    remember(s, key, "work-many", digest, {"records": [to_json(r) for r in recs]})
    return recs


def work_records(s: Session, period: str, enterprise: str | None) -> list[WorkRecord]:
    p = get_period(s, period)
    stmt = select(Work).where(Work.period_id == p.id).order_by(Work.id)
    if enterprise is not None:
        stmt = stmt.where(Work.enterprise_id == get_account(s, enterprise, kind="enterprise").id)
    return [work_record(s, w) for w in s.scalars(stmt)]


def approve_enterprise(s: Session, enterprise: str, period: str, key: str, approver: str) -> Posted:
    digest, done = claim(s, key, "approve", {"enterprise": enterprise, "period": period,
                                             "approver": approver})
    if done is not None:
        return from_json(Posted, done)
    ent = get_account(s, enterprise, kind="enterprise", role="enterprise whose hours are approved")
    p = get_period(s, period, lock=True)
    require_open(p, f"approve hours of enterprise {enterprise!r}")
    works = list(s.scalars(
        select(Work).outerjoin(Approval, Approval.work_id == Work.id)
        .where(Work.period_id == p.id, Work.enterprise_id == ent.id,
               Approval.work_id.is_(None)).order_by(Work.id)))
    if not works:
        raise AccountsError(
            f"Enterprise {enterprise!r} has no recorded hours awaiting approval in period "
            f"{period!r}.")
    ded = deduction_of(p)
    funds = {f: fund_account(s, f).id for f in ded.shares}
    amounts: dict[int, int] = {}
    total = 0
    for w in works:
        person_part, fund_parts = ded.split(w.hours)
        amounts[w.person_id] = amounts.get(w.person_id, 0) + person_part
        for f, part in fund_parts.items():
            amounts[funds[f]] = amounts.get(funds[f], 0) + part
        total += w.hours
    amounts[ent.id] = -total
    held = lock_holders(s, [a for a in amounts if a != ent.id])
    memo = (f"{to_hours(total).normalize():f} h worked in {ent.code} approved "
            f"({len(works)} record(s)), deduction {ded.rate * 100:.4f}%")
    tx = post_transaction(s, "work", p, amounts, memo)
    apply_amounts(s, held, amounts, f"approval for {enterprise!r}")
    s.add_all([Approval(work_id=w.id, transaction_id=tx.id, approver=approver) for w in works])
    s.flush()
    res = posted_result(s, tx, amounts)
    remember(s, key, "approve", digest, res)
    return res


