"""Request and response models of calls for applications."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.projects.calls.models import CallStatus
from services.projects.funds.schemas import MAX_FEN
from services.projects.reference.central_task import CentralTaskOther, central_task_errors
from services.projects.reference.code_lists import (
    CatalogueItem,
    CatalogueSlot,
    CentralTask,
    Department,
    ServiceTarget,
)
from shared.dates import CalendarDate
from shared.interservice import (
    AdmissionCriteria,
    AdmittedInspectionResult,
    GradeCode,
    RegistrationCode,
)

T = TypeVar("T")


def _distinct(codes: list[T] | None) -> list[T] | None:
    if codes is not None and len(set(codes)) != len(codes):
        raise ValueError("codes must be distinct")
    return codes


class CallCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    year: int = Field(ge=2000, le=2100, examples=[2026])
    department: Department
    title: str = Field(
        min_length=1, max_length=200, examples=["2026年困境儿童关爱服务项目申报通知"]
    )
    description: str = Field(min_length=1, max_length=20_000)
    fund_id: uuid.UUID
    pool_id: uuid.UUID
    catalogue_item: CatalogueItem
    service_targets: list[ServiceTarget] = Field(min_length=1, max_length=6)
    central_task: CentralTask | None = None
    central_task_other: CentralTaskOther | None = None
    budget_ceiling_fen: int = Field(gt=0, le=MAX_FEN, description="Most one project may ask")
    deadline_on: CalendarDate = Field(description="Last day to apply (Asia/Shanghai)")
    admitted_registrations: list[RegistrationCode] = Field(
        default_factory=lambda: AdmissionCriteria().registrations,
        min_length=1,
        max_length=2,
        description="Registration types admitted: registered (登记) and/or filed (备案)",
    )
    min_evaluation_grade: GradeCode | None = Field(
        default=None, description="Least evaluation grade (等级评估) valid on the day of applying"
    )
    admitted_inspection_results: list[AdmittedInspectionResult] | None = Field(
        default=None,
        min_length=1,
        max_length=3,
        description="Results (年检结论) the latest concluded annual inspection must have; "
        "none: any but fail, and an organization never inspected is admitted",
    )

    _codes = field_validator(
        "service_targets", "admitted_registrations", "admitted_inspection_results"
    )(_distinct)

    @model_validator(mode="after")
    def _central_task_named(self) -> CallCreate:
        if problem := central_task_errors(self.central_task, self.central_task_other):
            raise ValueError(problem)
        return self


class CallUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, min_length=1, max_length=20_000)
    deadline_on: CalendarDate | None = None
    budget_ceiling_fen: int | None = Field(default=None, gt=0, le=MAX_FEN)


class CallOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    year: int
    department: Department
    title: str
    description: str
    fund_id: uuid.UUID
    pool_id: uuid.UUID
    catalogue_item: CatalogueItem
    catalogue_slot: CatalogueSlot
    service_targets: list[ServiceTarget]
    central_task: CentralTask | None
    central_task_other: str | None = Field(description="The `other` central task's name")
    budget_ceiling_fen: int
    deadline_on: date
    deadline_at: datetime = Field(description="When applications stop (end of deadline_on)")
    status: CallStatus
    admitted_registrations: list[RegistrationCode]
    min_evaluation_grade: GradeCode | None
    admitted_inspection_results: list[AdmittedInspectionResult] | None
    accepting: bool = Field(description="Open and before the deadline")
    created_at: datetime
    version: int
