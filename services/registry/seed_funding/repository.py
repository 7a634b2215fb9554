"""The queries of the seed pools and their ledgers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.seed_funding.models import SeedGrant, SeedPool
from shared.pagination import PageParams, paginate


async def get(
    session: AsyncSession, pool_id: uuid.UUID, *, for_update: bool = False
) -> SeedPool | None:
    query = select(SeedPool).where(SeedPool.id == pool_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def page(session: AsyncSession, page: PageParams) -> tuple[Sequence[SeedPool], int]:
    return await paginate(session, select(SeedPool), page, order_by=(SeedPool.year.desc(),))


async def ledger(
    session: AsyncSession, pool_id: uuid.UUID, page: PageParams
) -> tuple[Sequence[SeedGrant], int]:
    query = select(SeedGrant).where(SeedGrant.pool_id == pool_id)
    return await paginate(session, query, page, order_by=(SeedGrant.granted_at, SeedGrant.id))


async def grants_to(session: AsyncSession, organization_id: uuid.UUID) -> Sequence[SeedGrant]:
    query = (
        select(SeedGrant)
        .where(SeedGrant.organization_id == organization_id)
        .order_by(SeedGrant.granted_at, SeedGrant.id)
    )
    return (await session.execute(query)).scalars().all()
