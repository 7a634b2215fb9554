"""Tables of the `registry` schema.

Every table is written by the service layer only. `change_record` (the history) is
append-only: a trigger refuses UPDATE and DELETE (migration 0002).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Numeric,
    Sequence,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.registry.enums import (
    ApplicationKind,
    ApplicationState,
    Category,
    EvaluationGrade,
    IncubationPhase,
    IncubationStage,
    InspectionResult,
    InspectionState,
    ListReason,
    ListType,
    OrganizationKind,
    OrganizationStatus,
    Registration,
    SpotCheckFinding,
    SpotCheckLevel,
)
from shared.db import TYPE_ANNOTATION_MAP, schema_metadata, str_enum
from shared.outbox import infra_tables

__all__ = [
    "SCHEMA",
    "AnnualInspection",
    "Application",
    "Base",
    "Category",
    "ChangeRecord",
    "EvaluationGrade",
    "IncubationRecord",
    "IncubationStage",
    "InspectionResult",
    "ListEntry",
    "Organization",
    "OrganizationKind",
    "OrganizationStatus",
    "Region",
    "Registration",
    "SpotCheck",
    "SpotCheckItem",
    "infra",
]

SCHEMA = "registry"


class Base(DeclarativeBase):
    metadata = schema_metadata(SCHEMA)
    type_annotation_map = TYPE_ANNOTATION_MAP


infra = infra_tables(Base.metadata)


class Region(Base):
    """Administrative divisions: district → street/township → community."""

    __tablename__ = "region"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    level: Mapped[str] = mapped_column(String(10))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"))

    __table_args__ = (
        CheckConstraint("level IN ('district', 'street', 'community')", name="level"),
    )


class Organization(Base):
    __tablename__ = "organization"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[OrganizationKind] = mapped_column(str_enum(OrganizationKind, "kind"))
    registration: Mapped[Registration] = mapped_column(str_enum(Registration, "registration"))
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)
    filing_number: Mapped[str | None] = mapped_column(String(40), unique=True)
    category: Mapped[Category] = mapped_column(str_enum(Category, "category"))
    district_code: Mapped[str] = mapped_column(String(6))
    street_code: Mapped[str | None] = mapped_column(String(12), index=True)
    community_code: Mapped[str | None] = mapped_column(String(12))
    legal_rep_name: Mapped[str] = mapped_column(String(60))
    legal_rep_id_number: Mapped[str | None] = mapped_column(String(18))
    contact_name: Mapped[str | None] = mapped_column(String(60))
    contact_phone: Mapped[str | None] = mapped_column(String(30))
    address: Mapped[str | None] = mapped_column(String(300))
    business_scope: Mapped[str | None] = mapped_column(Text)
    supervising_unit: Mapped[str | None] = mapped_column(String(200))
    registered_funds_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    established_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[OrganizationStatus] = mapped_column(
        str_enum(OrganizationStatus, "status"), default=OrganizationStatus.active, index=True
    )
    evaluation_grade: Mapped[EvaluationGrade | None] = mapped_column(
        str_enum(EvaluationGrade, "evaluation_grade")
    )
    grade_valid_from: Mapped[date | None] = mapped_column(Date)
    grade_valid_until: Mapped[date | None] = mapped_column(Date)
    incubation_stage: Mapped[IncubationStage | None] = mapped_column(
        str_enum(IncubationStage, "incubation_stage")
    )
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), index=True)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

    __mapper_args__ = {"version_id_col": version, "eager_defaults": True}  # noqa: RUF012

    __table_args__ = (
        CheckConstraint(
            "registration <> 'registered' OR uscc IS NOT NULL", name="registered_has_uscc"
        ),
        CheckConstraint(
            "registration <> 'filed' OR (filing_number IS NOT NULL AND street_code IS NOT NULL)",
            name="filed_has_filing_number",
        ),
        CheckConstraint("registered_funds_fen >= 0", name="funds_not_negative"),
        CheckConstraint(
            "grade_valid_until IS NULL OR grade_valid_from IS NULL"
            " OR grade_valid_until >= grade_valid_from",
            name="grade_validity_ordered",
        ),
    )


class OrganizationTally(Base):
    """How many organizations share each combination of the dashboard's dimensions.

    Written only by the statement-level triggers of migration 0006 (never by the ORM),
    so that `GET /organizations/stats` sums a few thousand rows instead of grouping the
    whole register. Nullable dimensions are stored as ''.
    """

    __tablename__ = "organization_tally"

    registration: Mapped[str] = mapped_column(String(32), primary_key=True)
    street_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(32), primary_key=True)
    evaluation_grade: Mapped[str] = mapped_column(String(32), primary_key=True)
    incubation_stage: Mapped[str] = mapped_column(String(32), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)


# Name substring search on plain PostgreSQL (no pg_trgm): `registry.name_grams(name)` is
# the set of the lower-cased name's characters and character bigrams (migration 0002).
# `name_grams(name) @> grams(query)` finds candidates through this GIN index; a LIKE
# rechecks them. Bigrams suit CJK names, where a "word" is one or two characters.
Index(
    "ix_organization_name_grams",
    func.registry.name_grams(Organization.name),
    postgresql_using="gin",
)
# USCC prefix search whatever the database collation (a plain btree serves LIKE 'x%'
# only under the C collation).
Index(
    "ix_organization_uscc_prefix",
    Organization.uscc,
    postgresql_ops={"uscc": "varchar_pattern_ops"},
)


# Serial numbers of the USCCs the registry issues itself on approving a registration when
# the reviewer assigned none: organization codes MJ950000-MJ999999 (below 950000 are
# codes issued before, e.g. by the national code system). Created by migration 0002.
USCC_SERIAL = Sequence(
    "uscc_serial", metadata=Base.metadata, start=950_000, minvalue=950_000, maxvalue=999_999
)


class AnnualInspection(Base):
    """年检: one report per organization and year, concluded by a reviewer.

    The reviewer's conclusion (result, indicators, remarks) may be recorded while the
    workflow case is open; the inspection is concluded once the case is approved and
    the conclusion recorded, in whichever order they come.
    """

    __tablename__ = "annual_inspection"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id"), index=True)
    year: Mapped[int] = mapped_column(SmallInteger)
    state: Mapped[InspectionState] = mapped_column(str_enum(InspectionState, "inspection_state"))
    result: Mapped[InspectionResult | None] = mapped_column(str_enum(InspectionResult, "result"))
    party_building_ok: Mapped[bool | None]
    financial_audit_ok: Mapped[bool | None]
    remarks: Mapped[str | None] = mapped_column(Text)
    application_id: Mapped[uuid.UUID | None]
    submitted_at: Mapped[datetime | None]
    conclusion_recorded_by: Mapped[str | None] = mapped_column(String(200))
    concluded_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("organization_id", "year"),
        # "Organizations whose result in year Y was R": drive the search from here.
        Index("ix_annual_inspection_year_result", "year", "result"),
    )


class ChangeRecord(Base):
    """The history of a record: who changed which field when, from what to what."""

    __tablename__ = "change_record"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id"))
    at: Mapped[datetime] = mapped_column(server_default=func.now())
    actor_sub: Mapped[str] = mapped_column(String(200))
    actor_role: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(40))
    field: Mapped[str | None] = mapped_column(String(60))
    before: Mapped[Any | None] = mapped_column(JSONB)
    after: Mapped[Any | None] = mapped_column(JSONB)
    reason: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(40))
    request_id: Mapped[str | None] = mapped_column(String(128))

    __table_args__ = (Index("ix_change_record_organization_id_id", "organization_id", "id"),)


class Application(Base):
    """An application the workflow decides: registration, change, deregistration, inspection.

    `proposal` holds what approval will apply (the new organization's fields, the
    changes, ...); nothing of it touches the register before the approved outcome.
    """

    __tablename__ = "application"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    kind: Mapped[ApplicationKind] = mapped_column(str_enum(ApplicationKind, "application_kind"))
    state: Mapped[ApplicationState] = mapped_column(str_enum(ApplicationState, "application_state"))
    organization_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organization.id"), index=True
    )
    proposal: Mapped[dict[str, Any]] = mapped_column(JSONB)
    materials: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    applicant_name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    # The CaseRequest's command id: the workflow opens one case per command id.
    command_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    case_id: Mapped[uuid.UUID | None]
    assigned_uscc: Mapped[str | None] = mapped_column(String(18), unique=True)
    outcome_reason: Mapped[str | None] = mapped_column(Text)
    submitted_by: Mapped[str] = mapped_column(String(200))
    submitted_at: Mapped[datetime] = mapped_column(server_default=func.now())
    decided_at: Mapped[datetime | None]
    # The applicant asked to withdraw it: the request is on its way to the workflow, and
    # the application stays pending until the `withdrawn` outcome comes back.
    withdrawal_requested_at: Mapped[datetime | None]
    withdrawal_requested_by: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        # One open application of a kind per organization at a time (annual reports are
        # one per year instead, by annual_inspection's own unique constraint).
        Index(
            "uq_application_pending_per_organization",
            "organization_id",
            "kind",
            unique=True,
            postgresql_where=text(
                "state = 'pending' AND organization_id IS NOT NULL AND kind <> 'annual_inspection'"
            ),
        ),
    )


class ListEntry(Base):
    """An entry on the abnormal-activity list or the serious illegal & dishonest list."""

    __tablename__ = "list_entry"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id"), index=True)
    list_type: Mapped[ListType] = mapped_column(str_enum(ListType, "list_type"))
    reason_code: Mapped[ListReason] = mapped_column(str_enum(ListReason, "reason_code"))
    reason: Mapped[str] = mapped_column(Text)
    listed_on: Mapped[date] = mapped_column(Date)
    listed_by: Mapped[str] = mapped_column(String(200))
    removed_on: Mapped[date | None] = mapped_column(Date)
    removal_reason: Mapped[str | None] = mapped_column(Text)
    removed_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        CheckConstraint("removed_on IS NULL OR removed_on >= listed_on", name="removal_ordered"),
        Index(
            "uq_list_entry_open_reason",
            "organization_id",
            "list_type",
            "reason_code",
            unique=True,
            postgresql_where=text("removed_on IS NULL"),
        ),
        Index("ix_list_entry_list_type_listed_on", "list_type", "listed_on"),
    )


class SpotCheck(Base):
    """A drawn sample of organizations for a year: seed and percentage kept to redraw it."""

    __tablename__ = "spot_check"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    year: Mapped[int] = mapped_column(SmallInteger, index=True)
    level: Mapped[SpotCheckLevel] = mapped_column(str_enum(SpotCheckLevel, "spot_check_level"))
    percentage: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    seed: Mapped[int] = mapped_column(BigInteger)
    algorithm: Mapped[str] = mapped_column(String(40))
    registration: Mapped[Registration | None] = mapped_column(
        str_enum(Registration, "spot_check_registration")
    )
    district_code: Mapped[str | None] = mapped_column(String(6))
    population_size: Mapped[int]
    sample_size: Mapped[int]
    drawn_by: Mapped[str] = mapped_column(String(200))
    drawn_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        CheckConstraint("percentage > 0 AND percentage <= 100", name="percentage_range"),
        CheckConstraint("seed >= 0", name="seed_not_negative"),
    )


class SpotCheckItem(Base):
    __tablename__ = "spot_check_item"

    spot_check_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("spot_check.id"), primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organization.id"), primary_key=True, index=True
    )
    stratum: Mapped[str] = mapped_column(String(12))
    rank: Mapped[int]
    finding: Mapped[SpotCheckFinding] = mapped_column(
        str_enum(SpotCheckFinding, "spot_check_finding")
    )
    remarks: Mapped[str | None] = mapped_column(Text)
    checked_by: Mapped[str | None] = mapped_column(String(200))
    checked_at: Mapped[datetime | None]


class IncubationRecord(Base):
    """One step of an organization's incubation (孵化培育): stage, phase, seed funding."""

    __tablename__ = "incubation_record"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id"), index=True)
    stage: Mapped[IncubationStage] = mapped_column(
        str_enum(IncubationStage, "incubation_record_stage")
    )
    phase: Mapped[IncubationPhase | None] = mapped_column(
        str_enum(IncubationPhase, "incubation_phase")
    )
    seed_funding_fen: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (CheckConstraint("seed_funding_fen >= 0", name="seed_funding_not_negative"),)
