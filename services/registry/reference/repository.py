"""Queries of the reference data."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.reference.models import Region


async def regions(session: AsyncSession, parent_code: str | None = None) -> Sequence[Region]:
    """Administrative divisions by code (the children of `parent_code` if given)."""
    query = select(Region).order_by(Region.code)
    if parent_code:
        query = query.where(Region.parent_code == parent_code)
    return (await session.execute(query)).scalars().all()


async def region_names(session: AsyncSession, codes: Collection[str]) -> dict[str, str]:
    """The name of each of `codes` that is a known region."""
    if not codes:
        return {}
    query = select(Region.code, Region.name).where(Region.code.in_(list(codes)))
    return {code: name for code, name in (await session.execute(query)).all()}
