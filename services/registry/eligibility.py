"""May an organization apply for government-purchased projects? (`shared.contracts.Eligibility`)

Reasons, as codes: `status_abnormal`, `status_revoked`, `status_deregistered` (it is not
active), `last_inspection_failed` (its latest concluded annual inspection failed) and
`serious_illegal_listed` (it has an open entry on the serious illegal & dishonest list,
which bars it from government purchase of services).
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import inspections, service, standing
from services.registry.enums import InspectionResult, ListType, OrganizationStatus
from shared.auth import Principal
from shared.contracts import Eligibility


async def of(
    session: AsyncSession, *, principal: Principal, organization_id: uuid.UUID
) -> Eligibility:
    organization = await service.get(session, principal=principal, organization_id=organization_id)
    reasons = []
    if organization.status is not OrganizationStatus.active:
        reasons.append(f"status_{organization.status.value}")
    last = await inspections.latest_concluded(session, organization.id)
    if last is not None and last.result is InspectionResult.fail:
        reasons.append("last_inspection_failed")
    if await standing.open_entries(session, organization.id, ListType.serious_illegal):
        reasons.append("serious_illegal_listed")
    return Eligibility(
        organization_id=organization.id,
        eligible=not reasons,
        status=organization.status.value,
        last_inspection_year=last.year if last else None,
        last_inspection_result=last.result.value if last and last.result else None,
        reasons=reasons,
    )
