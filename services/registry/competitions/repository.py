"""The queries of competitions and entries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.competitions.models import Competition, Entry
from shared.pagination import PageParams, paginate


async def get(session: AsyncSession, competition_id: uuid.UUID) -> Competition | None:
    return await session.get(Competition, competition_id)


async def page(session: AsyncSession, page: PageParams) -> tuple[Sequence[Competition], int]:
    return await paginate(
        session, select(Competition), page, order_by=(Competition.year.desc(), Competition.id)
    )


async def get_entry(
    session: AsyncSession,
    competition_id: uuid.UUID,
    entry_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> Entry | None:
    query = select(Entry).where(Entry.id == entry_id, Entry.competition_id == competition_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def entries_page(
    session: AsyncSession, competition_id: uuid.UUID, page: PageParams
) -> tuple[Sequence[Entry], int]:
    query = select(Entry).where(Entry.competition_id == competition_id)
    return await paginate(
        session,
        query,
        page,
        order_by=(Entry.score.desc().nulls_last(), Entry.created_at, Entry.id),
    )
