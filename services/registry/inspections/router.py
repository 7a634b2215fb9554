"""Annual inspections (年检): submit, conclude, list, sweep the deadline, publish (年报公示)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from services.registry.access import ANYONE, APPLICANTS, BUREAU_AND_AUDIT
from services.registry.enums import InspectionResult, InspectionState
from services.registry.inspections import deadlines, repository
from services.registry.inspections import service as inspections
from services.registry.inspections.schemas import (
    DeadlineSweepOut,
    DeadlineSweepRequest,
    InspectionConclusion,
    InspectionOut,
    InspectionSubmit,
    PublishedAnnualReport,
)
from shared.app import API_PREFIX
from shared.auth import CurrentPrincipal, Role, allow
from shared.clock import shanghai_date
from shared.db import SessionDep
from shared.errors import problem_responses
from shared.pagination import Page, PageDep, to_page

router = APIRouter(prefix=API_PREFIX, tags=["inspections"])
# No token: what the registration authority publishes to everyone.
public_router = APIRouter(prefix=f"{API_PREFIX}/public", tags=["public"])
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
    rows, total = await repository.page_of(
        session, year=year, state=state, result=result, page=page
    )
    return to_page(rows, total, page, InspectionOut.model_validate)


@router.post(
    "/inspections/deadline-sweeps",
    response_model=DeadlineSweepOut,
    operation_id="sweepAnnualReportDeadline",
    dependencies=[allow(Role.civil_affairs)],
    responses=problem_responses(401, 403, 409, 422),
)
async def sweep_annual_report_deadline(
    body: DeadlineSweepRequest, session: SessionDep, principal: CurrentPrincipal
) -> DeadlineSweepOut:
    """Conclude a past-deadline year 未参检 for non-filers and list them; runs once a year.

    The registry also sweeps the latest due year by itself every hour; this is for the
    bureau to run it at once, or for an earlier year. A second sweep changes nothing.
    """
    return await deadlines.sweep(session, principal=principal, year=body.year)


@public_router.get(
    "/annual-reports",
    response_model=Page[PublishedAnnualReport],
    operation_id="listPublicAnnualReports",
    responses=problem_responses(422),
)
async def list_public_annual_reports(
    session: SessionDep,
    page: PageDep,
    name: Annotated[
        str | None, Query(min_length=1, max_length=100, description="Part of the name")
    ] = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> Page[PublishedAnnualReport]:
    """年报公示: the annual inspection results of registered organizations, no token needed."""
    rows, total = await repository.published_page(session, name=name, year=year, page=page)
    return to_page(
        rows,
        total,
        page,
        lambda row: PublishedAnnualReport(
            organization_name=row.organization_name,
            uscc=row.uscc,
            year=row.year,
            result=row.result,
            published_on=shanghai_date(row.concluded_at),
        ),
    )
