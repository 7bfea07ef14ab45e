"""Enterprises: record hours worked, report output against the plan, see fulfilment and alerts.

Only a delegate of an enterprise records hours or reports for it; planners
approve recorded hours (which credits the workers' accounts).
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from gosplan.errors import GosplanError
from gosplan.services import accounts as acc
from gosplan.services import directory
from gosplan.services import escalation as esc
from gosplan.storage.web import User
from gosplan.web.deps import CurrentUser, Db, MaybeUser, State
from gosplan.web.render import render, twin, wants_json
from gosplan.web.routes.fulfilment import ItemPublic, item_public
from gosplan.web.security import check_csrf

router = APIRouter(tags=["enterprises"])


class EnterpriseSummary(BaseModel):
    code: str
    name: str
    open_alerts: int


class EnterpriseList(BaseModel):
    enterprises: list[EnterpriseSummary]


class WorkPublic(BaseModel):
    id: int
    person: str
    hours: Decimal
    status: str


class EnterprisePublic(BaseModel):
    code: str
    name: str
    period: str | None
    work: list[WorkPublic]
    hours_recorded: Decimal
    hours_awaiting_approval: Decimal
    people: list[str]
    alerts: list[ItemPublic]
    delegates: list[str]
    can_report: bool
    can_approve: bool
    form_key: str


def _alerts_of(db: Db, code: str) -> list[esc.EscalationItem]:
    return [i for i in esc.items(db, area="fulfilment")
            if not i.private and (i.details or {}).get("unit") == code]


def _enterprise(state: State, code: str) -> acc.AccountInfo:
    try:
        info = state.accounts.account(code)
    except GosplanError as exc:
        raise HTTPException(status_code=404, detail=f"enterprise: no enterprise {code!r}"
                            ) from exc
    if info.kind != "enterprise":
        raise HTTPException(status_code=404, detail=f"enterprise: {code!r} is not an enterprise")
    return info


def _delegate_of(user: User, code: str) -> None:
    if user.role != "delegate" or user.enterprise != code:
        raise HTTPException(status_code=403, detail=f"only a delegate of {code} records hours "
                            f"or reports for it; you speak for "
                            f"{user.enterprise or 'no enterprise'}")


@twin(router, "/enterprises")
def list_enterprises(request: Request, db: Db, state: State, user: MaybeUser) -> Response:
    """Every enterprise, with its open alerts."""
    open_items = esc.items(db, area="fulfilment", open_only=True)
    rows = []
    for a in state.accounts.accounts("enterprise"):
        n = sum(1 for i in open_items if (i.details or {}).get("unit") == a.code)
        rows.append(EnterpriseSummary(code=a.code, name=a.name, open_alerts=n))
    return render(request, "enterprises.html", EnterpriseList(enterprises=rows), user=user)


@twin(router, "/enterprise/{code}")
def show_enterprise(code: str, request: Request, db: Db, state: State,
                    user: MaybeUser) -> Response:
    """An enterprise: hours worked this period, its fulfilment and alerts (public)."""
    info = _enterprise(state, code)
    period = state.accounts.current_period()
    work = state.accounts.work(period.code, code) if period else []
    now = esc.utcnow()
    model = EnterprisePublic(
        code=code, name=info.name, period=period.code if period else None,
        work=[WorkPublic(id=w.id, person=w.person, hours=w.hours, status=w.status)
              for w in work],
        hours_recorded=sum((w.hours for w in work), Decimal(0)),
        hours_awaiting_approval=sum((w.hours for w in work if w.status == "recorded"),
                                    Decimal(0)),
        people=[a.code for a in state.accounts.accounts("person")],
        alerts=[item_public(i, now) for i in reversed(_alerts_of(db, code))],
        delegates=[u.display_name for u in directory.delegates_of(db, code)],
        can_report=user is not None and user.role == "delegate" and user.enterprise == code,
        can_approve=user is not None and user.role == "planner",
        form_key=uuid.uuid4().hex)
    return render(request, "enterprise.html", model, user=user)


@router.post("/enterprise/{code}/hours", dependencies=[Depends(check_csrf)])
def record_hours(code: str, request: Request, state: State, user: CurrentUser,
                 person: Annotated[str, Form()], hours: Annotated[str, Form()],
                 key: Annotated[str, Form(max_length=100)] = "") -> Response:
    """A delegate records hours a member worked this period (credited on approval)."""
    _enterprise(state, code)
    _delegate_of(user, code)
    period = state.accounts.current_period()
    if period is None:
        raise HTTPException(status_code=409, detail="period: no accounting period is open")
    try:
        state.accounts.account(person)
        rec = state.accounts.record_hours(code, person, period.code, hours,
                                          key=f"web:hours:{code}:{key or uuid.uuid4().hex}")
    except acc.UnknownAccount as exc:
        raise HTTPException(status_code=422, detail=f"person: {exc}") from exc
    except GosplanError as exc:
        raise HTTPException(status_code=422 if isinstance(exc, acc.AccountsInputError)
                            else 409, detail=f"hours: {exc}") from exc
    if wants_json(request) or "application/json" in request.headers.get("accept", ""):
        return Response(WorkPublic(id=rec.id, person=rec.person, hours=rec.hours,
                                   status=rec.status).model_dump_json(),
                        media_type="application/json", status_code=201)
    return RedirectResponse(f"/enterprise/{code}", status_code=303)


@router.post("/enterprise/{code}/approve", dependencies=[Depends(check_csrf)])
def approve_hours(code: str, state: State, user: CurrentUser) -> Response:
    """A planner approves every recorded hour: the workers' accounts are credited."""
    _enterprise(state, code)
    if user.role != "planner":
        raise HTTPException(status_code=403, detail="only the planning body approves hours")
    period = state.accounts.current_period()
    if period is None:
        raise HTTPException(status_code=409, detail="period: no accounting period is open")
    try:
        state.accounts.approve(code, period.code, key=f"web:approve:{uuid.uuid4().hex}",
                               approver=user.username)
    except GosplanError as exc:
        raise HTTPException(status_code=409, detail=f"hours: {exc}") from exc
    return RedirectResponse(f"/enterprise/{code}", status_code=303)
