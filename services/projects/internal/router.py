"""Service-to-service endpoints: workflow outcomes and the reminder sweep."""

from __future__ import annotations

from fastapi import APIRouter

from services.projects.internal.outcomes import OutcomeReceipt, apply_outcome
from services.projects.supervision.reminders import SweepResult, sweep_reports
from shared.app import API_PREFIX
from shared.auth import CurrentPrincipal, Role, allow
from shared.db import SessionDep, utcnow
from shared.errors import problem_responses
from shared.interservice import CASE_OUTCOME_CALLBACK_PATH, CaseOutcome

router = APIRouter(tags=["internal"])
assert CASE_OUTCOME_CALLBACK_PATH.startswith(API_PREFIX)


@router.post(
    CASE_OUTCOME_CALLBACK_PATH,
    response_model=OutcomeReceipt,
    operation_id="receiveCaseOutcome",
    responses=problem_responses(401, 403, 404, 409, 422),
    dependencies=[allow(Role.service)],
)
async def receive_case_outcome(
    body: CaseOutcome, session: SessionDep, principal: CurrentPrincipal
) -> OutcomeReceipt:
    """Apply a workflow case's outcome (idempotent: a repeat changes nothing)."""
    return await apply_outcome(session, body)


@router.post(
    f"{API_PREFIX}/internal/progress-report-sweeps",
    response_model=SweepResult,
    operation_id="sweepProgressReports",
    responses=problem_responses(401, 403),
    dependencies=[allow(Role.service, Role.civil_affairs)],
)
async def sweep_progress_reports(session: SessionDep, principal: CurrentPrincipal) -> SweepResult:
    """Send due-soon reminders and overdue notices for progress reports, each at most once."""
    return await sweep_reports(session, now=utcnow())
