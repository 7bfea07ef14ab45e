"""Tables of fulfilment monitoring: register, norms, plans, reports (versioned), check runs.

The module also holds the area's repository: every query the fulfilment
services need, as functions taking a session (the services build no SQL).

Reports are never changed: a corrected report is a new row with the next
``version`` for the same enterprise and period, and the older rows stay.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    insert,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from gosplan.storage import escalation as _escalation  # noqa: F401  (esc_item for ful_flag)
from gosplan.storage.base import Base

T = TypeVar("T")


class FulSector(Base):
    """A sector (and its product); ``hours_per_unit`` is the sector's hours norm."""

    __tablename__ = "ful_sector"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(300), nullable=False, unique=True)
    hours_per_unit: Mapped[float | None] = mapped_column(Float, nullable=True)
    output_unit: Mapped[str] = mapped_column(String(64), nullable=False, default="unit")
    hours_unit: Mapped[str] = mapped_column(String(64), nullable=False, default="hours")


class FulEnterprise(Base):
    """An enterprise of the register; ``hours_norm`` is its own hours norm where known."""

    __tablename__ = "ful_enterprise"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    sector_id: Mapped[int] = mapped_column(ForeignKey("ful_sector.id"), nullable=False, index=True)
    capacity: Mapped[float] = mapped_column(Float, nullable=False)
    hours_norm: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


class FulNorm(Base):
    """Input of ``product`` per unit of output: of a sector (``enterprise_id`` NULL) or
    of one enterprise (its own norm, which takes precedence)."""

    __tablename__ = "ful_norm"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sector_id: Mapped[int] = mapped_column(ForeignKey("ful_sector.id"), nullable=False, index=True)
    enterprise_id: Mapped[int | None] = mapped_column(
        ForeignKey("ful_enterprise.id"), nullable=True, index=True
    )
    product_id: Mapped[int] = mapped_column(ForeignKey("ful_sector.id"), nullable=False)
    per_unit: Mapped[float] = mapped_column(Float, nullable=False)


class FulPlan(Base):
    """A plan's horizon: ``periods`` periods of length ``freq`` from ``start``."""

    __tablename__ = "ful_plan"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    freq: Mapped[str] = mapped_column(String(8), nullable=False)
    start: Mapped[dt.date] = mapped_column(Date, nullable=False)
    periods: Mapped[int] = mapped_column(Integer, nullable=False)
    source: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


class FulPlanSector(Base):
    """A sector's planned output in each period of a plan."""

    __tablename__ = "ful_plan_sector"
    __table_args__ = (UniqueConstraint("plan_id", "sector_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("ful_plan.id"), nullable=False)
    sector_id: Mapped[int] = mapped_column(ForeignKey("ful_sector.id"), nullable=False)
    per_period: Mapped[list[float]] = mapped_column(JSON, nullable=False)


class FulTarget(Base):
    """An enterprise's share of its sector's planned output (by capacity)."""

    __tablename__ = "ful_target"
    __table_args__ = (UniqueConstraint("plan_id", "enterprise_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("ful_plan.id"), nullable=False)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("ful_enterprise.id"), nullable=False)
    share: Mapped[float] = mapped_column(Float, nullable=False)


class FulReport(Base):
    """One version of an enterprise's report for one period."""

    __tablename__ = "ful_report"
    __table_args__ = (UniqueConstraint("enterprise_id", "period", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(
        ForeignKey("ful_enterprise.id"), nullable=False, index=True
    )
    period: Mapped[dt.date] = mapped_column(Date, nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    digest: Mapped[str] = mapped_column(String(64), nullable=False)
    output: Mapped[float] = mapped_column(Float, nullable=False)
    hours: Mapped[float] = mapped_column(Float, nullable=False)
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    source: Mapped[str] = mapped_column(String(200), nullable=False)


class FulReportLine(Base):
    """An input received from a supplier or a delivery made to a customer."""

    __tablename__ = "ful_report_line"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("ful_report.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    counterparty_id: Mapped[int] = mapped_column(ForeignKey("ful_enterprise.id"), nullable=False)
    product_id: Mapped[int] = mapped_column(ForeignKey("ful_sector.id"), nullable=False)
    quantity: Mapped[float] = mapped_column(Float, nullable=False)


class FulCheckRun(Base):
    """One run of the checks over the stored reports."""

    __tablename__ = "ful_check_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("ful_plan.id"), nullable=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    as_of: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)


class FulFlag(Base):
    """A flag raised by a check run on one enterprise and period."""

    __tablename__ = "ful_flag"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("ful_check_run.id"), nullable=False, index=True)
    enterprise_id: Mapped[int] = mapped_column(
        ForeignKey("ful_enterprise.id"), nullable=False, index=True
    )
    period: Mapped[dt.date] = mapped_column(Date, nullable=False)
    check: Mapped[str] = mapped_column(String(16), nullable=False)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    detail: Mapped[str] = mapped_column(Text, nullable=False)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("esc_item.id"), nullable=True)


# ----------------------------------------------------------------------------- repository
# Every query of the fulfilment area; services call these and never build SQL.


def sector_ids(session: Session) -> dict[str, int]:
    """Sector code -> id."""
    return {c: i for c, i in session.execute(select(FulSector.code, FulSector.id))}


def sector_id(session: Session, code: str) -> int | None:
    return session.scalar(select(FulSector.id).where(FulSector.code == code))


def enterprise_id(session: Session, code: str) -> int | None:
    return session.scalar(select(FulEnterprise.id).where(FulEnterprise.code == code))


def enterprise_ids(session: Session) -> dict[str, int]:
    """Enterprise code -> id."""
    return {c: i for c, i in session.execute(select(FulEnterprise.code, FulEnterprise.id))}


def first_registered(session: Session, codes: Sequence[str]) -> str | None:
    """One of ``codes`` already in the register, if any."""
    return session.scalars(
        select(FulEnterprise.code).where(FulEnterprise.code.in_(list(codes)))
    ).first()


def insert_rows(session: Session, table: type[Base], rows: Sequence[Mapping[str, Any]]) -> None:
    """Bulk insert of plain rows into one of this module's tables."""
    if rows:
        session.execute(insert(table), list(rows))


def add(session: Session, obj: T) -> T:
    """Add one row object and flush (so it has its id)."""
    session.add(obj)
    session.flush()
    return obj


def enterprise_capacities(session: Session) -> list[tuple[int, int, float]]:
    """(id, sector id, capacity) of every enterprise."""
    return [
        tuple(r)  # type: ignore[misc]
        for r in session.execute(
            select(FulEnterprise.id, FulEnterprise.sector_id, FulEnterprise.capacity)
        ).all()
    ]


def sector_of_enterprise(session: Session, code: str) -> str | None:
    return session.scalar(
        select(FulSector.code)
        .join(FulEnterprise, FulEnterprise.sector_id == FulSector.id)
        .where(FulEnterprise.code == code)
    )


def latest_plan(session: Session) -> FulPlan | None:
    return session.scalars(select(FulPlan).order_by(FulPlan.id.desc())).first()


def register_fingerprint(session: Session) -> tuple[Any, ...]:
    """The newest id of each table a fulfilment page reads (register, plans, reports): rows
    are only ever added to them, so this changes whenever what the pages show does. One
    round trip, each part an index lookup."""
    tables = (FulSector, FulEnterprise, FulNorm, FulPlan, FulPlanSector, FulTarget, FulReport)
    row = session.execute(select(*(select(func.max(t.id)).scalar_subquery() for t in tables))).one()
    return tuple(row)


def register_rows(session: Session, plan_id: int) -> dict[str, Sequence[Any]]:
    """The register and one plan as plain rows: sectors, enterprises, norms, the plan's
    per-sector figures and the enterprises' shares."""
    return {
        "sectors": session.execute(
            select(
                FulSector.id,
                FulSector.code,
                FulSector.hours_per_unit,
                FulSector.output_unit,
                FulSector.hours_unit,
            ).order_by(FulSector.id)
        ).all(),
        "enterprises": session.execute(
            select(
                FulEnterprise.id,
                FulEnterprise.code,
                FulEnterprise.sector_id,
                FulEnterprise.capacity,
                FulEnterprise.hours_norm,
            ).order_by(FulEnterprise.id)
        ).all(),
        "norms": session.execute(
            select(FulNorm.sector_id, FulNorm.enterprise_id, FulNorm.product_id, FulNorm.per_unit)
        ).all(),
        "plan_sectors": session.execute(
            select(FulPlanSector.sector_id, FulPlanSector.per_period).where(
                FulPlanSector.plan_id == plan_id
            )
        ).all(),
        "targets": session.execute(
            select(FulTarget.enterprise_id, FulTarget.share).where(FulTarget.plan_id == plan_id)
        ).all(),
    }


def latest_versions(
    session: Session, enterprise_ids: Sequence[int]
) -> dict[tuple[int, dt.date], tuple[int, str, int]]:
    """(enterprise id, period) -> (version, digest, report id) of the newest version."""
    out: dict[tuple[int, dt.date], tuple[int, str, int]] = {}
    for i in range(0, len(enterprise_ids), 500):
        chunk = enterprise_ids[i : i + 500]
        rows = session.execute(
            select(
                FulReport.enterprise_id,
                FulReport.period,
                FulReport.version,
                FulReport.digest,
                FulReport.id,
            ).where(FulReport.enterprise_id.in_(chunk))
        )
        for eid, period, version, dg, rid in rows:
            k = (eid, period)
            if k not in out or out[k][0] < version:
                out[k] = (version, dg, rid)
    return out


def insert_reports(session: Session, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Insert report versions; their ids in the order given."""
    if not rows:
        return []
    return list(
        session.scalars(
            insert(FulReport).returning(FulReport.id, sort_by_parameter_order=True), list(rows)
        )
    )


def report_versions(session: Session, code: str, day: dt.date) -> list[FulReport]:
    """Every stored version of one enterprise's report for one period, oldest first."""
    return list(
        session.scalars(
            select(FulReport)
            .join(FulEnterprise, FulEnterprise.id == FulReport.enterprise_id)
            .where(FulEnterprise.code == code, FulReport.period == day)
            .order_by(FulReport.version)
        )
    )


def newest_reports(session: Session) -> list[Any]:
    """(id, enterprise id, period, output, hours, first submitted) of the newest version
    of every report; lateness counts from the first version."""
    first = (
        select(
            FulReport.enterprise_id,
            FulReport.period,
            func.max(FulReport.version).label("v"),
            func.min(FulReport.received_at).label("first_sub"),
        )  # server's clock
        .group_by(FulReport.enterprise_id, FulReport.period)
        .subquery()
    )
    q = select(
        FulReport.id,
        FulReport.enterprise_id,
        FulReport.period,
        FulReport.output,
        FulReport.hours,
        first.c.first_sub,
    ).join(
        first,
        (FulReport.enterprise_id == first.c.enterprise_id)
        & (FulReport.period == first.c.period)
        & (FulReport.version == first.c.v),
    )
    return list(session.execute(q).all())


def report_lines(session: Session, report_ids: Sequence[int]) -> list[Any]:
    """(report id, kind, counterparty id, product id, quantity) of the given reports."""
    rows: list[Any] = []
    for i in range(0, len(report_ids), 500):
        rows += session.execute(
            select(
                FulReportLine.report_id,
                FulReportLine.kind,
                FulReportLine.counterparty_id,
                FulReportLine.product_id,
                FulReportLine.quantity,
            ).where(FulReportLine.report_id.in_(report_ids[i : i + 500]))
        ).all()
    return rows


def last_check_as_of(session: Session, plan_id: int, before: dt.datetime) -> dt.datetime | None:
    """The ``as_of`` of the latest earlier check run of a plan."""
    return session.scalar(
        select(func.max(FulCheckRun.as_of)).where(
            FulCheckRun.plan_id == plan_id, FulCheckRun.as_of < before
        )
    )


def alerted_flags(session: Session) -> set[tuple[int, dt.date, str]]:
    """(enterprise id, period, check) of every flag that opened or joined an alert."""
    return {
        (e, d, c)
        for e, d, c in session.execute(
            select(FulFlag.enterprise_id, FulFlag.period, FulFlag.check).where(
                FulFlag.alert_id.is_not(None)
            )
        )
    }


def alert_periods(session: Session, alert_ids: Sequence[int]) -> dict[int, set[dt.date]]:
    """Alert id → the periods of every flag that opened or joined it."""
    out: dict[int, set[dt.date]] = {}
    for i in range(0, len(alert_ids), 500):
        rows = session.execute(
            select(FulFlag.alert_id, FulFlag.period).where(
                FulFlag.alert_id.in_(alert_ids[i : i + 500])
            )
        )
        for a, d in rows:
            if a is not None:
                out.setdefault(int(a), set()).add(d)
    return out


def periods_received_since(session: Session, since: dt.datetime) -> set[dt.date]:
    """Periods for which some report (or a new version) was received after ``since``."""
    return set(
        session.scalars(select(FulReport.period).where(FulReport.received_at > since).distinct())
    )
