"""Deliverable milestones (交付节点) of the proposal: reported achieved, confirmed met.

The organization carrying the project out reports a deliverable achieved: the day
(Asia/Shanghai, not in the future, not before the contract starts), what it delivered
and the evidence. The side that supervises the project — the bureau or the purchasing
department, as for supervision visits and rectifications — confirms it met, or sends it
back to `scheduled` with its note, and the organization may report it again. Met is
final. Reports and reviews are taken while the project is carried out and evaluated;
from the closure request on, the milestones are frozen (OCDS then shows the unmet ones
as not met). Each step is on the timeline; `milestone.reported` and `milestone.met`
are published through the outbox.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.projects.access import get_project, require_manager, require_member
from services.projects.applications.models import MilestoneStatus, ProjectMilestone
from services.projects.core import lifecycle
from services.projects.core.models import Project, ProjectStage
from services.projects.procurement.contracts import contract_of
from services.projects.supervision.schemas import MilestoneConfirmation, MilestoneReport
from shared.auth import Principal
from shared.clock import shanghai_date
from shared.concurrency import require_version
from shared.db import utcnow
from shared.errors import Conflict, FieldError, NotFound, Unprocessable

DELIVERY = (ProjectStage.implementing, ProjectStage.evaluating, ProjectStage.evaluated)


async def _milestone(
    session: AsyncSession, project: Project, milestone_id: uuid.UUID
) -> ProjectMilestone:
    item = await session.get(ProjectMilestone, milestone_id, with_for_update=True)
    if item is None or item.project_id != project.id:
        raise NotFound("No such milestone", code="milestone_not_found")
    return item


def _refuse_day(message: str, code: str) -> Unprocessable:
    return Unprocessable(
        message,
        code=code,
        errors=[FieldError(field="body.achieved_on", message=message, code=code)],
    )


async def report(
    session: AsyncSession,
    *,
    principal: Principal,
    project_id: uuid.UUID,
    milestone_id: uuid.UUID,
    data: MilestoneReport,
) -> ProjectMilestone:
    project = await get_project(session, principal=principal, project_id=project_id, lock=True)
    require_member(principal, project)
    item = await _milestone(session, project, milestone_id)
    lifecycle.require_stage(project, *DELIVERY, action="report a milestone")
    if item.status is not MilestoneStatus.scheduled:
        raise Conflict(
            f"The milestone is already {item.status.value}", code="milestone_not_scheduled"
        )
    now = utcnow()
    if data.achieved_on > shanghai_date(now):
        raise _refuse_day("A deliverable cannot be achieved in the future", "achieved_in_future")
    contract = await contract_of(session, project)
    if data.achieved_on < contract.start_on:
        raise _refuse_day(
            f"The contract period starts on {contract.start_on.isoformat()}",
            "achieved_before_contract",
        )
    item.status = MilestoneStatus.reported
    item.achieved_on = data.achieved_on
    item.achievement = data.description
    item.evidence = [e.model_dump(mode="json") for e in data.evidence]
    item.reported_at = now
    item.reported_by = principal.sub
    await session.flush()
    details = {"milestone_id": str(item.id), "seq": item.seq}
    await lifecycle.note(
        session,
        project,
        actor=principal,
        action="milestone_reported",
        details={**details, "achieved_on": data.achieved_on.isoformat(), "evidence": item.evidence},
    )
    await lifecycle.emit(session, project, "milestone.reported", details)
    return item


async def confirm(
    session: AsyncSession,
    *,
    principal: Principal,
    project_id: uuid.UUID,
    milestone_id: uuid.UUID,
    data: MilestoneConfirmation,
    if_match: str | None,
) -> ProjectMilestone:
    project = await get_project(session, principal=principal, project_id=project_id, lock=True)
    require_manager(principal, project)
    item = await _milestone(session, project, milestone_id)
    require_version(if_match, item.version)
    lifecycle.require_stage(project, *DELIVERY, action="confirm a milestone")
    if item.status is not MilestoneStatus.reported:
        raise Conflict(
            "Only a milestone the organization reported achieved can be confirmed",
            code="milestone_not_reported",
        )
    now = utcnow()
    item.review_note = data.note
    item.reviewed_at = now
    item.reviewed_by = principal.sub
    if data.accepted:
        item.status = MilestoneStatus.met
        item.met_at = now
    else:
        item.status = MilestoneStatus.scheduled
    await session.flush()
    details = {"milestone_id": str(item.id), "seq": item.seq}
    action = "milestone_met" if data.accepted else "milestone_sent_back"
    await lifecycle.note(session, project, actor=principal, action=action, details=details)
    if data.accepted:
        await lifecycle.emit(
            session,
            project,
            "milestone.met",
            {**details, "achieved_on": item.achieved_on.isoformat() if item.achieved_on else None},
        )
    return item
