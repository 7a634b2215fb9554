"""Annual inspections (年检) and spot checks (抽查)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from sqlalchemy import select

from services.registry import inspections, spot_checks
from services.registry.access import ANYONE, APPLICANTS, BUREAU_AND_AUDIT
from services.registry.enums import InspectionResult, InspectionState, SpotCheckFinding
from services.registry.models import AnnualInspection
from services.registry.schemas.inspections import (
    FindingRecord,
    InspectionConclusion,
    InspectionOut,
    InspectionSubmit,
    SpotCheckDraw,
    SpotCheckItemOut,
    SpotCheckOut,
    SpotCheckPreview,
)
from shared.app import API_PREFIX
from shared.auth import CurrentPrincipal, Role, allow
from shared.db import SessionDep
from shared.errors import problem_responses
from shared.pagination import Page, PageDep, count_rows

router = APIRouter(prefix=API_PREFIX, tags=["inspections"])
Year = Annotated[int, Path(ge=2000, le=2100)]


@router.post(
    "/organizations/{organization_id}/annual-inspections",
    status_code=status.HTTP_201_CREATED,
    response_model=InspectionOut,
    operation_id="submitAnnualInspection",
    dependencies=[allow(*APPLICANTS)],
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def submit_annual_inspection(
    organization_id: uuid.UUID,
    body: InspectionSubmit,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> InspectionOut:
    """Submit a year's annual report; the workflow reviews it as a case."""
    inspection = await inspections.submit(
        session, principal=principal, organization_id=organization_id, data=body
    )
    return InspectionOut.model_validate(inspection)


@router.get(
    "/organizations/{organization_id}/annual-inspections",
    response_model=list[InspectionOut],
    operation_id="listOrganizationInspections",
    dependencies=[allow(*ANYONE)],
    responses=problem_responses(401, 403, 404),
)
async def organization_inspections(
    organization_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> list[InspectionOut]:
    """The organization's annual inspections, latest year first."""
    rows = await inspections.list_for(session, principal=principal, organization_id=organization_id)
    return [InspectionOut.model_validate(row) for row in rows]


@router.put(
    "/organizations/{organization_id}/annual-inspections/{year}/conclusion",
    response_model=InspectionOut,
    operation_id="recordInspectionConclusion",
    dependencies=[allow(Role.civil_affairs)],
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def record_inspection_conclusion(
    organization_id: uuid.UUID,
    year: Year,
    body: InspectionConclusion,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> InspectionOut:
    """Record the reviewer's conclusion; final once the case is approved too."""
    inspection = await inspections.record_conclusion(
        session, principal=principal, organization_id=organization_id, year=year, data=body
    )
    return InspectionOut.model_validate(inspection)


@router.get(
    "/inspections",
    response_model=Page[InspectionOut],
    operation_id="listInspections",
    dependencies=[allow(*BUREAU_AND_AUDIT)],
    responses=problem_responses(401, 403, 422),
)
async def list_inspections(
    session: SessionDep,
    page: PageDep,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    state: InspectionState | None = None,
    result: InspectionResult | None = None,
) -> Page[InspectionOut]:
    """Annual inspections across the register, e.g. the reports awaiting a conclusion."""
    query = select(AnnualInspection)
    if year is not None:
        query = query.where(AnnualInspection.year == year)
    if state is not None:
        query = query.where(AnnualInspection.state == state)
    if result is not None:
        query = query.where(AnnualInspection.result == result)
    total = await count_rows(session, query)
    rows = await session.execute(
        query.order_by(
            AnnualInspection.year.desc(), AnnualInspection.submitted_at, AnnualInspection.id
        )
        .offset(page.offset)
        .limit(page.page_size)
    )
    return Page(
        items=[InspectionOut.model_validate(row) for row in rows.scalars()],
        page=page.page,
        page_size=page.page_size,
        total=total,
    )


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
        algorithm=spot_checks.ALGORITHM,
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
    return Page(
        items=[SpotCheckOut.model_validate(row) for row in rows],
        page=page.page,
        page_size=page.page_size,
        total=total,
    )


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
    return Page(
        items=[SpotCheckItemOut.model_validate(row) for row in rows],
        page=page.page,
        page_size=page.page_size,
        total=total,
    )


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
