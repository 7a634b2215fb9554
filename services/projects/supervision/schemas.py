"""Request and response models of supervision (统一督导)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from services.projects.meetings.schemas import Document
from services.projects.supervision.models import (
    RectificationStatus,
    ReportKind,
    Severity,
)
from shared.dates import CalendarDate


class ReportSubmission(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content: str = Field(min_length=1, max_length=50_000)
    attachments: list[Document] = Field(default_factory=list, max_length=50)


class ProgressReportOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: ReportKind
    seq: int
    period_start_on: date
    period_end_on: date
    due_on: date
    submitted_at: datetime | None
    submitted_late: bool
    overdue: bool = Field(description="Not submitted and past its due date (Asia/Shanghai)")
    content: str | None
    attachments: list[Document]
    reminded_at: datetime | None


class FindingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    finding: str = Field(min_length=1, max_length=5000)
    severity: Severity
    deadline_on: CalendarDate = Field(description="Rectification deadline (整改期限)")


class VisitCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    visited_on: CalendarDate
    supervisor: str = Field(min_length=1, max_length=200)
    summary: str = Field(min_length=1, max_length=20_000)
    findings: list[FindingIn] = Field(default_factory=list, max_length=100)


class RectificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    visit_id: uuid.UUID
    finding: str
    severity: Severity
    deadline_on: date
    status: RectificationStatus
    overdue: bool
    response: str | None
    responded_at: datetime | None
    resolution: str | None
    resolved_at: datetime | None
    rounds: int
    version: int


class VisitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    visited_on: date
    supervisor: str
    summary: str
    created_at: datetime
    rectifications: list[RectificationOut]


class RectificationResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    response: str = Field(min_length=1, max_length=20_000)


class RectificationResolution(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accepted: bool = Field(description="False sends it back to the organization")
    resolution: str = Field(min_length=1, max_length=20_000)


class Evidence(Document):
    """A document proving a deliverable: a web link the reviewers can open."""

    url: str = Field(min_length=1, max_length=500, pattern=r"^https?://\S+$")


class MilestoneReport(BaseModel):
    """The organization reports a deliverable achieved."""

    model_config = ConfigDict(extra="forbid")

    achieved_on: CalendarDate = Field(
        description="The day it was achieved (Asia/Shanghai), not later"
    )
    description: str = Field(
        min_length=1, max_length=20_000, description="What was delivered (交付情况)"
    )
    evidence: list[Evidence] = Field(min_length=1, max_length=50)


class MilestoneConfirmation(BaseModel):
    """The purchasing side's decision on a reported deliverable."""

    model_config = ConfigDict(extra="forbid")

    accepted: bool = Field(description="True: met; false sends it back to the organization")
    note: str = Field(min_length=1, max_length=20_000)
