"""The ledger's SQL for work: memberships, hours recorded by enterprises, their approval
or rejection one record at a time, and the rules that keep anyone from crediting themselves.

Rules enforced here (each refusal writes nothing):

* hours are recorded only for a current **member** of the recording enterprise
  (:class:`~gosplan.storage.accounts.Membership`; joining and leaving are events);
* one person's hours in one period, over every enterprise and every record not
  rejected, stay within a **cap** (``max_hours``; ``None``: no cap);
* a record is approved or rejected by someone who is neither the person it credits
  nor the one who recorded it (:class:`~gosplan.labourtime.errors.SeparationOfDuties`);
  a rejection states its reason.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gosplan.labourtime.errors import (
    AccountsError,
    AccountsInputError,
    HoursCapExceeded,
    NotAMember,
    SeparationOfDuties,
)
from gosplan.labourtime.records import Posted, WorkRecord, from_json, to_json
from gosplan.labourtime.units import MAX_HOURS_PER_RECORD, UNIT, to_hours, to_units
from gosplan.storage.accounts import (
    Account,
    Approval,
    Membership,
    Period,
    Rejection,
    Transaction,
    Work,
)
from gosplan.storage.accounts_ledger import (
    Publish,
    apply_amounts,
    claim,
    deduction_of,
    for_update,
    fund_account,
    get_account,
    get_period,
    lock_holders,
    post_transaction,
    posted_result,
    remember,
    require_open,
)

#: the longest name of an actor (recorder, approver) that is kept
ACTOR_MAX = 120


# -- memberships
def is_member(s: Session, enterprise_id: int, person_id: int) -> bool:
    """Whether the latest membership event of the person in the enterprise is a join."""
    last = s.scalar(
        select(Membership.action)
        .where(Membership.enterprise_id == enterprise_id, Membership.person_id == person_id)
        .order_by(Membership.id.desc())
        .limit(1)
    )
    return last == "join"


def change_membership(
    s: Session, enterprise: str, person: str, action: str, by: str, publish: Publish | None = None
) -> bool:
    """Record a person joining or leaving an enterprise; ``False`` if nothing changed."""
    if action not in ("join", "leave"):
        raise AccountsInputError(f"`action` must be join or leave; got {action!r}.")
    by = check_actor(by, "by", f"the membership change of {person!r} in {enterprise!r}")
    ent = get_account(s, enterprise, kind="enterprise", role="enterprise")
    per = get_account(s, person, kind="person", role=f"member of enterprise {enterprise!r}")
    if is_member(s, ent.id, per.id) == (action == "join"):
        return False
    s.add(Membership(enterprise_id=ent.id, person_id=per.id, action=action, by=by))
    s.flush()
    if publish is not None:
        publish(
            "accounts.membership",
            {
                "enterprise": enterprise,
                "member": member_digest(enterprise, person),
                "action": action,
                "by": by,
            },
        )
    return True


def member_digest(enterprise: str, person: str) -> str:
    """What the public log shows of a member: a digest of the enterprise and the person's
    code: the person, knowing their code, can check it; others learn who works where only
    by guessing codes."""
    return hashlib.sha256(f"gosplan-member:{enterprise}:{person}".encode()).hexdigest()[:32]


def members(s: Session, enterprise: str) -> list[str]:
    """Codes of the enterprise's current members, sorted."""
    ent = get_account(s, enterprise, kind="enterprise", role="enterprise")
    rows = s.execute(
        select(Membership.person_id, Membership.action)
        .where(Membership.enterprise_id == ent.id)
        .order_by(Membership.id)
    ).all()
    last: dict[int, str] = {}
    for pid, action in rows:
        last[pid] = action
    ids = [pid for pid, action in last.items() if action == "join"]
    if not ids:
        return []
    return sorted(s.scalars(select(Account.code).where(Account.id.in_(ids))))


def enterprises_of(s: Session, person: str) -> list[str]:
    """Codes of the enterprises the person is a member of now (none for an unknown code)."""
    pid = s.scalar(select(Account.id).where(Account.code == person))
    if pid is None:
        return []
    rows = s.execute(
        select(Membership.enterprise_id, Membership.action)
        .where(Membership.person_id == pid)
        .order_by(Membership.id)
    ).all()
    last: dict[int, str] = {}
    for eid, action in rows:
        last[eid] = action
    ids = [eid for eid, action in last.items() if action == "join"]
    return sorted(s.scalars(select(Account.code).where(Account.id.in_(ids)))) if ids else []


def check_actor(name: Any, field: str, what: str) -> str:
    """An actor's name (who recorded, approved, rejected): non-empty text, trimmed."""
    if not isinstance(name, str) or not name.strip():
        raise AccountsInputError(f"`{field}` is needed for {what}: say who acts.")
    name = name.strip()
    if len(name) > ACTOR_MAX:
        raise AccountsInputError(f"`{field}` for {what} is longer than {ACTOR_MAX} characters.")
    return name


# -- work
def work_record(s: Session, w: Work, replayed: bool = False) -> WorkRecord:
    approval = s.get(Approval, w.id)
    rejection = s.get(Rejection, w.id)
    status, decided_by, reason = "recorded", "", ""
    if approval is not None:
        rev = s.scalar(
            select(Transaction.id).where(Transaction.reverses_id == approval.transaction_id)
        )
        status = "reversed" if rev is not None else "approved"
        decided_by = approval.approver
    elif rejection is not None:
        status, decided_by, reason = "rejected", rejection.rejected_by, rejection.reason
    codes = dict(
        s.execute(
            select(Account.id, Account.code).where(Account.id.in_([w.enterprise_id, w.person_id]))
        ).all()
    )
    period = s.scalar(select(Period.code).where(Period.id == w.period_id)) or ""
    return WorkRecord(
        id=w.id,
        period=period,
        enterprise=codes[w.enterprise_id],
        person=codes[w.person_id],
        hours=to_hours(w.hours),
        status=status,
        replayed=replayed,
        recorded_by=w.recorded_by,
        decided_by=decided_by,
        reason=reason,
    )


def check_hours(
    hours: Any, person: str, enterprise: str, period: str, cap: int = MAX_HOURS_PER_RECORD
) -> int:
    what = f"person {person!r} in enterprise {enterprise!r}, period {period!r}"
    units = to_units(hours, field="hours", what=what)
    if units > cap * UNIT:
        raise AccountsInputError(
            f"`hours` for {what} is {hours}; one record may carry at most {cap} hours."
        )
    return units


def hours_in_period(s: Session, person_id: int, period_id: int) -> int:
    """Micro-hours recorded for a person in a period, over every enterprise, not rejected."""
    return int(
        s.scalar(
            select(func.coalesce(func.sum(Work.hours), 0))
            .outerjoin(Rejection, Rejection.work_id == Work.id)
            .where(
                Work.person_id == person_id,
                Work.period_id == period_id,
                Rejection.work_id.is_(None),
            )
        )
        or 0
    )


def _check_cap(
    s: Session,
    per: Account,
    p: Period,
    units: int,
    max_hours: Decimal | None,
    pending: dict[int, int],
) -> None:
    if max_hours is None:
        return
    before = hours_in_period(s, per.id, p.id) + pending.get(per.id, 0)
    if before + units > max_hours * UNIT:
        raise HoursCapExceeded(
            f"`hours` for person {per.code!r} in period {p.code!r}: {to_hours(units)} h more "
            f"would make {to_hours(before + units)} h, over the cap of {max_hours} h per "
            f"person and period ({to_hours(before)} h already recorded). Nothing was recorded."
        )
    pending[per.id] = pending.get(per.id, 0) + units


def new_work(
    s: Session,
    ent: Account,
    person: str,
    p: Period,
    units: int,
    recorded_by: str,
    max_hours: Decimal | None,
    pending: dict[int, int],
) -> Work:
    """A work record after the membership and cap checks (``pending``: this batch's hours)."""
    per = get_account(s, person, kind="person", role=f"worker of enterprise {ent.code!r}")
    if not is_member(s, ent.id, per.id):
        raise NotAMember(
            f"`person` {person!r} is not a member of enterprise {ent.code!r}: an enterprise "
            f"records hours only for its members (`gosplan accounts member add {ent.code} "
            f"{person}`). Nothing was recorded."
        )
    _check_cap(s, per, p, units, max_hours, pending)
    w = Work(
        period_id=p.id, enterprise_id=ent.id, person_id=per.id, hours=units, recorded_by=recorded_by
    )
    s.add(w)
    return w


def record_hours(
    s: Session,
    enterprise: str,
    person: str,
    period: str,
    hours: Any,
    key: str,
    recorded_by: str,
    max_hours: Decimal | None,
    *,
    max_record: int = MAX_HOURS_PER_RECORD,
) -> WorkRecord:
    return record_hours_many(
        s,
        enterprise,
        period,
        [(person, hours)],
        key,
        recorded_by,
        max_hours,
        single=True,
        max_record=max_record,
    )[0]


def record_hours_many(
    s: Session,
    enterprise: str,
    period: str,
    rows: Sequence[tuple[str, Any]],
    key: str,
    recorded_by: str,
    max_hours: Decimal | None,
    *,
    single: bool = False,
    max_record: int = MAX_HOURS_PER_RECORD,
) -> list[WorkRecord]:
    if not rows:
        raise AccountsInputError(
            f"No hours given for enterprise {enterprise!r}, period {period!r}."
        )
    recorded_by = check_actor(recorded_by, "recorded_by", f"hours of enterprise {enterprise!r}")
    parsed = [
        (str(person), check_hours(h, str(person), enterprise, period, max_record))
        for person, h in rows
    ]
    kind = "work" if single else "work-many"
    content: dict[str, Any] = (
        {"enterprise": enterprise, "person": parsed[0][0], "period": period, "hours": parsed[0][1]}
        if single
        else {"enterprise": enterprise, "period": period, "rows": parsed}
    )
    digest, done = claim(s, key, kind, {**content, "recorded_by": recorded_by})
    if done is not None:
        return (
            [from_json(WorkRecord, done)]
            if single
            else [from_json(WorkRecord, r) for r in done["records"]]
        )
    ent = get_account(s, enterprise, kind="enterprise", role="enterprise recording hours")
    p = get_period(s, period, share=True)
    require_open(
        p,
        f"record hours of {parsed[0][0]!r} for enterprise {enterprise!r}"
        if single
        else f"record hours for enterprise {enterprise!r}",
    )
    pending: dict[int, int] = {}
    from gosplan.storage.accounts_bulk import new_works  # the checks in bulk

    made = new_works(s, ent, parsed, p, recorded_by, max_hours, pending)
    works = list(zip(made, [person for person, _ in parsed], strict=True))
    s.flush()
    recs = [
        WorkRecord(
            id=w.id,
            period=p.code,
            enterprise=ent.code,
            person=person,
            hours=to_hours(w.hours),
            status="recorded",
            recorded_by=recorded_by,
        )
        for w, person in works
    ]
    remember(s, key, kind, digest, recs[0] if single else {"records": [to_json(r) for r in recs]})
    return recs


def work_records(s: Session, period: str, enterprise: str | None) -> list[WorkRecord]:
    p = get_period(s, period)
    stmt = select(Work).where(Work.period_id == p.id).order_by(Work.id)
    if enterprise is not None:
        stmt = stmt.where(Work.enterprise_id == get_account(s, enterprise, kind="enterprise").id)
    return [work_record(s, w) for w in s.scalars(stmt)]


def work_by_id(s: Session, work_id: Any, *, lock: bool = False) -> Work:
    try:
        wid = int(work_id)
    except (TypeError, ValueError):
        raise AccountsInputError(
            f"`record` must be a work record's number; got {work_id!r}."
        ) from None
    w = s.scalar(
        for_update(select(Work).where(Work.id == wid), s)
        if lock
        else select(Work).where(Work.id == wid)
    )
    if w is None:
        raise AccountsError(f"No work record {wid}.")
    return w


def _check_separation(
    s: Session, works: Iterable[Work], actor: str, actor_account: str | None, verb: str
) -> None:
    """Refuse if ``actor`` recorded any of ``works`` or any of them credits the actor."""
    codes = dict(s.execute(select(Account.id, Account.code)).all())
    own = [w.id for w in works if codes.get(w.person_id) in {actor, actor_account}]
    mine = [w.id for w in works if w.recorded_by and w.recorded_by == actor]
    if own:
        raise SeparationOfDuties(
            f"{actor!r} cannot {verb} work record(s) {own}: they credit {actor!r} "
            f"({actor_account or actor}); nobody decides on their own hours. Nothing was "
            f"{verb}d."
        )
    if mine:
        raise SeparationOfDuties(
            f"{actor!r} cannot {verb} work record(s) {mine}: {actor!r} recorded them; the one "
            f"who records hours does not also {verb} them. Nothing was {verb}d."
        )


def _undecided(s: Session, w: Work) -> None:
    if s.get(Approval, w.id) is not None:
        raise AccountsError(f"Work record {w.id} is already approved.")
    if s.get(Rejection, w.id) is not None:
        raise AccountsError(f"Work record {w.id} was rejected; it cannot be decided again.")


def credit_works(
    s: Session, ent_id: int, p: Period, works: Sequence[Work], approver: str
) -> Posted:
    """One ``work`` transaction crediting the persons and funds for ``works`` (all pending)."""
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
    amounts[ent_id] = amounts.get(ent_id, 0) - total
    held = lock_holders(s, [a for a in amounts if a != ent_id])
    ent_code = s.scalar(select(Account.code).where(Account.id == ent_id)) or ""
    ids = ", ".join(str(w.id) for w in works)
    people = len({w.person_id for w in works})
    # the transaction's memo speaks of the whole approval (every member's hours together);
    # a person's statement shows their own hours beside it (``StatementLine.gross``)
    memo = (
        f"approval in {ent_code}: {to_hours(total).normalize():f} h in total by "
        f"{people} member(s) ({len(works)} record(s): {ids}), deduction {ded.rate * 100:.4f}%"
    )
    tx = post_transaction(s, "work", p, amounts, memo)
    apply_amounts(s, held, amounts, f"approval for {ent_code!r}")
    s.add_all([Approval(work_id=w.id, transaction_id=tx.id, approver=approver) for w in works])
    s.flush()
    return posted_result(s, tx, amounts)


def approve_record(
    s: Session,
    work_id: Any,
    key: str,
    approver: str,
    approver_account: str | None,
    publish: Publish | None = None,
) -> Posted:
    """Approve one work record: credit its person and the funds (a ``work`` transaction)."""
    approver = check_actor(approver, "approver", f"work record {work_id}")
    digest, done = claim(
        s,
        key,
        "approve-one",
        {"record": str(work_id), "approver": approver, "account": approver_account},
    )
    if done is not None:
        return from_json(Posted, done)
    w = work_by_id(s, work_id, lock=True)
    p = get_period(
        s, s.scalar(select(Period.code).where(Period.id == w.period_id)) or "", lock=True
    )
    require_open(p, f"approve work record {w.id}")
    _undecided(s, w)
    _check_separation(s, [w], approver, approver_account, "approve")
    res = credit_works(s, w.enterprise_id, p, [w], approver)
    remember(s, key, "approve-one", digest, res)
    if publish is not None:
        rec = work_record(s, w)
        publish(
            "accounts.hours_approved",
            {
                "record": w.id,
                "enterprise": rec.enterprise,
                "period": p.code,
                "hours": str(rec.hours),
                "recorded_by": w.recorded_by,
                "approved_by": approver,
                "transaction": res.transaction_id,
            },
        )
    return res


def reject_record(
    s: Session,
    work_id: Any,
    key: str,
    by: str,
    by_account: str | None,
    reason: str,
    publish: Publish | None = None,
) -> WorkRecord:
    """Reject one work record with a reason: it is never credited and counts toward no cap."""
    by = check_actor(by, "by", f"rejecting work record {work_id}")
    if not isinstance(reason, str) or not reason.strip():
        raise AccountsInputError(
            f"`reason` is needed to reject work record {work_id}: it is "
            "kept for good and shown to the enterprise."
        )
    digest, done = claim(
        s, key, "reject", {"record": str(work_id), "by": by, "reason": reason.strip()}
    )
    if done is not None:
        return from_json(WorkRecord, done)
    w = work_by_id(s, work_id, lock=True)
    p = get_period(
        s, s.scalar(select(Period.code).where(Period.id == w.period_id)) or "", share=True
    )
    require_open(p, f"reject work record {w.id}")
    _undecided(s, w)
    _check_separation(s, [w], by, by_account, "reject")
    s.add(Rejection(work_id=w.id, rejected_by=by, reason=reason.strip()[:2000]))
    s.flush()
    rec = work_record(s, w)
    remember(s, key, "reject", digest, rec)
    if publish is not None:
        publish(
            "accounts.hours_rejected",
            {
                "record": w.id,
                "enterprise": rec.enterprise,
                "period": p.code,
                "hours": str(rec.hours),
                "recorded_by": w.recorded_by,
                "rejected_by": by,
                "reason": rec.reason,
            },
        )
    return rec


def approve_enterprise(
    s: Session,
    enterprise: str,
    period: str,
    key: str,
    approver: str,
    approver_account: str | None = None,
    publish: Publish | None = None,
) -> Posted:
    """Approve every pending record of an enterprise in a period, in one transaction.

    The same separation of duties as :func:`approve_record`: if the approver recorded
    any of them or any credits the approver, nothing is approved."""
    approver = check_actor(approver, "approver", f"hours of enterprise {enterprise!r}")
    digest, done = claim(
        s, key, "approve", {"enterprise": enterprise, "period": period, "approver": approver}
    )
    if done is not None:
        return from_json(Posted, done)
    ent = get_account(s, enterprise, kind="enterprise", role="enterprise whose hours are approved")
    p = get_period(s, period, lock=True)
    require_open(p, f"approve hours of enterprise {enterprise!r}")
    works = list(
        s.scalars(
            select(Work)
            .outerjoin(Approval, Approval.work_id == Work.id)
            .outerjoin(Rejection, Rejection.work_id == Work.id)
            .where(
                Work.period_id == p.id,
                Work.enterprise_id == ent.id,
                Approval.work_id.is_(None),
                Rejection.work_id.is_(None),
            )
            .order_by(Work.id)
        )
    )
    if not works:
        raise AccountsError(
            f"Enterprise {enterprise!r} has no recorded hours awaiting approval in period "
            f"{period!r}."
        )
    _check_separation(s, works, approver, approver_account, "approve")
    res = credit_works(s, ent.id, p, works, approver)
    remember(s, key, "approve", digest, res)
    if publish is not None:
        publish(
            "accounts.hours_approved",
            {
                "records": [w.id for w in works],
                "enterprise": enterprise,
                "period": p.code,
                "hours": str(to_hours(sum(w.hours for w in works))),
                "approved_by": approver,
                "transaction": res.transaction_id,
            },
        )
    return res
