"""The register itself: organizations, their dashboard tally and their history.

`change_record` (the history) is append-only: a trigger refuses UPDATE and DELETE
(migration 0002).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Sequence,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.registry.base import Base
from services.registry.enums import (
    Category,
    EvaluationGrade,
    IncubationStage,
    OrganizationKind,
    OrganizationStatus,
    Registration,
)
from shared.db import str_enum


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


class OrganizationSearch(Base):
    """One narrow row per organization, for the name search (migration 0163).

    Written only by triggers on `organization` (never by the ORM), so it cannot drift:
    the name NFKC-folded as the search compares it, and what the search filters and
    sorts by on its own. A fifth of the register's width, it stays in shared buffers,
    so that reading every candidate of a name search does not read the register.
    """

    __tablename__ = "organization_search"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    folded_name: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32))
    registration: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]


# Name substring search on plain PostgreSQL (no pg_trgm): `registry.name_grams(name)` is
# the set of the lower-cased NFKC name's characters and character bigrams (migrations
# 0002, 0113: full-width brackets and digits fold to ASCII);
# `registry.organization_search_keys` adds `status=…` and `registration=…` (0119).
# `keys @> grams(query) [+ filters]` finds candidates through this GIN index; a LIKE
# rechecks them. Bigrams suit CJK names, where a "word" is one or two characters.
# The index is on the narrow search table (0163); NFKC is idempotent, so the folded
# name's grams are the name's.
Index(
    "ix_organization_search_keys",
    func.registry.organization_search_keys(
        OrganizationSearch.folded_name, OrganizationSearch.status, OrganizationSearch.registration
    ),
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
