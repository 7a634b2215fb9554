"""What an application brings: budget lines and milestones of the proposal."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.projects.base import Base
from services.projects.reference.code_lists import BudgetCategory
from shared.db import str_enum


class BudgetLine(Base):
    __tablename__ = "budget_line"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("project.id"), index=True)
    seq: Mapped[int] = mapped_column(SmallInteger)
    category: Mapped[BudgetCategory] = mapped_column(str_enum(BudgetCategory, "budget_category"))
    description: Mapped[str] = mapped_column(String(300))
    amount_fen: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        UniqueConstraint("project_id", "seq"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
    )


class MilestoneStatus(StrEnum):
    scheduled = "scheduled"  # promised; not reported achieved (or sent back)
    reported = "reported"  # the organization reports it achieved, with evidence
    met = "met"  # the purchasing side confirmed it (supervision/milestones.py)


class ProjectMilestone(Base):
    """A deliverable the proposal promises (delivery milestone in OCDS terms).

    The organization reports it achieved (the day, what was delivered, the evidence);
    the bureau or the purchasing department confirms it met, or sends it back.
    """

    __tablename__ = "project_milestone"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("project.id"), index=True)
    seq: Mapped[int] = mapped_column(SmallInteger)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(1000))
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[MilestoneStatus] = mapped_column(
        str_enum(MilestoneStatus, "milestone_status"), default=MilestoneStatus.scheduled
    )
    # The Asia/Shanghai day the deliverable was achieved, as reported.
    achieved_on: Mapped[date | None] = mapped_column(Date)
    achievement: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    reported_at: Mapped[datetime | None]
    reported_by: Mapped[str | None] = mapped_column(String(200))
    review_note: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None]
    reviewed_by: Mapped[str | None] = mapped_column(String(200))
    met_at: Mapped[datetime | None]  # when it was confirmed met
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version, "eager_defaults": True}  # noqa: RUF012
    __table_args__ = (
        UniqueConstraint("project_id", "seq"),
        CheckConstraint("(status = 'met') = (met_at IS NOT NULL)", name="met_when_confirmed"),
        CheckConstraint(
            "status = 'scheduled' OR (achieved_on IS NOT NULL AND reported_at IS NOT NULL)",
            name="reported_with_its_day",
        ),
    )
