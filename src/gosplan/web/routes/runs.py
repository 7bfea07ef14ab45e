"""Living-plan runs, read back from the public log: a list, and one page per run.

``gosplan run SCENARIO.toml --db URL`` records each run in that store's log
(``living.run``, ``living.period``); these pages show what the log holds, so
the figures a planning assembly reads are the audited ones.
"""

from __future__ import annotations

import html
import math
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from pydantic import BaseModel

from gosplan.services import publiclog
from gosplan.services.living_plan import runs_from_log
from gosplan.web import i18n
from gosplan.web.deps import Db, MaybeUser
from gosplan.web.render import render, twin

router = APIRouter(tags=["living plan"])


class RunListed(BaseModel):
    run: str
    name: str
    source: str
    periods: int
    persons: int
    start_index: int


class RunList(BaseModel):
    runs: list[RunListed]


class PeriodFigures(BaseModel):
    period: str
    index: int
    unmet_share: float | None
    excess_stock: float | None
    ratio_cv: float | None
    working_week: float | None
    labour_personal: float | None
    labour_social: float | None
    labour_investment: float | None
    deduction_rate: float | None
    mismatches_found: int


class RunPage(BaseModel):
    run: str
    name: str
    scenario: dict[str, Any]
    start_index: int
    periods: list[PeriodFigures]
    charts: dict[str, str]


def _num(x: Any) -> float | None:
    return float(x) if isinstance(x, int | float) and math.isfinite(x) else None


def _svg(
    values: list[float | None], title: str, unit: str, pct: bool = False, top_word: str = "max"
) -> str:
    w, h, pad = 360, 140, 28
    ys = [(v * 100 if pct else v) for v in values if v is not None]
    top = max([*ys, 1e-9]) * 1.1
    n = max(len(values), 2)
    pts = []
    for i, v in enumerate(values):
        if v is None:
            continue
        x = pad + (w - 2 * pad) * i / (n - 1)
        y = h - pad - (h - 2 * pad) * (v * 100 if pct else v) / top
        pts.append(f"{x:.1f},{y:.1f}")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" '
        f'class="chart-svg"><title>{html.escape(title)}</title>'
        f'<text x="{pad}" y="14">{html.escape(unit)} ({html.escape(top_word)} {top:.3g})</text>'
        f'<polyline fill="none" stroke="currentColor" stroke-width="2" '
        f'points="{" ".join(pts)}"/></svg>'
    )


@twin(router, "/runs", model=RunList)
def list_runs(request: Request, db: Db, user: MaybeUser) -> Response:
    """Every living-plan run recorded in the public log."""
    found = runs_from_log([e.to_public() for e in publiclog.entries(db, kind_prefix="living.")])
    model = RunList(
        runs=[
            RunListed(
                run=r["run"],
                name=str(r["scenario"].get("name")),
                source=str(r["scenario"].get("source")),
                periods=len(r["periods"]),
                persons=int(r["scenario"].get("persons", 0)),
                start_index=r["start_index"],
            )
            for r in found.values()
        ]
    )
    return render(request, "runs.html", model, user=user)


@twin(router, "/runs/{run}", model=RunPage)
def show_run(run: str, request: Request, db: Db, user: MaybeUser) -> Response:
    """One run: its scenario and its figures period by period, with charts."""
    found = runs_from_log([e.to_public() for e in publiclog.entries(db, kind_prefix="living.")])
    r = found.get(run)
    _ = i18n.translator(request)
    if r is None:
        raise HTTPException(
            status_code=404, detail=_("run: no living-plan run %(run)s in the log", run=repr(run))
        )
    periods = [
        PeriodFigures(
            period=str(p["period"]),
            index=int(p["index"]),
            unmet_share=_num(p.get("unmet_share")),
            excess_stock=_num(p.get("excess_stock")),
            ratio_cv=_num(p.get("ratio_cv")),
            working_week=_num(p.get("working_week")),
            labour_personal=_num(p.get("labour_personal")),
            labour_social=_num(p.get("labour_social")),
            labour_investment=_num(p.get("labour_investment")),
            deduction_rate=_num(p.get("deduction_rate")),
            mismatches_found=int(p.get("mismatches_found") or 0),
        )
        for p in r["periods"]
    ]
    top = _("max")
    charts = {
        "unmet": _svg(
            [p.unmet_share for p in periods], _("Unmet demand by period"), "%", True, top
        ),
        "ratio_cv": _svg(
            [p.ratio_cv for p in periods],
            _("Dispersion of price/value ratios"),
            _("CV %"),
            True,
            top,
        ),
        "week": _svg(
            [p.working_week for p in periods],
            _("Working week by period"),
            _("hours per able person"),
            top_word=top,
        ),
    }
    model = RunPage(
        run=run,
        name=str(r["scenario"].get("name")),
        scenario=r["scenario"],
        start_index=r["start_index"],
        periods=periods,
        charts=charts,
    )
    return render(request, "run.html", model, user=user)
