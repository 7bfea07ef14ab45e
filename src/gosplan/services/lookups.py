"""Who and what can be named in the faces: criticism targets, enterprises, people with accounts.

Read-only look-ups over the other areas' tables, so that the web routes
never build queries themselves.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gosplan.storage.control import Criticism, Person, Unit
from gosplan.storage.decisions import Ballot, Comment, Proposal
from gosplan.storage.users import User


@dataclass(frozen=True)
class Named:
    id: str
    name: str


def account_names(session: Session, kind: str) -> list[Named]:
    """Every account of ``kind`` by code, with its name (no balances: one query)."""
    from gosplan.storage.accounts import Account

    rows = session.execute(
        select(Account.code, Account.name).where(Account.kind == kind).order_by(Account.code)
    )
    return [Named(code, name) for code, name in rows]


def account_kinds_and_names(session: Session, codes: list[str]) -> dict[str, tuple[str, str]]:
    """``{code: (kind, name)}`` of the accounts among ``codes`` that exist (one query)."""
    from gosplan.storage.accounts import Account

    if not codes:
        return {}
    rows = session.execute(
        select(Account.code, Account.kind, Account.name).where(Account.code.in_(codes))
    )
    return {code: (kind, name) for code, kind, name in rows}


def criticism_targets(session: Session) -> dict[str, list[Named]]:
    """Officials, enterprises and decisions on record, by criticism target kind."""
    return {
        "official": [
            Named(p.id, p.name) for p in session.scalars(select(Person).order_by(Person.id))
        ],
        "enterprise": [
            Named(u.id, u.name) for u in session.scalars(select(Unit).order_by(Unit.id))
        ],
        "decision": [
            Named(str(p.id), p.title)
            for p in session.scalars(select(Proposal).order_by(Proposal.id))
        ],
    }


def unit_name(session: Session, unit: str) -> str | None:
    u = session.get(Unit, unit)
    return None if u is None else u.name


def delegates_of(session: Session, enterprise: str) -> list[User]:
    """Users who speak for ``enterprise`` (delegates linked to it)."""
    return list(
        session.scalars(
            select(User)
            .where(User.enterprise == enterprise, User.role == "delegate")
            .order_by(User.username)
        )
    )


def link_user(
    session: Session, username: str, *, account: str | None = None, enterprise: str | None = None
) -> User:
    """Link a user to their labour account and/or the enterprise they speak for."""
    from gosplan.errors import ValidationError

    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise ValidationError(f"no user {username!r} to link.")
    if account is not None:
        user.account = account
    if enterprise is not None:
        user.enterprise = enterprise
    session.flush()
    return user


# --------------------------------------------------------------------------- decisions
def proposals(session: Session) -> list[tuple[Proposal, int]]:
    """Every proposal, newest first, with its number of ballots."""
    counts = dict(
        session.execute(select(Ballot.proposal_id, func.count()).group_by(Ballot.proposal_id)).all()
    )
    return [
        (p, int(counts.get(p.id, 0)))
        for p in session.scalars(select(Proposal).order_by(Proposal.id.desc()))
    ]


def comments(session: Session, proposal_id: int) -> list[tuple[Comment, str]]:
    return [
        (c, name)
        for c, name in session.execute(
            select(Comment, User.display_name)
            .join(User, Comment.author_id == User.id)
            .where(Comment.proposal_id == proposal_id)
            .order_by(Comment.id)
        ).all()
    ]


def ballots(session: Session, proposal_id: int) -> list[list[int]]:
    return [
        list(b)
        for b in session.scalars(
            select(Ballot.choice).where(Ballot.proposal_id == proposal_id).order_by(Ballot.id)
        )
    ]


def voted_in(session: Session, user_id: int) -> frozenset[int]:
    """The proposals ``user_id`` has cast a ballot on (one query)."""
    return frozenset(
        int(x)
        for x in session.scalars(select(Ballot.proposal_id).where(Ballot.voter_id == user_id))
    )


def has_voted(session: Session, proposal_id: int, user_id: int) -> bool:
    return (
        session.scalar(
            select(Ballot.id).where(Ballot.proposal_id == proposal_id, Ballot.voter_id == user_id)
        )
        is not None
    )


# --------------------------------------------------------------------------- fulfilment
@dataclass(frozen=True)
class PeriodFulfilment:
    period: str
    plan: float
    output: float | None
    hours: float | None
    fulfilment: float | None  # output / plan


@dataclass(frozen=True)
class EnterpriseFulfilment:
    code: str
    sector: str
    plan_name: str
    freq: str
    output_unit: str
    periods: list[PeriodFulfilment]
    open_periods: list[str]  # started periods, for the report form


#: (store, fingerprint) -> (register, reports): the newest only, per process (issue 16)
_REGISTER_CACHE: dict[tuple[str, tuple[Any, ...]], tuple[Any, Any]] = {}
_REGISTER_LOCK = threading.Lock()


def _register_and_reports(session: Session) -> tuple[Any, Any]:
    """The fulfilment register and the newest reports, as the checks read them, remembered
    per process under the store's register fingerprint (the newest id of every table they
    come from; rows are only added). Loading them is most of an enterprise page's cost
    (0.6 s of pandas on the default economy); checking the fingerprint is one round trip, so
    a report or a plan stored by any process shows on the next page in every process."""
    from gosplan.services.fulfilment import store as ful
    from gosplan.storage import fulfilment as repo

    key = (str(session.get_bind().engine.url), repo.register_fingerprint(session))
    with _REGISTER_LOCK:
        got = _REGISTER_CACHE.get(key)
    if got is not None:
        return got
    reg = ful.load_register(session)
    reports, _ = ful.load_reports(session, reg)
    with _REGISTER_LOCK:
        for old in [k for k in _REGISTER_CACHE if k[0] == key[0]]:
            del _REGISTER_CACHE[old]
        _REGISTER_CACHE[key] = (reg, reports)
    return reg, reports


def enterprise_fulfilment(
    session: Session, code: str, now: dt.datetime
) -> EnterpriseFulfilment | None:
    """Plan against reported output for each started period of the current fulfilment plan,
    or None when the enterprise is not in the fulfilment register (or no plan is stored)."""
    import numpy as np

    from gosplan.errors import ValidationError

    try:
        reg, reports = _register_and_reports(session)
    except ValidationError:
        return None
    row = reg.row_of.get(code)
    if row is None:
        return None
    mine = reports[reports["enterprise"] == row]
    outputs = dict(zip(mine["period"].astype(int), mine["output"].astype(float), strict=True))
    hours = dict(zip(mine["period"].astype(int), mine["hours"].astype(float), strict=True))
    pop = reg.population
    rows = []
    started = [t for t, start in enumerate(pop.periods) if start.to_pydatetime() <= now]
    for t in started:
        plan = float(pop.plan[row, t])
        out, hrs = outputs.get(t), hours.get(t)
        rows.append(
            PeriodFulfilment(
                period=pop.periods[t].date().isoformat(),
                plan=plan,
                output=out,
                hours=hrs,
                fulfilment=None if out is None or not plan or not np.isfinite(plan) else out / plan,
            )
        )
    return EnterpriseFulfilment(
        code=code,
        sector=pop.sectors[int(pop.sector[row])],
        plan_name=reg.plan.name,
        freq=reg.plan.freq,
        output_unit=pop.output_unit,
        periods=rows,
        open_periods=[pop.periods[t].date().isoformat() for t in reversed(started)],
    )


# --------------------------------------------------------------------------- criticism
def latest_criticisms(
    session: Session, *, limit: int, before: int | None = None, target: str | None = None
) -> list[Criticism]:
    """The newest criticisms (by filing order), ``limit`` at a time, older than row ``before``."""
    q = select(Criticism).order_by(Criticism.id.desc()).limit(limit)
    if before is not None:
        q = q.where(Criticism.id < before)
    if target is not None:
        q = q.where(Criticism.target == target)
    return list(session.scalars(q))
