"""Annual inspections (年检): one report per organization and year, decided as a workflow case.

The organization (or the bureau on its behalf) submits the report: an
`annual_inspection` application opens the case. The reviewer records the conclusion —
`pass` / `basic_pass` / `fail`, the two key indicators (party building, financial
audit), remarks — whenever ready. The inspection is concluded when both the case is
approved and the conclusion recorded, in whichever order they come; a rejected or
withdrawn case returns the report, which may then be submitted again.

Key indicators: "每年年检将社会组织党建工作和社会组织财务审计作为重要考核指标" (the
Luyang seed). Party building (党建) and the financial audit (财务审计) gate the result: a
conclusion of `pass` (合格) with either indicator failed is refused
(`key_indicator_failed`); `basic_pass` and `fail` may carry a failed one.

A failed inspection, or one not taken part in (未参检), lowers a valid evaluation grade by
one level (1A is withdrawn): 《社会组织评估管理办法》 (MCA order No. 39) art. 30 — grades
are lowered for organizations that failed, or did not take part in, the previous year's
annual inspection while the grade is valid. `grades.service.on_inspection_concluded`
decides and records it.

Late filing (补报): after the deadline sweep (`deadlines.py`) concluded a year 未参检 and
listed the organization, the organization may still file that year's report; it is
reviewed as any other. A late report concluded `pass` or `basic_pass` is the obligation
fulfilled, and the abnormal-list entry the sweep made for it is removed then, unless a
later year is still 未参检: 《社会组织信用信息管理办法》 (MCA order No. 60) art. 17 — a
listed organization that has fulfilled its obligation may apply to be removed, and the
registration authority removes it once it has checked. The late report is that
application and its conclusion that check. A late report that fails keeps the entry;
entries made by hand, and the serious list, leave only through the removal procedure.
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
    ListReason,
    ListType,
)
from services.registry.grades import service as grades
from services.registry.inspections.models import AnnualInspection
from services.registry.inspections.schemas import InspectionConclusion, InspectionSubmit
from services.registry.organizations import history, service
from services.registry.organizations.models import Organization
from services.registry.standing import service as standing
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


def _open_to_a_report(inspection: AnnualInspection) -> bool:
    """A returned report may be filed again; a year swept 未参检 may be filed late (补报)."""
    return inspection.state is InspectionState.returned or (
        inspection.state is InspectionState.concluded
        and inspection.result is InspectionResult.absent
    )


def refuse_pass_with_failed_key_indicator(data: InspectionConclusion) -> None:
    """合格 needs both key indicators (党建, 财务审计) in order."""
    if data.result != InspectionResult.passed.value:
        return
    failed = [
        FieldError(
            field=f"body.{field}",
            message="A failed key indicator rules out a pass",
            code="key_indicator_failed",
        )
        for field, ok in (
            ("party_building_ok", data.party_building_ok),
            ("financial_audit_ok", data.financial_audit_ok),
        )
        if not ok
    ]
    if failed:
        raise Unprocessable(
            "A pass (合格) needs both key indicators, party building and financial audit",
            code="key_indicator_failed",
            errors=failed,
        )


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
    if inspection is not None and not _open_to_a_report(inspection):
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
    refuse_pass_with_failed_key_indicator(data)
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
        await conclude(
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
            await conclude(
                session, principal=principal, organization=organization, inspection=inspection
            )
    await session.flush()


async def conclude(
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
    if inspection.result not in (InspectionResult.fail, InspectionResult.absent):
        await _delist_after_late_report(
            session, principal=principal, organization=organization, year=inspection.year
        )


async def _delist_after_late_report(
    session: AsyncSession, *, principal: Principal, organization: Organization, year: int
) -> None:
    """Remove the sweep's abnormal-list entry once no year it stands for is 未参检 any more."""
    for entry in await standing.open_entries(session, organization.id, ListType.abnormal):
        if entry.reason_code is not ListReason.annual_report_not_filed or (
            entry.report_year is None or entry.report_year > year
        ):
            continue
        still_absent = await session.scalar(
            select(AnnualInspection.year)
            .where(
                AnnualInspection.organization_id == organization.id,
                AnnualInspection.year >= entry.report_year,
                AnnualInspection.state == InspectionState.concluded,
                AnnualInspection.result == InspectionResult.absent,
            )
            .limit(1)
        )
        if still_absent is None:
            await standing.remove_entry(
                session,
                principal=principal,
                organization=organization,
                entry_id=entry.id,
                reason=f"补报{year}年度工作报告，年检通过，移出活动异常名录",
                removed_on=None,
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
