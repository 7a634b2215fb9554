"""Request and response models of cases (and of their review tasks, as a case shows them)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.workflow.cases.models import CaseState, TaskState
from shared.interservice import MaterialRef


class Command(BaseModel):
    """Every command carries an id: sending it again returns the first result."""

    model_config = ConfigDict(extra="forbid")

    command_id: uuid.UUID = Field(description="Client-generated UUID identifying this command")


class CaseSubmit(Command):
    case_id: uuid.UUID | None = Field(
        default=None,
        description="The id the case is to have, named by a requesting service so that its "
        "subject shows its case at once (organizations leave it out)",
    )
    case_type: str = Field(max_length=60, examples=["organization_registration"])
    title: str = Field(min_length=1, max_length=300)
    applicant_name: str = Field(min_length=1, max_length=200)
    materials: list[MaterialRef] = Field(default_factory=list, max_length=100)
    # Set by services for their own subjects; an organization filing directly leaves them out.
    subject_service: Literal["registry", "projects"] | None = None
    subject_type: str | None = Field(default=None, max_length=60)
    subject_id: str | None = Field(default=None, max_length=100)
    subject_department: str | None = Field(
        default=None,
        max_length=60,
        pattern=r"^[a-z][a-z0-9_]*$",
        description="The department the subject belongs to (a project's purchasing "
        "department): it reviews the case when its definition says "
        "`reviewed_by_subject_department`",
    )
    applicant_org_id: str | None = Field(default=None, max_length=100)
    pending_materials: list[Annotated[str, Field(max_length=60)]] = Field(
        default_factory=list,
        max_length=20,
        description="容缺受理: codes of minor (deferrable) materials the applicant commits to "
        "supply after acceptance; any other material is refused (material_not_deferrable)",
    )


class SupplementItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(max_length=60, description="Material code from the case definition")
    problem: Literal["missing", "invalid", "unknown"]
    message: str = Field(max_length=500)


class NoticeItem(SupplementItem):
    """An item of the notice as the applicant gets it: who asked for it."""

    departments: list[str] = Field(
        default_factory=list,
        description="The reviewing departments that asked for it (none: the acceptance "
        "window's pre-check)",
    )


class PendingMaterial(BaseModel):
    """A minor material accepted as pending (容缺受理), and when it was supplied."""

    code: str
    name: str
    provided_at: datetime | None = None


class SupplementRequest(Command):
    items: list[SupplementItem] = Field(min_length=1, max_length=100)
    note: str | None = Field(default=None, max_length=2000)


class Resubmission(Command):
    materials: list[MaterialRef] = Field(min_length=1, max_length=100)


class PendingSupply(Command):
    materials: list[MaterialRef] = Field(min_length=1, max_length=20)


class Withdrawal(Command):
    reason: str | None = Field(default=None, max_length=2000)


class TransitionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_state: str | None
    to_state: str
    actor: str
    actor_role: str
    reason: str | None
    definition_version: int
    at: datetime


class TaskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID
    department: str
    state: TaskState
    claimed_by: str | None
    decided_by: str | None
    decided_at: datetime | None
    decision_comment: str | None
    created_at: datetime


class CaseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_type: str
    definition_version: int
    state: CaseState
    subject_service: str | None
    subject_type: str | None
    subject_id: str | None
    subject_department: str | None
    applicant_org_id: str | None
    applicant_name: str
    title: str
    materials: list[MaterialRef]
    supplement_notice: list[NoticeItem] | None
    supplement_count: int
    pending_materials: list[PendingMaterial] | None
    pending_due_at: datetime | None
    submitted_at: datetime
    accepted_at: datetime | None
    decided_at: datetime | None
    outcome_reason: str | None
    statutory_due_at: datetime
    due_at: datetime
    reminder_at: datetime
    paused_at: datetime | None
    overdue: bool = Field(description="Past the committed limit without a decision")
    callback_delivered_at: datetime | None
    version: int


class CaseDetail(CaseOut):
    tasks: list[TaskOut]
    timeline: list[TransitionOut]


class CommandResult(BaseModel):
    """What a command returns, and returns again when repeated."""

    command_id: uuid.UUID
    case_id: uuid.UUID
    state: CaseState
    task_id: uuid.UUID | None = None
    replayed: bool = False
