"""Request and response models of the organization endpoints."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from services.registry.enums import (
    Category,
    EvaluationGrade,
    IncubationStage,
    ListReason,
    OrganizationKind,
    OrganizationStatus,
    Registration,
)
from shared.dates import CalendarDate
from shared.errors import FieldError, Unprocessable

DIVISION = r"^\d{6}$"
STREET = r"^\d{9}$"
COMMUNITY = r"^\d{12}$"


def _compact_code(value: Any) -> Any:
    # Codes are typed by people: accept spaces and lower case, store the canonical form.
    return value.replace(" ", "").upper() if isinstance(value, str) else value


def _stripped(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


Uscc = Annotated[
    str,
    BeforeValidator(_compact_code),
    Field(min_length=18, max_length=18, description="Unified Social Credit Code (GB 32100)"),
]
IdNumber = Annotated[
    str,
    BeforeValidator(_compact_code),
    Field(min_length=18, max_length=18, description="Resident ID number (GB 11643)"),
]
Name = Annotated[str, BeforeValidator(_stripped), Field(min_length=2, max_length=200)]
Tag = Annotated[str, BeforeValidator(_stripped), Field(min_length=1, max_length=40)]

# The organization's grade and its validity: only a grade evaluation sets them
# (grades/service.py keeps them equal to the evaluation in force).
GRADE_FIELDS = ("evaluation_grade", "grade_valid_from", "grade_valid_until")


def grade_set_by_evaluation(fields: list[str], *, prefix: str = "body.") -> Unprocessable:
    return Unprocessable(
        "The grade is set by a grade evaluation, not typed in: remove " + ", ".join(fields),
        code="grade_set_by_evaluation",
        errors=[
            FieldError(
                field=prefix + name,
                message="Set by a grade evaluation (/grade-evaluations)",
                code="grade_set_by_evaluation",
            )
            for name in fields
        ],
    )


def refuse_grade_fields(data: Any) -> Any:
    """Refuse a request body that sets the grade, naming the fields, before anything else.

    A problem of its own (not an unknown-field error) because the client that sends a
    grade needs to be told where grades come from. It is raised as the endpoint's
    problem: pydantic lets an exception that is not a ValueError through.
    """
    if isinstance(data, dict) and (fields := [name for name in GRADE_FIELDS if name in data]):
        raise grade_set_by_evaluation(fields)
    return data


class GradeReadOnly(BaseModel):
    """An input model that never sets the grade (see `refuse_grade_fields`)."""

    @model_validator(mode="before")
    @classmethod
    def grade_is_not_typed_in(cls, data: Any) -> Any:
        return refuse_grade_fields(data)


class OrganizationFields(GradeReadOnly):
    """Fields a client may set on create and change on update.

    Not the evaluation grade: it follows the grade evaluation in force (`grades/`), so a
    request that sets it is refused (`refuse_grade_fields`); responses still show it.
    """

    name: Name = Field(examples=["庐阳区助老服务中心"])
    category: Category
    street_code: str | None = Field(default=None, pattern=STREET, examples=["340103001"])
    community_code: str | None = Field(default=None, pattern=COMMUNITY)
    legal_rep_name: str = Field(min_length=1, max_length=60)
    legal_rep_id_number: IdNumber | None = None
    contact_name: str | None = Field(default=None, max_length=60)
    contact_phone: str | None = Field(default=None, max_length=30)
    address: str | None = Field(default=None, max_length=300)
    business_scope: str | None = Field(default=None, max_length=5000)
    supervising_unit: str | None = Field(default=None, max_length=200)
    registered_funds_fen: int = Field(default=0, ge=0, le=10**15, description="Integer fen")
    established_on: CalendarDate | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=20)


class OrganizationCreate(OrganizationFields):
    model_config = ConfigDict(extra="forbid")

    kind: OrganizationKind
    registration: Registration
    district_code: str = Field(pattern=DIVISION, examples=["340103"])
    uscc: Uscc | None = None
    filing_number: str | None = Field(default=None, min_length=4, max_length=40)


class OrganizationUpdate(GradeReadOnly):
    """A partial update: only the fields present are changed.

    Kind, registration, codes and status are not here: they change through their own
    procedures (registration, status changes); the incubation stage through
    `POST /organizations/{id}/incubation`; the grade only through a grade evaluation
    (`/organizations/{id}/grade-evaluations`): a body naming it is refused (422
    `grade_set_by_evaluation`).
    """

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    category: Category | None = None
    street_code: str | None = Field(default=None, pattern=STREET)
    community_code: str | None = Field(default=None, pattern=COMMUNITY)
    legal_rep_name: str | None = Field(default=None, min_length=1, max_length=60)
    legal_rep_id_number: IdNumber | None = None
    contact_name: str | None = Field(default=None, max_length=60)
    contact_phone: str | None = Field(default=None, max_length=30)
    address: str | None = Field(default=None, max_length=300)
    business_scope: str | None = Field(default=None, max_length=5000)
    supervising_unit: str | None = Field(default=None, max_length=200)
    registered_funds_fen: int | None = Field(default=None, ge=0, le=10**15)
    established_on: CalendarDate | None = None
    tags: list[Tag] | None = Field(default=None, max_length=20)


# Fields that may never be cleared (null) by an update.
REQUIRED_FIELDS = frozenset({"name", "category", "legal_rep_name", "registered_funds_fen", "tags"})


class OrganizationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    kind: OrganizationKind
    registration: Registration
    uscc: str | None
    filing_number: str | None
    category: Category
    district_code: str
    street_code: str | None
    community_code: str | None
    legal_rep_name: str
    legal_rep_id_number: str | None = Field(
        description="Masked (340103**********3X) unless the caller may see it"
    )
    contact_name: str | None
    contact_phone: str | None
    address: str | None
    business_scope: str | None
    supervising_unit: str | None
    registered_funds_fen: int
    established_on: date | None
    status: OrganizationStatus
    evaluation_grade: EvaluationGrade | None
    grade_valid_from: date | None
    grade_valid_until: date | None
    incubation_stage: IncubationStage | None
    tags: list[str]
    version: int
    created_at: datetime
    updated_at: datetime


class StatusChange(BaseModel):
    """A status change; revoked and deregistered are final."""

    model_config = ConfigDict(extra="forbid")

    status: OrganizationStatus
    reason: str = Field(min_length=2, max_length=1000, description="Why, for the history")
    reason_code: ListReason | None = Field(
        default=None,
        description="For `abnormal`: the reason of the abnormal-list entry (default `other`)",
    )


class CountBy(BaseModel):
    key: str | None
    count: int
    label: str | None = Field(
        default=None,
        description="The key's Chinese label (a street's name for `by_street`); null when "
        "the key is null or has none",
    )


class OrganizationStats(BaseModel):
    """The dashboard: 866 = 428 registered + 438 filed.

    `total` and every `by_*` group count the organizations on the district's register
    as the sources count them: in being (not deregistered or revoked) and registered by
    the district's bureau or filed at its streets. Those left out are counted apart:
    `closed` (by status) and `registered_above_district` (foundations, which only the
    province or the ministry registers).
    """

    total: int = Field(description="Organizations in being on the district's register")
    by_registration: list[CountBy]
    by_kind: list[CountBy]
    by_category: list[CountBy]
    by_status: list[CountBy]
    by_street: list[CountBy]
    by_evaluation_grade: list[CountBy]
    by_incubation_stage: list[CountBy]
    closed: list[CountBy] = Field(
        description="Deregistered (注销) and revoked (撤销) organizations, by status: not in "
        "`total`"
    )
    registered_above_district: int = Field(
        description="Foundations (基金会) located here, registered by the province or the "
        "ministry: not in `total`"
    )


class SortKey(StrEnum):
    created_at = "created_at"
    created_at_desc = "-created_at"
    name = "name"
    name_desc = "-name"
    established_on = "established_on"
    established_on_desc = "-established_on"
    registered_funds_fen = "registered_funds_fen"
    registered_funds_fen_desc = "-registered_funds_fen"
    updated_at = "updated_at"
    updated_at_desc = "-updated_at"


class ChangeRecordOut(BaseModel):
    """One entry of a record's history: who changed which field when, and how."""

    id: int
    organization_id: uuid.UUID
    at: datetime
    actor_sub: str
    actor_role: str
    action: str = Field(description="created, updated, status_changed, listed, delisted, ...")
    field: str | None
    before: Any | None = Field(description="ID numbers masked unless the caller may see them")
    after: Any | None
    reason: str | None
    source: str = Field(description="api, import, case_outcome, inspection, ...")
