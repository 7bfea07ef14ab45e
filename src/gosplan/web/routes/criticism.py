"""Criticism from below: file one (no account needed), keep the receipt, check any receipt,
track its status.  The server cannot open a sealed identity: the control commission opens
one offline with k members' shares, and the signed opening record is logged here.

Every page checks the rows it shows against the public log and refuses to show a
row that differs from it (409, naming the row and why).

There is deliberately no route that edits or deletes a criticism: ``PUT``,
``PATCH`` and ``DELETE`` on criticism paths answer 405.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from gosplan.errors import GosplanError
from gosplan.services import criticism, lookups
from gosplan.services.publiclog import state as logstate
from gosplan.storage import page_heads
from gosplan.storage.users import User
from gosplan.web import i18n
from gosplan.web.deps import CurrentUser, Db, MaybeUser, State, get_state, get_user
from gosplan.web.forms import FormState, reshow
from gosplan.web.page_cache import cache_of
from gosplan.web.render import Ok, ReceiptPublic, json_of, receipt_download, render, twin
from gosplan.web.security import check_csrf, client_key

router = APIRouter(tags=["criticism"])


class TargetPublic(BaseModel):
    id: str
    name: str


class StatusPublic(BaseModel):
    status: str
    reason: str
    by: str
    at: str
    log_index: int


class CriticismPublic(BaseModel):
    criticism: str
    target_kind: str
    target: str
    content: str
    filed_on: str
    status: str
    attachment: dict[str, Any] | None
    log_index: int
    history: list[StatusPublic]


class CriticismList(BaseModel):
    criticisms: list[CriticismPublic]
    older: int | None
    status: str
    targets: dict[str, list[TargetPublic]]
    statuses: list[str]
    #: rows withheld because they differ from the public log, and rows the log has but
    #: the store lost: each names the criticism and why
    withheld: list[str] = []


class AccessPublic(BaseModel):
    accessor: str
    reason: str
    at: str
    log_index: int


class CriticismPage(BaseModel):
    item: CriticismPublic
    statuses: list[str]
    identity_accesses: list[AccessPublic]


class Filed(BaseModel):
    criticism: str
    log_index: int
    receipt: dict[str, Any]
    receipt_url: str


class OpeningRecorded(Ok):
    """An opening made offline by k commission members, now in the public log."""

    criticism: str
    log_index: int
    members: list[str]


class ReceiptCheckPublic(BaseModel):
    valid: bool
    message: str
    criticism: str | None
    index: int | None
    receipt_size: int | None
    checked_against: int | None
    submitted: bool = True


def _public(view: dict[str, Any]) -> CriticismPublic:
    return CriticismPublic(**{**view, "history": [StatusPublic(**h) for h in view["history"]]})


def _bad(exc: GosplanError, field: str) -> HTTPException:
    return HTTPException(status_code=422, detail=f"{field}: {exc}")


def _field_of(message: str) -> str:
    for name in ("content", "target", "attachment", "person", "identity", "reason", "status"):
        if name in message:
            return name
    return "criticism"


PAGE = 30


@twin(router, "/criticism", model=CriticismList)
def list_criticism(
    request: Request,
    db: Db,
    user: MaybeUser,
    status: str = "",
    target: str = "",
    before: int | None = None,
) -> Response:
    """Criticisms newest first, ``PAGE`` at a time (never who filed them), with the form to
    file one.  ``status`` lists every criticism in that status."""
    return cache_of(request).serve(
        request,
        CRITICISM_TABLES,
        lambda who: _listing(request, db, who, status=status, target=target, before=before),
        user=user,
    )


#: the targets one may criticise: officials, enterprises, decisions (kept while these are
#: unchanged: three queries a build otherwise)
TARGET_TABLES = ("control_person", "control_unit", "decision_proposal")


#: what the criticism list reads: the criticisms, their statuses, the log they are checked
#: against, and the targets one may criticise
CRITICISM_TABLES = (
    page_heads.LOG,
    "criticism",
    "criticism_status",
    "criticism_attachment",
    "criticism_identity",
    "criticism_identity_access",
    "decision_proposal",
    "acct_account",
    "control_unit",
    "control_position",
    "control_person",
)


def _listing(
    request: Request,
    db: Session,
    user: User | None,
    *,
    status: str = "",
    target: str = "",
    before: int | None = None,
    form: FormState | None = None,
) -> Response:
    if status:
        views = list(reversed(criticism.listing(db, target=target or None, status=status)))
        older = None
    else:
        rows = lookups.latest_criticisms(db, limit=PAGE, before=before, target=target or None)
        views = criticism.public_views(db, rows)
        older = rows[-1].id if len(rows) == PAGE else None
    shown, withheld = [], [str(d) for d in logstate.deleted_criticisms(db)]
    checks = logstate.check_criticisms_for(db, [v["criticism"] for v in views])
    for v in views:
        diffs = checks.get(v["criticism"], [])
        if diffs:
            withheld += [str(d) for d in diffs]
        else:
            shown.append(v)
    targets = cache_of(request).memo(
        "criticism_targets",
        TARGET_TABLES,
        None,
        lambda: {
            k: [TargetPublic(id=t.id, name=t.name) for t in v]
            for k, v in lookups.criticism_targets(db).items()
        },
        request,
    )
    model = CriticismList(
        criticisms=[_public(v) for v in shown],
        older=older,
        status=status,
        targets=targets,
        statuses=list(criticism.STATUSES),
        withheld=withheld,
    )
    if form is not None:
        return render(
            request, "criticism.html", model, user=user, form=form, status_code=form.status
        )
    return render(request, "criticism.html", model, user=user)


def _with_store(request: Request, show: Callable[[Session, User | None], Response]) -> Response:
    """``show(db, user)`` in a short read-only session (a form shown again after an error)."""
    state = get_state(request)
    user = get_user(request, state)
    with Session(state.engine) as db:
        return show(db, user)


@reshow("/criticism")
def _file_again(request: Request, form: FormState) -> Response:
    return _with_store(request, lambda db, user: _listing(request, db, user, form=form))


@reshow("/criticism/{ref}/status")
def _status_again(request: Request, form: FormState) -> Response | None:
    ref = str(request.path_params.get("ref", ""))
    try:
        return _with_store(request, lambda db, user: _page(request, db, user, ref, form=form))
    except HTTPException:
        return None  # the criticism itself cannot be shown: the plain error page says why


@router.post(
    "/criticism", dependencies=[Depends(check_csrf)], response_model=json_of(Filed), status_code=201
)
def file_criticism(
    request: Request,
    db: Db,
    state: State,
    user: MaybeUser,
    target_kind: Annotated[str, Form()],
    target: Annotated[str, Form()],
    content: Annotated[str, Form(max_length=criticism.MAX_CONTENT_CHARS)],
    identity: Annotated[str, Form(max_length=500)] = "",
    attachment: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """File a criticism; no account is needed.  Answers with the receipt."""
    request.app.state.limiter.hit(client_key(request), "filing", state.settings.rate_limit_filing)
    data = attachment.file.read() if attachment is not None and attachment.filename else None
    try:
        row = criticism.file(
            db,
            target_kind=target_kind,
            target=target,
            content=content,
            identity=identity or None,
            attachment=data,
            attachment_name=attachment.filename
            if data is not None and attachment is not None
            else None,
            settings=state.settings,
        )
        ref, index = row.ref, row.log_index
        db.commit()  # a receipt is only issued on committed data
        receipt = criticism.receipt(db, ref, state.settings, log_index=index)
        db.commit()  # no write lock may outlive the route (SQLite: one writer at a time)
    except GosplanError as exc:
        raise _bad(exc, _field_of(str(exc))) from exc
    model = Filed(
        criticism=ref,
        log_index=index,
        receipt=receipt,
        receipt_url=f"/criticism/{ref}/receipt.json",
    )
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"ok": True, **model.model_dump(mode="json")}, status_code=201)
    return render(
        request,
        "criticism_filed.html",
        model,
        status_code=201,
        user=user,
        receipt_text=json.dumps(receipt, indent=2, ensure_ascii=False),
    )


def _page(
    request: Request, db: Session, user: User | None, ref: str, *, form: FormState | None = None
) -> Response:
    diffs = logstate.check_criticism(db, ref)
    if diffs:
        raise HTTPException(
            status_code=409,
            detail=(
                f"criticism {ref} is not shown: its rows differ from the public log, which is "
                "the record (" + "; ".join(str(d) for d in diffs) + ")"
            ),
        )
    try:
        c = criticism.get(db, ref)
    except GosplanError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    accesses = [
        AccessPublic(accessor=a.accessor, reason=a.reason, at=a.at, log_index=a.log_index)
        for a in criticism.accesses(db, ref)
    ]
    model = CriticismPage(
        item=_public(criticism.public_view(db, c)),
        statuses=list(criticism.STATUSES),
        identity_accesses=accesses,
    )
    if form is not None:
        return render(
            request, "criticism_item.html", model, user=user, form=form, status_code=form.status
        )
    return render(request, "criticism_item.html", model, user=user)


@twin(router, "/criticism/{ref}", model=CriticismPage)
def show_criticism(ref: str, request: Request, db: Db, user: MaybeUser) -> Response:
    """One criticism: content, status history, identity accesses (never the identity)."""
    return _page(request, db, user, ref)


@router.get("/criticism/{ref}/receipt.json", response_model=ReceiptPublic)
def receipt(ref: str, db: Db, state: State) -> Response:
    """A receipt for the criticism (entry, inclusion proof, signed tree head), to keep.

    It reuses the latest signed head when that covers the whole log: fetching a
    receipt any number of times adds no head.
    """
    return receipt_download(
        db, lambda: criticism.receipt(db, ref, state.settings), f"receipt-{ref}.json"
    )


@router.post(
    "/criticism/{ref}/status", dependencies=[Depends(check_csrf)], response_class=HTMLResponse
)
def change_status(
    ref: str,
    request: Request,
    db: Db,
    user: CurrentUser,
    status: Annotated[str, Form()],
    reason: Annotated[str, Form()],
) -> Response:
    """The control commission moves a criticism on, with a stated reason (logged)."""
    if user.role != "commission":
        raise HTTPException(
            status_code=403, detail="only the control commission changes the status of a criticism"
        )
    try:
        criticism.change_status(
            db, ref, status, reason=reason, by=f"{user.display_name} ({user.username})"
        )
        db.commit()
    except GosplanError as exc:
        raise _bad(exc, _field_of(str(exc))) from exc
    return _page(request, db, user, ref)


@router.post(
    "/criticism/{ref}/opening", dependencies=[Depends(check_csrf)], response_model=OpeningRecorded
)
def record_opening(
    ref: str,
    request: Request,
    db: Db,
    state: State,
    user: CurrentUser,
    record: Annotated[str, Form()],
) -> Response:
    """Log an opening record made offline by k commission members (their signatures decide
    who opened it; the server never sees the identity)."""
    if user.role != "commission":
        raise HTTPException(
            status_code=403,
            detail="only the control commission records the opening of a sealed identity",
        )
    try:
        data = json.loads(record)
        if not isinstance(data, dict):
            raise ValueError("an opening record is a JSON object")
    except ValueError as exc:
        from gosplan.web.deps import json_problem

        raise HTTPException(
            status_code=422, detail=f"record: not a JSON opening record ({json_problem(exc)})"
        ) from exc
    if data.get("criticism") != ref:
        raise HTTPException(
            status_code=422, detail=f"record: it opens {data.get('criticism')!r}, not {ref}"
        )
    try:
        row = criticism.record_opening(db, data, state.settings)
        db.commit()
    except GosplanError as exc:
        raise _bad(exc, "record") from exc
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(
            OpeningRecorded(
                criticism=ref, log_index=row.log_index, members=row.accessor.split(", ")
            ).model_dump(mode="json")
        )
    return _page(request, db, user, ref)


@twin(router, "/receipts/verify", model=ReceiptCheckPublic)
def verify_form(request: Request, user: MaybeUser) -> Response:
    """The form to check any receipt (``.json``: nothing checked yet, ``submitted`` false;
    ``POST /receipts/verify`` checks one)."""
    return render(
        request,
        "receipt_verify.html",
        ReceiptCheckPublic(
            valid=False,
            message="",
            criticism=None,
            index=None,
            receipt_size=None,
            checked_against=None,
            submitted=False,
        ),
        user=user,
    )


@router.post(
    "/receipts/verify",
    dependencies=[Depends(check_csrf)],
    response_model=json_of(ReceiptCheckPublic),
)
def verify(
    request: Request,
    db: Db,
    state: State,
    user: MaybeUser,
    receipt: Annotated[str, Form()] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Check a receipt (pasted or uploaded) against this log: signature, inclusion, the entry
    as stored now, and that the log since then only grew."""
    text = receipt
    if file is not None and file.filename:
        text = file.file.read().decode("utf-8", errors="replace")
    from gosplan.web.deps import load_json

    data = load_json(text, "receipt", max_depth=state.settings.max_json_depth)
    if not isinstance(data, dict):
        raise HTTPException(status_code=422, detail="receipt: a receipt is a JSON object")
    check = criticism.verify_receipt(db, data, state.settings)
    db.commit()  # it may have signed a new tree head
    model = ReceiptCheckPublic(
        valid=check.ok,
        message=check.message,
        criticism=check.criticism,
        index=check.index,
        receipt_size=check.receipt_size,
        checked_against=check.checked_against,
    )
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"ok": True, **model.model_dump(mode="json")})
    return render(
        request, "receipt_verify.html", model, user=user, verdict=_verdict(request, model)
    )


def _verdict(request: Request, check: ReceiptCheckPublic) -> str:
    """The outcome of a receipt check in the reader's language (the reason a receipt fails
    is the log's own technical words)."""
    _ = i18n.translator(request)
    loc = i18n.locale_of(request)

    def n(x: int | None) -> str:
        return "?" if x is None else i18n.format_number(loc, x, 0)

    words = {"ref": check.criticism or "—", "index": n(check.index), "size": n(check.receipt_size)}
    if check.valid and check.checked_against is not None:
        return _(
            "receipt for criticism %(ref)s (log entry %(index)s) verifies: included in the "
            "signed tree of %(size)s entries, and the log of %(now)s entries still contains "
            "it unchanged",
            now=n(check.checked_against),
            **words,
        )
    if check.valid:
        return _(
            "receipt for criticism %(ref)s (log entry %(index)s) verifies: included in the "
            "signed tree of %(size)s entries",
            **words,
        )
    why = check.message.partition("does NOT verify: ")[2] or check.message
    return _(
        "receipt for criticism %(ref)s (log entry %(index)s) does NOT verify: %(why)s",
        why=why,
        **words,
    )


@reshow("/receipts/verify")
def _verify_again(request: Request, form: FormState) -> Response:
    state = get_state(request)
    model = ReceiptCheckPublic(
        valid=False,
        message="",
        criticism=None,
        index=None,
        receipt_size=None,
        checked_against=None,
        submitted=False,
    )
    return render(
        request,
        "receipt_verify.html",
        model,
        user=get_user(request, state),
        form=form,
        status_code=form.status,
    )
