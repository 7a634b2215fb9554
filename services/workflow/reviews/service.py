"""Joint review (部门联办): departments claim, comment on and decide their tasks in parallel.

A decision locks the *case* row before its task, so concurrent decisions on one case
are applied one after another: the join rule sees every earlier decision, and exactly
one decision can turn the case into its outcome.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.workflow.cases.commands import (
    conclude,
    definition_of,
    outstanding_pending,
    replay_result,
    send_back_when_every_department_spoke,
)
from services.workflow.cases.machine import join_outcome
from services.workflow.cases.models import CaseState, ReviewTask, TaskComment, TaskState
from services.workflow.cases.schemas import CommandResult
from services.workflow.cases.transitions import emit, lock_case, remember, replayed
from services.workflow.reviews import repository
from shared.auth import Principal, Role
from shared.db import utcnow
from shared.errors import Conflict, Forbidden, NotFound


async def _task_of_department(
    session: AsyncSession, actor: Principal, task_id: uuid.UUID
) -> ReviewTask:
    if actor.role is not Role.department_reviewer:
        raise Forbidden("Only department reviewers act on review tasks", code="role_forbidden")
    task = await repository.get_task(session, task_id)
    # Another department's task is indistinguishable from a missing one.
    if task is None or task.department != actor.department:
        raise NotFound("No such task in your department", code="task_not_found")
    return task


def _result(
    command_id: uuid.UUID, case_id: uuid.UUID, state: CaseState, task_id: uuid.UUID
) -> dict[str, object]:
    return CommandResult(
        command_id=command_id, case_id=case_id, state=state, task_id=task_id
    ).model_dump(mode="json")


async def claim(
    session: AsyncSession, *, actor: Principal, task_id: uuid.UUID, command_id: uuid.UUID
) -> CommandResult:
    task = await _task_of_department(session, actor, task_id)
    if stored := await replayed(
        session, actor=actor, command_id=command_id, kind="claim", case_id=task.case_id
    ):
        return replay_result(stored)
    case = await lock_case(session, task.case_id)
    await session.refresh(task, with_for_update=True)
    if task.state is TaskState.claimed and task.claimed_by != actor.sub:
        raise Conflict(f"The task is claimed by {task.claimed_by}", code="task_claimed_by_other")
    if task.state not in (TaskState.open, TaskState.claimed):
        raise Conflict("The task is already closed", code="task_closed")
    task.state = TaskState.claimed
    task.claimed_by = actor.sub
    result = _result(command_id, case.id, case.state, task.id)
    remember(
        session, command_id=command_id, case_id=case.id, kind="claim", actor=actor, result=result
    )
    return CommandResult.model_validate(result)


async def decide(
    session: AsyncSession,
    *,
    actor: Principal,
    task_id: uuid.UUID,
    command_id: uuid.UUID,
    approve: bool,
    comment: str | None,
) -> CommandResult:
    kind = "approve" if approve else "reject"
    task = await _task_of_department(session, actor, task_id)
    if stored := await replayed(
        session, actor=actor, command_id=command_id, kind=kind, case_id=task.case_id
    ):
        return replay_result(stored)
    case = await lock_case(session, task.case_id)
    await session.refresh(task, with_for_update=True)
    if case.state is not CaseState.in_joint_review:
        raise Conflict(f"The case is {case.state}, not in joint review", code="case_not_in_review")
    if task.state not in (TaskState.open, TaskState.claimed):
        raise Conflict("The task is already decided", code="task_closed")
    if task.state is TaskState.claimed and task.claimed_by != actor.sub:
        raise Conflict(f"The task is claimed by {task.claimed_by}", code="task_claimed_by_other")
    task.state = TaskState.approved if approve else TaskState.rejected
    task.decided_by = actor.sub
    task.decided_at = utcnow()
    task.decision_comment = comment
    # A decision replaces a request the department held for the one-time notice.
    task.supplement_items = None
    await session.flush()
    await emit(session, case, "task.decided", department=task.department, decision=task.state.value)
    states = await repository.task_states(session, case.id)
    content = await definition_of(session, case)
    outcome = join_outcome(content.join_rule, states)
    if outcome is CaseState.approved and outstanding_pending(case):
        # 容缺受理: no approval while committed minor materials are missing; it is
        # taken when the last one is supplied (commands.supply_pending).
        outcome = None
    if outcome is None:
        # The other departments may all be holding requests: the notice goes out now.
        await send_back_when_every_department_spoke(
            session, case, actor=actor, command_id=command_id
        )
    else:
        await conclude(
            session,
            case,
            outcome,
            actor=actor,
            reason=comment if outcome is CaseState.rejected else None,
            command_id=command_id,
        )
    await session.flush()
    result = _result(command_id, case.id, case.state, task.id)
    remember(session, command_id=command_id, case_id=case.id, kind=kind, actor=actor, result=result)
    return CommandResult.model_validate(result)


async def comment(
    session: AsyncSession, *, actor: Principal, task_id: uuid.UUID, command_id: uuid.UUID, body: str
) -> CommandResult:
    task = await _task_of_department(session, actor, task_id)
    if stored := await replayed(
        session, actor=actor, command_id=command_id, kind="comment", case_id=task.case_id
    ):
        return replay_result(stored)
    case = await lock_case(session, task.case_id)
    session.add(TaskComment(id=uuid.uuid4(), task_id=task.id, author=actor.sub, body=body))
    result = _result(command_id, case.id, case.state, task.id)
    remember(
        session, command_id=command_id, case_id=case.id, kind="comment", actor=actor, result=result
    )
    return CommandResult.model_validate(result)
