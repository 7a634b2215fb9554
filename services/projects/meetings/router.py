"""Endpoints of the three meetings and of initiation (立项)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from services.projects.access import MANAGERS, PROJECT_READERS
from services.projects.core import read
from services.projects.core.schemas import ProjectOut
from services.projects.meetings import service
from services.projects.meetings.schemas import MeetingCreate, MeetingOut
from shared.app import API_PREFIX
from shared.auth import CurrentPrincipal, allow
from shared.concurrency import set_etag
from shared.db import SessionDep
from shared.errors import problem_responses

router = APIRouter(prefix=f"{API_PREFIX}/projects/{{project_id}}", tags=["meetings"])
_MANAGERS = allow(*MANAGERS)


@router.post(
    "/meetings",
    status_code=status.HTTP_201_CREATED,
    response_model=MeetingOut,
    operation_id="recordMeeting",
    responses=problem_responses(401, 403, 404, 409, 422),
    dependencies=[_MANAGERS],
)
async def record_meeting(
    project_id: uuid.UUID, body: MeetingCreate, session: SessionDep, principal: CurrentPrincipal
) -> MeetingOut:
    """Record a press conference, supervision meeting or evaluation briefing."""
    meeting = await service.record(session, principal=principal, project_id=project_id, data=body)
    return MeetingOut.model_validate(meeting)


@router.get(
    "/meetings",
    response_model=list[MeetingOut],
    operation_id="listMeetings",
    responses=problem_responses(401, 403, 404),
    dependencies=[allow(*PROJECT_READERS)],
)
async def list_meetings(
    project_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> list[MeetingOut]:
    """The project's meeting records, oldest first."""
    meetings = await service.list_for(session, principal=principal, project_id=project_id)
    return [MeetingOut.model_validate(m) for m in meetings]


@router.post(
    "/initiation",
    response_model=ProjectOut,
    operation_id="initiateProject",
    responses=problem_responses(401, 403, 404, 409),
    dependencies=[_MANAGERS],
)
async def initiate_project(
    project_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal, response: Response
) -> ProjectOut:
    """Initiate the project (立项) after its press conference; schedules its progress reports."""
    project = await service.initiate(session, principal=principal, project_id=project_id)
    set_etag(response, project.version)
    return await read.detail(session, project)
