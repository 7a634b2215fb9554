"""Stage transitions, the timeline and the outbox events of a project.

Every stage change goes through `move`: it checks the edge, records who did it in the
append-only timeline and writes `project.stage_changed` in the same transaction. Every
event `emit` writes also publishes the OCDS release the change implies, if any, in that
same transaction (`services/projects/ocds/releases.py`).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.projects.base import infra
from services.projects.core.models import Project, ProjectStage, TimelineEntry
from services.projects.ocds.releases import publish_for_event
from shared.auth import Principal
from shared.errors import Conflict
from shared.outbox import record_event

S = ProjectStage
EDGES: dict[ProjectStage, frozenset[ProjectStage]] = {
    S.applied: frozenset({S.approved, S.rejected, S.withdrawn}),
    S.approved: frozenset({S.procuring}),
    # Back to approved when the procurement is cancelled (废标): it may procure again.
    S.procuring: frozenset({S.contracted, S.approved}),
    S.contracted: frozenset({S.implementing}),
    S.implementing: frozenset({S.evaluating}),
    S.evaluating: frozenset({S.evaluated}),
    S.evaluated: frozenset({S.closing}),
    S.closing: frozenset({S.closed, S.evaluated}),
}


def require_stage(project: Project, *allowed: ProjectStage, action: str) -> None:
    if project.stage not in allowed:
        expected = ", ".join(stage.value for stage in allowed)
        raise Conflict(
            f"Cannot {action}: the project is {project.stage.value}, this needs {expected}",
            code="wrong_stage",
        )


async def move(
    session: AsyncSession,
    project: Project,
    to: ProjectStage,
    *,
    actor: Principal | str,
    action: str,
    details: dict[str, Any] | None = None,
) -> None:
    before = project.stage
    if to not in EDGES.get(before, frozenset()):
        raise Conflict(f"A project cannot go from {before.value} to {to.value}", code="wrong_stage")
    project.stage = to
    await session.flush()
    await note(session, project, actor=actor, action=action, before=before, details=details)
    await emit(
        session,
        project,
        "project.stage_changed",
        {"from": before.value, "to": to.value, "action": action},
    )


async def note(
    session: AsyncSession,
    project: Project,
    *,
    actor: Principal | str,
    action: str,
    before: ProjectStage | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """A timeline entry; with `before`, it records a stage change to the current stage."""
    sub, role = (actor, "system") if isinstance(actor, str) else (actor.sub, actor.role.value)
    session.add(
        TimelineEntry(
            project_id=project.id,
            actor_sub=sub,
            actor_role=role,
            action=action,
            from_stage=before.value if before else None,
            to_stage=project.stage.value if before else None,
            details=details or {},
        )
    )
    await session.flush()


async def emit(
    session: AsyncSession, project: Project, event_type: str, data: dict[str, Any]
) -> uuid.UUID:
    """A thin event about the project (ids and codes; readers fetch the rest), and the
    OCDS release the change publishes."""
    event_id = await record_event(
        session,
        infra.outbox,
        event_type=event_type,
        subject_type="project",
        subject_id=project.id,
        data={"project_id": str(project.id), **data},
    )
    await publish_for_event(session, project, event_type, data)
    return event_id
