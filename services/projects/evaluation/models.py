"""Evaluation (统一评估): SPPE schemes, a project's frozen evaluation, evaluators and sheets."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Integer,
    Numeric,
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


class SppeScheme(Base):
    """One version of the SPPE scheme, loaded from its data file; never changed once stored."""

    __tablename__ = "sppe_scheme"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    content: Mapped[dict[str, Any]] = mapped_column(JSONB)
    content_sha256: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(server_default=func.now())


class EvaluationStatus(StrEnum):
    scoring = "scoring"
    concluded = "concluded"


class Grade(StrEnum):
    excellent = "excellent"  # 优秀
    good = "good"  # 良好
    passed = "pass"  # 合格
    fail = "fail"  # 不合格


class Evaluation(Base):
    """A project's evaluation, on the scheme version frozen when it started."""

    __tablename__ = "evaluation"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("project.id"), unique=True)
    scheme_version: Mapped[int] = mapped_column(ForeignKey("sppe_scheme.version"))
    scheme: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[EvaluationStatus] = mapped_column(
        str_enum(EvaluationStatus, "evaluation_status")
    )
    round: Mapped[int] = mapped_column(SmallInteger, default=1)
    composite: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    grade: Mapped[Grade | None] = mapped_column(str_enum(Grade, "grade"))
    rule: Mapped[str | None] = mapped_column(String(40))
    started_by: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(server_default=func.now())
    concluded_by: Mapped[str | None] = mapped_column(String(200))
    concluded_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version, "eager_defaults": True}  # noqa: RUF012


class AssignmentStatus(StrEnum):
    assigned = "assigned"  # must declare conflicts of interest before scoring
    cleared = "cleared"  # declared no conflict: may score
    recused = "recused"  # declared a conflict: does not score
    released = "released"  # released by the bureau before scoring (e.g. never declared)


class EvaluatorAssignment(Base):
    __tablename__ = "evaluator_assignment"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    evaluation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("evaluation.id"), index=True)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("project.id"), index=True)
    evaluator_sub: Mapped[str] = mapped_column(String(200), index=True)
    evaluator_name: Mapped[str] = mapped_column(String(100))
    # The organization the evaluator works for, if any: it must have no link with the
    # project (applicant, supplier, bidder), nor may the org_id of the evaluator's token.
    evaluator_org_id: Mapped[uuid.UUID | None]
    status: Mapped[AssignmentStatus] = mapped_column(
        str_enum(AssignmentStatus, "assignment_status")
    )
    has_conflict: Mapped[bool | None] = mapped_column(Boolean)
    declaration: Mapped[str | None] = mapped_column(Text)
    declared_at: Mapped[datetime | None]

    __table_args__ = (UniqueConstraint("evaluation_id", "evaluator_sub"),)


class ScoreSheet(Base):
    """One evaluator's submitted scores in one round; re-scoring adds a round, keeps the old."""

    __tablename__ = "score_sheet"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    evaluation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("evaluation.id"), index=True)
    assignment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("evaluator_assignment.id"))
    round: Mapped[int] = mapped_column(SmallInteger)
    # Points as decimal strings ({"S1": "4.5"}): JSON numbers would be floats.
    indicator_points: Mapped[dict[str, str]] = mapped_column(JSONB)
    adjustment_points: Mapped[dict[str, str]] = mapped_column(JSONB)
    base_total: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    adjustment_total: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    total: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    comments: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (UniqueConstraint("assignment_id", "round"),)
