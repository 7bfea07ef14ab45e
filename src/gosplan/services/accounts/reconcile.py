"""Reconciliation: hours credited to an enterprise's workers against the hours it reported.

An enterprise records its members' hours in the ledger (and they are credited when
approved) and, separately, reports the hours it worked in its fulfilment reports.
The two should agree.  Credited hours well above the reported ones mean hours were
credited that produced nothing the plan can see (self-crediting, ghost workers);
reported hours well above the credited ones mean workers were not credited.  Each
gap beyond ``tolerance`` is reported and, when ``alert`` is true, opens an alert
on the escalation ladder (area ``accounts``), one per enterprise and period.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from gosplan.labourtime.errors import AccountsInputError
from gosplan.labourtime.units import to_hours
from gosplan.services.accounts.ledger import Accounts
from gosplan.storage import accounts_ledger as ledger_sql
from gosplan.storage import accounts_reports as reports_sql

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Gap:
    """One enterprise in one period: hours credited (ledger) and reported (fulfilment)."""

    enterprise: str
    credited: Decimal
    reported: Decimal
    gap: Decimal  # credited − reported
    flagged: bool
    alert: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "enterprise": self.enterprise,
            "credited_hours": str(self.credited),
            "reported_hours": str(self.reported),
            "gap_hours": str(self.gap),
            "flagged": self.flagged,
            "alert": self.alert,
        }


@dataclass(frozen=True)
class ReconcileResult:
    """Scipy-style result: ``status`` 0 all agree, 1 gaps found; ``message`` says which."""

    period: str
    start: dt.date
    end: dt.date
    tolerance: float
    gaps: list[Gap] = field(default_factory=list)
    status: int = 0
    message: str = ""

    @property
    def success(self) -> bool:
        return self.status == 0

    @property
    def flagged(self) -> list[Gap]:
        return [g for g in self.gaps if g.flagged]

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "tolerance": self.tolerance,
            "status": self.status,
            "success": self.success,
            "message": self.message,
            "enterprises": [g.to_dict() for g in self.gaps],
        }


def month_of(period: str) -> tuple[dt.date, dt.date]:
    """``[first day, first day of next month)`` of a period coded ``YYYY-MM``."""
    m = _MONTH.match(period)
    if m is None:
        raise AccountsInputError(
            f"period {period!r} is not coded YYYY-MM: give the dates its fulfilment reports "
            "cover (`--from`, `--to`)."
        )
    y, mo = int(m.group(1)), int(m.group(2))
    if not 1 <= mo <= 12:
        raise AccountsInputError(f"period {period!r}: month {mo} is not 1–12.")
    return dt.date(y, mo, 1), dt.date(y + mo // 12, mo % 12 + 1, 1)


def reconcile(
    accounts: Accounts,
    period: str,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    tolerance: float = 0.05,
    alert: bool = True,
    now: dt.datetime | None = None,
) -> ReconcileResult:
    """Compare, per enterprise, hours credited in accounting ``period`` with hours reported
    for fulfilment periods starting in ``[start, end)`` (default: the period's month).

    A gap is flagged when ``|credited − reported| > tolerance × max(credited, reported)``
    and more than one hour.  With ``alert``, each flagged gap opens (or refreshes) an
    alert about the enterprise, in the same transaction.
    """
    if not (0 <= tolerance < 1):
        raise AccountsInputError(f"`tolerance` must be in [0, 1); got {tolerance!r}.")
    if start is None or end is None:
        m_start, m_end = month_of(period)
        start, end = start or m_start, end or m_end
    if not start < end:
        raise AccountsInputError(f"`from` {start} must be before `to` {end}.")
    lo, hi = start, end

    def run(s: Session) -> ReconcileResult:
        ledger_sql.get_period(s, period)
        credited = reports_sql.credited_hours(s, period)
        reported = reports_sql.reported_hours(s, lo, hi)
        gaps = [
            _gap(
                s,
                code,
                to_hours(credited.get(code, 0)),
                Decimal(repr(round(reported.get(code, 0.0), 6))),
                tolerance,
                period,
                alert,
                now,
            )
            for code in sorted(set(credited) | set(reported))
        ]
        bad = [g for g in gaps if g.flagged]
        msg = (
            "credited and reported hours agree for every enterprise"
            if not bad
            else "gaps between credited and reported hours: "
            + ", ".join(f"{g.enterprise} {g.gap:+f} h" for g in bad)
        )
        return ReconcileResult(
            period=period,
            start=lo,
            end=hi,
            tolerance=tolerance,
            gaps=gaps,
            status=1 if bad else 0,
            message=msg,
        )

    return accounts._run(run, write=alert)


def _gap(
    s: Session,
    code: str,
    credited: Decimal,
    reported: Decimal,
    tolerance: float,
    period: str,
    alert: bool,
    now: dt.datetime | None,
) -> Gap:
    gap = credited - reported
    flagged = abs(gap) > max(Decimal(repr(tolerance)) * max(credited, reported), Decimal(1))
    item_id = None
    if flagged and alert:
        from gosplan.services import escalation as esc

        side = "more" if gap > 0 else "fewer"
        item = esc.open_alert(
            s,
            area="accounts",
            subject=f"enterprise {code}",
            reason=(
                f"{abs(gap):f} h {side} credited to workers of {code} in period {period} "
                f"than its fulfilment reports state ({credited:f} h credited, "
                f"{reported:f} h reported)"
            ),
            context={"unit": code, "sector": "?"},
            key=f"accounts:reconcile:{period}:{code}",
            details={
                "unit": code,
                "period": period,
                "credited_hours": str(credited),
                "reported_hours": str(reported),
            },
            now=now or esc.utcnow(),
        )
        item_id = item.id
    return Gap(
        enterprise=code,
        credited=credited,
        reported=reported,
        gap=gap,
        flagged=flagged,
        alert=item_id,
    )
