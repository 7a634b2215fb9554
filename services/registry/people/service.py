"""The people of 三社联动 (社区、社会组织、社会工作者), after the Haining article:
"统筹全市城乡社区、社会组织和社会工作'三社联动'发展工作" and "推动521家社会组织、100名
专业社工……进社区、联网格"; party building is a key indicator of the annual inspection
("每年年检将社会组织党建工作……作为重要考核指标", Luyang).

Rules:
- staff and certified social workers are one record: a certificate (level, number,
  year) is given whole or not at all, from 2008 (the first national examination) to
  this year; a certified worker is identified by a valid resident ID number;
- a person is recorded once (the same ID number twice is a conflict), a certificate
  number once;
- an organization user keeps its own staff and volunteers only (the employer or team is
  itself), the bureau everyone's; the employer must be an open organization;
- a volunteer serves at most 24 hours in a day, on days not ahead of today; the minutes
  of one day are summed under the volunteer's row lock, so two concurrent records
  cannot pass it together;
- one party organization per organization; its own branch, general branch or committee
  needs three full party members, a joint branch none;
- ID numbers are checked, kept as a digest and a masked form (`identity.py`) and shown
  masked to everyone.

Functions flush, never commit.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.access import own_organization_id, require_people_keeper
from services.registry.enums import PartyOrganizationForm
from services.registry.organizations import service as organizations
from services.registry.organizations.models import Organization
from services.registry.people import identity, repository, stats
from services.registry.people.models import (
    MEMBERS_FOR_OWN_BRANCH,
    MINUTES_PER_DAY,
    PartyOrganization,
    StaffMember,
    Volunteer,
    VolunteerService,
)
from services.registry.people.schemas import (
    PartyOrganizationPut,
    PeopleStats,
    PopulationPut,
    ServiceRecordCreate,
    StaffCreate,
    StaffOut,
    StaffUpdate,
    VolunteerCreate,
    VolunteerOut,
    VolunteerUpdate,
)
from services.registry.reference.models import Region
from shared.auth import Principal, Role
from shared.clock import shanghai_today
from shared.concurrency import require_version
from shared.errors import Conflict, FieldError, NotFound, Unprocessable


def _invalid(field: str, code: str, message: str) -> Unprocessable:
    return Unprocessable(
        "The person's record is invalid",
        code="invalid_person",
        errors=[FieldError(field=f"body.{field}", message=message, code=code)],
    )


def present_staff(member: StaffMember) -> StaffOut:
    return StaffOut(
        id=member.id,
        name=member.name,
        id_number=member.id_number_masked,
        organization_id=member.organization_id,
        street_code=member.street_code,
        employment=member.employment,
        certified=member.certificate_level is not None,
        certificate_level=member.certificate_level,
        certificate_number=member.certificate_number,
        certificate_year=member.certificate_year,
        created_at=member.created_at,
        updated_at=member.updated_at,
    )


def present_volunteer(volunteer: Volunteer, minutes: int) -> VolunteerOut:
    return VolunteerOut(
        id=volunteer.id,
        name=volunteer.name,
        id_number=volunteer.id_number_masked,
        organization_id=volunteer.organization_id,
        street_code=volunteer.street_code,
        registered_on=volunteer.registered_on,
        total_minutes=minutes,
        total_hours=stats.hours(minutes),
    )


async def _open_organization(
    session: AsyncSession, principal: Principal, organization_id: uuid.UUID
) -> Organization:
    organization = await organizations.get(
        session, principal=principal, organization_id=organization_id
    )
    organizations.refuse_if_closed(organization)
    return organization


def _own_by_default(principal: Principal, organization_id: uuid.UUID | None) -> uuid.UUID | None:
    """An organization user's records are its own unless it names another (refused)."""
    if organization_id is None and principal.role is Role.organization:
        return own_organization_id(principal)
    return organization_id


async def _street_of(
    session: AsyncSession,
    principal: Principal,
    *,
    organization_id: uuid.UUID | None,
    street_code: str | None,
) -> str:
    employer = (
        await _open_organization(session, principal, organization_id) if organization_id else None
    )
    street = street_code or (employer.street_code if employer else None)
    if street is None:
        raise _invalid(
            "street_code",
            "person_street_required",
            "Give the street, or an organization that has one",
        )
    return street


def _check_certificate(member: StaffMember) -> None:
    parts = (member.certificate_level, member.certificate_number, member.certificate_year)
    if any(part is None for part in parts) and any(part is not None for part in parts):
        raise _invalid(
            "certificate_level",
            "certificate_incomplete",
            "A certificate has a level, a number and a year, all three",
        )
    if member.certificate_year is not None and member.certificate_year > shanghai_today().year:
        raise _invalid("certificate_year", "certificate_year_ahead", "Cannot be after this year")
    if member.certificate_level is not None and member.id_number_digest is None:
        raise _invalid(
            "id_number",
            "id_number_required",
            "A certified social worker is identified by their ID number",
        )


async def _set_staff_id_number(
    session: AsyncSession, member: StaffMember, number: str | None
) -> None:
    stored = identity.checked(number)
    if stored is not None:
        other = await repository.staff_with_digest(session, stored.digest)
        if other is not None and other != member.id:
            raise Conflict("This person is recorded already", code="person_exists")
    member.id_number_digest = stored.digest if stored else None
    member.id_number_masked = stored.masked if stored else None


async def _refuse_taken_certificate(session: AsyncSession, member: StaffMember) -> None:
    if member.certificate_number is None:
        return
    other = await repository.staff_with_certificate(session, member.certificate_number)
    if other is not None and other != member.id:
        raise Conflict("This certificate number is recorded already", code="certificate_taken")


async def create_staff(
    session: AsyncSession, *, principal: Principal, data: StaffCreate
) -> StaffMember:
    organization_id = _own_by_default(principal, data.organization_id)
    require_people_keeper(principal, organization_id)
    member = StaffMember(
        id=uuid.uuid4(),
        name=data.name,
        organization_id=organization_id,
        street_code=await _street_of(
            session, principal, organization_id=organization_id, street_code=data.street_code
        ),
        employment=data.employment,
        certificate_level=data.certificate_level,
        certificate_number=data.certificate_number,
        certificate_year=data.certificate_year,
    )
    await _set_staff_id_number(session, member, data.id_number)
    _check_certificate(member)
    await _refuse_taken_certificate(session, member)
    session.add(member)
    await session.flush()
    return member


async def get_staff(
    session: AsyncSession, *, principal: Principal, staff_id: uuid.UUID, for_update: bool = False
) -> StaffMember:
    member = await repository.staff_member(
        session, principal=principal, staff_id=staff_id, for_update=for_update
    )
    if member is None:
        raise NotFound("No such staff member", code="staff_not_found")
    return member


async def update_staff(
    session: AsyncSession,
    *,
    principal: Principal,
    staff_id: uuid.UUID,
    if_match: str | None,
    data: StaffUpdate,
) -> StaffMember:
    member = await get_staff(session, principal=principal, staff_id=staff_id, for_update=True)
    require_people_keeper(principal, member.organization_id)
    require_version(if_match, member.version)
    # One flush, one version: the checks below query, and must not flush half a change.
    with session.no_autoflush:
        given = data.model_fields_set
        if "organization_id" in given:
            require_people_keeper(principal, data.organization_id)
            if data.organization_id is not None:
                await _open_organization(session, principal, data.organization_id)
            member.organization_id = data.organization_id
        for field in ("name", "street_code", "employment"):
            if field in given:
                value = getattr(data, field)
                if value is None:
                    raise _invalid(field, "field_required", "Cannot be emptied")
                setattr(member, field, value)
        for field in ("certificate_level", "certificate_number", "certificate_year"):
            if field in given:
                setattr(member, field, getattr(data, field))
        if "id_number" in given:
            await _set_staff_id_number(session, member, data.id_number)
        _check_certificate(member)
        await _refuse_taken_certificate(session, member)
    await session.flush()
    return member


async def delete_staff(
    session: AsyncSession, *, principal: Principal, staff_id: uuid.UUID
) -> StaffMember:
    member = await get_staff(session, principal=principal, staff_id=staff_id, for_update=True)
    require_people_keeper(principal, member.organization_id)
    await session.delete(member)
    await session.flush()
    return member


async def create_volunteer(
    session: AsyncSession, *, principal: Principal, data: VolunteerCreate
) -> Volunteer:
    organization_id = _own_by_default(principal, data.organization_id)
    require_people_keeper(principal, organization_id)
    registered_on = data.registered_on or shanghai_today()
    if registered_on > shanghai_today():
        raise _invalid("registered_on", "date_in_future", "Cannot be ahead")
    volunteer = Volunteer(
        id=uuid.uuid4(),
        name=data.name,
        organization_id=organization_id,
        street_code=await _street_of(
            session, principal, organization_id=organization_id, street_code=data.street_code
        ),
        registered_on=registered_on,
    )
    await _set_volunteer_id_number(session, volunteer, data.id_number)
    session.add(volunteer)
    await session.flush()
    return volunteer


async def _set_volunteer_id_number(
    session: AsyncSession, volunteer: Volunteer, number: str | None
) -> None:
    stored = identity.checked(number)
    if stored is not None:
        other = await repository.volunteer_with_digest(session, stored.digest)
        if other is not None and other != volunteer.id:
            raise Conflict("This person is recorded already", code="person_exists")
    volunteer.id_number_digest = stored.digest if stored else None
    volunteer.id_number_masked = stored.masked if stored else None


async def update_volunteer(
    session: AsyncSession,
    *,
    principal: Principal,
    volunteer_id: uuid.UUID,
    if_match: str | None,
    data: VolunteerUpdate,
) -> Volunteer:
    volunteer = await get_volunteer(
        session, principal=principal, volunteer_id=volunteer_id, for_update=True
    )
    require_people_keeper(principal, volunteer.organization_id)
    require_version(if_match, volunteer.version)
    with session.no_autoflush:  # one flush, one version (see update_staff)
        given = data.model_fields_set
        if "organization_id" in given:
            require_people_keeper(principal, data.organization_id)
            if data.organization_id is not None:
                await _open_organization(session, principal, data.organization_id)
            volunteer.organization_id = data.organization_id
        for field in ("name", "street_code", "registered_on"):
            if field in given:
                value = getattr(data, field)
                if value is None:
                    raise _invalid(field, "field_required", "Cannot be emptied")
                setattr(volunteer, field, value)
        if volunteer.registered_on > shanghai_today():
            raise _invalid("registered_on", "date_in_future", "Cannot be ahead")
        if "id_number" in given:
            await _set_volunteer_id_number(session, volunteer, data.id_number)
    await session.flush()
    return volunteer


async def delete_volunteer(
    session: AsyncSession, *, principal: Principal, volunteer_id: uuid.UUID
) -> Volunteer:
    """Remove a volunteer with their service records (the totals lose their hours)."""
    volunteer = await get_volunteer(
        session, principal=principal, volunteer_id=volunteer_id, for_update=True
    )
    require_people_keeper(principal, volunteer.organization_id)
    await repository.delete_service_records(session, volunteer.id)
    await session.delete(volunteer)
    await session.flush()
    return volunteer


async def get_volunteer(
    session: AsyncSession,
    *,
    principal: Principal,
    volunteer_id: uuid.UUID,
    for_update: bool = False,
) -> Volunteer:
    volunteer = await repository.volunteer(
        session, principal=principal, volunteer_id=volunteer_id, for_update=for_update
    )
    if volunteer is None:
        raise NotFound("No such volunteer", code="volunteer_not_found")
    return volunteer


async def record_service(
    session: AsyncSession,
    *,
    principal: Principal,
    volunteer_id: uuid.UUID,
    data: ServiceRecordCreate,
) -> VolunteerService:
    # The row lock serializes the records of one volunteer: the day's sum stays true.
    volunteer = await get_volunteer(
        session, principal=principal, volunteer_id=volunteer_id, for_update=True
    )
    require_people_keeper(principal, volunteer.organization_id)
    if data.served_on > shanghai_today():
        raise _invalid("served_on", "date_in_future", "Cannot be ahead")
    organization_id = data.organization_id or volunteer.organization_id
    if organization_id is not None:
        await _open_organization(session, principal, organization_id)
    already = await repository.minutes_on(session, volunteer.id, data.served_on)
    if already + data.minutes > MINUTES_PER_DAY:
        raise _invalid(
            "minutes",
            "day_exceeded",
            f"{already} minutes are recorded on that day already; a day has {MINUTES_PER_DAY}",
        )
    record = VolunteerService(
        id=uuid.uuid4(),
        volunteer_id=volunteer.id,
        organization_id=organization_id,
        served_on=data.served_on,
        minutes=data.minutes,
        activity=data.activity,
        recorded_by=principal.sub,
    )
    session.add(record)
    await session.flush()
    return record


async def put_party_organization(
    session: AsyncSession,
    *,
    principal: Principal,
    organization_id: uuid.UUID,
    data: PartyOrganizationPut,
) -> tuple[PartyOrganization, bool]:
    """Record or replace the organization's party organization; True when new."""
    organization = await organizations.get(
        session, principal=principal, organization_id=organization_id, for_update=True
    )
    organizations.refuse_if_closed(organization)
    if data.established_on > shanghai_today():
        raise _invalid("established_on", "date_in_future", "Cannot be ahead")
    if data.form is not PartyOrganizationForm.joint_branch and data.members < (
        MEMBERS_FOR_OWN_BRANCH
    ):
        raise _invalid(
            "members",
            "members_too_few_for_branch",
            f"An own branch needs {MEMBERS_FOR_OWN_BRANCH} full members; fewer join a joint one",
        )
    party = await repository.party_organization(session, organization.id, for_update=True)
    created = party is None
    if party is None:
        party = PartyOrganization(organization_id=organization.id)
        session.add(party)
    party.form = data.form
    party.name = data.name
    party.established_on = data.established_on
    party.members = data.members
    await session.flush()
    return party, created


async def get_party_organization(
    session: AsyncSession, *, principal: Principal, organization_id: uuid.UUID
) -> PartyOrganization:
    organization = await organizations.get(
        session, principal=principal, organization_id=organization_id
    )
    party = await repository.party_organization(session, organization.id)
    if party is None:
        raise NotFound(
            "The organization has no party organization", code="party_organization_not_found"
        )
    return party


async def delete_party_organization(
    session: AsyncSession, *, principal: Principal, organization_id: uuid.UUID
) -> PartyOrganization:
    party = await get_party_organization(
        session, principal=principal, organization_id=organization_id
    )
    await session.delete(party)
    await session.flush()
    return party


async def set_population(session: AsyncSession, *, street_code: str, data: PopulationPut) -> Region:
    street = await repository.street(session, street_code, for_update=True)
    if street is None:
        raise NotFound("No such street", code="street_not_found")
    if data.year > shanghai_today().year:
        raise _invalid("year", "year_ahead", "Cannot be after this year")
    street.population = data.population
    street.population_year = data.year
    await session.flush()
    return street


async def people_stats(session: AsyncSession, *, principal: Principal) -> PeopleStats:
    """Every street's figures for the district's readers, its own for a street office."""
    if principal.role is Role.street_office:
        own = principal.street_code or ""
        counts = await repository.street_counts(session, own)
        counts.setdefault(own, repository.StreetCounts())
    else:
        counts = await repository.street_counts(session)
    codes = sorted(counts, key=lambda code: (code is None, code or ""))
    return PeopleStats(
        streets=[stats.street_row(code, counts[code]) for code in codes],
        total=stats.total(counts.values()),
    )
