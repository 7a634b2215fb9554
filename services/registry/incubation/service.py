"""Incubation (孵化培育, the "5F" plan) of an organization: its steps, its phases, mentoring.

The seed (庐阳区, "5F计划"): "“孵”（以大赛的形式选拔和孵化培育草根社会组织）、“服”（以精准的
服务方式全程服务社会组织）、“浮”…、“扶”…、“辐”（以“社创俱乐部”使优秀组织辐射新生组织）", and
"培育“早期”，注重资源到位…培育“中期”，注重能力到位…培育“后期”，注重意识到位…培育“末期”，注重
跟进到位".

- Steps: each records a 5F stage, the last one is the organization's current stage. 服 is
  the service given throughout, not a step: a step naming it is refused.
- The incubation: one per organization, admitted through a competition entry
  (`competitions`), in phase 早期; it then enters each next phase, one at a time and
  never back (`next_phase`), each entry dated and kept (`incubation_phase_change`) and
  in the organization's history.
- Mentoring sessions of the 社创俱乐部, recorded against the incubation.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import events
from services.registry.access import require_editor
from services.registry.enums import PHASE_ORDER, IncubationPhase, IncubationStage
from services.registry.incubation import repository
from services.registry.incubation.models import (
    Incubation,
    IncubationRecord,
    MentoringSession,
    PhaseChange,
)
from services.registry.incubation.schemas import (
    IncubationOut,
    IncubationStep,
    MentoringSessionCreate,
    PhaseAdvance,
)
from services.registry.organizations import history, service
from services.registry.organizations.models import Organization
from shared.auth import Principal
from shared.clock import shanghai_today
from shared.errors import Conflict, FieldError, NotFound, Unprocessable
from shared.pagination import PageParams


async def record(
    session: AsyncSession, *, principal: Principal, organization_id: uuid.UUID, data: IncubationStep
) -> IncubationRecord:
    if data.stage is IncubationStage.serve:
        raise Unprocessable(
            "服 (serve) is the service given throughout the incubation, not a step",
            code="serve_is_not_a_step",
            errors=[
                FieldError(
                    field="body.stage", message="Serve is not a step", code="serve_is_not_a_step"
                )
            ],
        )
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


def next_phase(phase: IncubationPhase) -> IncubationPhase | None:
    """The one phase an incubation may enter from `phase` (none after 末期)."""
    position = PHASE_ORDER.index(phase)
    return PHASE_ORDER[position + 1] if position + 1 < len(PHASE_ORDER) else None


def present(incubation: Incubation) -> IncubationOut:
    out = IncubationOut.model_validate(
        {
            **{c.key: getattr(incubation, c.key) for c in Incubation.__table__.columns},
            "next_phase": next_phase(incubation.phase),
        }
    )
    return out


def refuse_future(day: date, field: str) -> None:
    if day > shanghai_today():
        raise Unprocessable(
            "The day is ahead of today",
            code="date_in_future",
            errors=[FieldError(field=field, message="After today", code="date_in_future")],
        )


async def _enter_phase(
    session: AsyncSession,
    *,
    principal: Principal,
    incubation: Incubation,
    before: IncubationPhase | None,
    reason: str,
) -> None:
    """Keep the phase just entered: in the phase history, the organization's, an event."""
    session.add(
        PhaseChange(
            incubation_id=incubation.id,
            from_phase=before,
            to_phase=incubation.phase,
            entered_on=incubation.phase_since,
            recorded_by=principal.sub,
        )
    )
    await session.flush()
    await history.record(
        session,
        organization_id=incubation.organization_id,
        principal=principal,
        action=history.Action.incubation_changed,
        changes={"incubation_phase": (before, incubation.phase)},
        reason=reason,
    )
    await events.emit(
        session,
        "organization.incubation_phase_changed",
        subject_type=events.ORGANIZATION,
        subject_id=incubation.organization_id,
        data={"incubation_id": incubation.id, "from": before, "to": incubation.phase},
    )


async def admit(
    session: AsyncSession,
    *,
    principal: Principal,
    organization: Organization,
    entry_id: uuid.UUID | None,
    admitted_on: date,
) -> Incubation:
    """Admit an organization (locked and authorized by the caller) in phase 早期."""
    refuse_future(admitted_on, "body.admitted_on")
    service.refuse_if_closed(organization)
    if await repository.of_organization(session, organization.id) is not None:
        raise Conflict("The organization is incubated already", code="already_incubated")
    incubation = Incubation(
        id=uuid.uuid4(),
        organization_id=organization.id,
        entry_id=entry_id,
        admitted_on=admitted_on,
        phase=PHASE_ORDER[0],
        phase_since=admitted_on,
        admitted_by=principal.sub,
    )
    session.add(incubation)
    await session.flush()
    await _enter_phase(
        session, principal=principal, incubation=incubation, before=None, reason="admitted"
    )
    return incubation


async def _incubation_of(
    session: AsyncSession,
    *,
    principal: Principal,
    organization_id: uuid.UUID,
    manage: bool = False,
) -> tuple[Organization, Incubation]:
    organization = await service.get(
        session, principal=principal, organization_id=organization_id, for_update=manage
    )
    if manage:
        require_editor(principal, organization)
    incubation = await repository.of_organization(session, organization.id, for_update=manage)
    if incubation is None:
        raise NotFound("The organization is not incubated", code="incubation_not_found")
    return organization, incubation


async def get(
    session: AsyncSession, *, principal: Principal, organization_id: uuid.UUID
) -> Incubation:
    return (await _incubation_of(session, principal=principal, organization_id=organization_id))[1]


async def page_of(
    session: AsyncSession, *, principal: Principal, page: PageParams
) -> tuple[Sequence[Incubation], int]:
    return await repository.page_visible(session, principal=principal, page=page)


async def advance(
    session: AsyncSession, *, principal: Principal, organization_id: uuid.UUID, data: PhaseAdvance
) -> Incubation:
    """Enter the next phase; skipping one, going back or staying is a 409."""
    organization, incubation = await _incubation_of(
        session, principal=principal, organization_id=organization_id, manage=True
    )
    service.refuse_if_closed(organization)
    expected = next_phase(incubation.phase)
    if data.phase is not expected:
        raise Conflict(
            f"From {incubation.phase} the next phase is {expected or 'none'}, not {data.phase}",
            code="phase_out_of_order",
        )
    if not incubation.phase_since <= data.entered_on <= shanghai_today():
        raise Unprocessable(
            "The phase is entered between the previous phase's day and today",
            code="phase_date_out_of_range",
            errors=[
                FieldError(
                    field="body.entered_on",
                    message=f"Between {incubation.phase_since} and today",
                    code="phase_date_out_of_range",
                )
            ],
        )
    before = incubation.phase
    incubation.phase = data.phase
    incubation.phase_since = data.entered_on
    await _enter_phase(
        session, principal=principal, incubation=incubation, before=before, reason="advanced"
    )
    return incubation


async def phases_of(
    session: AsyncSession, *, principal: Principal, organization_id: uuid.UUID
) -> Sequence[PhaseChange]:
    incubation = await get(session, principal=principal, organization_id=organization_id)
    return await repository.phase_history(session, incubation.id)


async def add_mentoring(
    session: AsyncSession,
    *,
    principal: Principal,
    organization_id: uuid.UUID,
    data: MentoringSessionCreate,
) -> MentoringSession:
    refuse_future(data.held_on, "body.held_on")
    _, incubation = await _incubation_of(
        session, principal=principal, organization_id=organization_id, manage=True
    )
    mentoring = MentoringSession(
        id=uuid.uuid4(), incubation_id=incubation.id, recorded_by=principal.sub, **data.model_dump()
    )
    session.add(mentoring)
    await session.flush()
    return mentoring


async def mentoring_of(
    session: AsyncSession, *, principal: Principal, organization_id: uuid.UUID
) -> Sequence[MentoringSession]:
    incubation = await get(session, principal=principal, organization_id=organization_id)
    return await repository.mentoring_sessions(session, incubation.id)
