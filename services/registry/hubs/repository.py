"""The queries of hubs and residencies."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.access import visible_to
from services.registry.hubs.models import Hub, Residency
from services.registry.organizations.models import Organization
from shared.auth import Principal
from shared.pagination import PageParams, paginate


async def get(session: AsyncSession, hub_id: uuid.UUID, *, for_update: bool = False) -> Hub | None:
    query = select(Hub).where(Hub.id == hub_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def residents(session: AsyncSession, hub_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    """How many organizations each hub houses now."""
    query = (
        select(Residency.hub_id, func.count())
        .where(Residency.hub_id.in_(hub_ids), Residency.ended_on.is_(None))
        .group_by(Residency.hub_id)
    )
    return {hub_id: count for hub_id, count in (await session.execute(query)).all()}


async def page(session: AsyncSession, page: PageParams) -> tuple[Sequence[Hub], int]:
    query = select(Hub)
    return await paginate(
        session, query, page, order_by=(Hub.district_code, Hub.level, Hub.street_code, Hub.id)
    )


async def active_residency_of(
    session: AsyncSession, organization_id: uuid.UUID
) -> Residency | None:
    query = select(Residency).where(
        Residency.organization_id == organization_id, Residency.ended_on.is_(None)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def get_residency(
    session: AsyncSession, residency_id: uuid.UUID, *, for_update: bool = False
) -> Residency | None:
    query = select(Residency).where(Residency.id == residency_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def residencies_page(
    session: AsyncSession, *, principal: Principal, hub_id: uuid.UUID, page: PageParams
) -> tuple[Sequence[Residency], int]:
    """The hub's residencies of organizations the principal sees, current ones first."""
    query = (
        select(Residency)
        .join(Organization, Organization.id == Residency.organization_id)
        .where(Residency.hub_id == hub_id, visible_to(principal))
    )
    return await paginate(
        session,
        query,
        page,
        order_by=(Residency.ended_on.desc().nulls_first(), Residency.started_on, Residency.id),
    )
