"""Applications the workflow decides: registration, change, deregistration (and inspections)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.registry.enums import ApplicationKind, ApplicationState, OrganizationKind
from services.registry.organizations.schemas import (
    DIVISION,
    OrganizationFields,
    OrganizationUpdate,
    Uscc,
)


class Material(BaseModel):
    """A submitted material: its code in the case definition and where the document is."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=60, examples=["application_form"])
    name: str | None = Field(default=None, max_length=200)
    document_url: str | None = Field(default=None, max_length=1000)


class OrganizationProposal(OrganizationFields):
    """The organization to register; its USCC is issued on approval."""

    model_config = ConfigDict(extra="forbid")

    kind: OrganizationKind
    district_code: str = Field(pattern=DIVISION, examples=["340103"])


class RegistrationApplicationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organization: OrganizationProposal
    applicant_name: str = Field(min_length=1, max_length=200, description="The promoters")
    materials: list[Material] = Field(default_factory=list, max_length=50)


class FiledRegistrationCreate(BaseModel):
    """A filed organization (备案) applies to be registered (登记) as the same record."""

    model_config = ConfigDict(extra="forbid")

    kind: OrganizationKind | None = Field(
        default=None, description="The kind to register as; by default the one it has"
    )
    materials: list[Material] = Field(default_factory=list, max_length=50)


class ChangeApplicationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    changes: OrganizationUpdate
    materials: list[Material] = Field(default_factory=list, max_length=50)


class DeregistrationApplicationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=2, max_length=1000)
    materials: list[Material] = Field(default_factory=list, max_length=50)


class ApplicationWithdrawal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(
        default=None, max_length=1000, description="Why; it becomes the outcome's reason"
    )


class UsccAssignment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    uscc: Uscc


class ApplicationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: ApplicationKind
    state: ApplicationState
    organization_id: uuid.UUID | None
    proposal: dict[str, Any] = Field(
        description="What approval applies; ID numbers masked unless the caller may see them"
    )
    materials: list[dict[str, Any]]
    applicant_name: str
    title: str
    command_id: uuid.UUID = Field(description="The workflow command that opens the case")
    case_id: uuid.UUID | None = Field(
        description="The workflow case deciding it (named when the application is filed)"
    )
    assigned_uscc: str | None
    outcome_reason: str | None
    submitted_by: str
    submitted_at: datetime
    decided_at: datetime | None
    withdrawal_requested_at: datetime | None = Field(
        description="The applicant asked to withdraw it; it stays pending until the "
        "workflow's `withdrawn` outcome comes back (or a decision taken meanwhile)"
    )
    withdrawal_requested_by: str | None


class CaseOutcomeReceipt(BaseModel):
    """What the registry did with a case outcome (`applied` false on a repeat)."""

    application_id: uuid.UUID
    kind: ApplicationKind
    state: ApplicationState
    applied: bool
    organization_id: uuid.UUID | None
