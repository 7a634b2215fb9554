"""Supervision (统一督导): scheduled progress reports, visits, findings and rectifications."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.projects.base import Base
from shared.db import str_enum


class ReportKind(StrEnum):
    monthly = "monthly"  # 月报
    mid_term = "mid_term"  # 中期报告


class ProgressReport(Base):
    """A report the supplier owes by `due_on` (Asia/Shanghai), scheduled at initiation."""

    __tablename__ = "progress_report"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("project.id"), index=True)
    kind: Mapped[ReportKind] = mapped_column(str_enum(ReportKind, "report_kind"))
    seq: Mapped[int] = mapped_column(SmallInteger)
    period_start_on: Mapped[date] = mapped_column(Date)
    period_end_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    content: Mapped[str | None] = mapped_column(Text)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    submitted_at: Mapped[datetime | None]
    submitted_by: Mapped[str | None] = mapped_column(String(200))
    submitted_late: Mapped[bool] = mapped_column(Boolean, default=False)
    reminded_at: Mapped[datetime | None]
    overdue_notified_at: Mapped[datetime | None]

    __table_args__ = (UniqueConstraint("project_id", "kind", "seq"),)


class SupervisionVisit(Base):
    __tablename__ = "supervision_visit"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("project.id"), index=True)
    visited_on: Mapped[date] = mapped_column(Date)
    supervisor: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Severity(StrEnum):
    minor = "minor"
    major = "major"
    critical = "critical"


class RectificationStatus(StrEnum):
    open = "open"  # waiting for the organization's response
    responded = "responded"  # waiting for the supervisor's resolution
    resolved = "resolved"


class Rectification(Base):
    """A visit's finding and its rectification (整改): deadline, response, resolution."""

    __tablename__ = "rectification"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("project.id"), index=True)
    visit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("supervision_visit.id"), index=True)
    finding: Mapped[str] = mapped_column(Text)
    severity: Mapped[Severity] = mapped_column(str_enum(Severity, "severity"))
    deadline_on: Mapped[date] = mapped_column(Date)
    status: Mapped[RectificationStatus] = mapped_column(
        str_enum(RectificationStatus, "rectification_status")
    )
    response: Mapped[str | None] = mapped_column(Text)
    responded_at: Mapped[datetime | None]
    responded_by: Mapped[str | None] = mapped_column(String(200))
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    rounds: Mapped[int] = mapped_column(SmallInteger, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version, "eager_defaults": True}  # noqa: RUF012
