"""The mechanics every command shares: its id, the case lock, the audit trail, events.

A command is applied at most once: its id is locked with a transaction-scoped advisory
lock (so two deliveries of the same command serialise), then looked up; a known id
returns the stored result and changes nothing. A case changes only under its row lock,
and every state change appends to the append-only `case_transition` trail.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.workflow.base import infra
from services.workflow.cases.machine import can_transition
from services.workflow.cases.models import ApprovalCase, CaseCommand, CaseState, CaseTransition
from shared.auth import Principal, Role
from shared.errors import Conflict, NotFound
from shared.outbox import record_event

# The workflow acting on its own (pre-check, timers): recorded as such in the trail.
SYSTEM = Principal(sub="system:workflow", role=Role.service)


async def lock_command(session: AsyncSession, command_id: uuid.UUID) -> None:
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"workflow-command:{command_id}"},
    )


async def replayed(
    session: AsyncSession,
    *,
    actor: Principal,
    command_id: uuid.UUID,
    kind: str,
    case_id: uuid.UUID | None,
) -> dict[str, Any] | None:
    """Lock the command id; the stored result if this actor applied it before, else None.

    A command id is the caller's own (its whole principal, `Principal.identity`: the same
    person acting for another organization is another caller): another caller presenting
    it is refused rather than handed the first caller's result.
    """
    await lock_command(session, command_id)
    previous = await session.get(CaseCommand, command_id)
    if previous is None:
        return None
    if (
        previous.kind != kind
        or previous.actor != actor.identity
        or (case_id is not None and previous.case_id != case_id)
    ):
        raise Conflict(
            "This command id was already used for a different command",
            code="command_id_reused",
        )
    return previous.result


def remember(
    session: AsyncSession,
    *,
    command_id: uuid.UUID,
    case_id: uuid.UUID,
    kind: str,
    actor: Principal,
    result: dict[str, Any],
) -> None:
    session.add(
        CaseCommand(
            command_id=command_id,
            case_id=case_id,
            kind=kind,
            actor=actor.identity,
            result=result,
        )
    )


async def lock_case(session: AsyncSession, case_id: uuid.UUID) -> ApprovalCase:
    case = (
        await session.execute(
            select(ApprovalCase).where(ApprovalCase.id == case_id).with_for_update()
        )
    ).scalar_one_or_none()
    if case is None:
        raise NotFound("No such case", code="case_not_found")
    return case


def move(
    session: AsyncSession,
    case: ApprovalCase,
    target: CaseState,
    *,
    actor: Principal,
    reason: str | None = None,
    command_id: uuid.UUID | None = None,
) -> None:
    """Change the case's state (the caller holds its row lock) and append to the trail."""
    if not can_transition(case.state, target):
        raise Conflict(
            f"A case in state {case.state} cannot move to {target}",
            code="invalid_transition",
        )
    session.add(
        CaseTransition(
            case_id=case.id,
            from_state=case.state.value if case.state else None,
            to_state=target.value,
            actor=actor.sub,
            actor_role=actor.role.value,
            reason=reason,
            definition_version=case.definition_version,
            command_id=command_id,
        )
    )
    case.state = target
    case.version += 1


def event_data(case: ApprovalCase, **data: Any) -> dict[str, Any]:
    """An event's payload as of now (the case's current state)."""
    return {
        "case_id": str(case.id),
        "case_type": case.case_type,
        "state": case.state.value,
        "subject_service": case.subject_service,
        "subject_id": case.subject_id,
        **data,
    }


async def emit(session: AsyncSession, case: ApprovalCase, event_type: str, **data: Any) -> None:
    await emit_data(session, case, event_type, event_data(case, **data))


async def emit_data(
    session: AsyncSession, case: ApprovalCase, event_type: str, data: dict[str, Any]
) -> None:
    """Record an event whose payload was taken earlier (`event_data`)."""
    await record_event(
        session,
        infra.outbox,
        event_type=event_type,
        subject_type="case",
        subject_id=case.id,
        data=data,
    )
