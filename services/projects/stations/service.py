"""Rules of social-work stations (镇(街道)社会工作站) and their "123X" project lists.

Seed (海宁): "设立一镇一街道一社会工作站，社会组织服务中心实现由社工站专业团队托管运营",
"将已有社会组织党群服务中心与社会工作站“二合一”统筹改造升级", and "设置“123X”项目清单，
即“1”个核心引领(党管人才)项目，“2”个领域治理品牌项目(社区和社工)，“3”个基础项目(困难家庭、
孤寡老年人、困境儿童)和“X”个特色自选项目".

- One station per town/street of a district (409 `station_exists`); its host agency is an
  organization of the register the registry names (422 `organization_unknown` /
  `organization_ineligible`, 503 `registry_unavailable`).
- A project goes on a station's list for its own year, in the 123X slot of its call's
  catalogue item (the slot is the call's, not restated here); at most 1 core, 2 brand and
  3 basic projects a station a year, any number of special ones (409
  `station_quota_exceeded`); a project is on at most one station's list a year (409
  `project_on_station`); a project serving another street is refused (422
  `project_street_mismatch`), as is a rejected or withdrawn one (409 `wrong_stage`).
- The station score of a year: `station_score.py`.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from services.projects.access import station_visible
from services.projects.base import infra
from services.projects.core.models import Project, ProjectStage
from services.projects.evaluation.models import EvaluationStatus
from services.projects.reference.code_lists import CATALOGUE_SLOT_LABELS, slot_of
from services.projects.stations import repository
from services.projects.stations.models import Station, StationProject
from services.projects.stations.schemas import (
    IndicatorScoreOut,
    ProjectScoreOut,
    SlotScoreOut,
    StationCreate,
    StationOut,
    StationProjectOut,
    StationScoreOut,
    StationUpdate,
    check_consistent,
)
from services.projects.stations.station_score import (
    INDICATOR_MAX,
    SLOT_QUOTAS,
    ListedProject,
    StationFacts,
    station_score,
)
from shared.auth import Principal
from shared.concurrency import require_version
from shared.errors import Conflict, FieldError, NotFound, Unprocessable
from shared.interservice import OrganizationSummary
from shared.outbox import record_event
from shared.pagination import Page, PageParams, to_page

# Names the host agency as the registry knows it, or refuses it (unknown, ineligible,
# registry down): `core/registry.eligible_organization`, bound by the router.
HostCheck = Callable[[uuid.UUID], Awaitable[OrganizationSummary]]
# A project that never started (refused or withdrawn) is on no station's list.
_NOT_LISTABLE = frozenset({ProjectStage.rejected, ProjectStage.withdrawn})


async def create(
    session: AsyncSession, *, principal: Principal, data: StationCreate, check_host: HostCheck
) -> Station:
    host = await check_host(data.host_org_id)
    station = await repository.insert_station(
        session,
        {
            **data.model_dump(),
            "id": uuid.uuid4(),
            "host_org_name": host.name,
            "created_by": principal.sub,
        },
    )
    if station is None:
        raise Conflict(
            f"{data.street_code} already has a social-work station", code="station_exists"
        )
    await _event(session, station, "station.created")
    return station


async def get(
    session: AsyncSession, *, principal: Principal, station_id: uuid.UUID, lock: bool = False
) -> Station:
    """A station the principal may read, else 404 (others cannot learn it exists)."""
    station = await repository.find_station(
        session, station_id, station_visible(principal), lock=lock
    )
    if station is None:
        raise NotFound("No such social-work station", code="station_not_found")
    return station


async def list_page(
    session: AsyncSession,
    *,
    principal: Principal,
    page: PageParams,
    district_code: str | None,
    street_code: str | None,
) -> Page[StationOut]:
    rows, total = await repository.page_of_stations(
        session,
        station_visible(principal),
        page,
        district_code=district_code,
        street_code=street_code,
    )
    return to_page(rows, total, page, StationOut.model_validate)


async def update(
    session: AsyncSession,
    *,
    principal: Principal,
    station_id: uuid.UUID,
    if_match: str | None,
    data: StationUpdate,
    check_host: HostCheck,
) -> Station:
    station = await get(session, principal=principal, station_id=station_id, lock=True)
    require_version(if_match, station.version)
    changes = data.model_dump(exclude_unset=True)
    if any(value is None for value in changes.values()):
        nulled = sorted(name for name, value in changes.items() if value is None)
        raise Unprocessable(
            "These particulars cannot be emptied",
            code="invalid_station",
            errors=[
                FieldError(field=f"body.{name}", message="must not be null", code="required")
                for name in nulled
            ],
        )
    try:
        check_consistent(
            staff=changes.get("staff_count", station.staff_count),
            certified=changes.get("certified_social_workers", station.certified_social_workers),
            total=changes.get("communities_total", station.communities_total),
            served=changes.get("communities_served", station.communities_served),
        )
    except ValueError as exc:
        raise Unprocessable(str(exc), code="invalid_station") from None
    if "host_org_id" in changes and changes["host_org_id"] != station.host_org_id:
        station.host_org_name = (await check_host(changes["host_org_id"])).name
    for name, value in changes.items():
        setattr(station, name, value)
    await session.flush()
    await _event(session, station, "station.updated")
    return station


async def attach(
    session: AsyncSession, *, principal: Principal, station_id: uuid.UUID, project_id: uuid.UUID
) -> StationProjectOut:
    # The station's row lock serialises every change of its list: the quota counts below
    # cannot be raced past (the core slot has a unique index behind it as well).
    station = await get(session, principal=principal, station_id=station_id, lock=True)
    project = await session.get(Project, project_id)
    if project is None:
        raise Unprocessable(
            "No such project",
            code="project_unknown",
            errors=[FieldError(field="body.project_id", message="no such project", code="unknown")],
        )
    if project.stage in _NOT_LISTABLE:
        raise Conflict(
            f"A {project.stage.value} project cannot go on a station's list", code="wrong_stage"
        )
    if await repository.listing_of_project(session, project.id, project.year) is not None:
        raise _already_listed(project)
    if project.street_code is not None and project.street_code != station.street_code:
        raise Unprocessable(
            f"The project serves street {project.street_code}, not the station's "
            f"{station.street_code}",
            code="project_street_mismatch",
        )
    role = slot_of(project.catalogue_item)
    quota = SLOT_QUOTAS[role]
    if quota is not None:
        listed = await repository.listed_in_slot(session, station.id, project.year, role)
        if listed >= quota:
            raise Conflict(
                f"The station's {project.year} list already has {listed} {role.value} "
                f"project(s) ({CATALOGUE_SLOT_LABELS[role]}: at most {quota})",
                code="station_quota_exceeded",
            )
    listing = await repository.insert_listing(
        session,
        {
            "id": uuid.uuid4(),
            "station_id": station.id,
            "project_id": project.id,
            "year": project.year,
            "role": role,
            "attached_by": principal.sub,
        },
    )
    if listing is None:  # listed meanwhile through another station's lock
        raise _already_listed(project)
    await _listing_event(session, listing, "station.project_attached")
    return present_listing(listing, project)


def _already_listed(project: Project) -> Conflict:
    return Conflict(
        f"The project is on a station's list for {project.year} already",
        code="project_on_station",
    )


async def detach(
    session: AsyncSession, *, principal: Principal, station_id: uuid.UUID, project_id: uuid.UUID
) -> StationProjectOut:
    station = await get(session, principal=principal, station_id=station_id, lock=True)
    project = await session.get(Project, project_id)
    listing = (
        None
        if project is None
        else await repository.listing_of_project(session, project.id, project.year)
    )
    if listing is None or listing.station_id != station.id:
        raise NotFound(
            "The project is not on this station's list", code="station_project_not_found"
        )
    assert project is not None  # a listing was found for it
    removed = present_listing(listing, project)
    await repository.delete_listing(session, station.id, project_id)
    await _listing_event(session, listing, "station.project_detached")
    return removed


async def list_projects(
    session: AsyncSession,
    *,
    principal: Principal,
    station_id: uuid.UUID,
    year: int | None,
    page: PageParams,
) -> Page[StationProjectOut]:
    station = await get(session, principal=principal, station_id=station_id)
    rows, total = await repository.page_of_listings(session, station.id, year, page)
    return to_page(rows, total, page, lambda row: present_listing(row[0], row[1]))


def present_listing(listing: StationProject, project: Project) -> StationProjectOut:
    return StationProjectOut(
        station_id=listing.station_id,
        project_id=project.id,
        year=listing.year,
        role=listing.role,
        catalogue_item=project.catalogue_item,
        title=project.title,
        org_name=project.supplier_name or project.org_name,
        stage=project.stage,
        attached_by=listing.attached_by,
        attached_at=listing.attached_at,
    )


async def score(
    session: AsyncSession, *, principal: Principal, station_id: uuid.UUID, year: int
) -> StationScoreOut:
    station = await get(session, principal=principal, station_id=station_id)
    rows = await repository.listings_with_evaluations(session, station.id, year)
    projects = []
    listed = []
    for listing, project, evaluation in rows:
        concluded = evaluation is not None and evaluation.status is EvaluationStatus.concluded
        composite = evaluation.composite if concluded and evaluation is not None else None
        listed.append(ListedProject(listing.role, composite))
        projects.append(
            ProjectScoreOut(
                project_id=project.id,
                title=project.title,
                role=listing.role,
                evaluation_status=None if evaluation is None else evaluation.status,
                composite=composite,
                grade=evaluation.grade if concluded and evaluation is not None else None,
            )
        )
    result = station_score(
        StationFacts(
            merged_with_party_centre=station.merged_with_party_centre,
            staff_count=station.staff_count,
            certified_social_workers=station.certified_social_workers,
            communities_total=station.communities_total,
            communities_served=station.communities_served,
        ),
        listed,
    )
    return StationScoreOut(
        station_id=station.id,
        year=year,
        composite=result.composite,
        complete=result.complete,
        project_part=result.project_part,
        station_part=result.station_part,
        slots=[
            SlotScoreOut(
                role=slot.role,
                weight=slot.weight,
                listed=slot.listed,
                evaluated=slot.evaluated,
                mean=slot.mean,
            )
            for slot in result.slots
        ],
        indicators=[
            IndicatorScoreOut(indicator=code, points=points, max_points=INDICATOR_MAX[code])
            for code, points in result.indicators.items()
        ],
        projects=projects,
    )


async def _event(session: AsyncSession, station: Station, event_type: str) -> None:
    await record_event(
        session,
        infra.outbox,
        event_type=event_type,
        subject_type="station",
        subject_id=station.id,
        data={
            "station_id": str(station.id),
            "street_code": station.street_code,
            "host_org_id": str(station.host_org_id),
        },
    )


async def _listing_event(session: AsyncSession, listing: StationProject, event_type: str) -> None:
    await record_event(
        session,
        infra.outbox,
        event_type=event_type,
        subject_type="station",
        subject_id=listing.station_id,
        data={
            "station_id": str(listing.station_id),
            "project_id": str(listing.project_id),
            "year": listing.year,
            "role": listing.role.value,
        },
    )
