"""Endpoint of the OCDS export."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from services.projects.core.access import get_project
from services.projects.ocds.builder import release_package
from shared.app import API_PREFIX
from shared.auth import CurrentPrincipal
from shared.db import SessionDep
from shared.errors import problem_responses

router = APIRouter(prefix=f"{API_PREFIX}/projects", tags=["ocds"])


class ReleasePackage(BaseModel):
    """An OCDS 1.1 release package; each release validates against the release schema."""

    model_config = ConfigDict(extra="allow")

    uri: str
    version: str = Field(examples=["1.1"])
    publishedDate: str
    publisher: dict[str, Any]
    extensions: list[str]
    releases: list[dict[str, Any]]


@router.get(
    "/{project_id}/ocds",
    response_model=ReleasePackage,
    operation_id="getProjectOcds",
    responses=problem_responses(401, 403, 404),
)
async def get_project_ocds(
    project_id: uuid.UUID, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> ReleasePackage:
    """The project's procurement as OCDS 1.1 releases (planning → implementation, SPPE)."""
    project = await get_project(session, principal=principal, project_id=project_id)
    package = await release_package(session, project, uri=str(request.url))
    return ReleasePackage.model_validate(package)
