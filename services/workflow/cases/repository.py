"""Every query of cases and their tasks lives here, with the scoping rules of who sees what."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists, false, func, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.workflow.cases.machine import TERMINAL
from services.workflow.cases.models import (
    ApprovalCase,
    CaseState,
    CaseTransition,
    ReviewTask,
    TaskState,
)
from shared.auth import Principal, Role
from shared.db import utcnow
from shared.errors import Forbidden
from shared.pagination import PageParams, paginate

OPEN_TASK_STATES = (TaskState.open, TaskState.claimed)
_SEE_ALL = frozenset({Role.civil_affairs, Role.auditor, Role.service})


def visible_cases(principal: Principal) -> ColumnElement[bool]:
    if principal.role in _SEE_ALL:
        return true()
    if principal.role is Role.organization:
        return ApprovalCase.applicant_org_id == principal.org_id
    if principal.role is Role.department_reviewer:
        return exists().where(
            ReviewTask.case_id == ApprovalCase.id, ReviewTask.department == principal.department
        )
    return false()


def require_case_reader(principal: Principal) -> None:
    if principal.role not in _SEE_ALL | {Role.organization, Role.department_reviewer}:
        raise Forbidden(f"Role {principal.role} may not read cases", code="role_forbidden")


def overdue_condition() -> ColumnElement[bool]:
    return (
        ApprovalCase.state.not_in(list(TERMINAL))
        & ApprovalCase.paused_at.is_(None)
        & (ApprovalCase.due_at < func.now())
    )


@dataclass(frozen=True, slots=True)
class CaseFilters:
    state: CaseState | None = None
    case_type: str | None = None
    overdue: bool | None = None
    department: str | None = None
    applicant_org_id: str | None = None
    subject_id: str | None = None


async def get_case(
    session: AsyncSession, *, principal: Principal, case_id: uuid.UUID
) -> ApprovalCase | None:
    query = select(ApprovalCase).where(ApprovalCase.id == case_id, visible_cases(principal))
    return (await session.execute(query)).scalar_one_or_none()


async def list_cases(
    session: AsyncSession, *, principal: Principal, filters: CaseFilters, page: PageParams
) -> tuple[Sequence[ApprovalCase], int]:
    query = select(ApprovalCase).where(visible_cases(principal))
    if filters.state:
        query = query.where(ApprovalCase.state == filters.state)
    if filters.case_type:
        query = query.where(ApprovalCase.case_type == filters.case_type)
    if filters.overdue is not None:
        condition = overdue_condition()
        query = query.where(condition if filters.overdue else ~condition)
    if filters.department:
        query = query.where(
            exists().where(
                ReviewTask.case_id == ApprovalCase.id, ReviewTask.department == filters.department
            )
        )
    if filters.applicant_org_id:
        query = query.where(ApprovalCase.applicant_org_id == filters.applicant_org_id)
    if filters.subject_id:
        query = query.where(ApprovalCase.subject_id == filters.subject_id)
    return await paginate(
        session, query, page, order_by=(ApprovalCase.submitted_at.desc(), ApprovalCase.id)
    )


async def tasks_of(session: AsyncSession, case_id: uuid.UUID) -> Sequence[ReviewTask]:
    query = select(ReviewTask).where(ReviewTask.case_id == case_id).order_by(ReviewTask.department)
    return (await session.execute(query)).scalars().all()


async def timeline_of(session: AsyncSession, case_id: uuid.UUID) -> Sequence[CaseTransition]:
    query = (
        select(CaseTransition).where(CaseTransition.case_id == case_id).order_by(CaseTransition.id)
    )
    return (await session.execute(query)).scalars().all()


async def task_departments(session: AsyncSession, case_id: uuid.UUID) -> set[str]:
    query = select(ReviewTask.department).where(ReviewTask.case_id == case_id)
    return set((await session.execute(query)).scalars())


async def has_open_task(
    session: AsyncSession, case_id: uuid.UUID, *, department: str | None
) -> bool:
    """Whether `department` still has an open or claimed task on the case."""
    query = select(ReviewTask.id).where(
        ReviewTask.case_id == case_id,
        ReviewTask.department == department,
        ReviewTask.state.in_(OPEN_TASK_STATES),
    )
    return (await session.execute(query)).first() is not None


async def open_task_of(
    session: AsyncSession, case_id: uuid.UUID, *, department: str | None
) -> ReviewTask | None:
    query = (
        select(ReviewTask)
        .where(
            ReviewTask.case_id == case_id,
            ReviewTask.department == department,
            ReviewTask.state.in_(OPEN_TASK_STATES),
        )
        .with_for_update()
    )
    return (await session.execute(query)).scalar_one_or_none()


async def clear_held_requests(session: AsyncSession, case_id: uuid.UUID) -> None:
    """The departments' held supplement requests went out in the notice."""
    for task in await tasks_of(session, case_id):
        task.supplement_items = None


async def cancel_open_tasks(session: AsyncSession, case_id: uuid.UUID) -> None:
    """The case is decided or withdrawn: its undecided tasks are cancelled."""
    await session.execute(
        update(ReviewTask)
        .where(ReviewTask.case_id == case_id, ReviewTask.state.in_(OPEN_TASK_STATES))
        .values(state=TaskState.cancelled)
    )


def is_overdue(case: ApprovalCase) -> bool:
    return case.state not in TERMINAL and case.paused_at is None and case.due_at < utcnow()
