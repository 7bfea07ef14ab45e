"""The enterprise pages' public shapes (the ``.json`` twins and form answers of
:mod:`.enterprise`)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel

from gosplan.services import accounts as acc
from gosplan.web.routes.fulfilment import ItemPublic


class EnterpriseSummary(BaseModel):
    code: str
    name: str
    open_alerts: int


class EnterpriseList(BaseModel):
    enterprises: list[EnterpriseSummary]


class WorkPublic(BaseModel):
    id: int
    person: str
    hours: Decimal
    status: str
    recorded_by: str = ""
    decided_by: str = ""
    reason: str = ""


def _work_public(w: acc.WorkRecord) -> WorkPublic:
    return WorkPublic(
        id=w.id,
        person=w.person,
        hours=w.hours,
        status=w.status,
        recorded_by=w.recorded_by,
        decided_by=w.decided_by,
        reason=w.reason,
    )


class PeriodPublic(BaseModel):
    period: str
    plan: float
    output: float | None
    hours: float | None
    fulfilment: float | None
    #: ``met`` (at least the plan), ``near`` (within the tolerance), ``short``, ``none``
    state: str = "none"
    #: 0 not reported, 1 as first sent, 2 and more: corrected
    version: int = 0


class ReportKind(BaseModel):
    kind: str
    meaning: str


class PersonPublic(BaseModel):
    code: str
    name: str


class FulfilmentPublic(BaseModel):
    sector: str
    plan_name: str
    freq: str
    output_unit: str
    periods: list[PeriodPublic]
    open_periods: list[str]


class CorrectionPublic(BaseModel):
    report: int
    corrects: int


class ReportResult(BaseModel):
    ok: bool = True
    new: int
    corrected: int
    unchanged: int
    alerts: list[ItemPublic]
    #: the stored report of each period sent (new, corrected or unchanged)
    reports: list[int] = []
    #: each correction and the report it corrects
    corrections: list[CorrectionPublic] = []
    #: alerts the corrections settled (closed by the check run)
    settled: list[ItemPublic] = []


class EnterprisePublic(BaseModel):
    code: str
    name: str
    fulfilment: FulfilmentPublic | None
    suppliers: list[str]
    period: str | None
    work: list[WorkPublic]
    hours_recorded: Decimal
    hours_awaiting_approval: Decimal
    people: list[str]
    #: the names of the accounts the page shows (people and enterprises), by code
    names: dict[str, str] = {}
    members: list[PersonPublic] = []
    report_kinds: list[ReportKind] = []
    alerts: list[ItemPublic]
    delegates: list[str]
    can_report: bool
    can_approve: bool
    me: str | None = None
    my_account: str | None = None
    form_key: str
