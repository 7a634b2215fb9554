"""Endpoint of closure (结项)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from services.projects.access import REQUESTERS
from services.projects.closure import service
from services.projects.closure.service import ClosureRequest
from services.projects.core import read
from services.projects.core.schemas import ProjectOut
from shared.app import API_PREFIX
from shared.auth import CurrentPrincipal, allow
from shared.concurrency import set_etag
from shared.db import SessionDep
from shared.errors import problem_responses

router = APIRouter(prefix=f"{API_PREFIX}/projects/{{project_id}}", tags=["closure"])


@router.post(
    "/closure",
    response_model=ProjectOut,
    operation_id="requestClosure",
    responses=problem_responses(401, 403, 404, 409, 422),
    dependencies=[allow(*REQUESTERS)],
)
async def request_closure(
    project_id: uuid.UUID,
    body: ClosureRequest,
    session: SessionDep,
    principal: CurrentPrincipal,
    response: Response,
) -> ProjectOut:
    """Request closure: needs the evaluation briefing and reconciled payments; opens a case."""
    project = await service.request_closure(
        session, principal=principal, project_id=project_id, data=body
    )
    set_etag(response, project.version)
    return await read.detail(session, project)
