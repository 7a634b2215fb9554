"""The credit lists (abnormal activity, serious illegal & dishonest) and incubation steps."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status
from sqlalchemy import select

from services.registry import incubation, service, standing
from services.registry.access import ANYONE, visible_to
from services.registry.enums import ListType
from services.registry.models import ListEntry, Organization
from services.registry.schemas.standing import (
    IncubationRecordOut,
    IncubationStep,
    ListEntryCreate,
    ListEntryOut,
    ListEntryRemoval,
)
from shared.app import API_PREFIX
from shared.auth import CurrentPrincipal, Role, allow
from shared.db import SessionDep
from shared.errors import problem_responses
from shared.pagination import Page, PageDep, count_rows

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
    query = (
        select(ListEntry)
        .join(Organization, Organization.id == ListEntry.organization_id)
        .where(visible_to(principal))
    )
    if list_type:
        query = query.where(ListEntry.list_type == list_type)
    if current:
        query = query.where(ListEntry.removed_on.is_(None))
    total = await count_rows(session, query)
    rows = await session.execute(
        query.order_by(ListEntry.listed_on.desc(), ListEntry.id)
        .offset(page.offset)
        .limit(page.page_size)
    )
    return Page(
        items=[ListEntryOut.model_validate(row) for row in rows.scalars()],
        page=page.page,
        page_size=page.page_size,
        total=total,
    )


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
    rows = await session.execute(
        select(ListEntry)
        .where(ListEntry.organization_id == organization.id)
        .order_by(ListEntry.listed_on, ListEntry.created_at)
    )
    return [ListEntryOut.model_validate(row) for row in rows.scalars()]


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


@router.post(
    "/{organization_id}/incubation",
    status_code=status.HTTP_201_CREATED,
    response_model=IncubationRecordOut,
    operation_id="recordIncubationStep",
    dependencies=[allow(Role.civil_affairs, Role.street_office)],
    responses=problem_responses(401, 403, 404, 409),
)
async def record_incubation_step(
    organization_id: uuid.UUID,
    body: IncubationStep,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> IncubationRecordOut:
    """Record an incubation step (5F stage, phase, seed funding); it sets the current stage."""
    step = await incubation.record(
        session, principal=principal, organization_id=organization_id, data=body
    )
    return IncubationRecordOut.model_validate(step)


@router.get(
    "/{organization_id}/incubation",
    response_model=list[IncubationRecordOut],
    operation_id="listIncubationSteps",
    dependencies=[allow(*ANYONE)],
    responses=problem_responses(401, 403, 404),
)
async def incubation_steps(
    organization_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> list[IncubationRecordOut]:
    """The organization's incubation steps, oldest first."""
    rows = await incubation.records_of(
        session, principal=principal, organization_id=organization_id
    )
    return [IncubationRecordOut.model_validate(row) for row in rows]
