"""The plan: targets by purpose against the plan, the working week it needs, charts by year.

Adopted decisions bind the plan (:mod:`gosplan.services.plan_board`); the page
says which decision changed which target.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel

from gosplan.errors import GosplanError
from gosplan.services import decisions, plan_board
from gosplan.storage import page_heads
from gosplan.web.deps import CurrentUser, Db, MaybeUser, State
from gosplan.web.i18n import translator
from gosplan.web.page_cache import cache_of
from gosplan.web.plan_words import Draft, draft_from_form, words_for
from gosplan.web.render import REDIRECT, Created, render, twin, wants_json
from gosplan.web.security import check_csrf
from gosplan.web.state import AppState

router = APIRouter(tags=["plan"])


class YearPublic(BaseModel):
    year: int
    working_week: float
    #: final output by purpose; None where the plan decides it (investment, multi-year)
    targets: dict[str, float | None]
    hours_per_week: dict[str, float]


class PlanPublic(BaseModel):
    economy: str
    target_unit: str
    workforce: float
    workforce_note: str
    working_week: float | None
    base_working_week: float | None
    week_limit: float | None
    # the service's own rows, not Pydantic mirrors of them (pydantic reads dataclasses)
    purposes: list[plan_board.PurposeRow]
    decisions: list[plan_board.Change]
    years: list[YearPublic]
    method: str
    notes: list[str]
    charts: dict[str, str]
    #: how the years were planned: multi_year, multi_year_uncapped (an adopted working
    #: week cannot be met) or leontief_per_year (the multi-year plan could not be solved)
    method_code: str = "multi_year"
    #: adopted decisions the plan cannot meet, and what it does instead
    unmet: list[plan_board.Unmet] = []
    labour_unit: str = "hours"
    hours_per_labour_unit: float = 1.0
    #: who shares the work: kind setting / population / labour, and its numbers
    workforce_basis: dict[str, float | str] = {}
    #: when the years could not be planned together for want of capacity: which products
    shortfalls: list[plan_board.Shortfall] = []


def _board(state: AppState, db: Any) -> tuple[str, plan_board.PlanBoard]:
    effects = decisions.adopted_effects(db)
    key = plan_board.effects_key(effects)
    cache = state.cache.setdefault("plan", {})
    board = cache.get(key)
    if board is None:
        try:
            board = plan_board.plan_board(
                state.economy, effects, population=state.settings.plan_population
            )
        except GosplanError as exc:  # e.g. labour measured as wages: no working week
            raise HTTPException(status_code=409, detail=f"plan: {exc}") from exc
        cache.clear()
        cache[key] = board
    return key, board


def _chart_id(key: str) -> str:
    import hashlib

    return hashlib.sha256(key.encode()).hexdigest()[:12]


@twin(router, "/plan", model=PlanPublic)
def plan_page(request: Request, db: Db, state: State, user: MaybeUser) -> Response:
    return cache_of(request).serve(
        request, PLAN_TABLES, lambda who: _plan_page(request, db, state, who), user=user
    )


#: what the plan page reads: the adopted decisions (the economy is the process's own)
PLAN_TABLES = (page_heads.ADOPTED,)


def _plan_page(request: Request, db: Db, state: State, user: Any) -> Response:
    key, b = _board(state, db)
    cid = _chart_id(key)
    years = _years(b)
    model = PlanPublic(
        economy=b.economy,
        target_unit=b.target_unit,
        workforce=b.workforce,
        workforce_note=b.workforce_note,
        working_week=b.working_week,
        base_working_week=b.base_working_week,
        week_limit=b.week_limit,
        purposes=list(b.rows),
        decisions=list(b.changes),
        years=years,
        method=b.multi_year,
        notes=b.notes,
        charts={
            "targets": f"/plan/charts/{cid}/targets.png",
            "week": f"/plan/charts/{cid}/week.png",
        },
        method_code=b.method,
        unmet=list(b.unmet),
        labour_unit=b.labour_unit,
        hours_per_labour_unit=b.hours_per_labour_unit,
        workforce_basis=b.workforce_basis,
        shortfalls=list(b.shortfalls),
    )
    _ = translator(request)
    return render(
        request,
        "plan.html",
        model,
        user=user,
        w=words_for(request),
        # the publisher's unit names and the notes, in the page's language where known
        target_unit=_(b.target_unit) if b.target_unit else _("the table's units"),
        labour_unit=_(b.labour_unit),
        notes=[n if n.startswith("the solver") else _(n) for n in b.notes],
    )


def _years(b: plan_board.PlanBoard) -> list[YearPublic]:
    def num(x: Any) -> float | None:
        f = float(x)
        return f if math.isfinite(f) else None

    return [
        YearPublic(
            year=int(y),
            working_week=float(b.week_by_year[y]),
            targets={str(p): num(b.targets_by_year.loc[p, y]) for p in b.targets_by_year.index},
            hours_per_week={
                str(p): float(b.week_by_purpose_by_year.loc[p, y])
                for p in b.week_by_purpose_by_year.index
            },
        )
        for y in b.years
    ]


@router.get(
    "/plan/charts/{cid}/{name}.png",
    response_class=FileResponse,
    responses={200: {"content": {"image/png": {}}}},
)
def plan_chart(cid: str, name: str, request: Request, db: Db, state: State) -> Response:
    """A chart of the current plan (PNG): ``targets`` or ``week``, titled in the page's
    language."""
    from gosplan import charts
    from gosplan.web.i18n import locale_of

    if name not in ("targets", "week"):
        raise HTTPException(
            status_code=404, detail=f"no chart {name!r}; there are targets and week"
        )
    key, b = _board(state, db)
    folder = Path(state.cache.setdefault("chart_dir", tempfile.mkdtemp(prefix="gosplan-charts-")))
    path = folder / f"{_chart_id(key)}-{name}-{locale_of(request)}.png"
    _ = translator(request)
    if not path.exists():
        if name == "targets":
            charts.plan_by_purpose(
                b.targets_by_year.dropna(how="all"),  # investment: decided by the plan
                b.week_by_purpose_by_year,
                path,
                title=_("Plan for %(economy)s: targets and labour by purpose", economy=b.economy),
                target_unit=_(b.target_unit) if b.target_unit else "",
            )
        else:
            charts.working_week(
                b.week_by_year,
                path,
                title=_("Working week by plan year (%(economy)s)", economy=b.economy),
            )
    return FileResponse(path, media_type="image/png", headers={"Cache-Control": "no-cache"})


# --------------------------------------------------------------------------- the workbench


class BoardPublic(BaseModel):
    """One plan in brief: what the workbench sets side by side."""

    working_week: float | None
    week_by_year: dict[int, float]
    method_code: str
    method: str
    unmet: list[plan_board.Unmet]
    shortfalls: list[plan_board.Shortfall] = []


class CompareRow(BaseModel):
    purpose: str
    purpose_words: str
    target_now: float
    target_draft: float
    #: hours per able-bodied person per week, first year (one-year plan)
    hours_now: float | None
    hours_draft: float | None


class YearCompare(BaseModel):
    year: int
    week_now: float
    week_draft: float | None


class WorkbenchPublic(BaseModel):
    economy: str
    target_unit: str
    values: dict[str, str]
    errors: dict[str, str]
    purposes: list[str]
    funds: list[str]
    products: list[str]
    #: the draft as one plan_change effect: exactly what a proposal made from it carries
    effect: dict[str, Any]
    effect_words: str
    digest: str
    current: BoardPublic
    draft: BoardPublic | None
    compare: list[CompareRow]
    years: list[YearCompare]
    fund_shares_now: dict[str, float]  # per cent of the social funds' labour, now
    rules: dict[str, float]


def _brief(b: plan_board.PlanBoard) -> BoardPublic:
    return BoardPublic(
        working_week=b.working_week,
        week_by_year={int(y): float(v) for y, v in b.week_by_year.items()},  # type: ignore[call-overload]
        method_code=b.method,
        method=b.multi_year,
        unmet=list(b.unmet),
        shortfalls=list(b.shortfalls),
    )


def _fund_shares(b: plan_board.PlanBoard) -> dict[str, float]:
    labour = {
        f: next((r.labour_hours for r in b.rows if r.purpose == p), 0.0)
        for f, p in plan_board.FUND_PURPOSE.items()
    }
    total = sum(labour.values())
    return {f: 100.0 * v / total for f, v in labour.items() if v > 0} if total else {}


def _preview(
    state: AppState, db: Any, draft: Draft
) -> tuple[plan_board.PlanBoard, plan_board.PlanBoard | None]:
    key, current = _board(state, db)
    if draft.errors or draft.empty:
        return current, None
    cache = state.cache.setdefault("preview", {})
    pkey = f"{key}|{draft.digest}"
    hit = cache.get(pkey)
    if hit is None:
        try:
            hit = plan_board.preview(
                state.economy,
                decisions.adopted_effects(db),
                draft.effect,
                population=state.settings.plan_population,
                current=current,
            ).draft
        except GosplanError as exc:
            raise HTTPException(status_code=422, detail=f"draft: {exc}") from exc
        if len(cache) >= 16:
            cache.pop(next(iter(cache)))
        cache[pkey] = hit
    return current, hit


def _workbench_model(
    request: Request, db: Any, state: AppState, fields: Mapping[str, Any], errors: dict[str, str]
) -> WorkbenchPublic:
    from gosplan.planning.targets import PLAN_PURPOSES

    _, current = _board(state, db)
    purposes = [r.purpose for r in current.rows if r.purpose in PLAN_PURPOSES]
    products = [str(x) for x in state.economy.products]
    draft = draft_from_form(fields, translator(request), products=products, purposes=purposes)
    now, new = _preview(state, db, draft)  # the draft as typed, whatever else went wrong
    draft.errors.update(errors)
    w = words_for(request)
    rows_new = {r.purpose: r for r in new.rows} if new is not None else {}
    compare = [
        CompareRow(
            purpose=r.purpose,
            purpose_words=w.purpose(r.purpose),
            target_now=r.target,
            target_draft=rows_new[r.purpose].target if r.purpose in rows_new else r.target,
            hours_now=r.hours_per_week,
            hours_draft=rows_new[r.purpose].hours_per_week if r.purpose in rows_new else None,
        )
        for r in now.rows
    ]
    years = [
        YearCompare(
            year=int(y),
            week_now=float(now.week_by_year[y]),
            week_draft=None if new is None else float(new.week_by_year[y]),
        )
        for y in now.years
    ]
    rules = decisions.Rules.from_settings(state.settings)
    return WorkbenchPublic(
        economy=now.economy,
        target_unit=now.target_unit,
        values=draft.values,
        errors=draft.errors,
        purposes=purposes,
        funds=list(decisions.FUNDS),
        products=products,
        effect=draft.effect,
        effect_words=w.effect("plan_change", draft.effect),
        digest=draft.digest,
        current=_brief(now),
        draft=None if new is None else _brief(new),
        compare=compare,
        years=years,
        fund_shares_now=_fund_shares(now),
        rules={
            "min_discussion_hours": rules.min_discussion_hours,
            "min_voting_hours": rules.min_voting_hours,
            "max_hours": rules.max_hours,
        },
    )


@twin(router, "/plan/workbench", model=WorkbenchPublic)
def workbench(request: Request, db: Db, state: State, user: MaybeUser) -> Response:
    """The planner's workbench: a draft change to the plan (the query holds its fields:
    ``week``, ``share_FUND`` in per cent, ``purpose_PURPOSE`` and ``change_N`` (with
    ``product_N``) as changes in per cent), the plan it gives beside the current one."""
    fields = dict(request.query_params)
    model = _workbench_model(request, db, state, fields, {})
    status = 422 if model.errors else 200
    if model.errors and wants_json(request):
        field, why = next(iter(model.errors.items()))
        return JSONResponse(
            {
                "ok": False,
                "error": f"{field}: {why}",
                "fields": [{"field": k, "problem": v} for k, v in model.errors.items()],
            },
            status_code=422,
        )
    return render(
        request, "workbench.html", model, user=user, w=words_for(request), status_code=status
    )


async def _form(request: Request) -> dict[str, Any]:
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return {}
    data = await request.form()
    return {k: v for k, v in data.multi_items() if isinstance(v, str)}


@router.post(
    "/plan/workbench/propose",
    dependencies=[Depends(check_csrf)],
    response_model=Created,
    status_code=201,
    responses=REDIRECT,
)
def propose_draft(
    request: Request,
    db: Db,
    state: State,
    user: CurrentUser,
    fields: Annotated[dict[str, Any], Depends(_form)],
    digest: Annotated[str, Form(max_length=64, description="the previewed draft's digest")],
    title: Annotated[str, Form(max_length=200)] = "",
    body: Annotated[str, Form(max_length=20000)] = "",
    method: Annotated[str, Form(max_length=20)] = "approval",
    discussion_hours: Annotated[str | None, Form(max_length=40)] = None,
    voting_hours: Annotated[str | None, Form(max_length=40)] = None,
) -> Response:
    """Put the previewed draft to a vote: a ``plan_change`` proposal whose options are the
    draft, exactly as previewed (its digest must match), and the plan as it is."""
    _ = translator(request)
    if user.role not in ("planner", "delegate"):
        raise HTTPException(
            status_code=403,
            detail="proposals are made by planners and delegates; workers discuss and vote",
        )
    products = [str(x) for x in state.economy.products]
    _k, current = _board(state, db)
    purposes = [r.purpose for r in current.rows]
    draft = draft_from_form(fields, _, products=products, purposes=purposes)
    errors = dict(draft.errors)
    if not errors and draft.empty:
        errors["week"] = _("change at least one thing before proposing")
    elif not errors and draft.digest != digest:
        errors["digest"] = _(
            "the change differs from the one previewed: preview it again, then propose"
        )
    w = words_for(request)
    words = w.effect("plan_change", draft.effect)
    if not errors:
        try:
            p = decisions.create_proposal(
                db,
                user,
                title=title.strip() or _("Change to the plan: %(what)s", what=words)[:200],
                body=(body.strip() + "\n\n" if body.strip() else "") + words,
                kind="plan_change",
                options=[
                    {"label": _("Adopt the change")[:200], "effect": draft.effect},
                    {"label": _("Keep the plan as it is"), "effect": {"changes": []}},
                ],
                method=method,
                rules=decisions.Rules.from_settings(state.settings),
                now=state.clock(),
                discussion_hours=discussion_hours or None,
                voting_hours=voting_hours or None,
                products=products,
            )
            db.commit()
        except GosplanError as exc:
            msg = str(exc)
            field = next(
                (f for f in ("discussion_hours", "voting_hours", "method") if f in msg), "title"
            )
            errors[field] = msg
    if errors:
        field, why = next(iter(errors.items()))
        if "application/json" in request.headers.get("accept", ""):
            code = 409 if field == "digest" else 422
            raise HTTPException(status_code=code, detail=f"{field}: {why}")
        db.rollback()
        model = _workbench_model(request, db, state, fields, errors)
        model.values.update(
            {k: str(fields.get(k, ""))[:2000] for k in ("title", "body") if fields.get(k)}
        )
        return render(request, "workbench.html", model, user=user, w=w, status_code=422)
    if "application/json" in request.headers.get("accept", ""):
        return Response(
            Created(id=p.id).model_dump_json(), media_type="application/json", status_code=201
        )
    return RedirectResponse(f"/decisions/{p.id}", status_code=303)
