"""Endpoints of payment requests, transfers and the ledger."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from services.projects.access import MANAGERS, PAYMENT_READERS, REQUESTERS
from services.projects.payments import service
from services.projects.payments.models import PaymentAttempt, PaymentRequest
from services.projects.payments.schemas import (
    AttemptOut,
    LedgerEntryOut,
    LedgerOut,
    PaymentExecution,
    PaymentRequestCreate,
    PaymentRequestOut,
)
from shared.app import API_PREFIX
from shared.auth import CurrentPrincipal, allow
from shared.concurrency import set_etag
from shared.db import SessionDep
from shared.errors import problem_responses

router = APIRouter(prefix=f"{API_PREFIX}/projects/{{project_id}}", tags=["payments"])
_READERS = allow(*PAYMENT_READERS)


def _present(request: PaymentRequest, attempts: list[PaymentAttempt]) -> PaymentRequestOut:
    return PaymentRequestOut.model_validate(
        {
            **{c.key: getattr(request, c.key) for c in PaymentRequest.__table__.columns},
            "attempts": [
                AttemptOut.model_validate(a) for a in attempts if a.payment_request_id == request.id
            ],
        }
    )


@router.post(
    "/payment-requests",
    status_code=status.HTTP_201_CREATED,
    response_model=PaymentRequestOut,
    operation_id="requestPayment",
    responses=problem_responses(401, 403, 404, 409, 422),
    dependencies=[allow(*REQUESTERS)],
)
async def request_payment(
    project_id: uuid.UUID,
    body: PaymentRequestCreate,
    session: SessionDep,
    principal: CurrentPrincipal,
    response: Response,
) -> PaymentRequestOut:
    """Request a tranche whose milestone is met; opens a `payment_request` workflow case."""
    request = await service.request_payment(
        session, principal=principal, project_id=project_id, data=body
    )
    set_etag(response, request.version)
    return _present(request, [])


@router.get(
    "/payment-requests",
    response_model=list[PaymentRequestOut],
    operation_id="listPaymentRequests",
    responses=problem_responses(401, 403, 404),
    dependencies=[_READERS],
)
async def list_payment_requests(
    project_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> list[PaymentRequestOut]:
    """Every payment request of the project with its transfer attempts."""
    requests, attempts = await service.requests_of(
        session, principal=principal, project_id=project_id
    )
    return [_present(r, attempts) for r in requests]


@router.post(
    "/payment-requests/{request_id}/transfers",
    response_model=PaymentRequestOut,
    operation_id="recordTransfer",
    responses=problem_responses(401, 403, 404, 409, 422),
    dependencies=[allow(*MANAGERS)],
)
async def record_transfer(
    project_id: uuid.UUID,
    request_id: uuid.UUID,
    body: PaymentExecution,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> PaymentRequestOut:
    """Record the treasury's transfer result; a failure can be retried, a success only once."""
    request = await service.execute(
        session, principal=principal, project_id=project_id, request_id=request_id, data=body
    )
    _, attempts = await service.requests_of(session, principal=principal, project_id=project_id)
    return _present(request, attempts)


@router.get(
    "/ledger",
    response_model=LedgerOut,
    operation_id="getLedger",
    responses=problem_responses(401, 403, 404, 409),
    dependencies=[_READERS],
)
async def get_ledger(
    project_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> LedgerOut:
    """What was paid, tranche by tranche, against the contract amount."""
    contract, entries, withheld = await service.ledger_of(
        session, principal=principal, project_id=project_id
    )
    return LedgerOut(
        contract_amount_fen=contract.amount_fen,
        paid_fen=contract.paid_fen,
        remaining_fen=contract.amount_fen - contract.paid_fen - withheld,
        withheld_fen=withheld,
        entries=[LedgerEntryOut.model_validate(e) for e in entries],
    )
