"""The three meetings (三会), held for a call's batch of projects, and initiation (立项).

"由市委社工办负责统筹……举办项目新闻发布会、督导见面会和评估说明会": the 社工办 (the
civil-affairs bureau, 与民政局合署办公) holds each meeting for the projects of a call.
Each meeting gates a stage of every project it covers: the press conference
(新闻发布会) is held once the contract is signed and is required to initiate the
project; the supervision meeting (督导见面会) follows the mid-term report and is
required to start the evaluation (and makes the mid-term tranche payable); the
evaluation briefing (评估说明会) is required to request closure.

`POST /projects/{id}/meetings`, from when meetings were recorded per project, is
deprecated: it records a meeting of the project's call covering that project alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from services.projects.access import get_project, require_manager
from services.projects.calls import service as calls
from services.projects.calls.models import Call
from services.projects.core import lifecycle
from services.projects.core.models import Project, ProjectStage
from services.projects.meetings import repository
from services.projects.meetings.models import MEETING_LABELS, Meeting, MeetingKind, MeetingProject
from services.projects.meetings.schemas import BatchMeetingCreate, MeetingCreate, MeetingOut
from services.projects.procurement.contracts import contract_of, mark_milestone
from services.projects.procurement.models import TrancheTrigger
from services.projects.supervision.schedule import apply_schedule
from shared.auth import Principal, Role
from shared.errors import Conflict, FieldError, Forbidden, Unprocessable

STAGE_OF: dict[MeetingKind, tuple[ProjectStage, ...]] = {
    MeetingKind.press_conference: (ProjectStage.contracted,),
    MeetingKind.supervision_meeting: (ProjectStage.implementing,),
    MeetingKind.evaluation_briefing: (ProjectStage.evaluating, ProjectStage.evaluated),
}


async def meeting_of(session: AsyncSession, project: Project, kind: MeetingKind) -> Meeting | None:
    return await repository.meeting_of(session, project.id, kind)


async def require_meeting(session: AsyncSession, project: Project, kind: MeetingKind) -> None:
    if await meeting_of(session, project, kind) is None:
        raise Conflict(
            f"The {kind.value} ({MEETING_LABELS[kind]}) has not been recorded",
            code="meeting_missing",
        )


async def _refusals(
    session: AsyncSession, kind: MeetingKind, projects: Sequence[Project]
) -> dict[uuid.UUID, tuple[str, str]]:
    """Why each project that may not be covered is refused: (code, message)."""
    ids = [p.id for p in projects]
    already = await repository.covered(session, ids, kind)
    reported = await repository.with_mid_term(session, ids)
    refused: dict[uuid.UUID, tuple[str, str]] = {}
    for project in projects:
        if project.stage not in STAGE_OF[kind]:
            expected = ", ".join(stage.value for stage in STAGE_OF[kind])
            refused[project.id] = (
                "wrong_stage",
                f"The project is {project.stage.value}, the {kind.value} needs {expected}",
            )
        elif project.id in already:
            refused[project.id] = ("meeting_recorded", f"The {kind.value} is already recorded")
        elif kind is MeetingKind.supervision_meeting and project.id not in reported:
            refused[project.id] = (
                "mid_term_report_missing",
                "The supervision meeting discusses the mid-term report: submit it first",
            )
    return refused


async def hold(
    session: AsyncSession, *, principal: Principal, call_id: uuid.UUID, data: BatchMeetingCreate
) -> MeetingOut:
    """Record a meeting the 社工办 held for the call's projects (all that are ready, or
    those named, every one of which must be)."""
    if principal.role is not Role.civil_affairs:
        raise Forbidden(
            "The three meetings are held by the 社工办 (civil-affairs bureau)",
            code="role_forbidden",
        )
    # The call's lock serialises two meetings of one call choosing their projects.
    call = await calls.get(session, principal=principal, call_id=call_id, lock=True)
    projects = await repository.projects_of_call(session, call.id, data.project_ids)
    refused = await _refusals(session, data.kind, projects)
    if data.project_ids is not None:
        known = {p.id for p in projects}
        errors = [
            FieldError(
                field=f"body.project_ids[{n}]",
                message="no such project in this call",
                code="not_in_call",
            )
            for n, project_id in enumerate(data.project_ids)
            if project_id not in known
        ]
        if errors:
            raise Unprocessable(
                "Some projects are not the call's", code="invalid_meeting", errors=errors
            )
        if refused:
            position = {project_id: n for n, project_id in enumerate(data.project_ids)}
            raise Conflict(
                f"{len(refused)} of the projects cannot be covered by this {data.kind.value}",
                code="meeting_projects_not_ready",
                errors=[
                    FieldError(
                        field=f"body.project_ids[{position[project_id]}]", message=msg, code=code
                    )
                    for project_id, (code, msg) in refused.items()
                ],
            )
    ready = [p for p in projects if p.id not in refused]
    if not ready:
        raise Conflict(
            f"No project of the call is ready for a {data.kind.value} "
            f"({MEETING_LABELS[data.kind]})",
            code="meeting_without_projects",
        )
    meeting = await _record(session, principal, call, data, ready)
    return present(meeting, [p.id for p in ready])


async def _record(
    session: AsyncSession,
    principal: Principal,
    call: Call,
    data: MeetingCreate,
    projects: Sequence[Project],
) -> Meeting:
    """The meeting, the projects it covers, and what it changes for each of them."""
    meeting = Meeting(
        id=uuid.uuid4(),
        call_id=call.id,
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
    session.add_all(
        MeetingProject(meeting_id=meeting.id, project_id=p.id, kind=data.kind) for p in projects
    )
    await session.flush()
    for project in projects:
        payable = []
        if data.kind is MeetingKind.supervision_meeting:
            payable = await mark_milestone(session, project, TrancheTrigger.mid_term_supervision)
        details = {
            "meeting_id": str(meeting.id),
            "call_id": str(call.id),
            "kind": data.kind.value,
            "payable_tranches": payable,
        }
        await lifecycle.note(
            session, project, actor=principal, action="meeting_recorded", details=details
        )
        await lifecycle.emit(session, project, "meeting.recorded", details)
    return meeting


async def record(
    session: AsyncSession, *, principal: Principal, project_id: uuid.UUID, data: MeetingCreate
) -> MeetingOut:
    """Deprecated per-project recording: a meeting of the project's call covering it alone."""
    project = await get_project(session, principal=principal, project_id=project_id, lock=True)
    require_manager(principal, project)
    lifecycle.require_stage(project, *STAGE_OF[data.kind], action=f"record the {data.kind.value}")
    refused = await _refusals(session, data.kind, [project])
    if project.id in refused:
        code, message = refused[project.id]
        raise Conflict(message, code=code)
    call = await session.get(Call, project.call_id)
    assert call is not None  # a project's call is a foreign key
    meeting = await _record(session, principal, call, data, [project])
    return present(meeting, [project.id], project_id=project.id)


async def list_for_call(
    session: AsyncSession, *, principal: Principal, call_id: uuid.UUID
) -> list[MeetingOut]:
    call = await calls.get(session, principal=principal, call_id=call_id)
    meetings = await repository.of_call(session, call.id)
    covered = await repository.projects_covered(session, [m.id for m in meetings])
    return [present(m, covered.get(m.id, [])) for m in meetings]


async def list_for(
    session: AsyncSession, *, principal: Principal, project_id: uuid.UUID
) -> list[MeetingOut]:
    await get_project(session, principal=principal, project_id=project_id)
    meetings = await repository.of_project(session, project_id)
    covered = await repository.projects_covered(session, [m.id for m in meetings])
    return [present(m, covered.get(m.id, []), project_id=project_id) for m in meetings]


def present(
    meeting: Meeting, project_ids: list[uuid.UUID], *, project_id: uuid.UUID | None = None
) -> MeetingOut:
    return MeetingOut.model_validate(
        {
            **{c.key: getattr(meeting, c.key) for c in Meeting.__table__.columns},
            "project_ids": project_ids,
            "project_id": project_id,
        }
    )


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
