"""The reviewer's inbox and task commands: claim, approve, reject, comment."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from services.workflow.cases.models import TaskState
from services.workflow.cases.schemas import Command, CommandResult, TaskOut
from services.workflow.reviews import repository
from services.workflow.reviews import service as review
from services.workflow.reviews.schemas import CommentOut, TaskCommentIn, TaskDecision
from shared.app import API_PREFIX
from shared.auth import CurrentPrincipal, Principal, Role, allow
from shared.db import SessionDep
from shared.errors import Forbidden, NotFound, problem_responses
from shared.pagination import Page, PageDep, to_page

router = APIRouter(
    prefix=f"{API_PREFIX}/tasks",
    tags=["review tasks"],
    dependencies=[allow(Role.department_reviewer)],
)

_COMMAND_ERRORS = problem_responses(401, 403, 404, 409, 422)


def _reviewer(principal: Principal) -> str:
    if principal.role is not Role.department_reviewer or not principal.department:
        raise Forbidden("The task inbox belongs to department reviewers", code="role_forbidden")
    return principal.department


@router.get(
    "",
    response_model=Page[TaskOut],
    operation_id="listMyTasks",
    responses=problem_responses(401, 403, 422),
)
async def list_my_tasks(
    session: SessionDep, principal: CurrentPrincipal, page: PageDep, state: TaskState | None = None
) -> Page[TaskOut]:
    """The caller's department inbox (open and claimed tasks unless a state is given)."""
    department = _reviewer(principal)
    rows, total = await repository.inbox(session, department=department, state=state, page=page)
    return to_page(rows, total, page, TaskOut.model_validate)


@router.get(
    "/{task_id}/comments",
    response_model=list[CommentOut],
    operation_id="listTaskComments",
    responses=problem_responses(401, 403, 404),
)
async def list_task_comments(
    task_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> list[CommentOut]:
    """Comments on one of the department's tasks."""
    department = _reviewer(principal)
    task = await repository.get_task(session, task_id)
    if task is None or task.department != department:
        raise NotFound("No such task in your department", code="task_not_found")
    return [CommentOut.model_validate(c) for c in await repository.comments_of(session, task_id)]


@router.post(
    "/{task_id}/claim",
    response_model=CommandResult,
    operation_id="claimTask",
    responses=_COMMAND_ERRORS,
)
async def claim_task(
    task_id: uuid.UUID, body: Command, session: SessionDep, principal: CurrentPrincipal
) -> CommandResult:
    """Take a task so colleagues see who is on it."""
    return await review.claim(session, actor=principal, task_id=task_id, command_id=body.command_id)


@router.post(
    "/{task_id}/approve",
    response_model=CommandResult,
    operation_id="approveTask",
    responses=_COMMAND_ERRORS,
)
async def approve_task(
    task_id: uuid.UUID, body: TaskDecision, session: SessionDep, principal: CurrentPrincipal
) -> CommandResult:
    """Approve for the department; the join rule may decide the case."""
    return await review.decide(
        session,
        actor=principal,
        task_id=task_id,
        command_id=body.command_id,
        approve=True,
        comment=body.comment,
    )


@router.post(
    "/{task_id}/reject",
    response_model=CommandResult,
    operation_id="rejectTask",
    responses=_COMMAND_ERRORS,
)
async def reject_task(
    task_id: uuid.UUID, body: TaskDecision, session: SessionDep, principal: CurrentPrincipal
) -> CommandResult:
    """Reject for the department, with the reason in the comment."""
    return await review.decide(
        session,
        actor=principal,
        task_id=task_id,
        command_id=body.command_id,
        approve=False,
        comment=body.comment,
    )


@router.post(
    "/{task_id}/comments",
    response_model=CommandResult,
    operation_id="commentOnTask",
    responses=_COMMAND_ERRORS,
)
async def comment_on_task(
    task_id: uuid.UUID, body: TaskCommentIn, session: SessionDep, principal: CurrentPrincipal
) -> CommandResult:
    """Add a comment to a task (no state change)."""
    return await review.comment(
        session, actor=principal, task_id=task_id, command_id=body.command_id, body=body.body
    )
