"""The queries of incubation: an organization's incubation, its phase history, sessions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.access import visible_to
from services.registry.incubation.models import Incubation, MentoringSession, PhaseChange
from services.registry.organizations.models import Organization
from shared.auth import Principal
from shared.pagination import PageParams, paginate


async def of_organization(
    session: AsyncSession, organization_id: uuid.UUID, *, for_update: bool = False
) -> Incubation | None:
    query = select(Incubation).where(Incubation.organization_id == organization_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def phase_history(session: AsyncSession, incubation_id: uuid.UUID) -> Sequence[PhaseChange]:
    query = (
        select(PhaseChange)
        .where(PhaseChange.incubation_id == incubation_id)
        .order_by(PhaseChange.id)
    )
    return (await session.execute(query)).scalars().all()


async def mentoring_sessions(
    session: AsyncSession, incubation_id: uuid.UUID
) -> Sequence[MentoringSession]:
    query = (
        select(MentoringSession)
        .where(MentoringSession.incubation_id == incubation_id)
        .order_by(MentoringSession.held_on, MentoringSession.recorded_at, MentoringSession.id)
    )
    return (await session.execute(query)).scalars().all()


async def page_visible(
    session: AsyncSession, *, principal: Principal, page: PageParams
) -> tuple[Sequence[Incubation], int]:
    """The incubations of the organizations the principal sees, newest admission first."""
    query = (
        select(Incubation)
        .join(Organization, Organization.id == Incubation.organization_id)
        .where(visible_to(principal))
    )
    return await paginate(
        session, query, page, order_by=(Incubation.admitted_on.desc(), Incubation.id)
    )
