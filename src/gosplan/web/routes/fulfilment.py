"""Fulfilment: alerts and directives by level and age, the escalation ladder, directives
issued by planners, and the economy-wide view of fulfilment (sectors and enterprises,
worst first, with trends).

Opening the dashboard first climbs every overdue item (the climb is a
function of the deadlines alone, so it does not matter when it runs).

Every item is in one of four states, named the same on every page: ``open``,
``taken up`` (acknowledged), ``overdue`` (its deadline passed) and ``resolved``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from gosplan.errors import GosplanError
from gosplan.services import escalation as esc
from gosplan.services import lookups
from gosplan.storage.users import User
from gosplan.web.deps import CurrentUser, Db, MaybeUser, State
from gosplan.web.page_cache import cache_of
from gosplan.web.render import REDIRECT, render, twin, wants_json
from gosplan.web.security import check_csrf

router = APIRouter(tags=["fulfilment"])


class ItemPublic(BaseModel):
    id: int
    kind: str
    area: str
    subject: str
    reason: str
    level: int
    level_name: str
    owner: str
    opened: str
    deadline: str | None
    acknowledged: str | None
    resolved: str | None
    resolution: str | None
    age_days: float
    overdue: bool
    unit: str | None
    #: one vocabulary everywhere: ``open``, ``taken up``, ``overdue`` or ``resolved``
    state: str = "open"
    issued_by: str | None = None


class LevelPublic(BaseModel):
    level: int
    name: str
    owner: str
    days: float | None
    open_items: int


class Dashboard(BaseModel):
    now: str
    ladder: list[LevelPublic]
    open: list[ItemPublic]
    resolved: list[ItemPublic]
    by_level: dict[str, int]
    climbed_now: int
    #: every directive, newest first, with its state
    directives: list[ItemPublic] = []
    #: enterprises a directive may be addressed to (code, name)
    enterprises: list[list[str]] = []
    can_direct: bool = False


#: below 1 - this share of the plan a period is short (the checks' ``shortfall_tol``)
SHORTFALL_TOL = 0.25


def fulfilment_state(ratio: float | None) -> str:
    """``met`` (at least the plan), ``near`` (within the shortfall tolerance), ``short``
    or ``none`` (not reported): one word for the colour of a bar and its text."""
    if ratio is None:
        return "none"
    if ratio >= 1.0 - 1e-9:
        return "met"
    return "near" if ratio >= 1.0 - SHORTFALL_TOL else "short"


def unit_of(item: esc.EscalationItem) -> str | None:
    """The enterprise an item is about (``details.unit`` or an ``enterprise X`` subject)."""
    return None if item.private else esc.unit_of(item)


def item_state(item: esc.EscalationItem, now: dt.datetime) -> str:
    """``resolved``, ``overdue``, ``taken up`` or ``open`` (the one vocabulary of states)."""
    if item.resolved_at is not None:
        return "resolved"
    if item.deadline is not None and item.deadline < now:
        return "overdue"
    return "taken up" if item.acknowledged_at is not None else "open"


def item_public(item: esc.EscalationItem, now: dt.datetime) -> ItemPublic:
    issued = (item.details or {}).get("issued_by")
    return ItemPublic(
        **esc.view(item),
        age_days=(now - item.opened_at).total_seconds() / 86400,
        overdue=item.deadline is not None and item.deadline < now and item.resolved_at is None,
        unit=unit_of(item),
        state=item_state(item, now),
        issued_by=None if issued is None or item.private else str(issued),
    )


def may_act(user: User, item: esc.EscalationItem) -> bool:
    """Planners and the commission act on any item; a delegate on their enterprise's."""
    if user.role in ("planner", "commission"):
        return True
    unit = unit_of(item)
    return user.role == "delegate" and unit is not None and unit == user.enterprise


@twin(router, "/fulfilment", model=Dashboard)
def dashboard(request: Request, db: Db, state: State, user: MaybeUser) -> Response:
    """Open items by level and age; the ladder and who owns each rung."""
    return cache_of(request).serve(
        request,
        FULFILMENT_TABLES,
        lambda who: _dashboard(request, db, state, who),
        user=user,
        clock=state.clock,
    )


#: what the fulfilment dashboard reads: the enterprises and the escalation items, whose
#: every change is an event (and an entry of the public log)
FULFILMENT_TABLES = ("acct_account", "esc_item", "esc_event")


def _dashboard(request: Request, db: Db, state: State, user: Any) -> Response:
    now = state.clock()
    enterprises = [[a.id, a.name] for a in lookups.account_names(db, "enterprise")]
    climbed = esc.tick(db, now)
    db.commit()  # no write lock may outlive the route (SQLite: one writer at a time)
    all_items = esc.items(db)
    open_items = sorted(
        (i for i in all_items if i.resolved_at is None), key=lambda i: (-i.level, i.opened_at)
    )
    done = [i for i in all_items if i.resolved_at is not None][-20:]
    ladder = [
        LevelPublic(
            level=k + 1,
            name=lv.name,
            owner=lv.owner,
            days=None if lv.response is None else lv.response.total_seconds() / 86400,
            open_items=sum(1 for i in open_items if i.level == k),
        )
        for k, lv in enumerate(esc.DEFAULT_LADDER.levels)
    ]
    by_level: dict[str, int] = {}
    for i in open_items:
        name = i.ladder[i.level]["name"]
        by_level[name] = by_level.get(name, 0) + 1
    model = Dashboard(
        now=now.isoformat(timespec="seconds"),
        ladder=ladder,
        open=[item_public(i, now) for i in open_items],
        resolved=[item_public(i, now) for i in reversed(done)],
        by_level=by_level,
        climbed_now=len(climbed),
        directives=[item_public(i, now) for i in reversed(all_items) if i.kind == "directive"],
        enterprises=enterprises,
        can_direct=user is not None and user.role == "planner",
    )
    return render(request, "fulfilment.html", model, user=user)


def _act(db: Db, user: User, item_id: int) -> esc.EscalationItem:
    items = esc.items(db, ids=[item_id])
    if not items:
        raise HTTPException(
            status_code=404, detail=f"item: there is no alert or directive {item_id}"
        )
    if not may_act(user, items[0]):
        raise HTTPException(
            status_code=403,
            detail="only planners, the control commission or "
            "the delegate of the enterprise concerned act on this item",
        )
    return items[0]


@router.post(
    "/fulfilment/items/{item_id:int}/acknowledge",
    dependencies=[Depends(check_csrf)],
    response_class=RedirectResponse,
    status_code=303,
)
def acknowledge(
    item_id: int, db: Db, state: State, user: CurrentUser, note: Annotated[str, Form()] = ""
) -> Response:
    """The owner takes the item up (logged); it keeps climbing until resolved."""
    _act(db, user, item_id)
    try:
        esc.acknowledge(
            db,
            item_id,
            by=f"{user.display_name} ({user.username})",
            now=state.clock(),
            note=note or None,
        )
        db.commit()
    except GosplanError as exc:
        raise HTTPException(status_code=409, detail=f"item: {exc}") from exc
    return RedirectResponse("/fulfilment", status_code=303)


@router.post(
    "/fulfilment/items/{item_id:int}/resolve",
    dependencies=[Depends(check_csrf)],
    response_class=RedirectResponse,
    status_code=303,
)
def resolve(
    item_id: int, db: Db, state: State, user: CurrentUser, resolution: Annotated[str, Form()]
) -> Response:
    """Close the item with a stated resolution (logged).

    Never by the people of the enterprise the item is about (403): its delegate and its
    members may acknowledge it, someone outside resolves it."""
    units = {user.enterprise} if user.enterprise else set()
    if user.account:  # the ledger first, the request's session after
        units |= set(state.accounts.enterprises_of(user.account))
    _act(db, user, item_id)
    try:
        esc.resolve(
            db,
            item_id,
            by=f"{user.display_name} ({user.username})",
            resolution=resolution,
            now=state.clock(),
            actor_units=units,
        )
        db.commit()
    except esc.ConflictOfInterest as exc:
        db.rollback()
        raise HTTPException(status_code=403, detail=f"resolution: {exc}") from exc
    except GosplanError as exc:
        raise HTTPException(
            status_code=422 if "resolution" in str(exc) else 409, detail=f"resolution: {exc}"
        ) from exc
    return RedirectResponse("/fulfilment", status_code=303)


@router.post(
    "/fulfilment/directives",
    dependencies=[Depends(check_csrf)],
    response_model=ItemPublic,
    status_code=201,
    responses=REDIRECT,
)
def issue_directive(
    request: Request,
    db: Db,
    state: State,
    user: CurrentUser,
    enterprise: Annotated[str, Form(max_length=200)],
    instruction: Annotated[str, Form(max_length=2000)],
    days: Annotated[int, Form(ge=1, le=365)] = 14,
) -> Response:
    """A planner issues a directive to an enterprise, due in ``days``; it climbs the ladder
    like an alert until someone outside the enterprise resolves it.

    Nobody controls themselves: only a planner issues one (403), and never to an
    enterprise they work in or speak for (403 naming the field)."""
    if user.role != "planner":
        raise HTTPException(
            status_code=403, detail="role: only the planning body issues directives"
        )
    codes = {a.code: a.name for a in state.accounts.accounts("enterprise")}
    code = enterprise.strip()
    if code not in codes:
        raise HTTPException(status_code=422, detail=f"enterprise: there is no enterprise {code!r}")
    mine = {user.enterprise} if user.enterprise else set()
    if user.account:  # the ledger first, the request's session after
        mine |= set(state.accounts.enterprises_of(user.account))
    if code in mine:
        raise HTTPException(
            status_code=403,
            detail=f"enterprise: you belong to {code}; a directive to it is issued by a "
            "planner outside it (nobody controls themselves)",
        )
    text = instruction.strip()
    if not text:
        raise HTTPException(status_code=422, detail="instruction: say what the enterprise is to do")
    from gosplan.services.fulfilment import store as ful

    now = state.clock()
    try:
        sector = ful.sector_of(db, code) or "(no sector)"
        item = esc.issue_directive(
            db,
            area="fulfilment",  # as ``gosplan fulfilment directive``
            subject=f"enterprise {code}",
            reason=text,
            context={"unit": code, "sector": sector},
            now=now,
            deadline=now + dt.timedelta(days=days),
            details={"unit": code, "issued_by": f"{user.display_name} ({user.username})"},
        )
        db.commit()
    except GosplanError as exc:
        db.rollback()
        raise HTTPException(status_code=422, detail=f"instruction: {exc}") from exc
    if wants_json(request) or "application/json" in request.headers.get("accept", ""):
        return Response(
            item_public(item, now).model_dump_json(),
            media_type="application/json",
            status_code=201,
        )
    return RedirectResponse(f"/fulfilment?issued={item.id}#directives", status_code=303)


class TrendPublic(BaseModel):
    code: str
    name: str
    sector: str
    enterprises: int
    ratios: list[float | None]
    plan: float
    output: float
    recent: float | None
    #: ``met``, ``near``, ``short`` or ``none`` (nothing reported)
    state: str
    unreported: int
    open_alerts: int


class EconomyFulfilment(BaseModel):
    plan_name: str | None
    freq: str | None
    output_unit: str | None
    periods: list[str]
    recent: int
    sectors: list[TrendPublic]
    enterprises: list[TrendPublic]


@twin(router, "/fulfilment/economy", model=EconomyFulfilment)
def economy_view(request: Request, db: Db, state: State, user: MaybeUser) -> Response:
    """Fulfilment across the economy: every sector and enterprise, worst first, with the
    trend of output against plan over the last periods (public)."""
    from gosplan.services.fulfilment import overview

    names = {a.code: a.name for a in state.accounts.accounts("enterprise")}
    now = state.clock()
    counts: dict[str, int] = {}
    for i in esc.items(db, open_only=True):
        u = unit_of(i)
        if u is not None:
            counts[u] = counts.get(u, 0) + 1
    ov = overview.economy_fulfilment(db, now, open_alerts=counts)

    def pub(t: overview.Trend, name: str) -> TrendPublic:
        return TrendPublic(
            code=t.code,
            name=name,
            sector=t.sector,
            enterprises=t.members,
            ratios=t.ratios,
            plan=t.plan,
            output=t.output,
            recent=t.recent,
            state=fulfilment_state(t.recent),
            unreported=t.unreported,
            open_alerts=t.open_alerts,
        )

    model = EconomyFulfilment(
        plan_name=None if ov is None else ov.plan_name,
        freq=None if ov is None else ov.freq,
        output_unit=None if ov is None else ov.output_unit,
        periods=[] if ov is None else ov.periods,
        recent=0 if ov is None else ov.recent,
        sectors=[] if ov is None else [pub(t, t.code) for t in ov.sectors],
        enterprises=[]
        if ov is None
        else [pub(t, names.get(t.code, t.code)) for t in ov.enterprises],
    )
    return render(request, "fulfilment_economy.html", model, user=user)
