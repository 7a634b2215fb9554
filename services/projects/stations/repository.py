"""The queries of stations and their 123X lists (the rules are in `service.py`)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, case, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.projects.core.models import Project
from services.projects.evaluation.models import Evaluation
from services.projects.reference.code_lists import CatalogueSlot
from services.projects.stations.models import Station, StationProject
from shared.pagination import PageParams, paginate

# Lists read in 123X order: core, brand, basic, special.
_SLOT_ORDER = case(
    {slot.value: rank for rank, slot in enumerate(CatalogueSlot)}, value=StationProject.role
)


async def insert_station(session: AsyncSession, values: dict[str, Any]) -> Station | None:
    """The new station, or None if its town already has one (the unique key decides, so
    two bureaus racing to create it cannot both succeed)."""
    inserted = await session.execute(
        pg_insert(Station)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[Station.district_code, Station.street_code])
        .returning(Station.id)
    )
    station_id = inserted.scalar_one_or_none()
    return None if station_id is None else await session.get(Station, station_id)


async def find_station(
    session: AsyncSession, station_id: uuid.UUID, visible: ColumnElement[bool], *, lock: bool
) -> Station | None:
    query = select(Station).where(Station.id == station_id, visible)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(query)).scalar_one_or_none()


async def page_of_stations(
    session: AsyncSession,
    visible: ColumnElement[bool],
    page: PageParams,
    *,
    district_code: str | None,
    street_code: str | None,
) -> tuple[list[Station], int]:
    query = select(Station).where(visible)
    if district_code is not None:
        query = query.where(Station.district_code == district_code)
    if street_code is not None:
        query = query.where(Station.street_code == street_code)
    return await paginate(
        session, query, page, order_by=(Station.district_code, Station.street_code, Station.id)
    )


async def listed_in_slot(
    session: AsyncSession, station_id: uuid.UUID, year: int, role: CatalogueSlot
) -> int:
    count: int = (
        await session.execute(
            select(func.count()).where(
                StationProject.station_id == station_id,
                StationProject.year == year,
                StationProject.role == role,
            )
        )
    ).scalar_one()
    return count


async def insert_listing(session: AsyncSession, values: dict[str, Any]) -> StationProject | None:
    """The project's place on the list, or None if it is on a station's list that year
    already (the unique key decides, whichever station's lock was taken)."""
    inserted = await session.execute(
        pg_insert(StationProject)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[StationProject.project_id, StationProject.year])
        .returning(StationProject.id)
    )
    listing_id = inserted.scalar_one_or_none()
    return None if listing_id is None else await session.get(StationProject, listing_id)


async def listing_of_project(
    session: AsyncSession, project_id: uuid.UUID, year: int
) -> StationProject | None:
    return (
        await session.execute(
            select(StationProject).where(
                StationProject.project_id == project_id, StationProject.year == year
            )
        )
    ).scalar_one_or_none()


async def delete_listing(
    session: AsyncSession, station_id: uuid.UUID, project_id: uuid.UUID
) -> int:
    deleted = await session.execute(
        delete(StationProject)
        .where(StationProject.station_id == station_id, StationProject.project_id == project_id)
        .returning(StationProject.id)
    )
    return len(deleted.all())


def _listings(station_id: uuid.UUID, year: int | None) -> Any:
    query = (
        select(StationProject, Project)
        .join(Project, Project.id == StationProject.project_id)
        .where(StationProject.station_id == station_id)
    )
    return query if year is None else query.where(StationProject.year == year)


async def page_of_listings(
    session: AsyncSession, station_id: uuid.UUID, year: int | None, page: PageParams
) -> tuple[list[tuple[StationProject, Project]], int]:
    rows, total = await paginate(
        session,
        _listings(station_id, year),
        page,
        order_by=(StationProject.year.desc(), _SLOT_ORDER, StationProject.id),
        scalars=False,
    )
    return [(listing, project) for listing, project in rows], total


async def listings_with_evaluations(
    session: AsyncSession, station_id: uuid.UUID, year: int
) -> list[tuple[StationProject, Project, Evaluation | None]]:
    """The year's list, each project with its evaluation if one was started."""
    query = (
        select(StationProject, Project, Evaluation)
        .join(Project, Project.id == StationProject.project_id)
        .outerjoin(Evaluation, Evaluation.project_id == Project.id)
        .where(StationProject.station_id == station_id, StationProject.year == year)
        .order_by(_SLOT_ORDER, Project.title, Project.id)
    )
    return [
        (listing, project, evaluation)
        for listing, project, evaluation in await session.execute(query)
    ]
