"""Queries of the people records and of the street figures built from them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.access import people_visible_to, visible_to
from services.registry.enums import ABOVE_DISTRICT_KINDS, CertificateLevel, OrganizationStatus
from services.registry.organizations.models import Organization
from services.registry.people.models import (
    PartyOrganization,
    StaffMember,
    Volunteer,
    VolunteerService,
)
from services.registry.reference.models import Region
from shared.auth import Principal
from shared.pagination import PageParams, paginate

# "On the register" for coverage: the organizations that exist, revoked and
# deregistered ones excluded.
OPEN_STATUSES = (OrganizationStatus.active, OrganizationStatus.abnormal)


@dataclass(frozen=True, slots=True)
class StaffFilters:
    certified: bool | None = None
    certificate_level: CertificateLevel | None = None
    organization_id: uuid.UUID | None = None
    street_code: str | None = None


def _staff_visible(principal: Principal) -> ColumnElement[bool]:
    return people_visible_to(
        principal, street=StaffMember.street_code, organization=StaffMember.organization_id
    )


def _volunteer_visible(principal: Principal) -> ColumnElement[bool]:
    return people_visible_to(
        principal, street=Volunteer.street_code, organization=Volunteer.organization_id
    )


async def staff_page(
    session: AsyncSession, *, principal: Principal, filters: StaffFilters, page: PageParams
) -> tuple[Sequence[StaffMember], int]:
    query = select(StaffMember).where(_staff_visible(principal))
    if filters.certified is not None:
        query = query.where(
            StaffMember.certificate_level.is_not(None)
            if filters.certified
            else StaffMember.certificate_level.is_(None)
        )
    if filters.certificate_level is not None:
        query = query.where(StaffMember.certificate_level == filters.certificate_level)
    if filters.organization_id is not None:
        query = query.where(StaffMember.organization_id == filters.organization_id)
    if filters.street_code is not None:
        query = query.where(StaffMember.street_code == filters.street_code)
    return await paginate(session, query, page, order_by=(StaffMember.name, StaffMember.id))


async def staff_member(
    session: AsyncSession, *, principal: Principal, staff_id: uuid.UUID, for_update: bool = False
) -> StaffMember | None:
    query = select(StaffMember).where(StaffMember.id == staff_id, _staff_visible(principal))
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def staff_with_digest(session: AsyncSession, digest: str) -> uuid.UUID | None:
    return (
        await session.execute(select(StaffMember.id).where(StaffMember.id_number_digest == digest))
    ).scalar_one_or_none()


async def staff_with_certificate(session: AsyncSession, number: str) -> uuid.UUID | None:
    return (
        await session.execute(
            select(StaffMember.id).where(StaffMember.certificate_number == number)
        )
    ).scalar_one_or_none()


def _minutes_of_volunteer() -> Any:
    return (
        select(func.coalesce(func.sum(VolunteerService.minutes), 0))
        .where(VolunteerService.volunteer_id == Volunteer.id)
        .correlate(Volunteer)
        .scalar_subquery()
    )


def _volunteers_with_minutes() -> Select[tuple[Volunteer, int]]:
    return select(Volunteer, _minutes_of_volunteer().label("minutes"))


async def volunteer_page(
    session: AsyncSession,
    *,
    principal: Principal,
    organization_id: uuid.UUID | None,
    street_code: str | None,
    page: PageParams,
) -> tuple[list[Any], int]:
    """(volunteer, total minutes) rows within the principal's scope, by name."""
    query = _volunteers_with_minutes().where(_volunteer_visible(principal))
    if organization_id is not None:
        query = query.where(Volunteer.organization_id == organization_id)
    if street_code is not None:
        query = query.where(Volunteer.street_code == street_code)
    return await paginate(
        session, query, page, order_by=(Volunteer.name, Volunteer.id), scalars=False
    )


async def person_with_digest(
    session: AsyncSession, *, principal: Principal, digest: str
) -> tuple[StaffMember | None, Any]:
    """The staff member and the (volunteer, minutes) row of this ID number, in scope."""
    member = (
        await session.execute(
            select(StaffMember).where(
                StaffMember.id_number_digest == digest, _staff_visible(principal)
            )
        )
    ).scalar_one_or_none()
    volunteer = (
        await session.execute(
            _volunteers_with_minutes().where(
                Volunteer.id_number_digest == digest, _volunteer_visible(principal)
            )
        )
    ).one_or_none()
    return member, volunteer


async def volunteer(
    session: AsyncSession,
    *,
    principal: Principal,
    volunteer_id: uuid.UUID,
    for_update: bool = False,
) -> Volunteer | None:
    query = select(Volunteer).where(Volunteer.id == volunteer_id, _volunteer_visible(principal))
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def volunteer_minutes(session: AsyncSession, volunteer_id: uuid.UUID) -> int:
    total: int = (
        await session.execute(
            select(func.coalesce(func.sum(VolunteerService.minutes), 0)).where(
                VolunteerService.volunteer_id == volunteer_id
            )
        )
    ).scalar_one()
    return total


async def volunteer_with_digest(session: AsyncSession, digest: str) -> uuid.UUID | None:
    return (
        await session.execute(select(Volunteer.id).where(Volunteer.id_number_digest == digest))
    ).scalar_one_or_none()


async def minutes_on(session: AsyncSession, volunteer_id: uuid.UUID, day: date) -> int:
    """Service time already recorded for the volunteer on `day`."""
    total: int = (
        await session.execute(
            select(func.coalesce(func.sum(VolunteerService.minutes), 0)).where(
                VolunteerService.volunteer_id == volunteer_id, VolunteerService.served_on == day
            )
        )
    ).scalar_one()
    return total


async def delete_service_records(session: AsyncSession, volunteer_id: uuid.UUID) -> None:
    await session.execute(
        delete(VolunteerService).where(VolunteerService.volunteer_id == volunteer_id)
    )


async def service_records(
    session: AsyncSession, *, volunteer_id: uuid.UUID, page: PageParams
) -> tuple[Sequence[VolunteerService], int]:
    query = select(VolunteerService).where(VolunteerService.volunteer_id == volunteer_id)
    return await paginate(
        session, query, page, order_by=(VolunteerService.served_on.desc(), VolunteerService.id)
    )


async def hours_by_organization(
    session: AsyncSession, *, principal: Principal, page: PageParams
) -> tuple[list[Any], int]:
    """Per organization served with (within the caller's view of the register): the
    volunteers who served and their minutes, most minutes first."""
    columns: list[Any] = [
        Organization.id,
        Organization.name,
        Organization.street_code,
        func.count(func.distinct(VolunteerService.volunteer_id)).label("volunteers"),
        func.sum(VolunteerService.minutes).label("minutes"),
    ]
    query = (
        select(*columns)
        .join(VolunteerService, VolunteerService.organization_id == Organization.id)
        .where(visible_to(principal))
        .group_by(Organization.id)
    )
    return await paginate(
        session,
        query,
        page,
        order_by=(func.sum(VolunteerService.minutes).desc(), Organization.id),
        scalars=False,
    )


async def party_organization_page(
    session: AsyncSession, *, principal: Principal, page: PageParams
) -> tuple[Sequence[PartyOrganization], int]:
    query = (
        select(PartyOrganization)
        .join(Organization, Organization.id == PartyOrganization.organization_id)
        .where(visible_to(principal))
    )
    return await paginate(
        session,
        query,
        page,
        order_by=(PartyOrganization.established_on, PartyOrganization.organization_id),
    )


async def party_organization(
    session: AsyncSession, organization_id: uuid.UUID, *, for_update: bool = False
) -> PartyOrganization | None:
    query = select(PartyOrganization).where(PartyOrganization.organization_id == organization_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def street(session: AsyncSession, code: str, *, for_update: bool = False) -> Region | None:
    query = select(Region).where(Region.code == code, Region.level == "street")
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


@dataclass
class StreetCounts:
    """The raw counts of one street (None: organizations without a street)."""

    name: str | None = None
    population: int | None = None
    certified: int = 0
    staff: int = 0
    volunteers: int = 0
    volunteer_minutes: int = 0
    organizations: int = 0
    with_party: int = 0


async def street_counts(
    session: AsyncSession, street_code: str | None = None
) -> dict[str | None, StreetCounts]:
    """Counts per street, every street of the region table included; one street's only
    when `street_code` is given. Each is one GROUP BY over its table."""
    counts: dict[str | None, StreetCounts] = {}

    def of(code: str | None) -> StreetCounts:
        return counts.setdefault(code, StreetCounts())

    def only(column: Any) -> Any:
        return column == street_code if street_code is not None else true()

    regions = await session.execute(
        select(Region.code, Region.name, Region.population).where(
            Region.level == "street", only(Region.code)
        )
    )
    for code, name, population in regions.all():
        entry = of(code)
        entry.name, entry.population = name, population
    staff = await session.execute(
        select(
            StaffMember.street_code,
            func.count(),
            func.count(StaffMember.certificate_level),
        )
        .where(only(StaffMember.street_code))
        .group_by(StaffMember.street_code)
    )
    for code, total, certified in staff.all():
        of(code).staff, of(code).certified = total, certified
    volunteers = await session.execute(
        select(Volunteer.street_code, func.count())
        .where(only(Volunteer.street_code))
        .group_by(Volunteer.street_code)
    )
    for code, total in volunteers.all():
        of(code).volunteers = total
    minutes = await session.execute(
        select(Volunteer.street_code, func.sum(VolunteerService.minutes))
        .join(VolunteerService, VolunteerService.volunteer_id == Volunteer.id)
        .where(only(Volunteer.street_code))
        .group_by(Volunteer.street_code)
    )
    for code, total in minutes.all():
        of(code).volunteer_minutes = int(total)
    organizations = await session.execute(
        select(
            Organization.street_code,
            func.count(),
            func.count(PartyOrganization.organization_id),
        )
        .outerjoin(PartyOrganization, PartyOrganization.organization_id == Organization.id)
        .where(
            Organization.status.in_(OPEN_STATUSES),
            # The district's register as the 866 counts it: province-registered
            # foundations located here are not among its organizations.
            Organization.kind.not_in(list(ABOVE_DISTRICT_KINDS)),
            only(Organization.street_code),
        )
        .group_by(Organization.street_code)
    )
    for org_street, total, with_party in organizations.all():
        of(org_street).organizations, of(org_street).with_party = total, with_party
    return counts
