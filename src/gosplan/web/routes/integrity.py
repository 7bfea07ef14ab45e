"""Integrity records: an overview sorted by change over time, and one page per organisation.

Both pages are computed from the public log on each request (no cache an
operator could rewrite) and link every count to the log entries behind it.
"""

from __future__ import annotations

import html
import math
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from pydantic import BaseModel

from gosplan.analysis.integrity import EVENT_KINDS, IntegrityConfig
from gosplan.services import integrity
from gosplan.web import i18n
from gosplan.web.deps import Db, MaybeUser
from gosplan.web.render import render, twin

router = APIRouter(tags=["integrity"])


def N_(message: str) -> str:
    """Marks a message for extraction (Babel's ``N_``); it is translated where it is shown."""
    return message


#: words for each kind of event, for people rather than programs (the JSON keeps them in
#: English; pages show them in the reader's language)
KIND_WORDS: dict[str, str] = {
    "criticism_upheld": N_("criticisms upheld"),
    "infringement": N_("infringements confirmed by inspection"),
    "input_overuse": N_("input use above norms, not explained"),
    "rigged_appointment": N_("appointments upheld as rigged"),
    "retaliation": N_("retaliation against critics upheld"),
    "directive_overdue": N_("directives past their deadline"),
    "public_alert": N_("alerts that had to climb to the public"),
}

#: one event of each kind, in words
EVENT_WORDS: dict[str, str] = {
    "criticism_upheld": N_("criticism upheld"),
    "infringement": N_("infringement confirmed by inspection"),
    "input_overuse": N_("input use above norms, not explained"),
    "rigged_appointment": N_("appointment upheld as rigged"),
    "retaliation": N_("retaliation against a critic upheld"),
    "directive_overdue": N_("directive past its deadline"),
    "public_alert": N_("alert that had to climb to the public"),
}


class OverviewRow(BaseModel):
    org: str
    name: str
    last_period: str
    events_last_period: int
    worker_years_last_period: float
    rate_last_period: float | None
    rate_low: float | None
    rate_high: float | None
    change: float
    worsened: list[str]
    improved: list[str]


class Overview(BaseModel):
    granularity: str
    level: float
    log_size: int
    rows: list[OverviewRow]
    kinds: dict[str, str]


class SeriesPoint(BaseModel):
    period: str
    count: int
    worker_years: float
    rate: float | None
    rate_low: float | None
    rate_high: float | None
    standard: float | None
    verdict: str


class KindRecord(BaseModel):
    kind: str
    words: str
    series: list[SeriesPoint]
    trend: str
    rate_ratio: float | None
    rr_low: float | None
    rr_high: float | None
    change_points: list[str]
    chart: str


class EventPublic(BaseModel):
    period: str
    kind: str
    day: str
    evidence: list[int]
    detail: str


class OrgRecord(BaseModel):
    org: str
    name: str
    granularity: str
    level: float
    log_size: int
    kinds: list[KindRecord]
    events: list[EventPublic]


def _f(x: Any) -> float | None:
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else float(x)


def _chart(points: list[SeriesPoint], standard: float | None, title: str) -> str:
    """A small SVG: the rate per period with its interval, and the standard as a line."""
    w, h, pad = 320, 120, 24
    highs = [p.rate_high for p in points if p.rate_high is not None]
    rates = [p.rate for p in points if p.rate is not None]
    top = max([*highs, *rates, standard or 0.0, 1.0])
    n = max(len(points), 1)
    step = (w - 2 * pad) / n

    def y(v: float) -> float:
        return h - pad - (h - 2 * pad) * min(v, top) / top

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" '
        f'class="chart-svg"><title>{html.escape(title)}</title>'
    ]
    if standard is not None:
        parts.append(
            f'<line x1="{pad}" x2="{w - pad}" y1="{y(standard):.1f}" '
            f'y2="{y(standard):.1f}" class="std"/>'
        )
    for i, p in enumerate(points):
        x = pad + step * (i + 0.5)
        if p.rate_low is not None and p.rate_high is not None:
            parts.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y(p.rate_low):.1f}" '
                f'y2="{y(p.rate_high):.1f}" class="ci"/>'
            )
        if p.rate is not None:
            parts.append(f'<circle cx="{x:.1f}" cy="{y(p.rate):.1f}" r="3" class="pt"/>')
        if n <= 12 or i % max(1, n // 6) == 0:
            parts.append(f'<text x="{x:.1f}" y="{h - 6}" text-anchor="middle">{p.period}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _config(granularity: str) -> IntegrityConfig:
    try:
        return IntegrityConfig(granularity=granularity)  # type: ignore[arg-type]
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=f"granularity: {exc}") from exc


@twin(router, "/integrity", model=Overview)
def overview(request: Request, db: Db, user: MaybeUser, granularity: str = "quarter") -> Response:
    """Every organisation's record, sorted by how it changed against its own past."""
    rec = integrity.served_record(db, _config(granularity))
    rows = [
        OverviewRow(**{str(k): (_f(v) if str(k).startswith("rate") else v) for k, v in r.items()})
        for r in rec.overview().to_dict("records")
    ]
    model = Overview(
        granularity=granularity,
        level=rec.config.level,
        log_size=rec.log_size,
        rows=rows,
        kinds=KIND_WORDS,
    )
    _ = i18n.translator(request)
    kind_words = {k: _(v) for k, v in KIND_WORDS.items()}
    return render(request, "integrity.html", model, user=user, kind_words=kind_words)


@twin(router, "/integrity/{org}", model=OrgRecord)
def organisation(
    org: str, request: Request, db: Db, user: MaybeUser, granularity: str = "quarter"
) -> Response:
    """One organisation: each kind's rate per period with intervals, trend and evidence."""
    rec = integrity.served_record(db, _config(granularity))
    _ = i18n.translator(request)
    try:
        data = rec.for_org(org)
    except KeyError as exc:
        raise HTTPException(
            status_code=404,
            detail=_("org: no integrity record for organisation %(org)s", org=repr(org)),
        ) from exc
    kinds = []
    for kind in EVENT_KINDS:
        pts = [
            SeriesPoint(
                period=r["period"],
                count=r["count"],
                worker_years=r["worker_years"] or 0.0,
                rate=_f(r["rate"]),
                rate_low=_f(r["rate_low"]),
                rate_high=_f(r["rate_high"]),
                standard=_f(r["standard"]),
                verdict=r["verdict"],
            )
            for r in data["series"]
            if r["kind"] == kind
        ]
        tr = next(t for t in data["trends"] if t["kind"] == kind)
        std = pts[0].standard if pts else None
        kinds.append(
            KindRecord(
                kind=kind,
                words=KIND_WORDS[kind],
                series=pts,
                trend=tr["trend"],
                rate_ratio=_f(tr["rate_ratio"]),
                rr_low=_f(tr["rr_low"]),
                rr_high=_f(tr["rr_high"]),
                change_points=list(tr["change_points"]),
                chart=_chart(
                    pts, std, _("%(what)s per 1 000 worker-years", what=_(KIND_WORDS[kind]))
                ),
            )
        )
    model = OrgRecord(
        org=org,
        name=data["name"],
        granularity=granularity,
        level=rec.config.level,
        log_size=rec.log_size,
        kinds=kinds,
        events=[EventPublic(**{k: v for k, v in e.items() if k != "org"}) for e in data["events"]],
    )
    return render(
        request,
        "integrity_org.html",
        model,
        user=user,
        kind_words={k: _(v) for k, v in KIND_WORDS.items()},
        event_words={k: _(v) for k, v in EVENT_WORDS.items()},
    )
