"""Incubation (孵化培育): an organization's 5F steps; its incubation, phases and mentoring."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from services.registry.access import ANYONE
from services.registry.incubation import service as incubation
from services.registry.incubation.schemas import (
    IncubationOut,
    IncubationRecordOut,
    IncubationStep,
    MentoringSessionCreate,
    MentoringSessionOut,
    PhaseAdvance,
    PhaseChangeOut,
)
from shared.app import API_PREFIX
from shared.auth import CurrentPrincipal, Role, allow
from shared.db import SessionDep
from shared.errors import problem_responses
from shared.pagination import Page, PageDep, to_page

# The bureau manages every incubation; a street office those of its street's filed
# organizations (the scope rules of `access.require_editor`).
MANAGERS = (Role.civil_affairs, Role.street_office)

# The tags of the credit-lists router these routes were served from: the OpenAPI document
# is unchanged.
router = APIRouter(prefix=f"{API_PREFIX}/organizations", tags=["credit lists", "incubation"])


@router.post(
    "/{organization_id}/incubation",
    status_code=status.HTTP_201_CREATED,
    response_model=IncubationRecordOut,
    operation_id="recordIncubationStep",
    dependencies=[allow(*MANAGERS)],
    responses=problem_responses(401, 403, 404, 409),
)
async def record_incubation_step(
    organization_id: uuid.UUID,
    body: IncubationStep,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> IncubationRecordOut:
    """Record an incubation step (5F stage); it sets the current stage. 服 is not a step."""
    step = await incubation.record(
        session, principal=principal, organization_id=organization_id, data=body
    )
    return IncubationRecordOut.model_validate(step)


@router.get(
    "/{organization_id}/incubation",
    response_model=list[IncubationRecordOut],
    operation_id="listIncubationSteps",
    dependencies=[allow(*ANYONE)],
    responses=problem_responses(401, 403, 404),
)
async def incubation_steps(
    organization_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> list[IncubationRecordOut]:
    """The organization's incubation steps, oldest first."""
    rows = await incubation.records_of(
        session, principal=principal, organization_id=organization_id
    )
    return [IncubationRecordOut.model_validate(row) for row in rows]


pipeline = APIRouter(prefix=f"{API_PREFIX}/incubation/organizations", tags=["incubation"])


@pipeline.get(
    "",
    response_model=Page[IncubationOut],
    operation_id="listIncubations",
    dependencies=[allow(*ANYONE)],
    responses=problem_responses(401, 403, 422),
)
async def list_incubations(
    session: SessionDep, principal: CurrentPrincipal, page: PageDep
) -> Page[IncubationOut]:
    """Incubated organizations the caller sees, newest admission first."""
    rows, total = await incubation.page_of(session, principal=principal, page=page)
    return to_page(rows, total, page, incubation.present)


@pipeline.get(
    "/{organization_id}",
    response_model=IncubationOut,
    operation_id="getIncubation",
    dependencies=[allow(*ANYONE)],
    responses=problem_responses(401, 403, 404),
)
async def get_incubation(
    organization_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> IncubationOut:
    """The organization's incubation: its phase, since when, and the next one."""
    row = await incubation.get(session, principal=principal, organization_id=organization_id)
    return incubation.present(row)


@pipeline.post(
    "/{organization_id}/phase",
    response_model=IncubationOut,
    operation_id="advanceIncubationPhase",
    dependencies=[allow(*MANAGERS)],
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def advance_incubation_phase(
    organization_id: uuid.UUID, body: PhaseAdvance, session: SessionDep, principal: CurrentPrincipal
) -> IncubationOut:
    """Enter the next phase (早期→中期→后期→末期): one step forward, never back."""
    row = await incubation.advance(
        session, principal=principal, organization_id=organization_id, data=body
    )
    return incubation.present(row)


@pipeline.get(
    "/{organization_id}/phases",
    response_model=list[PhaseChangeOut],
    operation_id="listIncubationPhases",
    dependencies=[allow(*ANYONE)],
    responses=problem_responses(401, 403, 404),
)
async def list_incubation_phases(
    organization_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> list[PhaseChangeOut]:
    """The phases the incubation entered, the first at admission."""
    rows = await incubation.phases_of(session, principal=principal, organization_id=organization_id)
    return [PhaseChangeOut.model_validate(row) for row in rows]


@pipeline.post(
    "/{organization_id}/mentoring-sessions",
    status_code=status.HTTP_201_CREATED,
    response_model=MentoringSessionOut,
    operation_id="recordMentoringSession",
    dependencies=[allow(*MANAGERS)],
    responses=problem_responses(401, 403, 404, 422),
)
async def record_mentoring_session(
    organization_id: uuid.UUID,
    body: MentoringSessionCreate,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> MentoringSessionOut:
    """Record a mentoring session of the 社创俱乐部 with the incubated organization."""
    row = await incubation.add_mentoring(
        session, principal=principal, organization_id=organization_id, data=body
    )
    return MentoringSessionOut.model_validate(row)


@pipeline.get(
    "/{organization_id}/mentoring-sessions",
    response_model=list[MentoringSessionOut],
    operation_id="listMentoringSessions",
    dependencies=[allow(*ANYONE)],
    responses=problem_responses(401, 403, 404),
)
async def list_mentoring_sessions(
    organization_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> list[MentoringSessionOut]:
    """The incubated organization's mentoring sessions, oldest first."""
    rows = await incubation.mentoring_of(
        session, principal=principal, organization_id=organization_id
    )
    return [MentoringSessionOut.model_validate(row) for row in rows]
