"""Queries of the inbound side that its router needs: sources and received messages."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.workflow.sync.models import InboundEvent, InboundSource, InboundStatus
from shared.pagination import PageParams, paginate


async def get_source(
    session: AsyncSession, name: str, *, for_update: bool = False
) -> InboundSource | None:
    return await session.get(InboundSource, name, with_for_update=for_update or None)


async def list_sources(session: AsyncSession) -> Sequence[InboundSource]:
    query = select(InboundSource).order_by(InboundSource.name)
    return (await session.execute(query)).scalars().all()


async def list_inbound_events(
    session: AsyncSession, *, status: InboundStatus | None, page: PageParams
) -> tuple[list[InboundEvent], int]:
    """One page of received messages, newest first, and how many there are."""
    query = select(InboundEvent)
    if status is not None:
        query = query.where(InboundEvent.status == status)
    return await paginate(
        session, query, page, order_by=(InboundEvent.received_at.desc(), InboundEvent.id)
    )
