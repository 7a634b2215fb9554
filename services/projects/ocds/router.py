"""Endpoints of the OCDS publication: a project's releases and record, and the bulk feeds.

Every caller sees the projects it may read (`access.py`): the bureau, auditors and
provincial systems all of them, a purchasing department its own, an organization those
it applied for or supplies.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from services.projects.access import get_project
from services.projects.ocds import packages, queries
from services.projects.ocds.releases import ocid_of
from shared.app import API_PREFIX
from shared.auth import CurrentPrincipal
from shared.dates import Instant
from shared.db import SessionDep
from shared.errors import problem_responses
from shared.feeds import cursor_from_query

router = APIRouter(tags=["ocds"])

MAX_RELEASES_PER_PAGE = 200
MAX_RECORDS_PER_PAGE = 100  # a record carries every release of its process

Since = Annotated[
    Instant | None,
    Query(
        description="Only what was published at or after this instant "
        "(ISO 8601 with its offset, e.g. `2026-07-01T00:00:00+08:00`)"
    ),
]


class _Package(BaseModel):
    model_config = ConfigDict(extra="allow")

    uri: str
    version: str = Field(examples=["1.1"])
    publishedDate: str
    publisher: dict[str, Any]
    extensions: list[str]
    links: dict[str, str] | None = Field(
        default=None, description="`next`: the following page (absent on an empty page)"
    )


class ReleasePackage(_Package):
    """An OCDS 1.1 release package; each release validates against the release schema."""

    releases: list[dict[str, Any]]


class RecordPackage(_Package):
    """An OCDS 1.1 record package: each record holds every release of its contracting
    process as published and the `compiledRelease` merging them."""

    records: list[dict[str, Any]]


@router.get(
    f"{API_PREFIX}/projects/{{project_id}}/ocds",
    response_model=ReleasePackage,
    response_model_exclude_none=True,
    operation_id="getProjectOcds",
    responses=problem_responses(401, 403, 404),
)
async def get_project_ocds(
    project_id: uuid.UUID, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> ReleasePackage:
    """Every OCDS 1.1 release of the project, as published (planning → closure, SPPE)."""
    project = await get_project(session, principal=principal, project_id=project_id)
    releases = await queries.releases_of(session, project.id)
    return ReleasePackage.model_validate(packages.release_package(releases, uri=str(request.url)))


@router.get(
    f"{API_PREFIX}/projects/{{project_id}}/ocds/record",
    response_model=RecordPackage,
    response_model_exclude_none=True,
    operation_id="getProjectOcdsRecord",
    responses=problem_responses(401, 403, 404),
)
async def get_project_ocds_record(
    project_id: uuid.UUID, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> RecordPackage:
    """The project's OCDS record: its releases and the compiled release (latest state)."""
    project = await get_project(session, principal=principal, project_id=project_id)
    releases = await queries.releases_of(session, project.id)
    records = [packages.record(ocid_of(project.id), releases)] if releases else []
    return RecordPackage.model_validate(packages.record_package(records, uri=str(request.url)))


@router.get(
    f"{API_PREFIX}/ocds/releases",
    response_model=ReleasePackage,
    response_model_exclude_none=True,
    operation_id="listOcdsReleases",
    responses=problem_responses(401, 422),
)
async def list_ocds_releases(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    since: Since = None,
    after: Annotated[
        str | None,
        Query(max_length=50, description="From `links.next` of the previous page; omit to start"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_RELEASES_PER_PAGE)] = 100,
) -> ReleasePackage:
    """Every release of every project the caller may read, in the order they became final.

    A page never skips a release that commits later: keep following `links.next`, now or
    later (an empty page has none: ask again with the last one you had).
    """
    cursor = None if after is None else cursor_from_query(after)
    releases, last = await queries.release_page(
        session, principal=principal, since=since, cursor=cursor, limit=limit
    )
    next_url = None if last is None else str(request.url.include_query_params(after=str(last)))
    return ReleasePackage.model_validate(
        packages.release_package(releases, uri=str(request.url), next_url=next_url)
    )


@router.get(
    f"{API_PREFIX}/ocds/records",
    response_model=RecordPackage,
    response_model_exclude_none=True,
    operation_id="listOcdsRecords",
    responses=problem_responses(401, 422),
)
async def list_ocds_records(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    since: Since = None,
    after: Annotated[
        uuid.UUID | None,
        Query(description="From `links.next` of the previous page; omit to start"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_RECORDS_PER_PAGE)] = 20,
) -> RecordPackage:
    """The records of every contracting process with a release at or after `since`,
    the caller may read, by ocid; each with all its releases and its compiled release."""
    page = await queries.record_page(
        session, principal=principal, since=since, after_project=after, limit=limit
    )
    records = [packages.record(ocid_of(project_id), releases) for project_id, releases in page]
    next_url = str(request.url.include_query_params(after=str(page[-1][0]))) if page else None
    return RecordPackage.model_validate(
        packages.record_package(records, uri=str(request.url), next_url=next_url)
    )
