"""Annual inspections (年检): one report per organization and year, decided as a workflow case.

The organization (or the bureau on its behalf) submits the report: an
`annual_inspection` application opens the case. The reviewer records the conclusion —
`pass` / `basic_pass` / `fail`, the two key indicators (party building, financial
audit), remarks — whenever ready. The inspection is concluded when both the case is
approved and the conclusion recorded, in whichever order they come; a rejected or
withdrawn case returns the report, which may then be submitted again.

A concluded inspection may lower the evaluation grade in force (《社会组织评估管理办法》,
MCA order No. 39): `grades.service.on_inspection_concluded` decides and records it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import events
from services.registry.applications import service as applications
from services.registry.applications.models import Application
from services.registry.enums import (
    ApplicationKind,
    InspectionResult,
    InspectionState,
)
from services.registry.grades import service as grades
from services.registry.inspections.models import AnnualInspection
from services.registry.inspections.schemas import InspectionConclusion, InspectionSubmit
from services.registry.organizations import history, service
from services.registry.organizations.models import Organization
from shared.auth import Principal
from shared.clock import shanghai_today, utcnow
from shared.errors import Conflict, FieldError, NotFound, Unprocessable


def _year_error(message: str, code: str) -> Unprocessable:
    return Unprocessable(
        message,
        code=code,
        errors=[FieldError(field="body.year", message=message, code=code)],
    )


async def _inspection(
    session: AsyncSession, organization_id: uuid.UUID, year: int
) -> AnnualInspection | None:
    query = (
        select(AnnualInspection)
        .where(AnnualInspection.organization_id == organization_id, AnnualInspection.year == year)
        .with_for_update()
    )
    return (await session.execute(query)).scalar_one_or_none()


async def submit(
    session: AsyncSession,
    *,
    principal: Principal,
    organization_id: uuid.UUID,
    data: InspectionSubmit,
) -> AnnualInspection:
    organization = await service.get(
        session, principal=principal, organization_id=organization_id, for_update=True
    )
    service.refuse_if_closed(organization)
    if data.year >= shanghai_today().year:
        raise _year_error("A year's report is filed after the year ends", "year_not_ended")
    if organization.established_on and data.year < organization.established_on.year:
        raise _year_error("The organization did not exist that year", "before_establishment")
    inspection = await _inspection(session, organization.id, data.year)
    if inspection is not None and inspection.state is not InspectionState.returned:
        raise Conflict("This year's report was submitted already", code="inspection_exists")
    application = await applications.create(
        session,
        principal=principal,
        kind=ApplicationKind.annual_inspection,
        proposal={"year": data.year},
        materials=data.materials,
        applicant_name=organization.name,
        title=f"{organization.name} {data.year}年度检查",
        organization=organization,
    )
    if inspection is None:
        inspection = AnnualInspection(
            id=uuid.uuid4(), organization_id=organization.id, year=data.year
        )
        session.add(inspection)
    # A returned report starts over: nothing of the previous round's conclusion remains.
    inspection.state = InspectionState.submitted
    inspection.result = None
    inspection.party_building_ok = None
    inspection.financial_audit_ok = None
    inspection.remarks = None
    inspection.conclusion_recorded_by = None
    inspection.concluded_at = None
    inspection.application_id = application.id
    inspection.submitted_at = utcnow()
    await session.flush()
    await events.emit(
        session,
        "inspection.submitted",
        subject_type=events.ORGANIZATION,
        subject_id=organization.id,
        data={"inspection_id": inspection.id, "year": data.year},
    )
    return inspection


async def record_conclusion(
    session: AsyncSession,
    *,
    principal: Principal,
    organization_id: uuid.UUID,
    year: int,
    data: InspectionConclusion,
) -> AnnualInspection:
    organization = await service.get(
        session, principal=principal, organization_id=organization_id, for_update=True
    )
    inspection = await _inspection(session, organization.id, year)
    if inspection is None:
        raise NotFound("No report for this year", code="inspection_not_found")
    if inspection.state is InspectionState.concluded:
        raise Conflict("The inspection is concluded", code="inspection_concluded")
    if inspection.state is InspectionState.returned:
        raise Conflict("The report was returned; await a new one", code="inspection_returned")
    inspection.result = InspectionResult(data.result)
    inspection.party_building_ok = data.party_building_ok
    inspection.financial_audit_ok = data.financial_audit_ok
    inspection.remarks = data.remarks
    inspection.conclusion_recorded_by = principal.sub
    if inspection.state is InspectionState.reviewed:
        await _conclude(
            session, principal=principal, organization=organization, inspection=inspection
        )
    else:
        # Recorded, not yet in force: the case decides. Still a change the province sees.
        await events.emit(
            session,
            "inspection.conclusion_recorded",
            subject_type=events.ORGANIZATION,
            subject_id=organization.id,
            data={"inspection_id": inspection.id, "year": year, "result": inspection.result},
        )
    await session.flush()
    return inspection


async def on_case_decided(
    session: AsyncSession, *, principal: Principal, application: Application, approved: bool
) -> None:
    # Lock the organization before the inspection, in the order `record_conclusion` does,
    # so that a conclusion and an outcome arriving together cannot deadlock.
    organization = (
        await session.execute(
            select(Organization)
            .where(Organization.id == application.organization_id)
            .with_for_update()
        )
    ).scalar_one()
    inspection = (
        await session.execute(
            select(AnnualInspection)
            .where(AnnualInspection.application_id == application.id)
            .with_for_update()
        )
    ).scalar_one()
    if not approved:
        inspection.state = InspectionState.returned
    else:
        inspection.state = InspectionState.reviewed
        if inspection.result is not None:
            await _conclude(
                session, principal=principal, organization=organization, inspection=inspection
            )
    await session.flush()


async def _conclude(
    session: AsyncSession,
    *,
    principal: Principal,
    organization: Organization,
    inspection: AnnualInspection,
) -> None:
    assert inspection.result is not None
    inspection.state = InspectionState.concluded
    inspection.concluded_at = utcnow()
    await session.flush()
    await history.record(
        session,
        organization_id=organization.id,
        principal=principal,
        action="inspection_concluded",
        source=history.Source.inspection,
        changes={f"annual_inspection.{inspection.year}": (None, inspection.result)},
    )
    await events.emit(
        session,
        "inspection.concluded",
        subject_type=events.ORGANIZATION,
        subject_id=organization.id,
        data={
            "inspection_id": inspection.id,
            "year": inspection.year,
            "result": inspection.result,
        },
    )
    await grades.on_inspection_concluded(
        session, principal=principal, organization=organization, inspection=inspection
    )


async def list_for(
    session: AsyncSession, *, principal: Principal, organization_id: uuid.UUID
) -> Sequence[AnnualInspection]:
    organization = await service.get(session, principal=principal, organization_id=organization_id)
    query = (
        select(AnnualInspection)
        .where(AnnualInspection.organization_id == organization.id)
        .order_by(AnnualInspection.year.desc())
    )
    return (await session.execute(query)).scalars().all()


async def latest_concluded(
    session: AsyncSession, organization_id: uuid.UUID
) -> AnnualInspection | None:
    query = (
        select(AnnualInspection)
        .where(
            AnnualInspection.organization_id == organization_id,
            AnnualInspection.state == InspectionState.concluded,
        )
        .order_by(AnnualInspection.year.desc())
        .limit(1)
    )
    return (await session.execute(query)).scalar_one_or_none()
