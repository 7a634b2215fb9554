"""Every query of review tasks: a department's inbox, a task's comments, a case's decisions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.workflow.cases.models import ReviewTask, TaskComment, TaskState
from shared.pagination import PageParams, paginate


async def get_task(session: AsyncSession, task_id: uuid.UUID) -> ReviewTask | None:
    return await session.get(ReviewTask, task_id)


async def task_states(session: AsyncSession, case_id: uuid.UUID) -> list[TaskState]:
    """The state of every task of a case (the join rule's input)."""
    query = select(ReviewTask.state).where(ReviewTask.case_id == case_id)
    return list((await session.execute(query)).scalars())


async def inbox(
    session: AsyncSession, *, department: str, state: TaskState | None, page: PageParams
) -> tuple[Sequence[ReviewTask], int]:
    query = select(ReviewTask).where(ReviewTask.department == department)
    if state is not None:
        query = query.where(ReviewTask.state == state)
    else:
        query = query.where(ReviewTask.state.in_([TaskState.open, TaskState.claimed]))
    return await paginate(session, query, page, order_by=(ReviewTask.created_at, ReviewTask.id))


async def comments_of(session: AsyncSession, task_id: uuid.UUID) -> Sequence[TaskComment]:
    query = (
        select(TaskComment).where(TaskComment.task_id == task_id).order_by(TaskComment.created_at)
    )
    return (await session.execute(query)).scalars().all()
