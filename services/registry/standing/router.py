"""The credit lists (abnormal activity, serious illegal & dishonest): list, add, remove."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from services.registry.access import ANYONE
from services.registry.enums import ListType
from services.registry.organizations import service
from services.registry.standing import repository
from services.registry.standing import service as standing
from services.registry.standing.schemas import (
    ListEntryCreate,
    ListEntryOut,
    ListEntryRemoval,
)
from shared.app import API_PREFIX
from shared.auth import CurrentPrincipal, Role, allow
from shared.db import SessionDep
from shared.errors import problem_responses
from shared.pagination import Page, PageDep, to_page

router = APIRouter(prefix=f"{API_PREFIX}/organizations", tags=["credit lists", "incubation"])

LIST_KEEPERS = (Role.civil_affairs, Role.service)


@router.get(
    "/list-entries",
    response_model=Page[ListEntryOut],
    operation_id="listListEntries",
    dependencies=[allow(*ANYONE)],
    responses=problem_responses(401, 403, 422),
)
async def list_list_entries(
    session: SessionDep,
    principal: CurrentPrincipal,
    page: PageDep,
    list_type: ListType | None = None,
    current: Annotated[bool, Query(description="Only entries not removed")] = True,
) -> Page[ListEntryOut]:
    """The published lists, newest listing first, within the caller's scope."""
    rows, total = await repository.page_of(
        session, principal=principal, list_type=list_type, current=current, page=page
    )
    return to_page(rows, total, page, ListEntryOut.model_validate)


@router.get(
    "/{organization_id}/list-entries",
    response_model=list[ListEntryOut],
    operation_id="listOrganizationListEntries",
    dependencies=[allow(*ANYONE)],
    responses=problem_responses(401, 403, 404),
)
async def organization_list_entries(
    organization_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> list[ListEntryOut]:
    """Every entry of the organization on either list, removed ones included."""
    organization = await service.get(session, principal=principal, organization_id=organization_id)
    rows = await repository.of_organization(session, organization_id=organization.id)
    return [ListEntryOut.model_validate(row) for row in rows]


@router.post(
    "/{organization_id}/list-entries",
    status_code=status.HTTP_201_CREATED,
    response_model=ListEntryOut,
    operation_id="addListEntry",
    dependencies=[allow(*LIST_KEEPERS)],
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def add_list_entry(
    organization_id: uuid.UUID,
    body: ListEntryCreate,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> ListEntryOut:
    """List the organization (an abnormal listing makes an active organization `abnormal`)."""
    organization = await service.get(
        session, principal=principal, organization_id=organization_id, for_update=True
    )
    entry = await standing.add_entry(
        session,
        principal=principal,
        organization=organization,
        list_type=body.list_type,
        reason_code=body.reason_code,
        reason=body.reason,
        listed_on=body.listed_on,
    )
    return ListEntryOut.model_validate(entry)


@router.post(
    "/{organization_id}/list-entries/{entry_id}/removal",
    response_model=ListEntryOut,
    operation_id="removeListEntry",
    dependencies=[allow(*LIST_KEEPERS)],
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def remove_list_entry(
    organization_id: uuid.UUID,
    entry_id: uuid.UUID,
    body: ListEntryRemoval,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> ListEntryOut:
    """Remove an entry, kept with its removal date (the last abnormal one restores `active`)."""
    organization = await service.get(
        session, principal=principal, organization_id=organization_id, for_update=True
    )
    entry = await standing.remove_entry(
        session,
        principal=principal,
        organization=organization,
        entry_id=entry_id,
        reason=body.reason,
        removed_on=body.removed_on,
    )
    return ListEntryOut.model_validate(entry)
