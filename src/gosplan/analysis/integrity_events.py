"""What an integrity record counts: the kinds of *established* event, the record's
configuration, and :func:`derive`, which reads the events and each organisation's exposure
(worker-years per period) from the public log's entries (see :mod:`.integrity` for the log
kinds read and what counts)."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

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
