"""Queries of annual inspections."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.enums import InspectionResult, InspectionState
from services.registry.inspections.models import AnnualInspection
from shared.pagination import PageParams, paginate


async def page_of(
    session: AsyncSession,
    *,
    year: int | None,
    state: InspectionState | None,
    result: InspectionResult | None,
    page: PageParams,
) -> tuple[Sequence[AnnualInspection], int]:
    """Inspections across the register, latest year first, then in order of submission."""
    query = select(AnnualInspection)
    if year is not None:
        query = query.where(AnnualInspection.year == year)
    if state is not None:
        query = query.where(AnnualInspection.state == state)
    if result is not None:
        query = query.where(AnnualInspection.result == result)
    return await paginate(
        session,
        query,
        page,
        order_by=(AnnualInspection.year.desc(), AnnualInspection.submitted_at, AnnualInspection.id),
    )
