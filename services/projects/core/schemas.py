"""Response models of projects and their timeline."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.projects.applications.models import MilestoneStatus
from services.projects.core.models import ProjectStage
from services.projects.meetings.schemas import Document
from services.projects.reference.code_lists import (
    BudgetCategory,
    CatalogueItem,
    CatalogueSlot,
    CentralTask,
    Department,
)


class BudgetLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    category: BudgetCategory
    description: str
    amount_fen: int


class MilestoneOut(BaseModel):
    """A deliverable and where it stands: reported by the organization, confirmed met by
    the bureau or the purchasing department (the ETag of a milestone is its `version`)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    seq: int
    title: str
    description: str | None
    due_on: date
    status: MilestoneStatus
    achieved_on: date | None = Field(description="The day it was achieved (Asia/Shanghai)")
    achievement: str | None = Field(description="What the organization reports delivered")
    evidence: list[Document]
    reported_at: datetime | None
    review_note: str | None = Field(description="The reviewer's note: why met, or sent back")
    reviewed_at: datetime | None
    met_at: datetime | None = Field(description="When it was confirmed met")
    version: int


class ProjectSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    call_id: uuid.UUID
    year: int
    department: Department
    fund_id: uuid.UUID
    pool_id: uuid.UUID
    catalogue_item: CatalogueItem
    catalogue_slot: CatalogueSlot
    org_id: uuid.UUID
    org_name: str
    supplier_org_id: uuid.UUID | None
    supplier_name: str | None
    street_code: str | None
    title: str
    service_targets: list[str]
    central_task: CentralTask | None
    central_task_other: str | None = Field(description="The `other` central task's name")
    requested_fen: int
    stage: ProjectStage
    created_at: datetime
    updated_at: datetime
    version: int


class ProjectOut(ProjectSummary):
    summary: str
    proposal_url: str | None
    application_case_id: uuid.UUID | None
    closure_case_id: uuid.UUID | None
    budget_lines: list[BudgetLineOut]
    milestones: list[MilestoneOut]


class TimelineEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    actor_sub: str
    actor_role: str
    action: str
    from_stage: str | None
    to_stage: str | None
    details: dict[str, Any] = Field(description="What changed, e.g. amounts or ids")
