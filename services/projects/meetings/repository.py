"""The queries of the three meetings: a call's meetings, a project's, and who is covered."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.projects.core.models import Project
from services.projects.meetings.models import Meeting, MeetingKind, MeetingProject
from services.projects.supervision.models import ProgressReport, ReportKind


async def meeting_of(
    session: AsyncSession, project_id: uuid.UUID, kind: MeetingKind
) -> Meeting | None:
    """The meeting of this kind that covered the project, if any."""
    query = (
        select(Meeting)
        .join(MeetingProject, MeetingProject.meeting_id == Meeting.id)
        .where(MeetingProject.project_id == project_id, MeetingProject.kind == kind)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def covered(
    session: AsyncSession, project_ids: Sequence[uuid.UUID], kind: MeetingKind
) -> set[uuid.UUID]:
    """Which of the projects a meeting of this kind already covered."""
    query = select(MeetingProject.project_id).where(
        MeetingProject.project_id.in_(project_ids), MeetingProject.kind == kind
    )
    return set((await session.execute(query)).scalars())


async def with_mid_term(session: AsyncSession, project_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Which of the projects submitted their mid-term report."""
    query = select(ProgressReport.project_id).where(
        ProgressReport.project_id.in_(project_ids),
        ProgressReport.kind == ReportKind.mid_term,
        ProgressReport.submitted_at.is_not(None),
    )
    return set((await session.execute(query)).scalars())


async def projects_of_call(
    session: AsyncSession, call_id: uuid.UUID, only: Sequence[uuid.UUID] | None
) -> list[Project]:
    """The call's projects (or those of `only` in it), locked in id order: two batches
    taking the same projects queue rather than deadlock."""
    query = select(Project).where(Project.call_id == call_id)
    if only is not None:
        query = query.where(Project.id.in_(only))
    query = query.order_by(Project.id).with_for_update().execution_options(populate_existing=True)
    return list((await session.execute(query)).scalars())


async def of_call(session: AsyncSession, call_id: uuid.UUID) -> list[Meeting]:
    query = select(Meeting).where(Meeting.call_id == call_id).order_by(Meeting.held_at, Meeting.id)
    return list((await session.execute(query)).scalars())


async def of_project(session: AsyncSession, project_id: uuid.UUID) -> list[Meeting]:
    query = (
        select(Meeting)
        .join(MeetingProject, MeetingProject.meeting_id == Meeting.id)
        .where(MeetingProject.project_id == project_id)
        .order_by(Meeting.held_at, Meeting.id)
    )
    return list((await session.execute(query)).scalars())


async def projects_covered(
    session: AsyncSession, meeting_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Each meeting's covered projects, in id order."""
    query = (
        select(MeetingProject.meeting_id, MeetingProject.project_id)
        .where(MeetingProject.meeting_id.in_(meeting_ids))
        .order_by(MeetingProject.project_id)
    )
    found: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for meeting_id, project_id in await session.execute(query):
        found[meeting_id].append(project_id)
    return dict(found)
