"""Reading projects: scoped lists, one project with its lines, the timeline."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.projects.access import get_project, visible
from services.projects.applications.models import BudgetLine, ProjectMilestone
from services.projects.core.models import Project, ProjectStage, TimelineEntry
from services.projects.core.schemas import (
    BudgetLineOut,
    MilestoneOut,
    ProjectOut,
    ProjectSummary,
    TimelineEntryOut,
)
from services.projects.reference.code_lists import Department, slot_of
from shared.auth import Principal
from shared.pagination import Page, PageParams, paginate, to_page


@dataclass(frozen=True, slots=True)
class ProjectFilters:
    stage: ProjectStage | None = None
    call_id: uuid.UUID | None = None
    department: Department | None = None
    year: int | None = None
    org_id: uuid.UUID | None = None


def _fields(project: Project) -> dict[str, object]:
    values = {c.key: getattr(project, c.key) for c in Project.__table__.columns}
    values["catalogue_slot"] = slot_of(project.catalogue_item)
    return values


def summary(project: Project) -> ProjectSummary:
    return ProjectSummary.model_validate(_fields(project))


async def detail(session: AsyncSession, project: Project) -> ProjectOut:
    lines = await session.execute(
        select(BudgetLine).where(BudgetLine.project_id == project.id).order_by(BudgetLine.seq)
    )
    milestones = await session.execute(
        select(ProjectMilestone)
        .where(ProjectMilestone.project_id == project.id)
        .order_by(ProjectMilestone.seq)
    )
    return ProjectOut.model_validate(
        {
            **_fields(project),
            "budget_lines": [BudgetLineOut.model_validate(x) for x in lines.scalars()],
            "milestones": [MilestoneOut.model_validate(x) for x in milestones.scalars()],
        }
    )


async def list_page(
    session: AsyncSession, *, principal: Principal, filters: ProjectFilters, page: PageParams
) -> Page[ProjectSummary]:
    query = select(Project).where(visible(principal))
    for column, value in (
        (Project.stage, filters.stage),
        (Project.call_id, filters.call_id),
        (Project.department, filters.department),
        (Project.year, filters.year),
    ):
        if value is not None:
            query = query.where(column == value)
    if filters.org_id is not None:
        query = query.where(
            (Project.org_id == filters.org_id) | (Project.supplier_org_id == filters.org_id)
        )
    rows, total = await paginate(
        session, query, page, order_by=(Project.created_at.desc(), Project.id)
    )
    return to_page(rows, total, page, summary)


async def timeline(
    session: AsyncSession, *, principal: Principal, project_id: uuid.UUID, reviewed: bool | None
) -> list[TimelineEntryOut]:
    await get_project(session, principal=principal, project_id=project_id, reviewed=reviewed)
    rows = await session.execute(
        select(TimelineEntry)
        .where(TimelineEntry.project_id == project_id)
        .order_by(TimelineEntry.id)
    )
    return [TimelineEntryOut.model_validate(row) for row in rows.scalars()]
