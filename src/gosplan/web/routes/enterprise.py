"""Enterprises: record hours worked, report output against the plan, see fulfilment and alerts.

Only a delegate of an enterprise records hours or reports for it, and only for
its members; planners approve or reject recorded hours one record at a time
(an approval credits the worker's account), never a record that credits
themselves or that they recorded.  The ledger enforces the same rules for the
command line (:mod:`gosplan.storage.accounts_work`).
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated

import numpy as np
import pandas as pd
from fastapi import APIRouter, Depends, File, Form, HTTPException, Path, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from gosplan.errors import GosplanError
from gosplan.services import accounts as acc
from gosplan.services import escalation as esc
from gosplan.services import lookups
from gosplan.storage.users import User
from gosplan.web.deps import CurrentUser, Db, MaybeUser, State
from gosplan.web.render import REDIRECT, render, twin, wants_json
from gosplan.web.routes.fulfilment import ItemPublic, item_public, unit_of
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
    recorded_by: str = ""
    decided_by: str = ""
    reason: str = ""


def _work_public(w: acc.WorkRecord) -> WorkPublic:
    return WorkPublic(
        id=w.id,
        person=w.person,
        hours=w.hours,
        status=w.status,
        recorded_by=w.recorded_by,
        decided_by=w.decided_by,
        reason=w.reason,
    )


class PeriodPublic(BaseModel):
    period: str
    plan: float
    output: float | None
    hours: float | None
    fulfilment: float | None


class FulfilmentPublic(BaseModel):
    sector: str
    plan_name: str
    freq: str
    output_unit: str
    periods: list[PeriodPublic]
    open_periods: list[str]


class ReportResult(BaseModel):
    ok: bool = True
    new: int
    corrected: int
    unchanged: int
    alerts: list[ItemPublic]


class EnterprisePublic(BaseModel):
    code: str
    name: str
    fulfilment: FulfilmentPublic | None
    suppliers: list[str]
    period: str | None
    work: list[WorkPublic]
    hours_recorded: Decimal
    hours_awaiting_approval: Decimal
    people: list[str]
    alerts: list[ItemPublic]
    delegates: list[str]
    can_report: bool
    can_approve: bool
    me: str | None = None
    my_account: str | None = None
    form_key: str


def _alerts_of(db: Db, code: str) -> list[esc.EscalationItem]:
    return [i for i in esc.items(db, area="fulfilment") if unit_of(i) == code]


def _enterprise(state: State, code: str) -> acc.AccountInfo:
    try:
        info = state.accounts.account(code)
    except GosplanError as exc:
        raise HTTPException(status_code=404, detail=f"enterprise: no enterprise {code!r}") from exc
    if info.kind != "enterprise":
        raise HTTPException(status_code=404, detail=f"enterprise: {code!r} is not an enterprise")
    return info


def _delegate_of(user: User, code: str) -> None:
    if user.role != "delegate" or user.enterprise != code:
        raise HTTPException(
            status_code=403,
            detail=f"only a delegate of {code} records hours "
            f"or reports for it; you speak for "
            f"{user.enterprise or 'no enterprise'}",
        )


@twin(router, "/enterprises", model=EnterpriseList)
def list_enterprises(request: Request, db: Db, state: State, user: MaybeUser) -> Response:
    """Every enterprise, with its open alerts."""
    enterprises = state.accounts.accounts("enterprise")  # the ledger first: one connection
    open_items = esc.items(db, area="fulfilment", open_only=True)
    rows = []
    for a in enterprises:
        n = sum(1 for i in open_items if unit_of(i) == a.code)
        rows.append(EnterpriseSummary(code=a.code, name=a.name, open_alerts=n))
    return render(request, "enterprises.html", EnterpriseList(enterprises=rows), user=user)


@twin(router, "/enterprise/{code}", model=EnterprisePublic)
def show_enterprise(code: str, request: Request, db: Db, state: State, user: MaybeUser) -> Response:
    """An enterprise: hours worked this period, its fulfilment and alerts (public)."""
    # the ledger first, the request's session after: never two pooled connections at once
    info = _enterprise(state, code)
    period = state.accounts.current_period()
    work = state.accounts.work(period.code, code) if period else []
    people = state.accounts.members(code)
    suppliers = [a.code for a in state.accounts.accounts("enterprise") if a.code != code]
    now = state.clock()
    ful = lookups.enterprise_fulfilment(db, code, now)
    model = EnterprisePublic(
        code=code,
        name=info.name,
        fulfilment=None
        if ful is None
        else FulfilmentPublic(
            sector=ful.sector,
            plan_name=ful.plan_name,
            freq=ful.freq,
            output_unit=ful.output_unit,
            periods=[PeriodPublic(**p.__dict__) for p in reversed(ful.periods)],
            open_periods=ful.open_periods,
        ),
        suppliers=suppliers,
        period=period.code if period else None,
        work=[_work_public(w) for w in work],
        hours_recorded=sum((w.hours for w in work), Decimal(0)),
        hours_awaiting_approval=sum((w.hours for w in work if w.status == "recorded"), Decimal(0)),
        people=people,
        alerts=[item_public(i, now) for i in reversed(_alerts_of(db, code))],
        delegates=[u.display_name for u in lookups.delegates_of(db, code)],
        can_report=user is not None and user.role == "delegate" and user.enterprise == code,
        can_approve=user is not None and user.role == "planner",
        me=None if user is None else user.username,
        my_account=None if user is None else user.account,
        form_key=uuid.uuid4().hex,
    )
    return render(request, "enterprise.html", model, user=user)


@router.post(
    "/enterprise/{code}/hours",
    dependencies=[Depends(check_csrf)],
    response_model=WorkPublic,
    status_code=201,
    responses=REDIRECT,
)
def record_hours(
    code: str,
    request: Request,
    state: State,
    user: CurrentUser,
    person: Annotated[str, Form()],
    hours: Annotated[str, Form()],
    key: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """A delegate records hours a member worked this period (credited on approval)."""
    _enterprise(state, code)
    _delegate_of(user, code)
    period = state.accounts.current_period()
    if period is None:
        raise HTTPException(status_code=409, detail="period: no accounting period is open")
    try:
        state.accounts.account(person)
        rec = state.accounts.record_hours(
            code,
            person,
            period.code,
            hours,
            key=f"web:hours:{code}:{key or uuid.uuid4().hex}",
            recorded_by=user.username,
        )
    except acc.UnknownAccount as exc:
        raise HTTPException(status_code=422, detail=f"person: {exc}") from exc
    except acc.NotAMember as exc:
        raise HTTPException(status_code=403, detail=f"person: {exc}") from exc
    except GosplanError as exc:
        raise HTTPException(
            status_code=422
            if isinstance(exc, acc.AccountsInputError | acc.HoursCapExceeded)
            else 409,
            detail=f"hours: {exc}",
        ) from exc
    if wants_json(request) or "application/json" in request.headers.get("accept", ""):
        return Response(
            _work_public(rec).model_dump_json(), media_type="application/json", status_code=201
        )
    return RedirectResponse(f"/enterprise/{code}", status_code=303)


def _decide(
    request: Request, state: State, user: User, code: str, rid: int, decide: Callable[[], object]
) -> Response:
    """Run a planner's decision on one work record of enterprise ``code``."""
    _enterprise(state, code)
    if user.role != "planner":
        raise HTTPException(
            status_code=403, detail="only the planning body approves or rejects hours"
        )
    try:
        rec = state.accounts.work_record(rid)
    except GosplanError as exc:
        raise HTTPException(status_code=404, detail=f"record: {exc}") from exc
    if rec.enterprise != code:
        raise HTTPException(status_code=404, detail=f"record: work record {rid} is not {code}'s")
    try:
        decide()
    except acc.SeparationOfDuties as exc:
        raise HTTPException(status_code=403, detail=f"record: {exc}") from exc
    except acc.AccountsInputError as exc:
        raise HTTPException(status_code=422, detail=f"reason: {exc}") from exc
    except GosplanError as exc:
        raise HTTPException(status_code=409, detail=f"record: {exc}") from exc
    if wants_json(request) or "application/json" in request.headers.get("accept", ""):
        return Response(
            _work_public(state.accounts.work_record(rid)).model_dump_json(),
            media_type="application/json",
        )
    return RedirectResponse(f"/enterprise/{code}", status_code=303)


@router.post(
    "/enterprise/{code}/work/{rid}/approve",
    dependencies=[Depends(check_csrf)],
    response_model=WorkPublic,
    responses=REDIRECT,
)
def approve_record(
    code: str,
    rid: Annotated[int, Path(ge=1, le=2**31 - 1)],
    request: Request,
    state: State,
    user: CurrentUser,
) -> Response:
    """A planner approves one work record: the worker's account is credited.

    Refused (403) for a record that credits the planner or that the planner recorded."""
    return _decide(
        request,
        state,
        user,
        code,
        rid,
        lambda: state.accounts.approve_record(
            rid,
            key=f"web:approve:{rid}:{uuid.uuid4().hex}",
            approver=user.username,
            approver_account=user.account,
        ),
    )


@router.post(
    "/enterprise/{code}/work/{rid}/reject",
    dependencies=[Depends(check_csrf)],
    response_model=WorkPublic,
    responses=REDIRECT,
)
def reject_record(
    code: str,
    rid: Annotated[int, Path(ge=1, le=2**31 - 1)],
    request: Request,
    state: State,
    user: CurrentUser,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """A planner rejects one work record, with a reason (it is never credited)."""
    return _decide(
        request,
        state,
        user,
        code,
        rid,
        lambda: state.accounts.reject_record(
            rid,
            key=f"web:reject:{rid}:{uuid.uuid4().hex}",
            by=user.username,
            reason=reason,
            by_account=user.account,
        ),
    )


def _ingest(request: Request, db: Db, code: str, frame: pd.DataFrame, source: str) -> Response:
    from gosplan.services.fulfilment import store as ful

    now = request.app.state.gosplan.clock()
    try:
        res = ful.ingest(db, frame, now=now, source=source)
        run = ful.check(db, as_of=now, now=now)
        db.commit()  # no write lock may outlive the route (SQLite: one writer at a time)
    except GosplanError as exc:
        raise HTTPException(status_code=422, detail=f"report: {exc}") from exc
    mine = [item_public(i, now) for i in run.alerts if unit_of(i) == code]
    if wants_json(request) or "application/json" in request.headers.get("accept", ""):
        return Response(
            ReportResult(
                new=res.new, corrected=res.corrected, unchanged=res.unchanged, alerts=mine
            ).model_dump_json(),
            media_type="application/json",
            status_code=201,
        )
    return RedirectResponse(f"/enterprise/{code}?reported=1", status_code=303)


@router.post(
    "/enterprise/{code}/report",
    dependencies=[Depends(check_csrf)],
    response_model=ReportResult,
    responses=REDIRECT,
)
def submit_report(
    code: str,
    request: Request,
    db: Db,
    state: State,
    user: CurrentUser,
    period: Annotated[str, Form()],
    output: Annotated[float, Form(ge=0, le=1e15, allow_inf_nan=False)],
    hours: Annotated[float, Form(ge=0, le=1e15, allow_inf_nan=False)],
    supplier: Annotated[str, Form()] = "",
    input_quantity: Annotated[float | None, Form(ge=0, le=1e15, allow_inf_nan=False)] = None,
) -> Response:
    """A delegate reports one period: output, hours and (optionally) an input received.

    The report is checked at once against the plan, the norms and the
    counterparties' reports; what is found wrong opens an alert."""
    _enterprise(state, code)
    _delegate_of(user, code)
    rows: list[dict[str, object]] = [
        {"enterprise": code, "period": period, "kind": "output", "quantity": output},
        {"enterprise": code, "period": period, "kind": "hours", "quantity": hours},
    ]
    if supplier and input_quantity is not None:
        rows.append(
            {
                "enterprise": code,
                "period": period,
                "kind": "input",
                "counterparty": supplier,
                "quantity": input_quantity,
            }
        )
    return _ingest(request, db, code, pd.DataFrame(rows), f"web form ({user.username})")


def _check_quantities(frame: pd.DataFrame) -> None:
    """Every ``quantity`` is a finite number from 0 to 10^15 (else 422 naming row and field)."""
    if "quantity" not in frame.columns:
        return
    raw = frame["quantity"]
    q = pd.to_numeric(raw, errors="coerce")
    bad = raw.notna() & ~(q.between(0, 1e15))  # NaN, ±Infinity, text, negative, absurd
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise HTTPException(
            status_code=422,
            detail=(
                f"quantity: row {i + 2} of the file, field `quantity`: {raw.iloc[i]!r} is not a "
                "finite number from 0 to 10^15"
            ),
        )


@router.post(
    "/enterprise/{code}/reports.csv",
    dependencies=[Depends(check_csrf)],
    response_model=ReportResult,
    responses=REDIRECT,
)
def upload_reports(
    code: str,
    request: Request,
    db: Db,
    state: State,
    user: CurrentUser,
    file: Annotated[UploadFile, File()],
) -> Response:
    """A delegate uploads reports as CSV (columns enterprise, period, kind, quantity,
    counterparty, product, submitted_at); every row must be this enterprise's own."""
    _enterprise(state, code)
    _delegate_of(user, code)
    raw = file.file.read()
    try:
        frame = pd.read_csv(io.BytesIO(raw), dtype=str)
    except (ValueError, UnicodeDecodeError) as exc:
        raise HTTPException(status_code=422, detail=f"file: not a CSV table ({exc})") from exc
    if "enterprise" not in frame.columns:
        raise HTTPException(
            status_code=422,
            detail="file: the CSV needs the columns "
            "enterprise, period, kind, quantity (and counterparty for inputs "
            "and deliveries)",
        )
    others = sorted(set(frame["enterprise"].astype(str).str.strip()) - {code})
    if others:
        raise HTTPException(
            status_code=403,
            detail=f"file: rows for {', '.join(others)}: "
            f"a delegate of {code} reports only for {code}",
        )
    _check_quantities(frame)
    frame.attrs["first_line"] = 2
    return _ingest(request, db, code, frame, f"{file.filename or 'upload'} ({user.username})")
