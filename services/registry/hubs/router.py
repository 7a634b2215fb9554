"""Hubs (一园多中心): the district park and the street centres, and their residents."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from services.registry.access import ANYONE
from services.registry.hubs import service as hubs
from services.registry.hubs.schemas import (
    HubCreate,
    HubOut,
    ResidencyCreate,
    ResidencyEnd,
    ResidencyOut,
)
from shared.app import API_PREFIX
from shared.auth import CurrentPrincipal, Role, allow
from shared.db import SessionDep
from shared.errors import problem_responses
from shared.pagination import Page, PageDep, to_page

router = APIRouter(prefix=f"{API_PREFIX}/incubation", tags=["incubation"])
# The bureau manages every hub; a street office its own street's centre (service rules).
MANAGERS = (Role.civil_affairs, Role.street_office)


@router.post(
    "/hubs",
    status_code=status.HTTP_201_CREATED,
    response_model=HubOut,
    operation_id="createHub",
    dependencies=[allow(*MANAGERS)],
    responses=problem_responses(401, 403, 409, 422),
)
async def create_hub(body: HubCreate, session: SessionDep, principal: CurrentPrincipal) -> HubOut:
    """Open the district's park (区级孵化园) or a street's centre (街道社会组织服务中心)."""
    hub = await hubs.create(session, principal=principal, data=body)
    return (await hubs.present(session, [hub]))[0]


@router.get(
    "/hubs",
    response_model=Page[HubOut],
    operation_id="listHubs",
    dependencies=[allow(*ANYONE)],
    responses=problem_responses(401, 403, 422),
)
async def list_hubs(
    session: SessionDep, principal: CurrentPrincipal, page: PageDep
) -> Page[HubOut]:
    """Every hub with its capacity and how many it houses now."""
    rows, total = await hubs.page_of(session, page)
    return Page(
        items=await hubs.present(session, rows),
        page=page.page,
        page_size=page.page_size,
        total=total,
    )


@router.get(
    "/hubs/{hub_id}",
    response_model=HubOut,
    operation_id="getHub",
    dependencies=[allow(*ANYONE)],
    responses=problem_responses(401, 403, 404),
)
async def get_hub(hub_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal) -> HubOut:
    """One hub, its capacity and how many it houses now."""
    hub = await hubs.get(session, hub_id)
    return (await hubs.present(session, [hub]))[0]


@router.post(
    "/hubs/{hub_id}/residencies",
    status_code=status.HTTP_201_CREATED,
    response_model=ResidencyOut,
    operation_id="createResidency",
    dependencies=[allow(*MANAGERS)],
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def create_residency(
    hub_id: uuid.UUID, body: ResidencyCreate, session: SessionDep, principal: CurrentPrincipal
) -> ResidencyOut:
    """An organization moves into the hub (入驻), if a place is free."""
    residency = await hubs.admit_resident(session, principal=principal, hub_id=hub_id, data=body)
    return ResidencyOut.model_validate(residency)


@router.get(
    "/hubs/{hub_id}/residencies",
    response_model=Page[ResidencyOut],
    operation_id="listResidencies",
    dependencies=[allow(*ANYONE)],
    responses=problem_responses(401, 403, 404, 422),
)
async def list_residencies(
    hub_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal, page: PageDep
) -> Page[ResidencyOut]:
    """The hub's residencies of organizations the caller sees, current ones first."""
    rows, total = await hubs.residencies_of(session, principal=principal, hub_id=hub_id, page=page)
    return to_page(rows, total, page, ResidencyOut.model_validate)


@router.post(
    "/residencies/{residency_id}/end",
    response_model=ResidencyOut,
    operation_id="endResidency",
    dependencies=[allow(*MANAGERS)],
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def end_residency(
    residency_id: uuid.UUID, body: ResidencyEnd, session: SessionDep, principal: CurrentPrincipal
) -> ResidencyOut:
    """The organization leaves the hub; its place is free from then on."""
    residency = await hubs.end_residency(
        session, principal=principal, residency_id=residency_id, data=body
    )
    return ResidencyOut.model_validate(residency)
