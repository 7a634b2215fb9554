"""May an organization apply for government-purchased projects? (`shared.interservice.Eligibility`)

Standing rules, whatever the call: `status_abnormal`, `status_revoked`,
`status_deregistered` (it is not active), `last_inspection_failed` (its latest concluded
annual inspection failed) and `serious_illegal_listed` (an open entry on the serious
illegal & dishonest list bars it from government purchase of services).

A call's admission criteria (`shared.interservice.AdmissionCriteria`, the query) add:
`registration_not_admitted` (e.g. a filed 备案 organization, which has no legal
personality, where only registered 登记 ones are admitted — the default),
`grade_missing` / `grade_below_minimum` (no evaluation grade valid today, or a lower
one) and `inspection_missing` / `inspection_result_not_admitted` (no concluded
inspection, or a result the call does not admit).
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.enums import EvaluationGrade, InspectionResult, ListType, OrganizationStatus
from services.registry.inspections import service as inspections
from services.registry.organizations import service
from services.registry.organizations.models import Organization
from services.registry.standing import service as standing
from shared.auth import Principal
from shared.clock import shanghai_today
from shared.interservice import AdmissionCriteria, Eligibility

_GRADE_ORDER = list(EvaluationGrade)


async def of(
    session: AsyncSession,
    *,
    principal: Principal,
    organization_id: uuid.UUID,
    criteria: AdmissionCriteria | None = None,
) -> Eligibility:
    criteria = criteria or AdmissionCriteria()
    organization = await service.get(session, principal=principal, organization_id=organization_id)
    reasons = []
    if organization.status is not OrganizationStatus.active:
        reasons.append(f"status_{organization.status.value}")
    if organization.registration.value not in criteria.registrations:
        reasons.append("registration_not_admitted")
    grade = current_grade(organization)
    if criteria.min_grade is not None:
        if grade is None:
            reasons.append("grade_missing")
        elif _GRADE_ORDER.index(grade) < _GRADE_ORDER.index(EvaluationGrade(criteria.min_grade)):
            reasons.append("grade_below_minimum")
    last = await inspections.latest_concluded(session, organization.id)
    if last is not None and last.result is InspectionResult.fail:
        reasons.append("last_inspection_failed")
    elif criteria.inspection_results is not None:
        if last is None or last.result is None:
            reasons.append("inspection_missing")
        elif last.result.value not in criteria.inspection_results:
            reasons.append("inspection_result_not_admitted")
    if await standing.open_entries(session, organization.id, ListType.serious_illegal):
        reasons.append("serious_illegal_listed")
    return Eligibility(
        organization_id=organization.id,
        eligible=not reasons,
        status=organization.status.value,
        registration=organization.registration.value,
        evaluation_grade=grade.value if grade else None,
        last_inspection_year=last.year if last else None,
        last_inspection_result=last.result.value if last and last.result else None,
        reasons=reasons,
    )


def current_grade(organization: Organization) -> EvaluationGrade | None:
    """The evaluation grade if it is valid today (China's civil date), else None."""
    grade = organization.evaluation_grade
    on = shanghai_today()
    if grade is None:
        return None
    if organization.grade_valid_from is not None and organization.grade_valid_from > on:
        return None
    if organization.grade_valid_until is not None and organization.grade_valid_until < on:
        return None
    return grade
