"""What one service reads of another's API: the fields it relies on, nothing more.

These are the response models of the typed clients in `shared.clients`. They ignore
extra fields, so a callee can add fields without breaking its callers.
"""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.dates import Instant


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
CASE_WITHDRAWAL_REQUESTED_EVENT = "workflow.case_withdrawal_requested"
# Commands between our own services: they travel through the outbox but are never
# published (the sync catalogue marks them `internal: true`), so they take no number in
# their subject's sequence, which provincial consumers read as gap-free.
INTERNAL_EVENT_TYPES: frozenset[str] = frozenset(
    {CASE_REQUESTED_EVENT, CASE_WITHDRAWAL_REQUESTED_EVENT}
)
CASE_OUTCOME_CALLBACK_PATH = "/api/v1/internal/case-outcomes"


class MaterialRef(_Contract):
    """A material the applicant submitted: its code in the case definition, and where it is."""

    code: str
    name: str | None = None
    document_url: str | None = None


class CaseRequest(_Contract):
    command_id: uuid.UUID
    # The id the case is to have: the requesting service names it, so its subject shows
    # its case from the start, without waiting to be told (None: the workflow picks one).
    case_id: uuid.UUID | None = None
    case_type: str
    subject_service: Literal["registry", "projects"]
    subject_type: str
    subject_id: str
    # The department the subject belongs to (a project's purchasing department, which
    # published its call): the definition may make it one of the reviewing departments.
    subject_department: str | None = None
    applicant_org_id: str | None = None
    applicant_name: str
    title: str
    materials: list[MaterialRef] = Field(default_factory=list)
    callback_path: str = CASE_OUTCOME_CALLBACK_PATH


# The applicant withdraws through the subject's service: that service writes a
# `workflow.case_withdrawal_requested` outbox event whose data is a
# `CaseWithdrawalRequest`, in the transaction that records the request; the worker
# withdraws the case (only its own subject service may), and the `withdrawn` outcome
# comes back like any other. A case decided meanwhile keeps its outcome.


class CaseWithdrawalRequest(_Contract):
    command_id: uuid.UUID = Field(description="The withdraw command: a repeat changes nothing")
    case_command_id: uuid.UUID = Field(description="The `CaseRequest.command_id` of the case")
    subject_service: Literal["registry", "projects"]
    subject_type: str
    subject_id: str
    reason: str | None = None


class CaseSummary(_Contract):
    """A case as `GET /api/v1/cases` lists it: what another service needs of it."""

    id: uuid.UUID
    case_type: str
    state: str
    subject_service: str | None = None
    subject_type: str | None = None
    subject_id: str | None = None


class CaseOutcome(_Contract):
    case_id: uuid.UUID
    case_type: str
    subject_type: str
    subject_id: str
    outcome: Literal["approved", "rejected", "withdrawn"]
    reason: str | None = None
    decided_at: Instant
    definition_version: int


# --- Eligibility: projects → registry ------------------------------------------------------


# The registry's codes a call's admission criteria speak (registry/enums.py holds them
# with their labels; tests/projects/test_defects_eligibility.py keeps the two in step).
RegistrationCode = Literal["registered", "filed"]  # 登记 (has a USCC) / 备案 (street filing)
GradeCode = Literal["1A", "2A", "3A", "4A", "5A"]  # 等级评估
# 年检结论 a call may admit; `fail` never qualifies.
AdmittedInspectionResult = Literal["pass", "basic_pass", "absent"]


def _registered_only() -> list[RegistrationCode]:
    return ["registered"]


class AdmissionCriteria(_Contract):
    """Whom a call admits beyond the standing rules: the query of `…/eligibility`.

    The default admits registered organizations only, whatever their grade, and any
    latest inspection result but `fail` (an organization never inspected included).
    """

    registrations: list[RegistrationCode] = Field(
        default_factory=_registered_only,
        min_length=1,
        max_length=2,
        description="Registration types admitted",
    )
    min_grade: GradeCode | None = Field(
        default=None, description="Least evaluation grade, valid today (none: any or none)"
    )
    inspection_results: list[AdmittedInspectionResult] | None = Field(
        default=None,
        min_length=1,
        max_length=3,
        description="Results the latest concluded inspection must have (none: any but fail)",
    )

    @field_validator("registrations", "inspection_results")
    @classmethod
    def _distinct(cls, codes: list[str] | None) -> list[str] | None:
        if codes is not None and len(set(codes)) != len(codes):
            raise ValueError("codes must be distinct")
        return codes

    def query(self) -> dict[str, str | list[str]]:
        """As query parameters (lists repeat the parameter)."""
        params: dict[str, str | list[str]] = {"registrations": list(self.registrations)}
        if self.min_grade is not None:
            params["min_grade"] = self.min_grade
        if self.inspection_results is not None:
            params["inspection_results"] = list(self.inspection_results)
        return params


class Eligibility(_Contract):
    """`GET /api/v1/organizations/{id}/eligibility`: may this organization apply for projects?

    Eligible means: status `active` (not on the abnormal list, not revoked or
    deregistered), not on the serious illegal & dishonest list, the latest concluded
    annual inspection not `fail`, and the `AdmissionCriteria` given in the query met.
    """

    organization_id: uuid.UUID
    eligible: bool
    status: str
    registration: str | None = None
    evaluation_grade: str | None = Field(default=None, description="Grade valid today, if any")
    last_inspection_year: int | None = None
    last_inspection_result: str | None = None
    reasons: list[str] = Field(default_factory=list, description="Codes of the failed rules")
