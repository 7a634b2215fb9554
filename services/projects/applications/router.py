"""Endpoint of applications: an organization applies to a call."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from services.projects.applications import service
from services.projects.applications.schemas import ApplicationCreate
from services.projects.calls import service as calls
from services.projects.core import read
from services.projects.core.registry import RegistryDep, eligible_organization
from services.projects.core.schemas import ProjectOut
from shared.app import API_PREFIX
from shared.auth import CurrentPrincipal, Role, allow
from shared.concurrency import set_etag
from shared.db import SessionDep
from shared.errors import problem_responses

router = APIRouter(prefix=f"{API_PREFIX}/calls", tags=["applications"])


@router.post(
    "/{call_id}/applications",
    status_code=status.HTTP_201_CREATED,
    response_model=ProjectOut,
    operation_id="applyToCall",
    responses=problem_responses(401, 403, 404, 409, 422, 503),
    dependencies=[allow(Role.organization)],
)
async def apply_to_call(
    call_id: uuid.UUID,
    body: ApplicationCreate,
    session: SessionDep,
    principal: CurrentPrincipal,
    registry: RegistryDep,
    response: Response,
) -> ProjectOut:
    """Apply to a call (统一申报); the registry must find the organization eligible."""
    org_id = service.applicant_id(principal)
    # Ask the registry before the request's transaction: no connection is held meanwhile.
    criteria = await calls.admission_of(principal=principal, call_id=call_id)
    organization = await eligible_organization(registry, org_id, criteria=criteria)
    project = await service.apply(
        session, principal=principal, call_id=call_id, organization=organization, data=body
    )
    set_etag(response, project.version)
    response.headers["Location"] = f"{API_PREFIX}/projects/{project.id}"
    return await read.detail(session, project)
