"""What one service reads of another's API: the fields it relies on, nothing more.

These are the response models of the typed clients in `shared.clients`. They ignore
extra fields, so a callee can add fields without breaking its callers.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Contract(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class OrganizationSummary(_Contract):
    id: uuid.UUID
    name: str
    kind: str
    registration: str
    status: str
    uscc: str | None = None
    street_code: str | None = None


class FundPoolSummary(_Contract):
    id: uuid.UUID
    name: str
    amount_fen: int
    allocated_fen: int


class FundSummary(_Contract):
    id: uuid.UUID
    year: int
    name: str
    total_fen: int
    pools: list[FundPoolSummary]


class CaseDefinitionSummary(_Contract):
    case_type: str
    version: int


# --- Cases: registry/projects ⇄ workflow --------------------------------------------------
#
# A service that needs an approval writes a `workflow.case_requested` outbox event whose
# data is a `CaseRequest`, in the same transaction as its own application row. The
# workflow worker opens the case (once per `command_id`, whatever the redeliveries).
# When the case ends, the workflow POSTs a `CaseOutcome` to the subject service at
# `callback_path` (service token, `Idempotency-Key: <case_id>:<outcome>`), retrying until
# it gets a 2xx; the subject service applies it once and answers 2xx to repeats.

CASE_REQUESTED_EVENT = "workflow.case_requested"
CASE_OUTCOME_CALLBACK_PATH = "/api/v1/internal/case-outcomes"


class MaterialRef(_Contract):
    """A material the applicant submitted: its code in the case definition, and where it is."""

    code: str
    name: str | None = None
    document_url: str | None = None


class CaseRequest(_Contract):
    command_id: uuid.UUID
    case_type: str
    subject_service: Literal["registry", "projects"]
    subject_type: str
    subject_id: str
    applicant_org_id: str | None = None
    applicant_name: str
    title: str
    materials: list[MaterialRef] = Field(default_factory=list)
    callback_path: str = CASE_OUTCOME_CALLBACK_PATH


class CaseOutcome(_Contract):
    case_id: uuid.UUID
    case_type: str
    subject_type: str
    subject_id: str
    outcome: Literal["approved", "rejected", "withdrawn"]
    reason: str | None = None
    decided_at: datetime
    definition_version: int


# --- Eligibility: projects → registry ------------------------------------------------------


class Eligibility(_Contract):
    """`GET /api/v1/organizations/{id}/eligibility`: may this organization apply for projects?

    Eligible means: status `active` (not on the abnormal list, not revoked or
    deregistered) and the latest concluded annual inspection not `fail`.
    """

    organization_id: uuid.UUID
    eligible: bool
    status: str
    last_inspection_year: int | None = None
    last_inspection_result: str | None = None
    reasons: list[str] = Field(default_factory=list, description="Codes of the failed rules")
