"""The people of 三社联动: staff and certified social workers, volunteers and their
service hours, and the party organizations covering the organizations.

Resident ID numbers are never stored: only a keyed digest (to find a person by their
exact number and refuse a second record of them) and the masked form that is shown
(`people/identity.py`).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from services.registry.base import Base
from services.registry.enums import CertificateLevel, Employment, PartyOrganizationForm
from shared.db import str_enum


class StaffMember(Base):
    """A person working for the social-organization sector of a street (社会组织从业人员).

    One table for staff and certified social workers (持证社工): a certified social worker
    is a staff member with a certificate (level, number, year); every certified worker
    is also counted as staff. The employer is an organization of the register, or none
    (a worker of a community residents' committee or a social-work station).
    """

    __tablename__ = "staff_member"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(60))
    id_number_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    id_number_masked: Mapped[str | None] = mapped_column(String(18))
    organization_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organization.id"), index=True
    )
    street_code: Mapped[str] = mapped_column(String(12), index=True)
    employment: Mapped[Employment] = mapped_column(str_enum(Employment, "employment"))
    certificate_level: Mapped[CertificateLevel | None] = mapped_column(
        str_enum(CertificateLevel, "certificate_level")
    )
    certificate_number: Mapped[str | None] = mapped_column(String(40), unique=True)
    certificate_year: Mapped[int | None] = mapped_column(SmallInteger)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

    __mapper_args__ = {"version_id_col": version, "eager_defaults": True}  # noqa: RUF012

    __table_args__ = (
        CheckConstraint(
            "(certificate_level IS NULL) = (certificate_number IS NULL)"
            " AND (certificate_level IS NULL) = (certificate_year IS NULL)",
            name="certificate_complete",
        ),
        CheckConstraint(
            "(id_number_digest IS NULL) = (id_number_masked IS NULL)", name="id_number_pair"
        ),
    )


class Volunteer(Base):
    """A registered volunteer (注册志愿者), with the team they registered with, if any."""

    __tablename__ = "volunteer"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(60))
    id_number_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    id_number_masked: Mapped[str | None] = mapped_column(String(18))
    organization_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organization.id"), index=True
    )
    street_code: Mapped[str] = mapped_column(String(12), index=True)
    registered_on: Mapped[date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __mapper_args__ = {"version_id_col": version, "eager_defaults": True}  # noqa: RUF012

    __table_args__ = (
        CheckConstraint(
            "(id_number_digest IS NULL) = (id_number_masked IS NULL)", name="id_number_pair"
        ),
    )


# The most service one person can give in one day.
MINUTES_PER_DAY = 24 * 60


class VolunteerService(Base):
    """Time a volunteer served on one day (志愿服务时长), with the organization served with."""

    __tablename__ = "volunteer_service"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    volunteer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("volunteer.id", ondelete="CASCADE"))
    organization_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organization.id"), index=True
    )
    served_on: Mapped[date] = mapped_column(Date)
    minutes: Mapped[int] = mapped_column(Integer)
    activity: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        CheckConstraint(f"minutes BETWEEN 1 AND {MINUTES_PER_DAY}", name="minutes_in_a_day"),
        Index("ix_volunteer_service_volunteer_id_served_on", "volunteer_id", "served_on"),
    )


# An organization's own branch needs three full party members (《中国共产党章程》 art. 30);
# with fewer it joins a joint branch.
MEMBERS_FOR_OWN_BRANCH = 3


class PartyOrganization(Base):
    """The party organization covering one organization of the register (one at most)."""

    __tablename__ = "party_organization"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organization.id"), primary_key=True
    )
    form: Mapped[PartyOrganizationForm] = mapped_column(
        str_enum(PartyOrganizationForm, "party_organization_form")
    )
    name: Mapped[str] = mapped_column(String(200))
    established_on: Mapped[date] = mapped_column(Date)
    members: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

    __mapper_args__ = {"version_id_col": version, "eager_defaults": True}  # noqa: RUF012

    __table_args__ = (
        CheckConstraint("members >= 0", name="members_not_negative"),
        CheckConstraint(
            f"form = 'joint_branch' OR members >= {MEMBERS_FOR_OWN_BRANCH}",
            name="own_branch_has_members",
        ),
    )
