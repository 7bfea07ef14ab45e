"""The plan: targets by purpose against the plan, the working week it needs, charts by year.

Adopted decisions bind the plan (:mod:`gosplan.services.plan_board`); the page
says which decision changed which target.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel

from gosplan.errors import GosplanError
from gosplan.services import decisions, plan_board
from gosplan.web.deps import Db, MaybeUser, State
from gosplan.web.render import render, twin
from gosplan.web.state import AppState

router = APIRouter(tags=["plan"])


class YearPublic(BaseModel):
    year: int
    working_week: float
    targets: dict[str, float]
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


def _board(state: AppState, db: Db) -> tuple[str, plan_board.PlanBoard]:
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
    key, b = _board(state, db)
    cid = _chart_id(key)
    years = [
        YearPublic(
            year=int(y),
            working_week=float(b.week_by_year[y]),
            targets={str(p): float(b.targets_by_year.loc[p, y]) for p in b.targets_by_year.index},
            hours_per_week={
                str(p): float(b.week_by_purpose_by_year.loc[p, y])
                for p in b.week_by_purpose_by_year.index
            },
        )
        for y in b.years
    ]
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
    )
    return render(request, "plan.html", model, user=user)


@router.get(
    "/plan/charts/{cid}/{name}.png",
    response_class=FileResponse,
    responses={200: {"content": {"image/png": {}}}},
)
def plan_chart(cid: str, name: str, db: Db, state: State) -> Response:
    """A chart of the current plan (PNG): ``targets`` or ``week``."""
    from gosplan import charts

    if name not in ("targets", "week"):
        raise HTTPException(
            status_code=404, detail=f"no chart {name!r}; there are targets and week"
        )
    key, b = _board(state, db)
    folder = Path(state.cache.setdefault("chart_dir", tempfile.mkdtemp(prefix="gosplan-charts-")))
    path = folder / f"{_chart_id(key)}-{name}.png"
    if not path.exists():
        if name == "targets":
            charts.plan_by_purpose(
                b.targets_by_year,
                b.week_by_purpose_by_year,
                path,
                title=f"Plan for {b.economy}: targets and labour by purpose",
                target_unit=b.target_unit,
            )
        else:
            charts.working_week(
                b.week_by_year, path, title=f"Working week by plan year ({b.economy})"
            )
    return FileResponse(path, media_type="image/png", headers={"Cache-Control": "no-cache"})
