"""Endpoints of social-work stations (镇(街道)社会工作站), their 123X lists and scores."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from services.projects.access import STATION_MANAGERS, STATION_READERS
from services.projects.core.registry import RegistryDep, eligible_organization
from services.projects.stations import service
from services.projects.stations.schemas import (
    StationCreate,
    StationOut,
    StationProjectCreate,
    StationProjectOut,
    StationScoreOut,
    StationUpdate,
)
from shared.app import API_PREFIX
from shared.auth import CurrentPrincipal, allow
from shared.clients import RegistryClient
from shared.clock import shanghai_today
from shared.concurrency import IfMatch, set_etag
from shared.db import SessionDep
from shared.errors import problem_responses
from shared.interservice import OrganizationSummary
from shared.pagination import Page, PageDep

router = APIRouter(prefix=f"{API_PREFIX}/stations", tags=["stations"])
_MANAGERS = allow(*STATION_MANAGERS)
_READERS = allow(*STATION_READERS)
Year = Annotated[
    int | None,
    Query(ge=2000, le=2100, description="The year of the 123X list (default: this year)"),
]


def _host_check(registry: RegistryClient) -> service.HostCheck:
    async def check(org_id: uuid.UUID) -> OrganizationSummary:
        return await eligible_organization(registry, org_id, field="body.host_org_id")

    return check


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=StationOut,
    operation_id="createStation",
    responses=problem_responses(401, 403, 409, 422, 503),
    dependencies=[_MANAGERS],
)
async def create_station(
    body: StationCreate,
    session: SessionDep,
    principal: CurrentPrincipal,
    registry: RegistryDep,
    response: Response,
) -> StationOut:
    """Set up a town's or street's social-work station, run by an agency of the register
    (409 `station_exists` if the town has one)."""
    station = await service.create(
        session, principal=principal, data=body, check_host=_host_check(registry)
    )
    set_etag(response, station.version)
    response.headers["Location"] = f"{API_PREFIX}/stations/{station.id}"
    return StationOut.model_validate(station)


@router.get(
    "",
    response_model=Page[StationOut],
    operation_id="listStations",
    responses=problem_responses(401, 403, 422),
    dependencies=[_READERS],
)
async def list_stations(
    session: SessionDep,
    principal: CurrentPrincipal,
    page: PageDep,
    district_code: Annotated[str | None, Query(pattern=r"^[0-9]{6}$")] = None,
    street_code: Annotated[str | None, Query(pattern=r"^[0-9]{9}$")] = None,
) -> Page[StationOut]:
    """Stations by town code; a street office sees its own, an agency those it runs."""
    return await service.list_page(
        session,
        principal=principal,
        page=page,
        district_code=district_code,
        street_code=street_code,
    )


@router.get(
    "/{station_id}",
    response_model=StationOut,
    operation_id="getStation",
    responses=problem_responses(401, 403, 404),
    dependencies=[_READERS],
)
async def get_station(
    station_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal, response: Response
) -> StationOut:
    """One station, with its ETag."""
    station = await service.get(session, principal=principal, station_id=station_id)
    set_etag(response, station.version)
    return StationOut.model_validate(station)


@router.patch(
    "/{station_id}",
    response_model=StationOut,
    operation_id="updateStation",
    responses=problem_responses(401, 403, 404, 412, 422, 428, 503),
    dependencies=[_MANAGERS],
)
async def update_station(
    station_id: uuid.UUID,
    body: StationUpdate,
    session: SessionDep,
    principal: CurrentPrincipal,
    registry: RegistryDep,
    response: Response,
    if_match: IfMatch = None,
) -> StationOut:
    """Change a station's agency, staff, coverage or 二合一 flag; needs `If-Match`."""
    station = await service.update(
        session,
        principal=principal,
        station_id=station_id,
        if_match=if_match,
        data=body,
        check_host=_host_check(registry),
    )
    set_etag(response, station.version)
    return StationOut.model_validate(station)


@router.post(
    "/{station_id}/projects",
    status_code=status.HTTP_201_CREATED,
    response_model=StationProjectOut,
    operation_id="attachStationProject",
    responses=problem_responses(401, 403, 404, 409, 422),
    dependencies=[_MANAGERS],
)
async def attach_project(
    station_id: uuid.UUID,
    body: StationProjectCreate,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> StationProjectOut:
    """Put a project on the station's 123X list for the project's year, in its call's slot
    (409 `station_quota_exceeded` past 1 core, 2 brand or 3 basic projects)."""
    return await service.attach(
        session, principal=principal, station_id=station_id, project_id=body.project_id
    )


@router.get(
    "/{station_id}/projects",
    response_model=Page[StationProjectOut],
    operation_id="listStationProjects",
    responses=problem_responses(401, 403, 404, 422),
    dependencies=[_READERS],
)
async def list_station_projects(
    station_id: uuid.UUID,
    session: SessionDep,
    principal: CurrentPrincipal,
    page: PageDep,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> Page[StationProjectOut]:
    """The station's 123X lists, latest year first."""
    return await service.list_projects(
        session, principal=principal, station_id=station_id, year=year, page=page
    )


@router.delete(
    "/{station_id}/projects/{project_id}",
    response_model=StationProjectOut,
    operation_id="detachStationProject",
    responses=problem_responses(401, 403, 404),
    dependencies=[_MANAGERS],
)
async def detach_project(
    station_id: uuid.UUID, project_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> StationProjectOut:
    """Take a project off the station's list; answers the place it held."""
    return await service.detach(
        session, principal=principal, station_id=station_id, project_id=project_id
    )


@router.get(
    "/{station_id}/score",
    response_model=StationScoreOut,
    operation_id="getStationScore",
    responses=problem_responses(401, 403, 404, 422),
    dependencies=[_READERS],
)
async def get_station_score(
    station_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal, year: Year = None
) -> StationScoreOut:
    """The station's composite SPPE score (综合评价分值) for a year: its projects' SPPE
    composites weighted by 123X slot, plus the station's own indicators."""
    return await service.score(
        session,
        principal=principal,
        station_id=station_id,
        year=shanghai_today().year if year is None else year,
    )
