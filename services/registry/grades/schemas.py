"""Grade evaluations: the application, an expert's scores, the decision, what is shown."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from services.registry.enums import (
    EvaluationGrade,
    GradeChangeKind,
    GradeDecisionOutcome,
    GradeEvaluationState,
)
from services.registry.grades.grade_points import INDICATOR_MAXIMA

Year = Annotated[int, Field(ge=2000, le=2100)]
Reason = Annotated[str, Field(min_length=2, max_length=2000)]


_MAX = INDICATOR_MAXIMA
BasicConditions = Annotated[
    int, Field(ge=0, le=_MAX["basic_conditions"], description="基础条件, 0–100 points")
]
InternalGovernance = Annotated[
    int, Field(ge=0, le=_MAX["internal_governance"], description="内部治理, 0–350 points")
]
WorkPerformance = Annotated[
    int, Field(ge=0, le=_MAX["work_performance"], description="工作绩效, 0–400 points")
]
SocialEvaluation = Annotated[
    int, Field(ge=0, le=_MAX["social_evaluation"], description="社会评价, 0–150 points")
]


class GradeApplication(BaseModel):
    """An organization's (or the bureau's, on its behalf) application to be evaluated."""

    model_config = ConfigDict(extra="forbid")

    year: Year = Field(description="The evaluation year (this year or the last)")
    requested_grade: EvaluationGrade | None = Field(
        default=None, description="The grade the organization applies for, if it names one"
    )
    remarks: str | None = Field(default=None, max_length=2000)


class GradeScoreSubmit(BaseModel):
    """One expert's scores of the four first-level indicators (1000 points in all)."""

    model_config = ConfigDict(extra="forbid")

    basic_conditions: BasicConditions
    internal_governance: InternalGovernance
    work_performance: WorkPerformance
    social_evaluation: SocialEvaluation
    comments: str | None = Field(default=None, max_length=5000)


class GradeDecision(BaseModel):
    """The bureau's decision: grant a grade (at most the one the score earns), or refuse."""

    model_config = ConfigDict(extra="forbid")

    outcome: GradeDecisionOutcome
    grade: EvaluationGrade | None = Field(
        default=None,
        description="The grade granted; default the one the total score earns. Only with `granted`",
    )
    reason: Reason | None = Field(default=None, description="Required when refusing")


class GradeWithdrawal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason


class GradeScoreOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    expert_sub: str
    basic_conditions: int
    internal_governance: int
    work_performance: int
    social_evaluation: int
    total: int
    comments: str | None
    scored_at: datetime


class GradeChangeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: GradeChangeKind
    grade_before: EvaluationGrade | None
    grade_after: EvaluationGrade | None
    reason: str | None
    inspection_year: int | None
    actor_sub: str
    at: datetime


class GradeEvaluationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    organization_id: uuid.UUID
    year: int
    requested_grade: EvaluationGrade | None
    state: GradeEvaluationState
    remarks: str | None
    applied_by: str
    applied_at: datetime
    total_score: int | None = Field(description="Mean of the experts' totals, out of 1000")
    earned_grade: EvaluationGrade | None = Field(
        description="The grade the total score earns (≥950 5A, ≥900 4A, ≥800 3A, ≥700 2A, ≥600 1A)"
    )
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None
    granted_grade: EvaluationGrade | None
    grade: EvaluationGrade | None = Field(description="The grade in force now (after downgrades)")
    valid_from: date | None
    valid_until: date | None = Field(description="Last day of validity (five years)")
    published_at: datetime | None
    ended_on: date | None


class GradeEvaluationDetail(GradeEvaluationOut):
    scores: list[GradeScoreOut]
    changes: list[GradeChangeOut]


class PublicGrade(BaseModel):
    """A grade in force, as published (公示): what anyone may read without a token."""

    organization_id: uuid.UUID
    organization_name: str
    uscc: str | None
    grade: EvaluationGrade
    year: int
    valid_from: date
    valid_until: date
    published_at: datetime


class GradeSweepResult(BaseModel):
    expired: int = Field(description="Evaluations whose validity ended, now expired")
    cleared: int = Field(
        description="Organizations whose grade field had lapsed without an evaluation, cleared"
    )
