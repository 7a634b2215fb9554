"""Incubation (孵化培育, the "5F" plan): each step recorded with its phase and seed funding.

The organization's current stage is the last recorded one; the records are its
history (and each stage change is also in the organization's change history).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import events
from services.registry.access import require_editor
from services.registry.incubation.models import IncubationRecord
from services.registry.incubation.schemas import IncubationStep
from services.registry.organizations import history, service
from shared.auth import Principal


async def record(
    session: AsyncSession, *, principal: Principal, organization_id: uuid.UUID, data: IncubationStep
) -> IncubationRecord:
    organization = await service.get(
        session, principal=principal, organization_id=organization_id, for_update=True
    )
    require_editor(principal, organization)
    service.refuse_if_closed(organization)
    step = IncubationRecord(
        id=uuid.uuid4(),
        organization_id=organization.id,
        recorded_by=principal.sub,
        **data.model_dump(),
    )
    session.add(step)
    before = organization.incubation_stage
    if before is not data.stage:
        organization.incubation_stage = data.stage
    await session.flush()
    if before is not data.stage:
        await history.record(
            session,
            organization_id=organization.id,
            principal=principal,
            action=history.Action.incubation_changed,
            changes={"incubation_stage": (before, data.stage)},
            reason=data.note,
        )
        await events.organization_updated(
            session, organization.id, ["incubation_stage"], source=history.Source.api
        )
    # Every step is a change, also one that keeps the stage (a new phase or funding).
    await events.emit(
        session,
        "organization.incubation_recorded",
        subject_type=events.ORGANIZATION,
        subject_id=organization.id,
        data={"record_id": step.id, "stage": step.stage, "phase": step.phase},
    )
    return step


async def records_of(
    session: AsyncSession, *, principal: Principal, organization_id: uuid.UUID
) -> Sequence[IncubationRecord]:
    organization = await service.get(session, principal=principal, organization_id=organization_id)
    query = (
        select(IncubationRecord)
        .where(IncubationRecord.organization_id == organization.id)
        .order_by(IncubationRecord.recorded_at, IncubationRecord.id)
    )
    return (await session.execute(query)).scalars().all()
