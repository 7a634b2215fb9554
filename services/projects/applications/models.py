"""What an application brings: budget lines and milestones of the proposal."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from services.projects.base import Base
from services.projects.codes import BudgetCategory
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


class ProjectMilestone(Base):
    """A deliverable the proposal promises (delivery milestone in OCDS terms)."""

    __tablename__ = "project_milestone"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("project.id"), index=True)
    seq: Mapped[int] = mapped_column(SmallInteger)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(1000))
    due_on: Mapped[date] = mapped_column(Date)
    met_at: Mapped[datetime | None]

    __table_args__ = (UniqueConstraint("project_id", "seq"),)
