"""Spot checks (抽查): draw (or preview) a year's sample, list draws and items, record findings."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from services.registry.access import BUREAU_AND_AUDIT
from services.registry.enums import SpotCheckFinding
from services.registry.spot_checks import sampling
from services.registry.spot_checks import service as spot_checks
from services.registry.spot_checks.schemas import (
    FindingRecord,
    SpotCheckDraw,
    SpotCheckItemOut,
    SpotCheckOut,
    SpotCheckPreview,
)
from shared.app import API_PREFIX
from shared.auth import CurrentPrincipal, Role, allow
from shared.db import SessionDep
from shared.errors import problem_responses
from shared.pagination import Page, PageDep, to_page

# Served under the "inspections" tag, as before the split (the OpenAPI document is unchanged).
router = APIRouter(prefix=API_PREFIX, tags=["inspections"])


@router.post(
    "/spot-checks",
    status_code=status.HTTP_201_CREATED,
    response_model=SpotCheckOut,
    operation_id="drawSpotCheck",
    dependencies=[allow(Role.civil_affairs)],
    responses=problem_responses(401, 403, 422),
)
async def draw_spot_check(
    body: SpotCheckDraw, session: SessionDep, principal: CurrentPrincipal
) -> SpotCheckOut:
    """Draw and record a year's sample (stratified by street, seeded, reproducible)."""
    spot_check = await spot_checks.draw(session, principal=principal, data=body)
    return SpotCheckOut.model_validate(spot_check)


@router.post(
    "/spot-checks/preview",
    response_model=SpotCheckPreview,
    operation_id="previewSpotCheck",
    dependencies=[allow(*BUREAU_AND_AUDIT)],
    responses=problem_responses(401, 403, 422),
)
async def preview_spot_check(body: SpotCheckDraw, session: SessionDep) -> SpotCheckPreview:
    """Compute a sample without recording it (e.g. to verify a recorded draw's seed)."""
    percentage, seed, population, sample = await spot_checks.preview(session, data=body)
    return SpotCheckPreview(
        seed=seed,
        percentage=percentage,
        algorithm=sampling.ALGORITHM,
        population_size=population,
        sample_size=len(sample),
        items=[
            SpotCheckItemOut(
                organization_id=item.organization_id,
                stratum=item.stratum,
                rank=item.rank,
                finding=SpotCheckFinding.pending,
            )
            for item in sample
        ],
    )


@router.get(
    "/spot-checks",
    response_model=Page[SpotCheckOut],
    operation_id="listSpotChecks",
    dependencies=[allow(*BUREAU_AND_AUDIT)],
    responses=problem_responses(401, 403, 422),
)
async def list_spot_checks(
    session: SessionDep,
    page: PageDep,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> Page[SpotCheckOut]:
    """Recorded draws, newest first."""
    rows, total = await spot_checks.page_of(session, year=year, page=page)
    return to_page(rows, total, page, SpotCheckOut.model_validate)


@router.get(
    "/spot-checks/{spot_check_id}",
    response_model=SpotCheckOut,
    operation_id="getSpotCheck",
    dependencies=[allow(*BUREAU_AND_AUDIT)],
    responses=problem_responses(401, 403, 404),
)
async def get_spot_check(spot_check_id: uuid.UUID, session: SessionDep) -> SpotCheckOut:
    """One recorded draw with its seed and percentage."""
    return SpotCheckOut.model_validate(await spot_checks.get(session, spot_check_id))


@router.get(
    "/spot-checks/{spot_check_id}/items",
    response_model=Page[SpotCheckItemOut],
    operation_id="listSpotCheckItems",
    dependencies=[allow(*BUREAU_AND_AUDIT)],
    responses=problem_responses(401, 403, 404, 422),
)
async def list_spot_check_items(
    spot_check_id: uuid.UUID, session: SessionDep, page: PageDep
) -> Page[SpotCheckItemOut]:
    """The drawn organizations by street and rank, with their findings."""
    rows, total = await spot_checks.items_of(session, spot_check_id=spot_check_id, page=page)
    return to_page(rows, total, page, SpotCheckItemOut.model_validate)


@router.put(
    "/spot-checks/{spot_check_id}/items/{organization_id}",
    response_model=SpotCheckItemOut,
    operation_id="recordSpotCheckFinding",
    dependencies=[allow(Role.civil_affairs)],
    responses=problem_responses(401, 403, 404, 422),
)
async def record_spot_check_finding(
    spot_check_id: uuid.UUID,
    organization_id: uuid.UUID,
    body: FindingRecord,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> SpotCheckItemOut:
    """Record (or correct) the finding of one drawn organization's check."""
    item = await spot_checks.record_finding(
        session,
        principal=principal,
        spot_check_id=spot_check_id,
        organization_id=organization_id,
        data=body,
    )
    return SpotCheckItemOut.model_validate(item)
