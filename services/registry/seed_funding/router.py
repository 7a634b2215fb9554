"""Seed funding (种子基金): the year's incubation pool, its grants and its balance."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from services.registry.access import ANYONE, BUREAU_AND_AUDIT
from services.registry.seed_funding import service as seed_funding
from services.registry.seed_funding.schemas import (
    SeedGrantCreate,
    SeedGrantOut,
    SeedPoolCreate,
    SeedPoolOut,
)
from shared.app import API_PREFIX
from shared.auth import CurrentPrincipal, Role, allow
from shared.db import SessionDep
from shared.errors import problem_responses
from shared.pagination import Page, PageDep, to_page

router = APIRouter(prefix=f"{API_PREFIX}/incubation", tags=["incubation"])


@router.post(
    "/seed-pools",
    status_code=status.HTTP_201_CREATED,
    response_model=SeedPoolOut,
    operation_id="createSeedPool",
    dependencies=[allow(Role.civil_affairs)],
    responses=problem_responses(401, 403, 409, 422),
)
async def create_seed_pool(
    body: SeedPoolCreate, session: SessionDep, principal: CurrentPrincipal
) -> SeedPoolOut:
    """Open the year's incubation pool of seed funding."""
    pool = await seed_funding.create_pool(session, principal=principal, data=body)
    return SeedPoolOut.model_validate(pool)


@router.get(
    "/seed-pools",
    response_model=Page[SeedPoolOut],
    operation_id="listSeedPools",
    dependencies=[allow(*BUREAU_AND_AUDIT)],
    responses=problem_responses(401, 403, 422),
)
async def list_seed_pools(
    session: SessionDep, principal: CurrentPrincipal, page: PageDep
) -> Page[SeedPoolOut]:
    """The pools with their balances, latest year first."""
    rows, total = await seed_funding.pools(session, page)
    return to_page(rows, total, page, SeedPoolOut.model_validate)


@router.get(
    "/seed-pools/{pool_id}",
    response_model=SeedPoolOut,
    operation_id="getSeedPool",
    dependencies=[allow(*BUREAU_AND_AUDIT)],
    responses=problem_responses(401, 403, 404),
)
async def get_seed_pool(
    pool_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> SeedPoolOut:
    """One pool and its balance."""
    return SeedPoolOut.model_validate(await seed_funding.get_pool(session, pool_id))


@router.post(
    "/seed-pools/{pool_id}/grants",
    status_code=status.HTTP_201_CREATED,
    response_model=SeedGrantOut,
    operation_id="createSeedGrant",
    dependencies=[allow(Role.civil_affairs)],
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def create_seed_grant(
    pool_id: uuid.UUID, body: SeedGrantCreate, session: SessionDep, principal: CurrentPrincipal
) -> SeedGrantOut:
    """Grant seed funding to an incubated organization; never more than the pool has left."""
    line = await seed_funding.grant(session, principal=principal, pool_id=pool_id, data=body)
    return SeedGrantOut.model_validate(line)


@router.get(
    "/seed-pools/{pool_id}/grants",
    response_model=Page[SeedGrantOut],
    operation_id="listSeedGrants",
    dependencies=[allow(*BUREAU_AND_AUDIT)],
    responses=problem_responses(401, 403, 404, 422),
)
async def list_seed_grants(
    pool_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal, page: PageDep
) -> Page[SeedGrantOut]:
    """The pool's ledger, oldest grant first, each with the balance after it."""
    rows, total = await seed_funding.ledger(session, pool_id=pool_id, page=page)
    return to_page(rows, total, page, SeedGrantOut.model_validate)


@router.get(
    "/organizations/{organization_id}/seed-grants",
    response_model=list[SeedGrantOut],
    operation_id="listOrganizationSeedGrants",
    dependencies=[allow(*ANYONE)],
    responses=problem_responses(401, 403, 404),
)
async def list_organization_seed_grants(
    organization_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> list[SeedGrantOut]:
    """The seed funding an organization was granted, oldest first."""
    rows = await seed_funding.grants_to(
        session, principal=principal, organization_id=organization_id
    )
    return [SeedGrantOut.model_validate(row) for row in rows]
