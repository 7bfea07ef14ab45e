"""Integrity records: absolute rates of *established* integrity events, from the public log alone.

The essays answer a falling corruption-index *rank* with the point that a rank
is relative: the least corrupt may have become more corrupt and still be
least corrupt.  An integrity record is therefore built the other way round:

* it counts, per organisation and period, only **established** events — a
  criticism the commission *upheld*, an infringement an inspection
  *confirmed*, input use above norms that was *not explained*, an
  appointment *upheld* as rigged, retaliation *upheld*, a directive that went
  past its deadline, an alert that had to climb to the public rung and was
  not afterwards found to be an honest shortfall or outside the
  organisation's control;
* it divides by the organisation's exposure (worker-years in the period) and
  gives the rate per 1 000 worker-years with an exact Poisson interval, so a
  small organisation gets a wide interval rather than a loud number;
* it says how the organisation did **against its own past** (rate ratio of
  the last period to the earlier ones, with an exact interval; change points
  over the whole series) and **against fixed standards** set in
  configuration; a comparison with others, where shown, always carries the
  intervals and is never a bare rank;
* every number is traceable: each event keeps the log indices it rests on,
  and the whole record is a pure function of the log's entries, so anyone
  holding an export of the public log recomputes it exactly.

This module is maths only: it takes the log's entries as plain dicts
``{"index", "kind", "payload", "time"}`` (the public form) and returns
objects; reading the store or an export is the services' job
(:mod:`gosplan.services.integrity`).

Log kinds read (see ``docs/integrity.md`` for what counts and why):

=============================  ===============================================
``criticism.filed``             target of a criticism (official, enterprise)
``criticism.status``            ``to == "upheld"`` establishes it; a later move
                                away from upheld withdraws it
``position.created``            which unit a position belongs to
``appointment.made``            who holds which position from which day
``integrity.finding``           the commission's ruling on evidence: kind
                                (infringement, input_overuse,
                                rigged_appointment, retaliation, public_alert),
                                outcome (upheld / dismissed / explained /
                                outside_control)
``<area>.alert.escalated``      an alert reaching the last rung (public)
``<area>.help.escalated``       help requests (honest shortfalls): never count
``<area>.directive.escalated``  a directive past its deadline (first time)
``unit.workforce``              worker-years of a unit in a period
``accounts.hours_approved``     hours approved for a unit (exposure when no
                                declared workforce)
=============================  ===============================================
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from gosplan.analysis.integrity_events import (
    DEFAULT_STANDARDS,
    EVENT_KINDS,
    FINDING_KINDS,
    FINDING_OUTCOMES,
    IntegrityConfig,
    IntegrityEvent,
    derive,
    period_of,
)
from gosplan.analysis.integrity_stats import change_points, poisson_interval, rate_ratio

__all__ = [
    "DEFAULT_STANDARDS",
    "EVENT_KINDS",
    "FINDING_KINDS",
    "FINDING_OUTCOMES",
    "IntegrityConfig",
    "IntegrityEvent",
    "IntegrityRecord",
    "change_points",
    "derive",
    "integrity_record",
    "period_of",
    "poisson_interval",
    "rate_ratio",
]


# --------------------------------------------------------------------------- the record


def _verdict(lo: float, hi: float, standard: float | None) -> str:
    if standard is None:
        return "no standard"
    if hi < standard:
        return "within standard"
    if lo > standard:
        return "above standard"
    return "not distinguishable from standard"


def _trend(est: float, lo: float, hi: float) -> str:
    if math.isnan(est) and lo == 0.0 and math.isinf(hi):
        return "no events to compare"
    if lo > 1.0:
        return "worse than its own past"
    if hi < 1.0:
        return "better than its own past"
    return "no clear change"


def _num(x: float) -> float | None:
    return None if (isinstance(x, float) and (math.isnan(x) or math.isinf(x))) else round(x, 6)


@dataclass
class IntegrityRecord:
    """Integrity records of every organisation, with the evidence of every count.

    ``table`` has one row per (org, period, kind) — every kind of
    :data:`EVENT_KINDS` for every period with exposure or events — with
    ``count``, ``worker_years``, ``rate`` (per 1 000 worker-years),
    ``rate_low``/``rate_high`` (exact interval at ``config.level``),
    ``standard`` and ``verdict``.  ``trends`` has one row per (org, kind):
    the last period against all earlier ones (rate ratio and interval,
    words) and the change points of the series.  ``events`` carry the log
    indices behind each count.
    """

    config: IntegrityConfig
    table: pd.DataFrame
    trends: pd.DataFrame
    events: list[IntegrityEvent]
    names: dict[str, str]
    log_size: int

    @property
    def orgs(self) -> list[str]:
        return sorted(set(self.table["org"]))

    def for_org(self, org: str) -> dict[str, Any]:
        """One organisation's record (JSON-able): series, trends, evidence."""
        if org not in set(self.table["org"]):
            raise KeyError(f"no integrity record for organisation {org!r}.")
        t = self.table[self.table["org"] == org]
        tr = self.trends[self.trends["org"] == org]
        return {
            "org": org,
            "name": self.names.get(org, org),
            "series": [_row_json(r) for r in t.to_dict("records")],
            "trends": [_row_json(r) for r in tr.to_dict("records")],
            "events": [ev.to_json() for ev in self.events if ev.org == org],
        }

    def overview(self) -> pd.DataFrame:
        """One row per organisation, sorted by change over time (worst change first), not level.

        ``change`` is the largest lower bound of a rate ratio above 1 (a
        clear worsening), else minus the largest upper bound below 1 (a
        clear improvement), else 0; ties keep the organisations' ids in
        order.  The levels are there with their intervals, for reading, not
        for ranking.
        """
        rows = []
        for org in self.orgs:
            tr = self.trends[self.trends["org"] == org]
            worse = tr[tr["rr_low"] > 1.0]
            better = tr[tr["rr_high"] < 1.0]
            if len(worse):
                change = float(np.log(worse["rr_low"].max()))
            elif len(better):
                change = float(np.log(better["rr_high"].min()))
            else:
                change = 0.0
            t = self.table[self.table["org"] == org]
            last = t["period"].max()
            tl = t[t["period"] == last]
            k = int(tl["count"].sum())
            wy = float(tl["worker_years"].iloc[0]) if len(tl) else 0.0
            lo, hi = poisson_interval(k, wy, self.config.level)
            rows.append(
                {
                    "org": org,
                    "name": self.names.get(org, org),
                    "last_period": last,
                    "events_last_period": k,
                    "worker_years_last_period": wy,
                    "rate_last_period": (k / wy * 1000.0) if wy > 0 else math.nan,
                    "rate_low": lo,
                    "rate_high": hi,
                    "change": change,
                    "worsened": sorted(worse["kind"]),
                    "improved": sorted(better["kind"]),
                }
            )
        df = pd.DataFrame(
            rows,
            columns=[
                "org",
                "name",
                "last_period",
                "events_last_period",
                "worker_years_last_period",
                "rate_last_period",
                "rate_low",
                "rate_high",
                "change",
                "worsened",
                "improved",
            ],
        )
        return df.sort_values(
            ["change", "org"], ascending=[False, True], kind="stable", ignore_index=True
        )

    def to_json(self) -> dict[str, Any]:
        """Everything, JSON-able and canonical (two equal records give equal JSON)."""
        return {
            "config": self.config.to_json(),
            "log_size": self.log_size,
            "names": dict(sorted(self.names.items())),
            "table": [_row_json(r) for r in self.table.to_dict("records")],
            "trends": [_row_json(r) for r in self.trends.to_dict("records")],
            "events": [ev.to_json() for ev in self.events],
        }


def _row_json(r: Mapping[Any, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in r.items():
        if isinstance(v, float | np.floating):
            out[str(k)] = _num(float(v))
        elif isinstance(v, np.integer):
            out[str(k)] = int(v)
        elif isinstance(v, list | tuple):
            out[str(k)] = list(v)
        else:
            out[str(k)] = v
    return out


def integrity_record(
    entries: Iterable[Mapping[str, Any]], config: IntegrityConfig | None = None
) -> IntegrityRecord:
    """The integrity record of every organisation from the public log's entries.

    A pure function of ``entries`` and ``config``: the store's log and an
    exported copy of it give the same record.
    """
    cfg = config or IntegrityConfig()
    entry_list = list(entries)
    events, exposure, names = derive(entry_list, cfg)
    counts: dict[tuple[str, str, str], int] = defaultdict(int)
    for ev in events:
        counts[(ev.org, ev.period, ev.kind)] += 1
    orgs = sorted({o for o, _ in exposure} | {ev.org for ev in events})
    periods_of: dict[str, list[str]] = {
        o: sorted(
            {p for (oo, p) in exposure if oo == o} | {ev.period for ev in events if ev.org == o}
        )
        for o in orgs
    }
    rows = []
    for org in orgs:
        for per in periods_of[org]:
            wy = exposure.get((org, per), 0.0)
            for kind in EVENT_KINDS:
                k = counts.get((org, per, kind), 0)
                lo, hi = poisson_interval(k, wy, cfg.level)
                std = cfg.standards.get(kind)
                rows.append(
                    {
                        "org": org,
                        "period": per,
                        "kind": kind,
                        "count": k,
                        "worker_years": wy,
                        "rate": (k / wy * 1000.0) if wy > 0 else math.nan,
                        "rate_low": lo,
                        "rate_high": hi,
                        "standard": std,
                        "verdict": _verdict(lo, hi, std) if wy > 0 else "no exposure recorded",
                    }
                )
    table = pd.DataFrame(
        rows,
        columns=[
            "org",
            "period",
            "kind",
            "count",
            "worker_years",
            "rate",
            "rate_low",
            "rate_high",
            "standard",
            "verdict",
        ],
    )
    trend_rows = []
    for org in orgs:
        pers = periods_of[org]
        for kind in EVENT_KINDS:
            ks = [counts.get((org, p, kind), 0) for p in pers]
            es = [exposure.get((org, p), 0.0) for p in pers]
            if len(pers) >= 2:
                est, lo, hi = rate_ratio(ks[-1], es[-1], sum(ks[:-1]), sum(es[:-1]), cfg.level)
            else:
                est, lo, hi = math.nan, 0.0, math.inf
            cps = (
                change_points(ks, es, alpha=cfg.change_point_alpha)
                if all(x > 0 for x in es)
                else []
            )
            trend_rows.append(
                {
                    "org": org,
                    "kind": kind,
                    "last_period": pers[-1],
                    "rate_ratio": est,
                    "rr_low": lo,
                    "rr_high": hi,
                    "trend": _trend(est, lo, hi),
                    "change_points": [pers[i] for i in cps],
                }
            )
    trends = pd.DataFrame(
        trend_rows,
        columns=[
            "org",
            "kind",
            "last_period",
            "rate_ratio",
            "rr_low",
            "rr_high",
            "trend",
            "change_points",
        ],
    )
    return IntegrityRecord(
        config=cfg, table=table, trends=trends, events=events, names=names, log_size=len(entry_list)
    )
