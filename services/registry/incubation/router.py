"""Incubation (孵化培育) steps of an organization: record one, list them."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from services.registry.access import ANYONE
from services.registry.incubation import service as incubation
from services.registry.incubation.schemas import IncubationRecordOut, IncubationStep
from shared.app import API_PREFIX
from shared.auth import CurrentPrincipal, Role, allow
from shared.db import SessionDep
from shared.errors import problem_responses

# The tags of the credit-lists router these routes were served from: the OpenAPI document
# is unchanged.
router = APIRouter(prefix=f"{API_PREFIX}/organizations", tags=["credit lists", "incubation"])


@router.post(
    "/{organization_id}/incubation",
    status_code=status.HTTP_201_CREATED,
    response_model=IncubationRecordOut,
    operation_id="recordIncubationStep",
    dependencies=[allow(Role.civil_affairs, Role.street_office)],
    responses=problem_responses(401, 403, 404, 409),
)
async def record_incubation_step(
    organization_id: uuid.UUID,
    body: IncubationStep,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> IncubationRecordOut:
    """Record an incubation step (5F stage, phase, seed funding); it sets the current stage."""
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
