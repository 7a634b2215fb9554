"""People of 三社联动: staff and certified social workers, volunteers and their service
hours, party organizations, street population and the street figures."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from services.registry.access import (
    BUREAU_KEEPERS,
    PEOPLE_KEEPERS,
    PEOPLE_READERS,
    PEOPLE_STATS_READERS,
)
from services.registry.enums import CertificateLevel
from services.registry.people import identity, repository, service, stats
from services.registry.people.schemas import (
    STREET,
    OrganizationHours,
    PartyOrganizationOut,
    PartyOrganizationPut,
    PeopleStats,
    PersonLookup,
    PersonLookupResult,
    PopulationPut,
    ServiceRecordCreate,
    ServiceRecordOut,
    StaffCreate,
    StaffOut,
    StaffUpdate,
    StreetOut,
    VolunteerCreate,
    VolunteerOut,
    VolunteerUpdate,
)
from services.registry.reference import repository as reference
from shared.app import API_PREFIX
from shared.auth import CurrentPrincipal, allow
from shared.concurrency import IfMatch, set_etag
from shared.db import SessionDep
from shared.errors import problem_responses
from shared.pagination import Page, PageDep, to_page

router = APIRouter(prefix=f"{API_PREFIX}/people", tags=["people"])

StreetQuery = Annotated[str | None, Query(pattern=STREET)]


@router.post(
    "/staff",
    status_code=status.HTTP_201_CREATED,
    response_model=StaffOut,
    operation_id="createStaffMember",
    dependencies=[allow(*PEOPLE_KEEPERS)],
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def create_staff_member(
    body: StaffCreate, session: SessionDep, principal: CurrentPrincipal, response: Response
) -> StaffOut:
    """Record a staff member; with a certificate, a certified social worker (持证社工)."""
    member = await service.create_staff(session, principal=principal, data=body)
    set_etag(response, member.version)
    response.headers["Location"] = f"{router.prefix}/staff/{member.id}"
    return service.present_staff(member)


@router.get(
    "/staff",
    response_model=Page[StaffOut],
    operation_id="listStaffMembers",
    dependencies=[allow(*PEOPLE_READERS)],
    responses=problem_responses(401, 403, 422),
)
async def list_staff_members(
    session: SessionDep,
    principal: CurrentPrincipal,
    page: PageDep,
    certified: Annotated[bool | None, Query(description="Only (un)certified staff")] = None,
    certificate_level: CertificateLevel | None = None,
    organization_id: uuid.UUID | None = None,
    street_code: StreetQuery = None,
) -> Page[StaffOut]:
    """Staff and social workers within the caller's scope, by name."""
    filters = repository.StaffFilters(
        certified=certified,
        certificate_level=certificate_level,
        organization_id=organization_id,
        street_code=street_code,
    )
    rows, total = await repository.staff_page(
        session, principal=principal, filters=filters, page=page
    )
    return to_page(rows, total, page, service.present_staff)


@router.get(
    "/staff/{staff_id}",
    response_model=StaffOut,
    operation_id="getStaffMember",
    dependencies=[allow(*PEOPLE_READERS)],
    responses=problem_responses(401, 403, 404),
)
async def get_staff_member(
    staff_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal, response: Response
) -> StaffOut:
    """One staff member, with the ETag for a later change."""
    member = await service.get_staff(session, principal=principal, staff_id=staff_id)
    set_etag(response, member.version)
    return service.present_staff(member)


@router.patch(
    "/staff/{staff_id}",
    response_model=StaffOut,
    operation_id="updateStaffMember",
    dependencies=[allow(*PEOPLE_KEEPERS)],
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
async def update_staff_member(
    staff_id: uuid.UUID,
    body: StaffUpdate,
    session: SessionDep,
    principal: CurrentPrincipal,
    response: Response,
    if_match: IfMatch = None,
) -> StaffOut:
    """Change some fields; needs `If-Match` with the current ETag."""
    member = await service.update_staff(
        session, principal=principal, staff_id=staff_id, if_match=if_match, data=body
    )
    set_etag(response, member.version)
    return service.present_staff(member)


@router.delete(
    "/staff/{staff_id}",
    response_model=StaffOut,
    operation_id="deleteStaffMember",
    dependencies=[allow(*PEOPLE_KEEPERS)],
    responses=problem_responses(401, 403, 404),
)
async def delete_staff_member(
    staff_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> StaffOut:
    """Remove a person who left (their record and its personal data go); answers the
    record as it was."""
    member = await service.delete_staff(session, principal=principal, staff_id=staff_id)
    return service.present_staff(member)


@router.post(
    "/lookup",
    response_model=PersonLookupResult,
    operation_id="lookUpPerson",
    dependencies=[allow(*PEOPLE_READERS)],
    responses=problem_responses(401, 403, 422),
)
async def look_up_person(
    body: PersonLookup, session: SessionDep, principal: CurrentPrincipal
) -> PersonLookupResult:
    """Find a person's staff and volunteer records by their exact resident ID number."""
    stored = identity.checked(body.id_number)
    assert stored is not None  # the body requires a number
    member, volunteer = await repository.person_with_digest(
        session, principal=principal, digest=stored.digest
    )
    return PersonLookupResult(
        staff=[service.present_staff(member)] if member else [],
        volunteers=[service.present_volunteer(*volunteer)] if volunteer else [],
    )


@router.post(
    "/volunteers",
    status_code=status.HTTP_201_CREATED,
    response_model=VolunteerOut,
    operation_id="createVolunteer",
    dependencies=[allow(*PEOPLE_KEEPERS)],
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def create_volunteer(
    body: VolunteerCreate, session: SessionDep, principal: CurrentPrincipal, response: Response
) -> VolunteerOut:
    """Register a volunteer (注册志愿者)."""
    volunteer = await service.create_volunteer(session, principal=principal, data=body)
    set_etag(response, volunteer.version)
    response.headers["Location"] = f"{router.prefix}/volunteers/{volunteer.id}"
    return service.present_volunteer(volunteer, 0)


@router.get(
    "/volunteers",
    response_model=Page[VolunteerOut],
    operation_id="listVolunteers",
    dependencies=[allow(*PEOPLE_READERS)],
    responses=problem_responses(401, 403, 422),
)
async def list_volunteers(
    session: SessionDep,
    principal: CurrentPrincipal,
    page: PageDep,
    organization_id: uuid.UUID | None = None,
    street_code: StreetQuery = None,
) -> Page[VolunteerOut]:
    """Volunteers within the caller's scope, by name, with their total service time."""
    rows, total = await repository.volunteer_page(
        session,
        principal=principal,
        organization_id=organization_id,
        street_code=street_code,
        page=page,
    )
    return to_page(rows, total, page, lambda row: service.present_volunteer(row[0], row[1]))


@router.get(
    "/volunteers/{volunteer_id}",
    response_model=VolunteerOut,
    operation_id="getVolunteer",
    dependencies=[allow(*PEOPLE_READERS)],
    responses=problem_responses(401, 403, 404),
)
async def get_volunteer(
    volunteer_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal, response: Response
) -> VolunteerOut:
    """One volunteer with their total service time, and the ETag for a later change."""
    volunteer = await service.get_volunteer(session, principal=principal, volunteer_id=volunteer_id)
    set_etag(response, volunteer.version)
    minutes = await repository.volunteer_minutes(session, volunteer.id)
    return service.present_volunteer(volunteer, minutes)


@router.patch(
    "/volunteers/{volunteer_id}",
    response_model=VolunteerOut,
    operation_id="updateVolunteer",
    dependencies=[allow(*PEOPLE_KEEPERS)],
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
async def update_volunteer(
    volunteer_id: uuid.UUID,
    body: VolunteerUpdate,
    session: SessionDep,
    principal: CurrentPrincipal,
    response: Response,
    if_match: IfMatch = None,
) -> VolunteerOut:
    """Change some fields; needs `If-Match` with the current ETag."""
    volunteer = await service.update_volunteer(
        session, principal=principal, volunteer_id=volunteer_id, if_match=if_match, data=body
    )
    set_etag(response, volunteer.version)
    minutes = await repository.volunteer_minutes(session, volunteer.id)
    return service.present_volunteer(volunteer, minutes)


@router.delete(
    "/volunteers/{volunteer_id}",
    response_model=VolunteerOut,
    operation_id="deleteVolunteer",
    dependencies=[allow(*PEOPLE_KEEPERS)],
    responses=problem_responses(401, 403, 404),
)
async def delete_volunteer(
    volunteer_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> VolunteerOut:
    """Remove a volunteer and their service records; answers the volunteer as they were."""
    volunteer = await service.get_volunteer(session, principal=principal, volunteer_id=volunteer_id)
    minutes = await repository.volunteer_minutes(session, volunteer.id)
    removed = await service.delete_volunteer(
        session, principal=principal, volunteer_id=volunteer_id
    )
    return service.present_volunteer(removed, minutes)


@router.post(
    "/volunteers/{volunteer_id}/service-records",
    status_code=status.HTTP_201_CREATED,
    response_model=ServiceRecordOut,
    operation_id="recordVolunteerService",
    dependencies=[allow(*PEOPLE_KEEPERS)],
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def record_volunteer_service(
    volunteer_id: uuid.UUID,
    body: ServiceRecordCreate,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> ServiceRecordOut:
    """Record a day's service time (at most 24 hours a day, not ahead of today)."""
    record = await service.record_service(
        session, principal=principal, volunteer_id=volunteer_id, data=body
    )
    return ServiceRecordOut.model_validate(record)


@router.get(
    "/volunteers/{volunteer_id}/service-records",
    response_model=Page[ServiceRecordOut],
    operation_id="listVolunteerServiceRecords",
    dependencies=[allow(*PEOPLE_READERS)],
    responses=problem_responses(401, 403, 404, 422),
)
async def list_volunteer_service_records(
    volunteer_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal, page: PageDep
) -> Page[ServiceRecordOut]:
    """A volunteer's service records, latest day first."""
    volunteer = await service.get_volunteer(session, principal=principal, volunteer_id=volunteer_id)
    rows, total = await repository.service_records(session, volunteer_id=volunteer.id, page=page)
    return to_page(rows, total, page, ServiceRecordOut.model_validate)


@router.get(
    "/volunteer-hours",
    response_model=Page[OrganizationHours],
    operation_id="listVolunteerHoursByOrganization",
    dependencies=[allow(*PEOPLE_READERS)],
    responses=problem_responses(401, 403, 422),
)
async def volunteer_hours_by_organization(
    session: SessionDep, principal: CurrentPrincipal, page: PageDep
) -> Page[OrganizationHours]:
    """Volunteer service per organization served with, most hours first."""
    rows, total = await repository.hours_by_organization(session, principal=principal, page=page)
    return to_page(
        rows,
        total,
        page,
        lambda row: OrganizationHours(
            organization_id=row.id,
            organization_name=row.name,
            street_code=row.street_code,
            volunteers=row.volunteers,
            minutes=row.minutes,
            hours=stats.hours(row.minutes),
        ),
    )


@router.get(
    "/party-organizations",
    response_model=Page[PartyOrganizationOut],
    operation_id="listPartyOrganizations",
    dependencies=[allow(*PEOPLE_READERS)],
    responses=problem_responses(401, 403, 422),
)
async def list_party_organizations(
    session: SessionDep, principal: CurrentPrincipal, page: PageDep
) -> Page[PartyOrganizationOut]:
    """Party organizations of the organizations the caller sees, oldest first."""
    rows, total = await repository.party_organization_page(session, principal=principal, page=page)
    return to_page(rows, total, page, PartyOrganizationOut.model_validate)


@router.get(
    "/party-organizations/{organization_id}",
    response_model=PartyOrganizationOut,
    operation_id="getPartyOrganization",
    dependencies=[allow(*PEOPLE_READERS)],
    responses=problem_responses(401, 403, 404),
)
async def get_party_organization(
    organization_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> PartyOrganizationOut:
    """The party organization covering an organization."""
    party = await service.get_party_organization(
        session, principal=principal, organization_id=organization_id
    )
    return PartyOrganizationOut.model_validate(party)


@router.put(
    "/party-organizations/{organization_id}",
    response_model=PartyOrganizationOut,
    operation_id="putPartyOrganization",
    dependencies=[allow(*BUREAU_KEEPERS)],
    responses={201: {"description": "Created"}, **problem_responses(401, 403, 404, 409, 422)},
)
async def put_party_organization(
    organization_id: uuid.UUID,
    body: PartyOrganizationPut,
    session: SessionDep,
    principal: CurrentPrincipal,
    response: Response,
) -> PartyOrganizationOut:
    """Record (201) or replace (200) the party organization covering an organization."""
    party, created = await service.put_party_organization(
        session, principal=principal, organization_id=organization_id, data=body
    )
    if created:
        response.status_code = status.HTTP_201_CREATED
    return PartyOrganizationOut.model_validate(party)


@router.delete(
    "/party-organizations/{organization_id}",
    response_model=PartyOrganizationOut,
    operation_id="deletePartyOrganization",
    dependencies=[allow(*BUREAU_KEEPERS)],
    responses=problem_responses(401, 403, 404),
)
async def delete_party_organization(
    organization_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> PartyOrganizationOut:
    """Record that an organization's party organization is dissolved; answers it as it was."""
    party = await service.delete_party_organization(
        session, principal=principal, organization_id=organization_id
    )
    return PartyOrganizationOut.model_validate(party)


@router.get(
    "/streets",
    response_model=list[StreetOut],
    operation_id="listStreetPopulations",
    dependencies=[allow(*PEOPLE_STATS_READERS)],
    responses=problem_responses(401, 403),
)
async def list_streets(session: SessionDep) -> list[StreetOut]:
    """The district's streets with their resident population, where known."""
    return [
        StreetOut.model_validate(row)
        for row in await reference.regions(session)
        if row.level == "street"
    ]


@router.put(
    "/streets/{street_code}/population",
    response_model=StreetOut,
    operation_id="setStreetPopulation",
    dependencies=[allow(*BUREAU_KEEPERS)],
    responses=problem_responses(401, 403, 404, 422),
)
async def set_street_population(
    street_code: Annotated[str, Path(pattern=STREET)], body: PopulationPut, session: SessionDep
) -> StreetOut:
    """Set a street's resident population (常住人口) and the year it counts."""
    street = await service.set_population(session, street_code=street_code, data=body)
    return StreetOut.model_validate(street)


@router.get(
    "/stats",
    response_model=PeopleStats,
    operation_id="getPeopleStats",
    dependencies=[allow(*PEOPLE_STATS_READERS)],
    responses=problem_responses(401, 403),
)
async def people_stats(session: SessionDep, principal: CurrentPrincipal) -> PeopleStats:
    """Per street: certified social workers per 10,000 residents, volunteers and their
    hours, party coverage of the organizations; with the total."""
    return await service.people_stats(session, principal=principal)
