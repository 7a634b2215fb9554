"""Endpoints reading projects (scoped) and their timeline."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from services.projects.access import PROJECT_READERS, WorkflowDep, get_project, reviewed_by
from services.projects.core import read
from services.projects.core.models import ProjectStage
from services.projects.core.schemas import ProjectOut, ProjectSummary, TimelineEntryOut
from services.projects.reference.code_lists import Department
from shared.app import API_PREFIX
from shared.auth import CurrentPrincipal, allow
from shared.concurrency import set_etag
from shared.db import SessionDep
from shared.errors import problem_responses
from shared.pagination import Page, PageDep

router = APIRouter(prefix=f"{API_PREFIX}/projects", tags=["projects"])
_READERS = allow(*PROJECT_READERS)


@router.get(
    "",
    response_model=Page[ProjectSummary],
    operation_id="listProjects",
    responses=problem_responses(401, 403, 422),
    dependencies=[_READERS],
)
async def list_projects(
    session: SessionDep,
    principal: CurrentPrincipal,
    page: PageDep,
    stage: ProjectStage | None = None,
    call_id: uuid.UUID | None = None,
    department: Department | None = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    org_id: uuid.UUID | None = None,
) -> Page[ProjectSummary]:
    """Projects the caller may see (own organization, department, assignment...), newest first."""
    filters = read.ProjectFilters(
        stage=stage, call_id=call_id, department=department, year=year, org_id=org_id
    )
    return await read.list_page(session, principal=principal, filters=filters, page=page)


@router.get(
    "/{project_id}",
    response_model=ProjectOut,
    operation_id="getProject",
    responses=problem_responses(401, 403, 404, 503),
    dependencies=[_READERS],
)
async def get_one(
    project_id: uuid.UUID,
    session: SessionDep,
    principal: CurrentPrincipal,
    workflow: WorkflowDep,
    response: Response,
) -> ProjectOut:
    """One project with its budget lines and milestones (404 outside the caller's scope)."""
    reviewed = await reviewed_by(workflow, principal, project_id)
    project = await get_project(
        session, principal=principal, project_id=project_id, reviewed=reviewed
    )
    set_etag(response, project.version)
    return await read.detail(session, project)


@router.get(
    "/{project_id}/timeline",
    response_model=list[TimelineEntryOut],
    operation_id="getProjectTimeline",
    responses=problem_responses(401, 403, 404, 503),
    dependencies=[_READERS],
)
async def get_timeline(
    project_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal, workflow: WorkflowDep
) -> list[TimelineEntryOut]:
    """Every transition and action on the project: who, when, what changed."""
    reviewed = await reviewed_by(workflow, principal, project_id)
    return await read.timeline(
        session, principal=principal, project_id=project_id, reviewed=reviewed
    )
