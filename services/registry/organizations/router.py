"""The register itself: create, search, read, update, change status, history, eligibility."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from services.registry.access import ANYONE, EDITORS, require_editor
from services.registry.organizations import eligibility, history, service
from services.registry.organizations.filters import FiltersDep
from services.registry.organizations.schemas import (
    ChangeRecordOut,
    OrganizationCreate,
    OrganizationOut,
    OrganizationStats,
    OrganizationUpdate,
    SortKey,
    StatusChange,
)
from services.registry.standing import service as standing
from shared.app import API_PREFIX
from shared.auth import CurrentPrincipal, allow
from shared.concurrency import IfMatch, require_version, set_etag
from shared.db import ReadsDep, SessionDep
from shared.errors import problem_responses
from shared.interservice import AdmissionCriteria, Eligibility
from shared.pagination import Page, PageDep

router = APIRouter(prefix=f"{API_PREFIX}/organizations", tags=["organizations"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=OrganizationOut,
    operation_id="createOrganization",
    dependencies=[allow(*EDITORS)],
    responses=problem_responses(401, 403, 409, 422),
)
async def create_organization(
    body: OrganizationCreate, session: SessionDep, principal: CurrentPrincipal, response: Response
) -> OrganizationOut:
    """Add an organization to the register (registered with a USCC, or filed at a street)."""
    organization = await service.create(session, principal=principal, data=body)
    set_etag(response, organization.version)
    response.headers["Location"] = f"{router.prefix}/{organization.id}"
    return service.present(organization, principal)


@router.get(
    "",
    response_model=Page[OrganizationOut],
    operation_id="listOrganizations",
    dependencies=[allow(*ANYONE)],
    responses=problem_responses(401, 403, 422),
)
async def list_organizations(
    session: SessionDep,
    principal: CurrentPrincipal,
    filters: FiltersDep,
    page: PageDep,
    sort: Annotated[SortKey, Query(description="A field; `-` for descending")] = (
        SortKey.created_at_desc
    ),
) -> Page[OrganizationOut]:
    """Search the register; each caller sees only what their scope allows."""
    rows, total = await service.search(
        session, principal=principal, filters=filters, sort=sort, page=page
    )
    return Page(
        items=[service.present(row, principal) for row in rows],
        page=page.page,
        page_size=page.page_size,
        total=total,
    )


@router.get(
    "/stats",
    response_model=OrganizationStats,
    operation_id="getOrganizationStats",
    dependencies=[allow(*ANYONE)],
    responses=problem_responses(401, 403),
)
async def organization_stats(session: SessionDep, principal: CurrentPrincipal) -> OrganizationStats:
    """Counts by registration, kind, category, status, street, grade and incubation stage."""
    return await service.stats(session, principal=principal)


@router.get(
    "/{organization_id}",
    response_model=OrganizationOut,
    operation_id="getOrganization",
    responses=problem_responses(401, 403, 404),
)
async def get_organization(
    organization_id: uuid.UUID,
    reads: ReadsDep,
    # Any authenticated role may ask (scope then narrows what it sees), so no role gate:
    # it could refuse no one, and FastAPI would walk the token's dependencies again for
    # it on every request. The OpenAPI still says every role (`x-roles`).
    principal: CurrentPrincipal,
) -> Response:
    """One organization, with its ETag for a later update."""
    organization = await service.read(reads, principal=principal, organization_id=organization_id)
    # Answered as FastAPI would answer the model (the same bytes and headers), without
    # its second validation of a model `present` has just validated, and its serializer.
    response = Response(
        service.present(organization, principal).model_dump_json(), media_type="application/json"
    )
    set_etag(response, organization["version"])
    return response


@router.patch(
    "/{organization_id}",
    response_model=OrganizationOut,
    operation_id="updateOrganization",
    dependencies=[allow(*EDITORS)],
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
async def update_organization(
    organization_id: uuid.UUID,
    body: OrganizationUpdate,
    session: SessionDep,
    principal: CurrentPrincipal,
    response: Response,
    if_match: IfMatch = None,
) -> OrganizationOut:
    """Change some fields; needs `If-Match` with the current ETag."""
    organization = await service.update(
        session, principal=principal, organization_id=organization_id, if_match=if_match, data=body
    )
    set_etag(response, organization.version)
    return service.present(organization, principal)


@router.post(
    "/{organization_id}/status",
    response_model=OrganizationOut,
    operation_id="changeOrganizationStatus",
    dependencies=[allow(*EDITORS)],
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
async def change_organization_status(
    organization_id: uuid.UUID,
    body: StatusChange,
    session: SessionDep,
    principal: CurrentPrincipal,
    response: Response,
    if_match: IfMatch = None,
) -> OrganizationOut:
    """Change the status with a reason; `revoked` and `deregistered` are final."""
    organization = await service.get(
        session, principal=principal, organization_id=organization_id, for_update=True
    )
    require_editor(principal, organization)
    if if_match:
        require_version(if_match, organization.version)
    await standing.change_status(
        session,
        principal=principal,
        organization=organization,
        to=body.status,
        reason=body.reason,
        reason_code=body.reason_code,
    )
    set_etag(response, organization.version)
    return service.present(organization, principal)


@router.get(
    "/{organization_id}/history",
    response_model=Page[ChangeRecordOut],
    operation_id="listOrganizationHistory",
    dependencies=[allow(*ANYONE)],
    responses=problem_responses(401, 403, 404),
)
async def organization_history(
    organization_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal, page: PageDep
) -> Page[ChangeRecordOut]:
    """Every change of the record, oldest first: who, when, which field, before and after."""
    organization = await service.get(session, principal=principal, organization_id=organization_id)
    rows, total = await history.page_of(session, organization_id=organization.id, page=page)
    return Page(
        items=[history.present(row, principal) for row in rows],
        page=page.page,
        page_size=page.page_size,
        total=total,
    )


@router.get(
    "/{organization_id}/eligibility",
    response_model=Eligibility,
    operation_id="getOrganizationEligibility",
    dependencies=[allow(*ANYONE)],
    responses=problem_responses(401, 403, 404, 422),
)
async def organization_eligibility(
    organization_id: uuid.UUID,
    session: SessionDep,
    principal: CurrentPrincipal,
    criteria: Annotated[AdmissionCriteria, Query()],
) -> Eligibility:
    """Whether the organization may apply for projects, and the rules it fails if not.

    The query states whom the call admits; by default registered organizations only.
    """
    return await eligibility.of(
        session, principal=principal, organization_id=organization_id, criteria=criteria
    )
