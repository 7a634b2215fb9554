"""Spot checks (抽查): drawing a year's sample, listing draws, recording findings.

The sample itself is `sampling.py` (algorithm `sha256-street-v1`).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import events
from services.registry.enums import (
    MIN_SPOT_CHECK_PERCENT,
    OrganizationStatus,
    SpotCheckFinding,
)
from services.registry.organizations.models import Organization
from services.registry.spot_checks.models import SpotCheck, SpotCheckItem
from services.registry.spot_checks.sampling import ALGORITHM, Drawn, draw_sample
from services.registry.spot_checks.schemas import FindingRecord, SpotCheckDraw
from shared.auth import Principal
from shared.clock import utcnow
from shared.errors import FieldError, NotFound, Unprocessable
from shared.pagination import PageParams, paginate


def _settings(data: SpotCheckDraw) -> tuple[Decimal, int]:
    minimum = Decimal(MIN_SPOT_CHECK_PERCENT[data.level])
    percentage = minimum if data.percentage is None else data.percentage
    if percentage < minimum:
        raise Unprocessable(
            f"A {data.level}-level spot check samples at least {minimum}%",
            code="percentage_below_minimum",
            errors=[
                FieldError(
                    field="body.percentage", message=f"At least {minimum}", code="below_minimum"
                )
            ],
        )
    seed = data.seed if data.seed is not None else secrets.randbelow(2**63)
    return percentage, seed


async def _population(
    session: AsyncSession, data: SpotCheckDraw
) -> Sequence[tuple[uuid.UUID, str | None]]:
    query = select(Organization.id, Organization.street_code).where(
        Organization.status.in_([OrganizationStatus.active, OrganizationStatus.abnormal])
    )
    if data.registration:
        query = query.where(Organization.registration == data.registration)
    if data.district_code:
        query = query.where(Organization.district_code == data.district_code)
    return (await session.execute(query)).all()


async def preview(
    session: AsyncSession, *, data: SpotCheckDraw
) -> tuple[Decimal, int, int, list[Drawn]]:
    percentage, seed = _settings(data)
    population = await _population(session, data)
    return (
        percentage,
        seed,
        len(population),
        draw_sample(population, seed=seed, percentage=percentage),
    )


async def draw(session: AsyncSession, *, principal: Principal, data: SpotCheckDraw) -> SpotCheck:
    percentage, seed, population_size, sample = await preview(session, data=data)
    spot_check = SpotCheck(
        id=uuid.uuid4(),
        year=data.year,
        level=data.level,
        percentage=percentage,
        seed=seed,
        algorithm=ALGORITHM,
        registration=data.registration,
        district_code=data.district_code,
        population_size=population_size,
        sample_size=len(sample),
        drawn_by=principal.sub,
    )
    session.add(spot_check)
    await session.flush()
    if sample:
        await session.execute(
            insert(SpotCheckItem),
            [
                {
                    "spot_check_id": spot_check.id,
                    "organization_id": item.organization_id,
                    "stratum": item.stratum,
                    "rank": item.rank,
                    "finding": SpotCheckFinding.pending.value,
                }
                for item in sample
            ],
        )
    await events.emit(
        session,
        "spot_check.drawn",
        subject_type=events.SPOT_CHECK,
        subject_id=spot_check.id,
        data={"year": data.year, "level": data.level, "sample_size": len(sample)},
    )
    return spot_check


async def get(session: AsyncSession, spot_check_id: uuid.UUID) -> SpotCheck:
    spot_check = await session.get(SpotCheck, spot_check_id)
    if spot_check is None:
        raise NotFound("No such spot check", code="spot_check_not_found")
    return spot_check


async def page_of(
    session: AsyncSession, *, year: int | None, page: PageParams
) -> tuple[Sequence[SpotCheck], int]:
    query = select(SpotCheck)
    if year is not None:
        query = query.where(SpotCheck.year == year)
    return await paginate(session, query, page, order_by=(SpotCheck.drawn_at.desc(), SpotCheck.id))


async def items_of(
    session: AsyncSession, *, spot_check_id: uuid.UUID, page: PageParams
) -> tuple[Sequence[SpotCheckItem], int]:
    await get(session, spot_check_id)
    query = select(SpotCheckItem).where(SpotCheckItem.spot_check_id == spot_check_id)
    # (stratum, rank) is unique within a draw: pages neither repeat nor skip items.
    return await paginate(
        session, query, page, order_by=(SpotCheckItem.stratum, SpotCheckItem.rank)
    )


async def record_finding(
    session: AsyncSession,
    *,
    principal: Principal,
    spot_check_id: uuid.UUID,
    organization_id: uuid.UUID,
    data: FindingRecord,
) -> SpotCheckItem:
    item = (
        await session.execute(
            select(SpotCheckItem)
            .where(
                SpotCheckItem.spot_check_id == spot_check_id,
                SpotCheckItem.organization_id == organization_id,
            )
            .with_for_update()
        )
    ).scalar_one_or_none()
    if item is None:
        raise NotFound("The organization is not in this sample", code="spot_check_item_not_found")
    # A finding may be corrected; each recording is an event, so none is lost.
    item.finding = SpotCheckFinding(data.finding)
    item.remarks = data.remarks
    item.checked_by = principal.sub
    item.checked_at = utcnow()
    await session.flush()
    await events.emit(
        session,
        "spot_check.finding_recorded",
        subject_type=events.SPOT_CHECK,
        subject_id=spot_check_id,
        data={"organization_id": organization_id, "finding": item.finding},
    )
    return item
