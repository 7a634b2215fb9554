"""The three meetings (三会) and initiation (立项).

Each meeting belongs to a stage and gates the next one: the press conference
(新闻发布会) is held once the contract is signed and is required to initiate the
project; the supervision meeting (督导见面会) follows the mid-term report and is
required to start the evaluation (and makes the mid-term tranche payable); the
evaluation briefing (评估说明会) is required to request closure.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.projects.access import get_project, require_manager
from services.projects.core import lifecycle
from services.projects.core.models import Project, ProjectStage
from services.projects.meetings.models import MEETING_LABELS, Meeting, MeetingKind
from services.projects.meetings.schemas import MeetingCreate
from services.projects.procurement.contracts import contract_of, mark_milestone
from services.projects.procurement.models import TrancheTrigger
from services.projects.supervision.models import ProgressReport, ReportKind
from services.projects.supervision.schedule import apply_schedule
from shared.auth import Principal
from shared.errors import Conflict

STAGE_OF: dict[MeetingKind, tuple[ProjectStage, ...]] = {
    MeetingKind.press_conference: (ProjectStage.contracted,),
    MeetingKind.supervision_meeting: (ProjectStage.implementing,),
    MeetingKind.evaluation_briefing: (ProjectStage.evaluating, ProjectStage.evaluated),
}


async def meeting_of(session: AsyncSession, project: Project, kind: MeetingKind) -> Meeting | None:
    return (
        await session.execute(
            select(Meeting).where(Meeting.project_id == project.id, Meeting.kind == kind)
        )
    ).scalar_one_or_none()


async def require_meeting(session: AsyncSession, project: Project, kind: MeetingKind) -> None:
    if await meeting_of(session, project, kind) is None:
        raise Conflict(
            f"The {kind.value} ({MEETING_LABELS[kind]}) has not been recorded",
            code="meeting_missing",
        )


async def record(
    session: AsyncSession, *, principal: Principal, project_id: uuid.UUID, data: MeetingCreate
) -> Meeting:
    project = await get_project(session, principal=principal, project_id=project_id, lock=True)
    require_manager(principal, project)
    lifecycle.require_stage(project, *STAGE_OF[data.kind], action=f"record the {data.kind.value}")
    if await meeting_of(session, project, data.kind) is not None:
        raise Conflict(f"The {data.kind.value} is already recorded", code="meeting_recorded")
    if data.kind is MeetingKind.supervision_meeting:
        mid_term = await session.scalar(
            select(ProgressReport.id).where(
                ProgressReport.project_id == project.id,
                ProgressReport.kind == ReportKind.mid_term,
                ProgressReport.submitted_at.is_not(None),
            )
        )
        if mid_term is None:
            raise Conflict(
                "The supervision meeting discusses the mid-term report: submit it first",
                code="mid_term_report_missing",
            )
    meeting = Meeting(
        id=uuid.uuid4(),
        project_id=project.id,
        kind=data.kind,
        held_at=data.held_at,
        location=data.location,
        attendees=[a.model_dump(mode="json") for a in data.attendees],
        minutes=data.minutes,
        documents=[d.model_dump(mode="json") for d in data.documents],
        recorded_by=principal.sub,
    )
    session.add(meeting)
    await session.flush()
    payable = []
    if data.kind is MeetingKind.supervision_meeting:
        payable = await mark_milestone(session, project, TrancheTrigger.mid_term_supervision)
    details = {"meeting_id": str(meeting.id), "kind": data.kind.value, "payable_tranches": payable}
    await lifecycle.note(
        session, project, actor=principal, action="meeting_recorded", details=details
    )
    await lifecycle.emit(session, project, "meeting.recorded", details)
    return meeting


async def list_for(
    session: AsyncSession, *, principal: Principal, project_id: uuid.UUID
) -> list[Meeting]:
    await get_project(session, principal=principal, project_id=project_id)
    rows = await session.execute(
        select(Meeting).where(Meeting.project_id == project_id).order_by(Meeting.held_at)
    )
    return list(rows.scalars())


async def initiate(
    session: AsyncSession, *, principal: Principal, project_id: uuid.UUID
) -> Project:
    """立项: after the press conference, the project starts; its reports are scheduled."""
    project = await get_project(session, principal=principal, project_id=project_id, lock=True)
    require_manager(principal, project)
    lifecycle.require_stage(project, ProjectStage.contracted, action="initiate the project")
    await require_meeting(session, project, MeetingKind.press_conference)
    contract = await contract_of(session, project)
    planned = await apply_schedule(session, project.id, contract.start_on, contract.end_on)
    payable = await mark_milestone(session, project, TrancheTrigger.initiation)
    await lifecycle.move(
        session,
        project,
        ProjectStage.implementing,
        actor=principal,
        action="initiated",
        details={"reports_scheduled": planned.added, "payable_tranches": payable},
    )
    return project
