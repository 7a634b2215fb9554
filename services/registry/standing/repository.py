"""Queries of the credit lists."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.access import visible_to
from services.registry.enums import ListType
from services.registry.organizations.models import Organization
from services.registry.standing.models import ListEntry
from shared.auth import Principal
from shared.pagination import PageParams, paginate


async def page_of(
    session: AsyncSession,
    *,
    principal: Principal,
    list_type: ListType | None,
    current: bool,
    page: PageParams,
) -> tuple[Sequence[ListEntry], int]:
    """Entries within the principal's scope, newest listing first (`current`: not removed)."""
    query = (
        select(ListEntry)
        .join(Organization, Organization.id == ListEntry.organization_id)
        .where(visible_to(principal))
    )
    if list_type:
        query = query.where(ListEntry.list_type == list_type)
    if current:
        query = query.where(ListEntry.removed_on.is_(None))
    return await paginate(session, query, page, order_by=(ListEntry.listed_on.desc(), ListEntry.id))


async def of_organization(
    session: AsyncSession, *, organization_id: uuid.UUID
) -> Sequence[ListEntry]:
    """Every entry of the organization on either list, removed ones included, oldest first."""
    rows = await session.execute(
        select(ListEntry)
        .where(ListEntry.organization_id == organization_id)
        .order_by(ListEntry.listed_on, ListEntry.created_at)
    )
    return rows.scalars().all()
