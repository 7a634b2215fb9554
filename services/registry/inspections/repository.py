"""Queries of annual inspections."""

from __future__ import annotations

import typing
import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Date, Select, cast, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.enums import (
    ABOVE_DISTRICT_KINDS,
    InspectionResult,
    InspectionState,
    OrganizationStatus,
    Registration,
)
from services.registry.inspections.models import AnnualInspection
from services.registry.organizations.models import Organization
from services.registry.organizations.repository import name_matches
from shared.clock import SHANGHAI
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


def _entered_on() -> ColumnElement[date]:
    """The day an organization came into being, as far as the register knows.

    Its establishment date, or, when that was never recorded, the day (Asia/Shanghai) it
    entered the register: it cannot be older than that as far as anyone here can tell.
    """
    entered = cast(func.timezone(SHANGHAI.key, Organization.created_at), Date)
    return func.coalesce(Organization.established_on, entered)


async def lock_non_filers(session: AsyncSession, *, year: int) -> Sequence[Organization]:
    """Organizations that owed `year`'s annual report and have none on file, locked.

    Owed: registered (登记) by this authority — filed (备案) community groups report to
    their street office, not to the annual inspection, and foundations to the province
    that registered them —, open (`active` or `abnormal`),
    and established on or before 30 June of `year` (under six months old at the year's
    end is exempt). None on file: no report of the year, or one returned and not filed
    again. A year already concluded 未参检 has a report row, so it is not found again.
    """
    on_file = exists().where(
        AnnualInspection.organization_id == Organization.id,
        AnnualInspection.year == year,
        AnnualInspection.state != InspectionState.returned,
    )
    query = (
        select(Organization)
        .where(
            Organization.registration == Registration.registered,
            Organization.kind.not_in(list(ABOVE_DISTRICT_KINDS)),
            Organization.status.in_((OrganizationStatus.active, OrganizationStatus.abnormal)),
            _entered_on() <= date(year, 6, 30),
            ~on_file,
        )
        .order_by(Organization.id)
        .with_for_update(of=Organization)
    )
    return (await session.execute(query)).scalars().all()


async def lock_report(
    session: AsyncSession, *, organization_id: uuid.UUID, year: int
) -> AnnualInspection | None:
    query = (
        select(AnnualInspection)
        .where(AnnualInspection.organization_id == organization_id, AnnualInspection.year == year)
        .with_for_update()
    )
    return (await session.execute(query)).scalar_one_or_none()


async def was_absent(session: AsyncSession, *, organization_id: uuid.UUID, year: int) -> bool:
    """Whether the organization's `year` is concluded 未参检."""
    found = await session.scalar(
        select(AnnualInspection.id).where(
            AnnualInspection.organization_id == organization_id,
            AnnualInspection.year == year,
            AnnualInspection.state == InspectionState.concluded,
            AnnualInspection.result == InspectionResult.absent,
        )
    )
    return found is not None


async def published_page(
    session: AsyncSession,
    *,
    name: str | None,
    year: int | None,
    page: PageParams,
) -> tuple[Sequence[Any], int]:
    """Concluded inspections of registered organizations, as the public reads them.

    Latest year first, then by name; only columns fit for the public (no person's data).
    """
    query = (
        select(
            Organization.name.label("organization_name"),
            Organization.uscc,
            AnnualInspection.year,
            AnnualInspection.result,
            AnnualInspection.concluded_at,
            AnnualInspection.id,
        )
        .join(Organization, Organization.id == AnnualInspection.organization_id)
        .where(
            AnnualInspection.state == InspectionState.concluded,
            Organization.registration == Registration.registered,
            Organization.uscc.is_not(None),
        )
    )
    if name:
        query = query.where(name_matches(name))
    if year is not None:
        query = query.where(AnnualInspection.year == year)
    return await paginate(
        session,
        typing.cast("Select[Any]", query),
        page,
        order_by=(AnnualInspection.year.desc(), Organization.name, AnnualInspection.id),
        scalars=False,
    )
