"""Enterprises: record hours worked, report output against the plan, see fulfilment and alerts.

Only a delegate of an enterprise records hours or reports for it, and only for
its members; planners approve or reject recorded hours one record at a time
(an approval credits the worker's account), never a record that credits
themselves or that they recorded.  The ledger enforces the same rules for the
command line (:mod:`gosplan.storage.accounts_work`).
"""

from __future__ import annotations

import csv
import io
import uuid
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any

import numpy as np
import pandas as pd
from fastapi import APIRouter, Depends, File, Form, HTTPException, Path, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from gosplan.errors import GosplanError
from gosplan.services import accounts as acc
from gosplan.services import escalation as esc
from gosplan.services import lookups
from gosplan.services.fulfilment.reports import KINDS
from gosplan.storage import page_heads
from gosplan.storage.users import User
from gosplan.web import i18n
from gosplan.web.deps import CurrentUser, Db, MaybeUser, State
from gosplan.web.page_cache import cache_of, fresh_key
from gosplan.web.render import REDIRECT, render, twin, wants_json
from gosplan.web.routes.enterprise_models import (
    CorrectionPublic,
    EnterpriseList,
    EnterprisePublic,
    EnterpriseSummary,
    FulfilmentPublic,
    PeriodPublic,
    PersonPublic,
    ReportKind,
    ReportResult,
    WorkPublic,
    _work_public,
)
from gosplan.web.routes.fulfilment import fulfilment_state, item_public, unit_of
from gosplan.web.security import check_csrf

router = APIRouter(tags=["enterprises"])


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
    return cache_of(request).serve(
        request,
        ENTERPRISES_TABLES,
        lambda who: _list_enterprises(request, db, state, who),
        user=user,
    )


#: what the list reads: the enterprises and their open alerts (every change of an alert is
#: an event)
ENTERPRISES_TABLES = ("acct_account", "esc_item", "esc_event")


def _list_enterprises(request: Request, db: Db, state: State, user: Any) -> Response:
    enterprises = lookups.account_names(db, "enterprise")
    open_items = esc.items(db, area="fulfilment", open_only=True)
    rows = []
    for a in enterprises:
        n = sum(1 for i in open_items if unit_of(i) == a.id)
        rows.append(EnterpriseSummary(code=a.id, name=a.name, open_alerts=n))
    return render(request, "enterprises.html", EnterpriseList(enterprises=rows), user=user)


def report_kinds(request: Request) -> list[ReportKind]:
    """The kinds of figure a report may hold (the ``kind`` column), in the request's words."""
    _ = i18n.translator(request)
    meaning = {
        "output": _("what the enterprise produced in the period, in its sector's output unit"),
        "hours": _("hours worked in the enterprise in the period"),
        "input": _("an input received from a supplier (name it under counterparty)"),
        "delivery": _("a delivery made to a customer (name it under counterparty)"),
    }
    return [ReportKind(kind=k, meaning=meaning[k]) for k in KINDS]


@twin(router, "/enterprise/{code}", model=EnterprisePublic)
def show_enterprise(code: str, request: Request, db: Db, state: State, user: MaybeUser) -> Response:
    """An enterprise: hours worked this period, its fulfilment and alerts (public)."""
    # a planner's and a delegate's pages hold their own forms: kept per person
    own = user is not None and user.role in ("planner", "delegate")
    return cache_of(request).serve(
        request,
        ENTERPRISE_TABLES,
        lambda who: _show_enterprise(code, request, db, state, who),
        user=user,
        per_user=own,
        clock=state.clock,
    )


#: what an enterprise's page reads: its ledger (accounts, periods, memberships, hours
#: worked, approvals), its fulfilment (register, plans, reports), its alerts, its delegates
ENTERPRISE_TABLES = (
    "acct_account",
    "acct_period",
    "acct_membership",
    "acct_work",
    "acct_approval",
    "acct_rejection",
    page_heads.REVERSALS,  # whether approved work was reversed (not every sale)
    "ful_sector",
    "ful_enterprise",
    "ful_norm",
    "ful_plan",
    "ful_plan_sector",
    "ful_target",
    "ful_report",
    "ful_report_line",
    "ful_check_run",
    "ful_flag",
    "esc_item",
    "esc_event",
    "web_user",
)


def _show_enterprise(code: str, request: Request, db: Db, state: State, user: Any) -> Response:
    from gosplan.services.fulfilment import corrections

    # the ledger first, the request's session after: never two pooled connections at once
    period = state.accounts.current_period()
    try:
        work = state.accounts.work(period.code, code) if period else []
        member_codes = state.accounts.members(code)
    except GosplanError as exc:  # no such account
        raise HTTPException(status_code=404, detail=f"enterprise: no enterprise {code!r}") from exc
    # names (never balances) of the enterprise, its members and who worked here: one query
    known = lookups.account_kinds_and_names(
        db, sorted({code, *member_codes, *(w.person for w in work)})
    )
    if code not in known:
        raise HTTPException(status_code=404, detail=f"enterprise: no enterprise {code!r}")
    if known[code][0] != "enterprise":
        raise HTTPException(status_code=404, detail=f"enterprise: {code!r} is not an enterprise")
    members = [PersonPublic(code=p, name=known.get(p, ("", p))[1]) for p in member_codes]
    enterprises = lookups.account_names(db, "enterprise")
    suppliers = [a.id for a in enterprises if a.id != code]
    names = {a.id: a.name for a in enterprises} | {m.code: m.name for m in members}
    for w in work:  # people who worked here and left since
        if w.person not in names:
            names[w.person] = known.get(w.person, ("", w.person))[1]
    now = state.clock()
    ful = lookups.enterprise_fulfilment(db, code, now)
    versions = corrections.versions_of(db, code) if ful is not None else {}
    model = EnterprisePublic(
        code=code,
        name=known[code][1],
        fulfilment=None
        if ful is None
        else FulfilmentPublic(
            sector=ful.sector,
            plan_name=ful.plan_name,
            freq=ful.freq,
            output_unit=ful.output_unit,
            periods=[
                PeriodPublic(
                    **p.__dict__,
                    state=fulfilment_state(p.fulfilment),
                    version=versions.get(p.period, 0),
                )
                for p in reversed(ful.periods)
            ],
            open_periods=ful.open_periods,
        ),
        suppliers=suppliers,
        period=period.code if period else None,
        work=[_work_public(w) for w in work],
        hours_recorded=sum((w.hours for w in work), Decimal(0)),
        hours_awaiting_approval=sum((w.hours for w in work if w.status == "recorded"), Decimal(0)),
        people=[m.code for m in members],
        names=names,
        members=members,
        report_kinds=report_kinds(request),
        alerts=[item_public(i, now) for i in reversed(_alerts_of(db, code))],
        delegates=[u.display_name for u in lookups.delegates_of(db, code)],
        can_report=user is not None and user.role == "delegate" and user.enterprise == code,
        can_approve=user is not None and user.role == "planner",
        me=None if user is None else user.username,
        my_account=None if user is None else user.account,
        form_key=fresh_key(request),
    )
    return render(request, "enterprise.html", model, user=user)


@router.get(
    "/enterprise/{code}/reports-template.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "a CSV template"}},
)
def reports_template(code: str, db: Db, state: State) -> Response:
    """A CSV template of one period's report for this enterprise: the columns, and a row of
    each kind (the input row names a supplier; quantities to be filled in)."""
    _enterprise(state, code)
    now = state.clock()
    ful = lookups.enterprise_fulfilment(db, code, now)
    period = ful.open_periods[0] if ful is not None and ful.open_periods else "YYYY-MM-DD"
    suppliers = [a.code for a in state.accounts.accounts("enterprise") if a.code != code]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["enterprise", "period", "kind", "quantity", "counterparty", "product"])
    w.writerow([code, period, "output", "", "", ""])
    w.writerow([code, period, "hours", "", "", ""])
    w.writerow([code, period, "input", "", suppliers[0] if suppliers else "", ""])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="reports-{code}.csv"'},
    )


class HoursConfirm(BaseModel):
    """What a delegate is about to record: shown for confirmation before it is recorded."""

    code: str
    name: str
    person: str
    person_name: str
    hours: Decimal
    period: str
    key: str


def _check_hours_form(
    state: State, user: User, code: str, person: str, hours: str
) -> tuple[acc.PeriodInfo, str, Decimal]:
    """The period, the person's name and the hours of a recording; 4xx naming the field."""
    _enterprise(state, code)
    _delegate_of(user, code)
    period = state.accounts.current_period()
    if period is None:
        raise HTTPException(status_code=409, detail="period: no accounting period is open")
    try:
        who = state.accounts.account(person)
    except GosplanError as exc:
        raise HTTPException(status_code=422, detail=f"person: {exc}") from exc
    if who.kind != "person":
        raise HTTPException(status_code=422, detail=f"person: {person!r} is not a person")
    if person not in state.accounts.members(code):
        raise HTTPException(
            status_code=403,
            detail=f"person: {who.name} ({person!r}) is not a member of enterprise {code!r}: "
            "a delegate records hours only for the enterprise's members",
        )
    try:
        h = Decimal(hours.strip())
    except InvalidOperation as exc:
        raise HTTPException(
            status_code=422, detail=f"hours: {hours!r} is not a number of hours"
        ) from exc
    if not h.is_finite() or h <= 0 or h > 10_000:
        raise HTTPException(
            status_code=422,
            detail=f"hours: {hours!r} must be a number of hours above 0 and at most 10000",
        )
    return period, who.name, h


@router.post(
    "/enterprise/{code}/hours/confirm",
    dependencies=[Depends(check_csrf)],
    response_model=HoursConfirm,
)
def confirm_hours(
    code: str,
    request: Request,
    state: State,
    user: CurrentUser,
    person: Annotated[str, Form(max_length=200)],
    hours: Annotated[str, Form(max_length=50)],
    key: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """The summary a delegate confirms before hours are recorded (nothing is written)."""
    period, name, h = _check_hours_form(state, user, code, person, hours)
    model = HoursConfirm(
        code=code,
        name=state.accounts.account(code).name,
        person=person,
        person_name=name,
        hours=h,
        period=period.code,
        key=key or uuid.uuid4().hex,
    )
    if "application/json" in request.headers.get("accept", ""):
        return Response(model.model_dump_json(), media_type="application/json")
    return render(request, "hours_confirm.html", model, user=user)


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
    person: Annotated[str, Form(max_length=200)],
    hours: Annotated[str, Form(max_length=50)],
    key: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """A delegate records hours a member worked this period (credited on approval).

    Browsers come here from the confirmation page (``/hours/confirm``); only the
    enterprise's members may be named (403 naming the person otherwise)."""
    period, _name, _h = _check_hours_form(state, user, code, person, hours)
    try:
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
    return RedirectResponse(f"/enterprise/{code}?recorded={rec.id}", status_code=303)


class Decision(StrEnum):
    """What a planner does with one work record."""

    approve = "approve"
    reject = "reject"


@router.post(
    "/enterprise/{code}/work/{rid}/{decision}",
    dependencies=[Depends(check_csrf)],
    response_model=WorkPublic,
    responses=REDIRECT,
)
def decide_record(
    code: str,
    rid: Annotated[int, Path(ge=1, le=2**31 - 1)],
    decision: Decision,
    request: Request,
    state: State,
    user: CurrentUser,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """A planner approves (the worker's account is credited) or rejects (with a reason,
    never credited) one work record.

    Refused (403) for a record that credits the planner or that the planner recorded."""
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
        if decision is Decision.approve:
            state.accounts.approve_record(
                rid,
                key=f"web:approve:{rid}:{uuid.uuid4().hex}",
                approver=user.username,
                approver_account=user.account,
            )
        else:
            state.accounts.reject_record(
                rid,
                key=f"web:reject:{rid}:{uuid.uuid4().hex}",
                by=user.username,
                reason=reason,
                by_account=user.account,
            )
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
    return RedirectResponse(f"/enterprise/{code}#record-{rid}", status_code=303)


def _ingest(request: Request, db: Db, code: str, frame: pd.DataFrame, source: str) -> Response:
    from gosplan.services.fulfilment import corrections
    from gosplan.services.fulfilment import store as ful

    now = request.app.state.gosplan.clock()
    try:
        frame = corrections.carry_lines(db, frame)
        res = ful.ingest(db, frame, now=now, source=source)
        run = ful.check(db, as_of=now, now=now)
        settled = corrections.settle(db, run, res, now=now)
        db.commit()  # no write lock may outlive the route (SQLite: one writer at a time)
    except GosplanError as exc:
        db.rollback()
        raise HTTPException(status_code=422, detail=f"report: {exc}") from exc
    mine = [item_public(i, now) for i in run.alerts if unit_of(i) == code]
    if wants_json(request) or "application/json" in request.headers.get("accept", ""):
        return Response(
            ReportResult(
                new=res.new,
                corrected=res.corrected,
                unchanged=res.unchanged,
                alerts=mine,
                reports=res.report_ids,
                corrections=[
                    CorrectionPublic(report=n, corrects=o) for n, o in sorted(res.corrects.items())
                ],
                settled=[item_public(x.item, now) for x in settled],
            ).model_dump_json(),
            media_type="application/json",
            status_code=201,
        )
    flag = f"corrected={res.corrected}&settled={len(settled)}" if res.corrected else "reported=1"
    return RedirectResponse(f"/enterprise/{code}?{flag}", status_code=303)


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
