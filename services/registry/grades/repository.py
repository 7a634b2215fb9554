"""Queries of grade evaluations, their scores, their changes and the published grades."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any, cast

from sqlalchemy import Row, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.access import visible_to
from services.registry.enums import (
    OPEN_GRADE_EVALUATION_STATES,
    EvaluationGrade,
    GradeEvaluationState,
)
from services.registry.grades.models import GradeChange, GradeEvaluation, GradeScore
from services.registry.organizations.models import Organization
from shared.auth import Principal
from shared.pagination import PageParams, paginate


async def get_visible(
    session: AsyncSession, *, principal: Principal, evaluation_id: uuid.UUID
) -> GradeEvaluation | None:
    """The evaluation if its organization is within the principal's scope."""
    query = (
        select(GradeEvaluation)
        .join(Organization, Organization.id == GradeEvaluation.organization_id)
        .where(GradeEvaluation.id == evaluation_id, visible_to(principal))
    )
    return (await session.execute(query)).scalar_one_or_none()


async def lock(session: AsyncSession, evaluation_id: uuid.UUID) -> GradeEvaluation:
    query = select(GradeEvaluation).where(GradeEvaluation.id == evaluation_id).with_for_update()
    return (await session.execute(query)).scalar_one()


async def open_of(session: AsyncSession, organization_id: uuid.UUID) -> GradeEvaluation | None:
    query = select(GradeEvaluation).where(
        GradeEvaluation.organization_id == organization_id,
        GradeEvaluation.state.in_(OPEN_GRADE_EVALUATION_STATES),
    )
    return (await session.execute(query)).scalar_one_or_none()


async def in_force_of(session: AsyncSession, organization_id: uuid.UUID) -> GradeEvaluation | None:
    """The organization's granted evaluation (at most one), locked."""
    query = (
        select(GradeEvaluation)
        .where(
            GradeEvaluation.organization_id == organization_id,
            GradeEvaluation.state == GradeEvaluationState.granted,
        )
        .with_for_update()
    )
    return (await session.execute(query)).scalar_one_or_none()


async def of_organization(
    session: AsyncSession, organization_id: uuid.UUID
) -> Sequence[GradeEvaluation]:
    query = (
        select(GradeEvaluation)
        .where(GradeEvaluation.organization_id == organization_id)
        .order_by(GradeEvaluation.applied_at.desc(), GradeEvaluation.id)
    )
    return (await session.execute(query)).scalars().all()


async def page_of(
    session: AsyncSession,
    *,
    state: GradeEvaluationState | None,
    year: int | None,
    page: PageParams,
) -> tuple[Sequence[GradeEvaluation], int]:
    query = select(GradeEvaluation)
    if state is not None:
        query = query.where(GradeEvaluation.state == state)
    if year is not None:
        query = query.where(GradeEvaluation.year == year)
    return await paginate(
        session, query, page, order_by=(GradeEvaluation.applied_at.desc(), GradeEvaluation.id)
    )


async def scores_of(session: AsyncSession, evaluation_id: uuid.UUID) -> Sequence[GradeScore]:
    query = (
        select(GradeScore)
        .where(GradeScore.evaluation_id == evaluation_id)
        .order_by(GradeScore.scored_at, GradeScore.id)
    )
    return (await session.execute(query)).scalars().all()


async def score_of(
    session: AsyncSession, evaluation_id: uuid.UUID, expert_sub: str
) -> GradeScore | None:
    query = select(GradeScore).where(
        GradeScore.evaluation_id == evaluation_id, GradeScore.expert_sub == expert_sub
    )
    return (await session.execute(query)).scalar_one_or_none()


async def changes_of(session: AsyncSession, evaluation_id: uuid.UUID) -> Sequence[GradeChange]:
    query = (
        select(GradeChange)
        .where(GradeChange.evaluation_id == evaluation_id)
        .order_by(GradeChange.id)
    )
    return (await session.execute(query)).scalars().all()


async def lapsed(session: AsyncSession, *, today: date, limit: int) -> Sequence[GradeEvaluation]:
    """Granted evaluations whose last valid day is before `today`, claimed for the sweep."""
    query = (
        select(GradeEvaluation)
        .where(
            GradeEvaluation.state == GradeEvaluationState.granted,
            GradeEvaluation.valid_until < today,
        )
        .order_by(GradeEvaluation.valid_until, GradeEvaluation.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (await session.execute(query)).scalars().all()


async def organization_if_free(
    session: AsyncSession, organization_id: uuid.UUID
) -> Organization | None:
    """The organization locked, or None if another transaction holds it."""
    query = (
        select(Organization)
        .where(Organization.id == organization_id)
        .with_for_update(skip_locked=True)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def lapsed_organizations(
    session: AsyncSession, *, today: date, limit: int
) -> Sequence[Organization]:
    """Organizations carrying a grade whose validity ended and no evaluation in force.

    Grades entered by hand or imported (the register kept them as a field before
    evaluations existed) lapse like evaluated ones.
    """
    in_force = select(GradeEvaluation.id).where(
        GradeEvaluation.organization_id == Organization.id,
        GradeEvaluation.state == GradeEvaluationState.granted,
    )
    query = (
        select(Organization)
        .where(
            Organization.evaluation_grade.is_not(None),
            Organization.grade_valid_until < today,
            ~in_force.exists(),
        )
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (await session.execute(query)).scalars().all()


async def published_page(
    session: AsyncSession,
    *,
    today: date,
    grade: EvaluationGrade | None,
    page: PageParams,
) -> tuple[Sequence[Row[Any]], int]:
    """Grades in force and published (公示), highest grade first, then by name."""
    query = (
        select(
            GradeEvaluation.organization_id,
            Organization.name.label("organization_name"),
            Organization.uscc,
            GradeEvaluation.grade,
            GradeEvaluation.year,
            GradeEvaluation.valid_from,
            GradeEvaluation.valid_until,
            GradeEvaluation.published_at,
        )
        .join(Organization, Organization.id == GradeEvaluation.organization_id)
        .where(
            GradeEvaluation.state == GradeEvaluationState.granted,
            GradeEvaluation.published_at.is_not(None),
            GradeEvaluation.valid_until >= today,
        )
    )
    if grade is not None:
        query = query.where(GradeEvaluation.grade == grade)
    return await paginate(
        session,
        cast("Select[Any]", query),  # several columns: paginate's type names one
        page,
        order_by=(GradeEvaluation.grade.desc(), Organization.name, GradeEvaluation.id),
        scalars=False,
    )
