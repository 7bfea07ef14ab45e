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

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

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

#: The kinds of established event a record counts, each kept separate.
EVENT_KINDS: tuple[str, ...] = (
    "criticism_upheld",
    "infringement",
    "input_overuse",
    "rigged_appointment",
    "retaliation",
    "directive_overdue",
    "public_alert",
)

#: What the commission can rule on with an ``integrity.finding``.
FINDING_KINDS: tuple[str, ...] = (
    "infringement",
    "input_overuse",
    "rigged_appointment",
    "retaliation",
    "public_alert",
)
#: ``upheld`` establishes an event; the others establish that it does not count
#: (``explained``: e.g. an honest shortfall; ``outside_control``: e.g. a
#: supplier's failure or a disaster).  For ``public_alert`` a non-upheld
#: finding removes an alert that reached the public rung from the record.
FINDING_OUTCOMES: tuple[str, ...] = ("upheld", "dismissed", "explained", "outside_control")

#: Fixed standards per 1 000 worker-years (configuration, not a league table).
DEFAULT_STANDARDS: dict[str, float] = {
    "criticism_upheld": 20.0,
    "infringement": 5.0,
    "input_overuse": 5.0,
    "rigged_appointment": 2.0,
    "retaliation": 1.0,
    "directive_overdue": 10.0,
    "public_alert": 5.0,
}

Granularity = Literal["year", "quarter", "month"]


@dataclass(frozen=True)
class IntegrityConfig:
    """How a record is computed; every field is part of what a verifier must reproduce.

    ``hours_per_worker_year`` turns approved hours into worker-years when a
    unit has no declared workforce for a period.  ``level`` is the confidence
    of every interval.  ``standards`` are fixed rates per 1 000 worker-years.
    """

    granularity: Granularity = "quarter"
    hours_per_worker_year: float = 1720.0
    level: float = 0.95
    standards: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_STANDARDS))
    change_point_alpha: float = 0.01

    def __post_init__(self) -> None:
        if self.granularity not in ("year", "quarter", "month"):
            raise ValueError(
                f"`granularity` must be 'year', 'quarter' or 'month'; got {self.granularity!r}."
            )
        if not (math.isfinite(self.hours_per_worker_year) and self.hours_per_worker_year > 0):
            raise ValueError(
                f"`hours_per_worker_year` must be a positive number; "
                f"got {self.hours_per_worker_year!r}."
            )
        if not 0.5 <= self.level < 1:
            raise ValueError(f"`level` must be in [0.5, 1); got {self.level!r}.")
        for k, v in self.standards.items():
            if k not in EVENT_KINDS:
                raise ValueError(
                    f"standard for unknown event kind {k!r}; known: {', '.join(EVENT_KINDS)}."
                )
            if not (math.isfinite(v) and v >= 0):
                raise ValueError(f"standard for {k!r} must be a finite rate >= 0; got {v!r}.")

    def to_json(self) -> dict[str, Any]:
        return {
            "granularity": self.granularity,
            "hours_per_worker_year": self.hours_per_worker_year,
            "level": self.level,
            "standards": dict(sorted(self.standards.items())),
            "change_point_alpha": self.change_point_alpha,
        }


@dataclass(frozen=True)
class IntegrityEvent:
    """One established event: which organisation, when, what, and the log entries behind it."""

    org: str
    period: str
    kind: str
    day: str
    evidence: tuple[int, ...]
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {
            "org": self.org,
            "period": self.period,
            "kind": self.kind,
            "day": self.day,
            "evidence": list(self.evidence),
            "detail": self.detail,
        }


# --------------------------------------------------------------------------- periods


def _day(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and len(value) >= 10:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def period_of(day: dt.date, granularity: Granularity) -> str:
    """``2024``, ``2024-Q3`` or ``2024-07``."""
    if granularity == "year":
        return f"{day.year:04d}"
    if granularity == "quarter":
        return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
    return f"{day.year:04d}-{day.month:02d}"


def _normalise_period(text: str, granularity: Granularity) -> str | None:
    """A period label given in a payload (``2024-07``, ``2024-Q3``, ``2024``) at ``granularity``."""
    text = str(text).strip()
    try:
        if len(text) == 4:
            year = int(text)
            return f"{year:04d}" if granularity == "year" else None
        if len(text) == 7 and text[4] == "-" and text[5] == "Q":
            year, q = int(text[:4]), int(text[6])
            if granularity == "year":
                return f"{year:04d}"
            return f"{year:04d}-Q{q}" if granularity == "quarter" else None
        if len(text) >= 7 and text[4] == "-":
            return period_of(dt.date(int(text[:4]), int(text[5:7]), 1), granularity)
    except ValueError:
        return None
    return None


# --------------------------------------------------------------------------- derivation


class _Directory:
    """Which unit a person served in on a day, rebuilt from the log."""

    def __init__(self) -> None:
        self.position_unit: dict[str, str] = {}
        self.tenures: dict[str, list[tuple[dt.date, str]]] = defaultdict(list)
        self.units: set[str] = set()

    def unit_of(self, person: str, day: dt.date | None) -> str | None:
        spans = self.tenures.get(person)
        if not spans:
            return None
        best: str | None = None
        for start, position in spans:  # appended in log order, so in day order mostly
            if day is None or start <= day:
                best = self.position_unit.get(position, best)
        return best if best is not None else self.position_unit.get(spans[0][1])


def _entry_day(e: Mapping[str, Any]) -> dt.date:
    p = e.get("payload") or {}
    for key in ("day", "at", "filed_on"):
        d = _day(p.get(key))
        if d is not None:
            return d
    d = _day(e.get("time"))
    if d is None:
        raise ValueError(f"log entry {e.get('index')} has no readable time {e.get('time')!r}.")
    return d


def _number(value: object) -> float | None:
    """A finite number given as a number or as decimal text (the ledger writes hours as text)."""
    if isinstance(value, bool):
        return None
    try:
        x = float(value) if isinstance(value, int | float | str) else math.nan
    except ValueError:
        return None
    return x if math.isfinite(x) else None


def _alert_org(payload: Mapping[str, Any], units: set[str]) -> str | None:
    unit = payload.get("unit")
    if isinstance(unit, str) and unit:
        return unit
    subject = str(payload.get("subject") or "")
    if subject in units:
        return subject
    words = subject.split()
    if len(words) == 2 and words[0] in ("enterprise", "unit", "organisation"):
        return words[1]
    for token in reversed(subject.replace(",", " ").split()):
        if token in units:
            return token
    return None


def derive(
    entries: Iterable[Mapping[str, Any]],
    config: IntegrityConfig | None = None,
) -> tuple[list[IntegrityEvent], dict[tuple[str, str], float], dict[str, str]]:
    """Established events, exposure per (org, period) and organisation names, from log entries.

    Entries must be in index order (as the log and its exports keep them).
    """
    cfg = config or IntegrityConfig()
    g = cfg.granularity
    d = _Directory()
    names: dict[str, str] = {}
    criticism_target: dict[str, tuple[str | None, int, dt.date]] = {}
    upheld: dict[str, tuple[int, dt.date]] = {}  # criticism ref -> (entry index, day)
    public_alerts: dict[tuple[str, Any], tuple[str, int, dt.date, str]] = {}
    overdue_seen: set[tuple[str, Any]] = set()
    events: list[IntegrityEvent] = []
    cancelled_alerts: set[int] = set()
    declared_raw: dict[tuple[str, str], float] = {}
    hours: dict[tuple[str, str], float] = defaultdict(float)

    for e in entries:
        kind = str(e.get("kind"))
        p: Mapping[str, Any] = e.get("payload") or {}
        idx = int(e["index"])
        if kind == "unit.registered":
            d.units.add(str(p.get("unit")))
            names[str(p.get("unit"))] = str(p.get("name") or p.get("unit"))
        elif kind == "position.created":
            d.position_unit[str(p.get("position"))] = str(p.get("unit"))
        elif kind == "appointment.made":
            day = _entry_day(e)
            d.tenures[str(p.get("appointee"))].append((day, str(p.get("position"))))
        elif kind == "criticism.filed":
            day = _entry_day(e)
            tk, target = p.get("target_kind"), str(p.get("target"))
            org = (
                target
                if tk == "enterprise"
                else d.unit_of(target, day)
                if tk == "official"
                else None
            )
            criticism_target[str(p.get("criticism"))] = (org, idx, day)
        elif kind == "criticism.status":
            ref = str(p.get("criticism"))
            if p.get("to") == "upheld":
                upheld[ref] = (idx, _entry_day(e))
            elif p.get("from") == "upheld":
                upheld.pop(ref, None)
        elif kind == "integrity.finding":
            fk, outcome = p.get("kind"), p.get("outcome")
            org = str(p.get("unit"))
            evidence = tuple(int(i) for i in (p.get("evidence") or []))
            if fk == "public_alert":
                if outcome != "upheld":
                    cancelled_alerts.update(evidence)
                continue
            if fk in FINDING_KINDS and outcome == "upheld":
                day = _entry_day(e)
                events.append(
                    IntegrityEvent(
                        org=org,
                        period=period_of(day, g),
                        kind=str(fk),
                        day=day.isoformat(),
                        evidence=(*evidence, idx),
                        detail=str(p.get("reason") or ""),
                    )
                )
        elif kind.endswith(".alert.escalated"):
            if p.get("level_name") == "public" or p.get("public") is True:
                org = _alert_org(p, d.units)
                key = (kind.split(".")[0], p.get("item"))
                if org is not None and key not in public_alerts:
                    day = _entry_day(e)
                    public_alerts[key] = (org, idx, day, str(p.get("reason") or ""))
        elif kind.endswith(".directive.escalated"):
            key = (kind.split(".")[0], p.get("item"))
            org = _alert_org(p, d.units)
            if org is not None and key not in overdue_seen:
                overdue_seen.add(key)
                day = _entry_day(e)
                events.append(
                    IntegrityEvent(
                        org=org,
                        period=period_of(day, g),
                        kind="directive_overdue",
                        day=day.isoformat(),
                        evidence=(idx,),
                        detail=str(p.get("reason") or ""),
                    )
                )
        elif kind == "unit.workforce":
            # worker-years worked in the declared period; a later declaration for the
            # same unit and period corrects the earlier one
            wy = p.get("worker_years")
            if isinstance(wy, int | float) and math.isfinite(wy) and wy >= 0:
                declared_raw[(str(p.get("unit")), str(p.get("period")))] = float(wy)
        elif kind == "accounts.hours_approved":
            h = _number(p.get("hours"))
            unit = p.get("enterprise") or p.get("unit")
            if unit and h is not None and h > 0:
                # accounting periods named YYYY-MM count there; others (free codes) count
                # in the period of the approval
                per = (
                    _normalise_period(str(p["period"]), g) if p.get("period") else None
                ) or period_of(_entry_day(e), g)
                hours[(str(unit), per)] += h

    for ref, (idx, _upheld_on) in upheld.items():
        # counted in the period the criticised conduct was reported (filed), not when
        # the commission got round to upholding it
        if ref not in criticism_target:
            continue
        org, filed_idx, day = criticism_target[ref]
        if org is None:
            continue
        events.append(
            IntegrityEvent(
                org=org,
                period=period_of(day, g),
                kind="criticism_upheld",
                day=day.isoformat(),
                evidence=(filed_idx, idx),
                detail=f"criticism {ref} upheld",
            )
        )
    for (_area, _item), (org, idx, day, reason) in public_alerts.items():
        if idx in cancelled_alerts:
            continue
        events.append(
            IntegrityEvent(
                org=org,
                period=period_of(day, g),
                kind="public_alert",
                day=day.isoformat(),
                evidence=(idx,),
                detail=reason,
            )
        )
    events.sort(key=lambda ev: (ev.org, ev.period, ev.kind, ev.evidence))

    exposure: dict[tuple[str, str], float] = defaultdict(float)
    for (unit, raw), wy in declared_raw.items():
        declared_per = _normalise_period(raw, g)
        if declared_per is not None:
            exposure[(unit, declared_per)] += wy
    exposure = dict(exposure)
    for key, h in hours.items():
        if key not in exposure:
            exposure[key] = h / cfg.hours_per_worker_year
    for ev in events:
        names.setdefault(ev.org, ev.org)
    return events, exposure, names


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
