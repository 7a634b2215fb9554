"""The workflow's callback: a case's outcome, applied once (`service.py`)."""

from __future__ import annotations

from fastapi import APIRouter

from services.projects.outcomes.service import OutcomeReceipt, apply_outcome
from shared.app import API_PREFIX
from shared.auth import CurrentPrincipal, Role, allow
from shared.db import SessionDep
from shared.errors import problem_responses
from shared.interservice import CASE_OUTCOME_CALLBACK_PATH, CaseOutcome

router = APIRouter(tags=["internal"])
assert CASE_OUTCOME_CALLBACK_PATH.startswith(API_PREFIX)


@router.post(
    CASE_OUTCOME_CALLBACK_PATH,
    response_model=OutcomeReceipt,
    operation_id="receiveProjectsCaseOutcome",
    responses=problem_responses(401, 403, 404, 409, 422),
    dependencies=[allow(Role.service)],
)
async def receive_case_outcome(
    body: CaseOutcome, session: SessionDep, principal: CurrentPrincipal
) -> OutcomeReceipt:
    """Apply a workflow case's outcome (idempotent: a repeat changes nothing)."""
    return await apply_outcome(session, body)
