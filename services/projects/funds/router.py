"""Endpoints of funds, pools and allocations."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from services.projects.access import ALLOCATION_READERS, MONEY_READERS
from services.projects.funds import service
from services.projects.funds.schemas import AllocationOut, FundCreate, FundOut, GrantCreate
from shared.app import API_PREFIX
from shared.auth import CurrentPrincipal, Role, allow
from shared.concurrency import set_etag
from shared.db import SessionDep
from shared.errors import problem_responses
from shared.pagination import Page, PageDep

router = APIRouter(prefix=f"{API_PREFIX}/funds", tags=["funds"])
_READERS = allow(*MONEY_READERS)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=FundOut,
    operation_id="createFund",
    responses=problem_responses(401, 403, 409, 422),
    dependencies=[allow(Role.civil_affairs)],
)
async def create_fund(
    body: FundCreate, session: SessionDep, principal: CurrentPrincipal, response: Response
) -> FundOut:
    """Create a year's special fund with its pools (amounts in integer fen)."""
    fund = await service.create_fund(session, principal=principal, data=body)
    set_etag(response, fund.version)
    response.headers["Location"] = f"{API_PREFIX}/funds/{fund.id}"
    return fund


@router.get(
    "",
    response_model=Page[FundOut],
    operation_id="listFunds",
    responses=problem_responses(401, 403, 422),
    dependencies=[_READERS],
)
async def list_funds(
    session: SessionDep,
    principal: CurrentPrincipal,
    page: PageDep,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> Page[FundOut]:
    """Funds, newest year first."""
    return await service.list_funds(session, principal=principal, year=year, page=page)


@router.get(
    "/{fund_id}",
    response_model=FundOut,
    operation_id="getFund",
    responses=problem_responses(401, 403, 404),
    dependencies=[_READERS],
)
async def get_fund(
    fund_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal, response: Response
) -> FundOut:
    """One fund with its pools and what is allocated from each."""
    fund = await service.get_fund(session, principal=principal, fund_id=fund_id)
    set_etag(response, fund.version)
    return fund


@router.post(
    "/{fund_id}/allocations",
    status_code=status.HTTP_201_CREATED,
    response_model=AllocationOut,
    operation_id="createGrant",
    responses=problem_responses(401, 403, 404, 409, 422),
    dependencies=[allow(Role.civil_affairs)],
)
async def create_grant(
    fund_id: uuid.UUID, body: GrantCreate, session: SessionDep, principal: CurrentPrincipal
) -> AllocationOut:
    """Allocate a direct grant from a pool (409 `pool_exhausted` if it does not fit)."""
    return await service.grant(session, principal=principal, fund_id=fund_id, data=body)


@router.get(
    "/{fund_id}/allocations",
    response_model=Page[AllocationOut],
    operation_id="listAllocations",
    responses=problem_responses(401, 403, 404, 422),
    dependencies=[allow(*ALLOCATION_READERS)],
)
async def list_allocations(
    fund_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal, page: PageDep
) -> Page[AllocationOut]:
    """Every movement of the fund's pools: contracts, amendments, releases and grants."""
    return await service.list_allocations(session, principal=principal, fund_id=fund_id, page=page)
