"""Spot checks (抽查): a reproducible random sample of organizations for a year.

Algorithm `sha256-street-v1`, simple enough for an auditor to recompute by hand:

1. The population is every organization not closed (`active` or `abnormal`),
   optionally limited to one registration and one district.
2. It is stratified by street (organizations without a street form one stratum, `''`).
3. In each stratum of N organizations, n = ceil(N × percentage / 100) are drawn: those
   with the smallest SHA-256 of `"<seed>:<organization id>"` (the UUID in its
   canonical lower-case form), ranked 1..n in that order.

The same seed and population always give the same sample, whatever order the rows
come in; adding an organization to one street never changes another street's draw.
Rounding up per stratum makes the sample at least the percentage overall — the
regulatory minimum is 3% at county level, 4% city, 5% province — and gives every
street at least one check. The seed, the percentage and the algorithm name are
stored with the draw.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import events
from services.registry.enums import (
    MIN_SPOT_CHECK_PERCENT,
    OrganizationStatus,
    SpotCheckFinding,
)
from services.registry.models import Organization, SpotCheck, SpotCheckItem
from services.registry.schemas.inspections import FindingRecord, SpotCheckDraw
from shared.auth import Principal
from shared.db import utcnow
from shared.errors import FieldError, NotFound, Unprocessable
from shared.pagination import PageParams

ALGORITHM = "sha256-street-v1"


@dataclass(frozen=True, slots=True)
class Drawn:
    organization_id: uuid.UUID
    stratum: str
    rank: int


def _key(seed: int, organization_id: uuid.UUID) -> bytes:
    return hashlib.sha256(f"{seed}:{organization_id}".encode()).digest()


def draw_sample(
    population: Iterable[tuple[uuid.UUID, str | None]], *, seed: int, percentage: Decimal
) -> list[Drawn]:
    """The sample of `population` ((id, street) pairs) for this seed and percentage."""
    strata: dict[str, list[uuid.UUID]] = defaultdict(list)
    for organization_id, street in population:
        strata[street or ""].append(organization_id)
    sample: list[Drawn] = []
    for stratum in sorted(strata):
        members = strata[stratum]
        size = math.ceil(Decimal(len(members)) * percentage / 100)
        chosen = sorted(members, key=lambda member: _key(seed, member))[:size]
        sample += [Drawn(member, stratum, rank) for rank, member in enumerate(chosen, 1)]
    return sample


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
    conditions = [SpotCheck.year == year] if year is not None else []
    total = (
        await session.execute(select(func.count()).select_from(SpotCheck).where(*conditions))
    ).scalar_one()
    rows = await session.execute(
        select(SpotCheck)
        .where(*conditions)
        .order_by(SpotCheck.drawn_at.desc(), SpotCheck.id)
        .offset(page.offset)
        .limit(page.page_size)
    )
    return rows.scalars().all(), total


async def items_of(
    session: AsyncSession, *, spot_check_id: uuid.UUID, page: PageParams
) -> tuple[Sequence[SpotCheckItem], int]:
    await get(session, spot_check_id)
    where = SpotCheckItem.spot_check_id == spot_check_id
    total = (
        await session.execute(select(func.count()).select_from(SpotCheckItem).where(where))
    ).scalar_one()
    rows = await session.execute(
        select(SpotCheckItem)
        .where(where)
        .order_by(SpotCheckItem.stratum, SpotCheckItem.rank)
        .offset(page.offset)
        .limit(page.page_size)
    )
    return rows.scalars().all(), total


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
