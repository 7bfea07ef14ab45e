"""Declared workforce against approved hours: a gap beyond the tolerance is an alert.

The integrity record divides counts by worker-years, so an organisation that
declares more worker-years than it worked (``unit.workforce``) lowers its own
rates.  The labour-time accounts know how many hours were actually approved for
its members (``accounts.hours_approved``, public totals per enterprise and
accounting period).  :func:`cross_check_workforce` compares, from the public log
alone, every declaration with the approved hours of the same organisation and
period (hours / ``hours_per_worker_year``; accounting periods ``YYYY-MM`` fall in
the declaration's month, quarter or year), and where they are further apart than
the configured tolerance, relative to the larger,

* opens an alert (area ``integrity``) on the control commission's ladder
  (:data:`gosplan.services.retaliation.LADDER`): never owned by the organisation
  itself, and never resolved by its people (:func:`escalation.resolve` refuses
  them), once per declaration;
* reports the gap with the log entries it rests on.

Organisations whose hours are not approved through the accounts (no approval in
the period) are not compared: there is nothing to compare with.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gosplan.analysis.integrity import period_of
from gosplan.errors import ValidationError
from gosplan.storage.publiclog import LogEntry

__all__ = ["WorkforceCheck", "WorkforceGap", "cross_check_workforce"]

AREA = "integrity"


@dataclass(frozen=True)
class WorkforceGap:
    """A declaration that the approved hours contradict."""

    unit: str
    period: str
    declared: float  # worker-years declared
    approved_hours: float
    approved: float  # worker-years the approved hours make
    relative: float  # |declared - approved| / max(declared, approved)
    declaration: int  # log index of the declaration
    approvals: tuple[int, ...]  # log indices of the approvals counted
    alert: int | None = None  # the escalation item opened (or already open) for it

    def to_json(self) -> dict[str, Any]:
        return {
            "unit": self.unit,
            "period": self.period,
            "declared_worker_years": self.declared,
            "approved_hours": self.approved_hours,
            "approved_worker_years": self.approved,
            "relative_gap": self.relative,
            "declaration": self.declaration,
            "approvals": list(self.approvals),
            "alert": self.alert,
        }


@dataclass
class WorkforceCheck:
    """Outcome of :func:`cross_check_workforce` (scipy style: ``success``, ``message``)."""

    tolerance: float
    compared: int = 0
    not_compared: int = 0
    gaps: list[WorkforceGap] = field(default_factory=list)
    opened: int = 0

    @property
    def success(self) -> bool:
        return not self.gaps

    @property
    def message(self) -> str:
        head = (
            f"{self.compared} declaration(s) compared with approved hours "
            f"({self.not_compared} without approved hours to compare)"
        )
        if self.success:
            return head + f": all within {self.tolerance:.0%}"
        return head + (
            f": {len(self.gaps)} further apart than {self.tolerance:.0%} "
            f"({self.opened} alert(s) opened now): "
            + "; ".join(
                f"{g.unit} {g.period}: declared {g.declared:g}, approved hours make "
                f"{g.approved:.2f} worker-years"
                for g in self.gaps[:20]
            )
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.success,
            "message": self.message,
            "tolerance": self.tolerance,
            "compared": self.compared,
            "not_compared": self.not_compared,
            "opened": self.opened,
            "gaps": [g.to_json() for g in self.gaps],
        }


def _granularity(label: str) -> str | None:
    if len(label) == 4 and label.isdigit():
        return "year"
    if len(label) == 7 and label[4:6] == "-Q":
        return "quarter"
    if len(label) == 7 and label[4] == "-":
        return "month"
    return None


def _month(code: str) -> dt.date | None:
    """The first day of an accounting period named ``YYYY-MM``; ``None`` for other codes."""
    try:
        if len(code) >= 7 and code[4] == "-":
            return dt.date(int(code[:4]), int(code[5:7]), 1)
    except ValueError:
        return None
    return None


def _entry_day(e: LogEntry) -> dt.date:
    try:
        return dt.datetime.fromisoformat(str(e.logged_at).replace("Z", "+00:00")).date()
    except ValueError:
        return dt.date(1970, 1, 1)


def cross_check_workforce(
    session: Session,
    *,
    now: dt.datetime,
    tolerance: float = 0.2,
    hours_per_worker_year: float = 1720.0,
    units: Iterable[str] | None = None,
    open_alerts: bool = True,
) -> WorkforceCheck:
    """Compare every (latest) workforce declaration with the approved hours (module doc).

    ``units`` limits the check to some organisations; ``open_alerts=False`` only reports."""
    if not 0 < tolerance < 1:
        raise ValidationError(f"tolerance must be between 0 and 1 (a share); got {tolerance!r}.")
    if not hours_per_worker_year > 0:
        raise ValidationError(
            f"hours_per_worker_year must be positive; got {hours_per_worker_year!r}."
        )
    only = None if units is None else set(units)
    declared: dict[tuple[str, str], tuple[float, int]] = {}
    approvals: list[tuple[str, str | None, dt.date, Decimal, int]] = []
    for e in session.scalars(
        select(LogEntry)
        .where(LogEntry.kind.in_(("unit.workforce", "accounts.hours_approved")))
        .order_by(LogEntry.index)
    ):
        p = e.payload
        if e.kind == "unit.workforce":
            wy = p.get("worker_years")
            if isinstance(wy, int | float) and not isinstance(wy, bool):
                # a later declaration for the same unit and period corrects the earlier one
                declared[(str(p.get("unit")), str(p.get("period")))] = (float(wy), e.index)
            continue
        unit = p.get("enterprise") or p.get("unit")
        try:
            hours = Decimal(str(p.get("hours")))
        except InvalidOperation:
            continue
        if unit and hours.is_finite() and hours > 0:
            code = p.get("period")
            approvals.append(
                (str(unit), str(code) if code else None, _entry_day(e), hours, e.index)
            )
    by_unit: dict[str, list[tuple[str | None, dt.date, Decimal, int]]] = defaultdict(list)
    for unit, code, day, hours, index in approvals:
        by_unit[unit].append((code, day, hours, index))
    out = WorkforceCheck(tolerance)
    for (unit, label), (wy, decl_index) in sorted(declared.items()):
        if only is not None and unit not in only:
            continue
        g = _granularity(label)
        if g is None:
            continue
        total = Decimal(0)
        used: list[int] = []
        for code, day, hours, index in by_unit.get(unit, []):
            when = (_month(code) if code else None) or day
            if period_of(when, g) == label:  # type: ignore[arg-type]
                total += hours
                used.append(index)
        if not used:
            out.not_compared += 1
            continue
        out.compared += 1
        approved = float(total) / hours_per_worker_year
        larger = max(wy, approved)
        relative = abs(wy - approved) / larger if larger > 0 else 0.0
        if relative <= tolerance:
            continue
        gap = WorkforceGap(
            unit, label, wy, float(total), approved, relative, decl_index, tuple(used)
        )
        if open_alerts:
            item, new = _alert(session, gap, now, tolerance, hours_per_worker_year)
            gap = WorkforceGap(**{**gap.__dict__, "alert": item})
            out.opened += int(new)
        out.gaps.append(gap)
    return out


def _alert(
    session: Session, gap: WorkforceGap, now: dt.datetime, tolerance: float, hpy: float
) -> tuple[int, bool]:
    """The alert of a gap: the one already opened for this declaration, else a new one."""
    from gosplan.services import escalation
    from gosplan.services.retaliation import LADDER
    from gosplan.storage.escalation import EscalationItem

    key = f"workforce-gap:{gap.unit}:{gap.period}:{gap.declaration}"
    have = session.scalars(select(EscalationItem.id).where(EscalationItem.key == key)).first()
    if have is not None:  # open or resolved: one alert per declaration
        return int(have), False
    item = escalation.open_alert(
        session,
        area=AREA,
        subject=f"enterprise {gap.unit}",
        reason=(
            f"declared workforce for {gap.period} ({gap.declared:g} worker-years, log entry "
            f"{gap.declaration}) disagrees with the hours approved for it "
            f"({gap.approved_hours:g} h = {gap.approved:.2f} worker-years at {hpy:g} h): "
            f"{gap.relative:.0%} apart, over the {tolerance:.0%} tolerance"
        ),
        now=now,
        ladder=LADDER,
        context={"unit": gap.unit},
        key=key,
        details={
            "unit": gap.unit,
            "period": gap.period,
            "declaration": gap.declaration,
            "approvals": list(gap.approvals),
        },
    )
    return int(item.id), True
