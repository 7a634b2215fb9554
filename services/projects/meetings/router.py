"""Endpoints of the three meetings, held for a call's batch of projects, and of initiation."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from services.projects.access import CALL_READERS, MANAGERS, PROJECT_READERS
from services.projects.core import read
from services.projects.core.schemas import ProjectOut
from services.projects.meetings import service
from services.projects.meetings.schemas import BatchMeetingCreate, MeetingCreate, MeetingOut
from shared.app import API_PREFIX
from shared.auth import CurrentPrincipal, Role, allow
from shared.concurrency import set_etag
from shared.db import SessionDep
from shared.errors import problem_responses

router = APIRouter(prefix=API_PREFIX, tags=["meetings"])
_MANAGERS = allow(*MANAGERS)


@router.post(
    "/calls/{call_id}/meetings",
    status_code=status.HTTP_201_CREATED,
    response_model=MeetingOut,
    operation_id="holdCallMeeting",
    responses=problem_responses(401, 403, 404, 409, 422),
    dependencies=[allow(Role.civil_affairs)],
)
async def hold_call_meeting(
    call_id: uuid.UUID, body: BatchMeetingCreate, session: SessionDep, principal: CurrentPrincipal
) -> MeetingOut:
    """Record a meeting the 社工办 held for a call's batch of projects (三会)."""
    return await service.hold(session, principal=principal, call_id=call_id, data=body)


@router.get(
    "/calls/{call_id}/meetings",
    response_model=list[MeetingOut],
    operation_id="listCallMeetings",
    responses=problem_responses(401, 403, 404),
    dependencies=[allow(*CALL_READERS)],
)
async def list_call_meetings(
    call_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> list[MeetingOut]:
    """The call's meetings with the projects each covered, oldest first."""
    return await service.list_for_call(session, principal=principal, call_id=call_id)


@router.post(
    "/projects/{project_id}/meetings",
    status_code=status.HTTP_201_CREATED,
    response_model=MeetingOut,
    operation_id="recordMeeting",
    responses=problem_responses(401, 403, 404, 409, 422),
    dependencies=[_MANAGERS],
    deprecated=True,
)
async def record_meeting(
    project_id: uuid.UUID, body: MeetingCreate, session: SessionDep, principal: CurrentPrincipal
) -> MeetingOut:
    """Record a meeting for one project (deprecated: hold it for the call's batch)."""
    return await service.record(session, principal=principal, project_id=project_id, data=body)


@router.get(
    "/projects/{project_id}/meetings",
    response_model=list[MeetingOut],
    operation_id="listMeetings",
    responses=problem_responses(401, 403, 404),
    dependencies=[allow(*PROJECT_READERS)],
)
async def list_meetings(
    project_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> list[MeetingOut]:
    """The meetings that covered the project, oldest first."""
    return await service.list_for(session, principal=principal, project_id=project_id)


@router.post(
    "/projects/{project_id}/initiation",
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
