"""Workflow case outcomes, applied at most once.

The workflow POSTs a `CaseOutcome` until it gets a 2xx. The first delivery claims the
case id in `case_outcome_receipt` (`shared.cases.claim_outcome`) in the same
transaction as its effect; a repeat finds the receipt and answers 200 with
`applied: false`, a contradicting repeat (another outcome for the same case) is a 409.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.projects.applications import service as applications
from services.projects.base import receipts
from services.projects.closure import service as closure
from services.projects.core.models import Project
from services.projects.payments import service as payments
from shared.cases import claim_outcome
from shared.errors import NotFound, Unprocessable
from shared.interservice import CaseOutcome


class OutcomeReceipt(BaseModel):
    case_id: uuid.UUID
    applied: bool
    subject_type: str
    subject_id: str
    state: str


Handler = Callable[[AsyncSession, CaseOutcome], Awaitable[str]]


async def _locked_project(session: AsyncSession, subject_id: str) -> Project:
    try:
        key = uuid.UUID(subject_id)
    except ValueError:
        raise NotFound("No such project", code="project_not_found") from None
    project = (
        await session.execute(
            select(Project)
            .where(Project.id == key)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if project is None:
        raise NotFound("No such project", code="project_not_found")
    return project


async def _application(session: AsyncSession, outcome: CaseOutcome) -> str:
    project = await _locked_project(session, outcome.subject_id)
    await applications.decide(
        session, project, outcome=outcome.outcome, case_id=outcome.case_id, reason=outcome.reason
    )
    return project.stage.value


async def _closure(session: AsyncSession, outcome: CaseOutcome) -> str:
    project = await _locked_project(session, outcome.subject_id)
    await closure.decide(
        session, project, outcome=outcome.outcome, case_id=outcome.case_id, reason=outcome.reason
    )
    return project.stage.value


async def _payment(session: AsyncSession, outcome: CaseOutcome) -> str:
    try:
        request_id = uuid.UUID(outcome.subject_id)
    except ValueError:
        raise NotFound("No such payment request", code="payment_request_not_found") from None
    request = await payments.decide(
        session,
        request_id=request_id,
        outcome=outcome.outcome,
        case_id=outcome.case_id,
        reason=outcome.reason,
    )
    return request.status.value


HANDLERS: dict[tuple[str, str], Handler] = {
    ("project_application", "project"): _application,
    ("project_closure", "project"): _closure,
    ("payment_request", "payment_request"): _payment,
}


async def apply_outcome(session: AsyncSession, outcome: CaseOutcome) -> OutcomeReceipt:
    handler = HANDLERS.get((outcome.case_type, outcome.subject_type))
    if handler is None:
        raise Unprocessable(
            f"Projects has no {outcome.case_type} cases on {outcome.subject_type}",
            code="unknown_case_type",
        )
    if not await claim_outcome(session, receipts, outcome):
        return OutcomeReceipt(
            case_id=outcome.case_id,
            applied=False,
            subject_type=outcome.subject_type,
            subject_id=outcome.subject_id,
            state="unchanged",
        )
    state = await handler(session, outcome)
    return OutcomeReceipt(
        case_id=outcome.case_id,
        applied=True,
        subject_type=outcome.subject_type,
        subject_id=outcome.subject_id,
        state=state,
    )
