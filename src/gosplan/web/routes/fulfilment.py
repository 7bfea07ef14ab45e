"""Fulfilment dashboard: open alerts and directives by level and age, and the escalation ladder.

Opening the dashboard first climbs every overdue item (the climb is a
function of the deadlines alone, so it does not matter when it runs).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from gosplan.errors import GosplanError
from gosplan.services import escalation as esc
from gosplan.storage.users import User
from gosplan.web.deps import CurrentUser, Db, MaybeUser, State
from gosplan.web.render import render, twin
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


def unit_of(item: esc.EscalationItem) -> str | None:
    """The enterprise an item is about (``details.unit`` or an ``enterprise X`` subject)."""
    return None if item.private else esc.unit_of(item)


def item_public(item: esc.EscalationItem, now: dt.datetime) -> ItemPublic:
    return ItemPublic(
        **esc.view(item),
        age_days=(now - item.opened_at).total_seconds() / 86400,
        overdue=item.deadline is not None and item.deadline < now and item.resolved_at is None,
        unit=unit_of(item),
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
    now = state.clock()
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
