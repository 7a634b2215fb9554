"""Request and response models of the SPPE evaluation (统一评估)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.projects.evaluation.models import AssignmentStatus, EvaluationStatus, Grade
from services.projects.procurement.schemas import Reason


class EvaluatorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sub: str = Field(min_length=1, max_length=200, description="The evaluator's token subject")
    name: str = Field(min_length=1, max_length=100)
    org_id: uuid.UUID | None = Field(
        default=None,
        description="The organization the evaluator works for, if any: it must not be the "
        "project's applicant, supplier or a bidder (422 `conflict_of_interest`)",
    )


class EvaluationStart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    evaluators: list[EvaluatorIn] = Field(min_length=1, max_length=20)
    scheme_version: int | None = Field(default=None, ge=1, description="Latest if omitted")


class Declaration(BaseModel):
    """Conflict-of-interest declaration (利益冲突声明), made before scoring."""

    model_config = ConfigDict(extra="forbid")

    has_conflict: bool
    statement: str = Field(min_length=1, max_length=5000)


class Release(BaseModel):
    """The bureau releases an evaluator who has not scored this round (e.g. who never
    declared and cannot be reached); they no longer hold the evaluation up."""

    model_config = ConfigDict(extra="forbid")

    reason: Reason


class SheetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    indicator_points: dict[str, Decimal] = Field(
        description='Points per indicator code, e.g. {"S1": 4.5}', max_length=50
    )
    adjustment_points: dict[str, Decimal] = Field(
        default_factory=dict, max_length=10, description="Bonus (+) or penalty (−) per criterion"
    )
    comments: str | None = Field(default=None, max_length=20_000)


class AssignmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    evaluator_sub: str
    evaluator_name: str
    evaluator_org_id: uuid.UUID | None
    status: AssignmentStatus
    has_conflict: bool | None
    declaration: str | None
    declared_at: datetime | None


class SheetOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    evaluator_sub: str
    round: int
    indicator_points: dict[str, str]
    adjustment_points: dict[str, str]
    base_total: Decimal
    adjustment_total: Decimal
    total: Decimal
    comments: str | None
    submitted_at: datetime


class EvaluationOut(BaseModel):
    id: uuid.UUID
    project_id: uuid.UUID
    scheme_version: int
    status: EvaluationStatus
    round: int
    composite: Decimal | None
    grade: Grade | None
    rule: str | None = Field(description="`mean`, or `median` after the last re-scoring round")
    started_at: datetime
    concluded_at: datetime | None
    version: int
    evaluators: list[AssignmentOut]
    sheets: list[SheetOut] = Field(
        description="While scoring, an evaluator sees only its own sheets"
    )


class SchemeOut(BaseModel):
    version: int
    content: dict[str, Any]
    content_sha256: str
    loaded_at: datetime
