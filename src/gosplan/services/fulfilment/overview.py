"""The economy-wide view of fulfilment: every sector and enterprise, worst first, with trends.

:func:`economy_fulfilment` reads the current plan and the latest version of every
report and returns, for the last ``periods`` periods that have ended, each enterprise's
and each sector's output as a share of its plan.  A period an enterprise has not
reported counts as no output in the totals (and is counted apart), so silence never
looks better than a poor report.  Rows are sorted worst first by the share of the plan
met over the last ``recent`` ended periods.

Usage::

    from gosplan.services.fulfilment import overview
    ov = overview.economy_fulfilment(session, now)     # None: no plan or register
    worst = ov.enterprises[0]; worst.recent, worst.ratios
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from gosplan.errors import ValidationError
from gosplan.services.fulfilment.register import load_register
from gosplan.services.fulfilment.reports import load_reports

__all__ = ["Overview", "Trend", "economy_fulfilment"]


@dataclass(frozen=True)
class Trend:
    """One enterprise's (or sector's) fulfilment over the shown periods."""

    code: str
    sector: str
    members: int  # enterprises in it (1 for an enterprise)
    ratios: list[float | None]  # output / plan per period (None: not reported at all)
    plan: float  # over the last ``recent`` periods
    output: float  # reported, over the last ``recent`` periods
    recent: float | None  # output / plan over the last ``recent`` periods
    unreported: int  # enterprise-periods without a report among the shown periods
    open_alerts: int = 0


@dataclass(frozen=True)
class Overview:
    plan_name: str
    freq: str
    output_unit: str
    periods: list[str]  # ISO dates of the shown (ended) periods, oldest first
    recent: int
    sectors: list[Trend]
    enterprises: list[Trend]


def _ratio(out: float, plan: float) -> float | None:
    return None if not plan or not np.isfinite(plan) else out / plan


def economy_fulfilment(
    session: Session,
    now: dt.datetime,
    *,
    periods: int = 12,
    recent: int = 4,
    open_alerts: dict[str, int] | None = None,
) -> Overview | None:
    """Fulfilment of every enterprise and sector over the last ``periods`` ended periods,
    worst first (by output over plan in the last ``recent``); None without a plan."""
    if periods < 1 or recent < 1:
        raise ValidationError(
            f"economy_fulfilment: `periods` and `recent` must be at least 1; got "
            f"{periods} and {recent}."
        )
    try:
        reg = load_register(session)
    except ValidationError:
        return None
    pop = reg.population
    reports, _ = load_reports(session, reg)
    ended = np.flatnonzero(np.asarray(pop.period_ends <= pd.Timestamp(now)))
    shown = ended[-periods:]
    T = len(shown)
    out = np.full((pop.n, T), np.nan)
    col = {int(t): k for k, t in enumerate(shown)}
    for e, t, o in zip(reports["enterprise"], reports["period"], reports["output"], strict=True):
        k = col.get(int(t))
        if k is not None:
            out[int(e), k] = float(o)
    plan = np.asarray(pop.plan, dtype=float)[:, shown] if T else np.zeros((pop.n, 0))
    got = np.nan_to_num(out, nan=0.0)
    last = slice(max(T - recent, 0), T)
    alerts = open_alerts or {}

    def trend(code: str, sector: str, rows: np.ndarray) -> Trend:
        p, o, missing = plan[rows], got[rows], np.isnan(out[rows])
        ratios = [
            None if missing[:, k].all() else _ratio(float(o[:, k].sum()), float(p[:, k].sum()))
            for k in range(T)
        ]
        p_r, o_r = float(p[:, last].sum()), float(o[:, last].sum())
        return Trend(
            code=code,
            sector=sector,
            members=len(rows),
            ratios=ratios,
            plan=p_r,
            output=o_r,
            recent=_ratio(o_r, p_r),
            unreported=int(missing.sum()),
            open_alerts=sum(alerts.get(str(pop.codes[r]), 0) for r in rows),
        )

    sectors_of = np.asarray(pop.sectors, dtype=object)[pop.sector]
    ents = [trend(str(c), str(sectors_of[r]), np.array([r])) for r, c in enumerate(pop.codes)]
    secs = [
        trend(str(s), str(s), np.flatnonzero(sectors_of == s))
        for s in sorted({str(x) for x in sectors_of})
    ]

    def worst_first(t: Trend) -> tuple[float, int, str]:
        return (t.recent if t.recent is not None else np.inf, -t.unreported, t.code)

    return Overview(
        plan_name=str(reg.plan.name),
        freq=str(reg.plan.freq),
        output_unit=str(pop.output_unit),
        periods=[pop.periods[t].date().isoformat() for t in shown],
        recent=min(recent, T),
        sectors=sorted(secs, key=worst_first),
        enterprises=sorted(ents, key=worst_first),
    )
