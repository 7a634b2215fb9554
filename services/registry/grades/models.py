"""Grade evaluations (社会组织等级评估), the experts' scores and each change of a grade.

`grade_change` is append-only like the organization's history (migration 0115 puts the
same trigger on it): it is what auditors and provincial systems read back.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from services.registry.base import Base
from services.registry.enums import (
    EvaluationGrade,
    GradeChangeKind,
    GradeEvaluationState,
)
from services.registry.grades.grade_points import grade_for
from shared.db import str_enum


class GradeEvaluation(Base):
    """One evaluation of one organization: application, scores, decision, its grade's life."""

    __tablename__ = "grade_evaluation"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    requested_grade: Mapped[EvaluationGrade | None] = mapped_column(
        str_enum(EvaluationGrade, "requested_grade")
    )
    state: Mapped[GradeEvaluationState] = mapped_column(
        str_enum(GradeEvaluationState, "grade_evaluation_state")
    )
    remarks: Mapped[str | None] = mapped_column(Text)
    applied_by: Mapped[str] = mapped_column(String(200))
    applied_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # The mean of the experts' totals (grade_points.mean_total), out of 1000.
    total_score: Mapped[int | None] = mapped_column(Integer)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)
    granted_grade: Mapped[EvaluationGrade | None] = mapped_column(
        str_enum(EvaluationGrade, "granted_grade")
    )
    # The grade now, after any downgrade; None once revoked, expired or superseded.
    grade: Mapped[EvaluationGrade | None] = mapped_column(str_enum(EvaluationGrade, "grade"))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    published_at: Mapped[datetime | None]
    published_by: Mapped[str | None] = mapped_column(String(200))
    ended_on: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year_in_range"),
        CheckConstraint("total_score BETWEEN 0 AND 1000", name="total_in_range"),
        CheckConstraint(
            "valid_until IS NULL OR valid_from IS NULL OR valid_until >= valid_from",
            name="validity_ordered",
        ),
        CheckConstraint(
            "state <> 'granted' OR (grade IS NOT NULL AND valid_until IS NOT NULL)",
            name="granted_has_grade",
        ),
        # One evaluation in progress per organization, and one grade in force.
        Index(
            "uq_grade_evaluation_open",
            "organization_id",
            unique=True,
            postgresql_where=text("state IN ('applied', 'scored')"),
        ),
        Index(
            "uq_grade_evaluation_in_force",
            "organization_id",
            unique=True,
            postgresql_where=text("state = 'granted'"),
        ),
        # The sweep's and the public list's reads: grades in force by end of validity.
        Index(
            "ix_grade_evaluation_in_force_until",
            "valid_until",
            postgresql_where=text("state = 'granted'"),
        ),
    )

    @property
    def earned_grade(self) -> EvaluationGrade | None:
        """The grade the total score earns (the ceiling of what the bureau may grant)."""
        return None if self.total_score is None else grade_for(self.total_score)


class GradeScore(Base):
    """One expert's scores of the four first-level indicators (grade_points.INDICATOR_MAXIMA)."""

    __tablename__ = "grade_score"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    evaluation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("grade_evaluation.id"))
    expert_sub: Mapped[str] = mapped_column(String(200))
    basic_conditions: Mapped[int] = mapped_column(Integer)
    internal_governance: Mapped[int] = mapped_column(Integer)
    work_performance: Mapped[int] = mapped_column(Integer)
    social_evaluation: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    comments: Mapped[str | None] = mapped_column(Text)
    scored_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        UniqueConstraint("evaluation_id", "expert_sub"),
        CheckConstraint("basic_conditions BETWEEN 0 AND 100", name="basic_conditions_in_range"),
        CheckConstraint(
            "internal_governance BETWEEN 0 AND 350", name="internal_governance_in_range"
        ),
        CheckConstraint("work_performance BETWEEN 0 AND 400", name="work_performance_in_range"),
        CheckConstraint("social_evaluation BETWEEN 0 AND 150", name="social_evaluation_in_range"),
        CheckConstraint(
            "total = basic_conditions + internal_governance + work_performance + social_evaluation",
            name="total_is_sum",
        ),
    )


class GradeChange(Base):
    """A change of an evaluation's grade: granted, downgraded, revoked, expired, superseded."""

    __tablename__ = "grade_change"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    evaluation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("grade_evaluation.id"))
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id"), index=True)
    kind: Mapped[GradeChangeKind] = mapped_column(str_enum(GradeChangeKind, "grade_change_kind"))
    grade_before: Mapped[EvaluationGrade | None] = mapped_column(
        str_enum(EvaluationGrade, "grade_before")
    )
    grade_after: Mapped[EvaluationGrade | None] = mapped_column(
        str_enum(EvaluationGrade, "grade_after")
    )
    reason: Mapped[str | None] = mapped_column(Text)
    # The annual inspection that caused a downgrade, if one did.
    inspection_year: Mapped[int | None] = mapped_column(Integer)
    actor_sub: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (Index("ix_grade_change_evaluation_id_id", "evaluation_id", "id"),)
