"""Tables of fulfilment monitoring: register, norms, plans, reports (versioned), check runs.

Reports are never changed: a corrected report is a new row with the next
``version`` for the same enterprise and period, and the older rows stay.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

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
)
from sqlalchemy.orm import Mapped, mapped_column

from gosplan.storage import escalation as _escalation  # noqa: F401  (esc_item for ful_flag)
from gosplan.storage.base import Base


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
    sector_id: Mapped[int] = mapped_column(ForeignKey("ful_sector.id"), nullable=False,
                                           index=True)
    capacity: Mapped[float] = mapped_column(Float, nullable=False)
    hours_norm: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


class FulNorm(Base):
    """Input of ``product`` per unit of output: of a sector (``enterprise_id`` NULL) or
    of one enterprise (its own norm, which takes precedence)."""

    __tablename__ = "ful_norm"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sector_id: Mapped[int] = mapped_column(ForeignKey("ful_sector.id"), nullable=False,
                                           index=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("ful_enterprise.id"),
                                                      nullable=True, index=True)
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
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("ful_enterprise.id"), nullable=False,
                                               index=True)
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
    report_id: Mapped[int] = mapped_column(ForeignKey("ful_report.id"), nullable=False,
                                           index=True)
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    counterparty_id: Mapped[int] = mapped_column(ForeignKey("ful_enterprise.id"),
                                                 nullable=False)
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
    run_id: Mapped[int] = mapped_column(ForeignKey("ful_check_run.id"), nullable=False,
                                        index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("ful_enterprise.id"), nullable=False,
                                               index=True)
    period: Mapped[dt.date] = mapped_column(Date, nullable=False)
    check: Mapped[str] = mapped_column(String(16), nullable=False)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    detail: Mapped[str] = mapped_column(Text, nullable=False)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("esc_item.id"), nullable=True)
