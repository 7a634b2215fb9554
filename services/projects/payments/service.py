"""Payments (统一支付): one request per tranche, approved as a workflow case, then paid.

Money rules, each enforced by the database and not only here:
- a tranche has at most one live request (partial unique index), so two requests racing
  for the last tranche cannot both be accepted;
- a tranche is paid at most once (`ledger_entry.tranche_id` unique), and a contract never
  pays more than its amount (`UPDATE ... WHERE paid_fen + x <= amount_fen` and a CHECK);
- a paid request is immutable and the ledger append-only (triggers).
A failed transfer leaves the request approved: it is retried by recording another attempt.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.projects.access import get_project, is_member, require_payer
from services.projects.base import infra
from services.projects.core import lifecycle
from services.projects.core.models import Project, ProjectStage
from services.projects.evaluation.models import Evaluation, EvaluationStatus, Grade
from services.projects.payments.models import (
    AttemptResult,
    LedgerEntry,
    PaymentAttempt,
    PaymentRequest,
    PaymentStatus,
)
from services.projects.payments.schemas import PaymentExecution, PaymentRequestCreate
from services.projects.procurement.contracts import contract_of, tranches_of
from services.projects.procurement.models import Contract, Tranche
from shared.auth import Principal, Role
from shared.cases import request_case
from shared.db import utcnow
from shared.errors import Conflict, Forbidden, NotFound
from shared.interservice import CaseRequest

CASE_TYPE = "payment_request"
PAYABLE_STAGES = (ProjectStage.implementing, ProjectStage.evaluating, ProjectStage.evaluated)


async def _final_tranche_allowed(session: AsyncSession, project: Project) -> None:
    evaluation = (
        await session.execute(select(Evaluation).where(Evaluation.project_id == project.id))
    ).scalar_one_or_none()
    if evaluation is None or evaluation.status is not EvaluationStatus.concluded:
        raise Conflict(
            "The final tranche waits for the evaluation's conclusion",
            code="evaluation_not_concluded",
        )
    if evaluation.grade is Grade.fail:
        raise Conflict(
            "The evaluation failed: the final tranche is withheld", code="evaluation_failed"
        )


async def request_payment(
    session: AsyncSession,
    *,
    principal: Principal,
    project_id: uuid.UUID,
    data: PaymentRequestCreate,
) -> PaymentRequest:
    project = await get_project(session, principal=principal, project_id=project_id, lock=True)
    if not is_member(principal, project) and principal.role is not Role.civil_affairs:
        raise Forbidden("The supplier requests its payments", code="not_project_member")
    lifecycle.require_stage(project, *PAYABLE_STAGES, action="request a payment")
    contract = await contract_of(session, project)
    tranches = await tranches_of(session, contract.id)
    tranche = next((t for t in tranches if t.id == data.tranche_id), None)
    if tranche is None:
        raise NotFound("No such tranche in the contract", code="tranche_not_found")
    if tranche.withheld_at is not None:
        raise Conflict(
            "The evaluation failed: the final tranche is withheld", code="evaluation_failed"
        )
    if tranche.paid_at is not None:
        raise Conflict("The tranche is already paid", code="tranche_settled")
    if tranche.milestone_met_at is None:
        raise Conflict(
            f"The tranche's milestone ({tranche.trigger.value}) is not met yet",
            code="milestone_not_met",
        )
    if tranche.seq == tranches[-1].seq:
        await _final_tranche_allowed(session, project)
    live = await session.scalar(
        select(PaymentRequest.id).where(
            PaymentRequest.tranche_id == tranche.id,
            PaymentRequest.status.in_(
                [PaymentStatus.requested, PaymentStatus.approved, PaymentStatus.paid]
            ),
        )
    )
    if live is not None:
        raise Conflict(
            "The tranche already has a payment request", code="tranche_already_requested"
        )
    request = PaymentRequest(
        id=uuid.uuid4(),
        project_id=project.id,
        contract_id=contract.id,
        tranche_id=tranche.id,
        amount_fen=tranche.amount_fen,
        status=PaymentStatus.requested,
        command_id=uuid.uuid4(),
        requested_by=principal.sub,
        failed_attempts=0,
    )
    session.add(request)
    await session.flush()
    details = {
        "payment_request_id": str(request.id),
        "tranche_seq": tranche.seq,
        "amount_fen": request.amount_fen,
    }
    await lifecycle.note(
        session, project, actor=principal, action="payment_requested", details=details
    )
    await lifecycle.emit(session, project, "payment.requested", details)
    case = CaseRequest(
        command_id=request.command_id,
        case_type=CASE_TYPE,
        subject_service="projects",
        subject_type="payment_request",
        subject_id=str(request.id),
        # Its review includes the purchasing department that published the call.
        subject_department=project.department.value,
        applicant_org_id=str(contract.supplier_org_id),
        applicant_name=project.supplier_name or project.org_name,
        title=f"{project.title}:第{tranche.seq}期付款 {tranche.amount_fen / 100:.2f} 元",
        materials=data.materials,
    )
    await request_case(session, infra.outbox, case, subject_type="project", subject_id=project.id)
    return request


async def decide(
    session: AsyncSession,
    *,
    request_id: uuid.UUID,
    outcome: str,
    case_id: uuid.UUID,
    reason: str | None,
) -> PaymentRequest:
    """Apply the workflow's decision on a payment request."""
    request = await session.get(PaymentRequest, request_id)
    if request is None:
        raise NotFound("No such payment request", code="payment_request_not_found")
    project = await get_project(
        session,
        principal=Principal(sub="service:workflow", role=Role.service),
        project_id=request.project_id,
        lock=True,
    )
    await session.refresh(request, with_for_update=True)
    if request.status is not PaymentStatus.requested:
        raise Conflict(f"The request is already {request.status.value}", code="payment_decided")
    request.case_id = case_id
    request.decided_at = utcnow()
    request.status = {
        "approved": PaymentStatus.approved,
        "rejected": PaymentStatus.rejected,
        "withdrawn": PaymentStatus.withdrawn,
    }[outcome]
    await session.flush()
    details = {"payment_request_id": str(request.id), "case_id": str(case_id), "reason": reason}
    await lifecycle.note(
        session, project, actor="service:workflow", action=f"payment_{outcome}", details=details
    )
    await lifecycle.emit(session, project, f"payment.{outcome}", details)
    return request


async def execute(
    session: AsyncSession,
    *,
    principal: Principal,
    project_id: uuid.UUID,
    request_id: uuid.UUID,
    data: PaymentExecution,
) -> PaymentRequest:
    require_payer(principal)
    project = await get_project(session, principal=principal, project_id=project_id, lock=True)
    request = await session.get(PaymentRequest, request_id, with_for_update=True)
    if request is None or request.project_id != project.id:
        raise NotFound("No such payment request", code="payment_request_not_found")
    if request.status is PaymentStatus.paid:
        raise Conflict("The tranche is already paid", code="already_paid")
    if request.status is not PaymentStatus.approved:
        raise Conflict(
            f"The request is {request.status.value}, not approved", code="payment_not_approved"
        )
    attempt_no = request.failed_attempts + 1
    session.add(
        PaymentAttempt(
            payment_request_id=request.id,
            attempt_no=attempt_no,
            result=data.result,
            bank_reference=data.bank_reference,
            failure_reason=data.failure_reason,
            executed_by=principal.sub,
        )
    )
    if data.result is AttemptResult.failed:
        request.failed_attempts = attempt_no
        await session.flush()
        details = {"payment_request_id": str(request.id), "attempt": attempt_no}
        await lifecycle.note(
            session, project, actor=principal, action="payment_failed", details=details
        )
        await lifecycle.emit(session, project, "payment.failed", details)
        return request
    await _pay(session, project, request, data.bank_reference)
    details = {"payment_request_id": str(request.id), "amount_fen": request.amount_fen}
    await lifecycle.note(session, project, actor=principal, action="payment_paid", details=details)
    await lifecycle.emit(session, project, "payment.paid", details)
    return request


async def _pay(
    session: AsyncSession, project: Project, request: PaymentRequest, reference: str | None
) -> None:
    paid = await session.execute(
        update(Contract)
        .where(
            Contract.id == request.contract_id,
            Contract.paid_fen + request.amount_fen <= Contract.amount_fen,
        )
        .values(paid_fen=Contract.paid_fen + request.amount_fen, version=Contract.version + 1)
        .returning(Contract.id)
        .execution_options(synchronize_session="fetch")
    )
    if paid.first() is None:
        raise Conflict("The payment would exceed the contract amount", code="contract_exceeded")
    now = utcnow()
    session.add(
        LedgerEntry(
            project_id=project.id,
            contract_id=request.contract_id,
            tranche_id=request.tranche_id,
            payment_request_id=request.id,
            fund_id=project.fund_id,
            pool_id=project.pool_id,
            amount_fen=request.amount_fen,
            bank_reference=reference,
            paid_at=now,
        )
    )
    tranche = await session.get(Tranche, request.tranche_id, with_for_update=True)
    assert tranche is not None
    tranche.paid_at = now
    request.status = PaymentStatus.paid
    request.paid_at = now
    await session.flush()


async def requests_of(
    session: AsyncSession, *, principal: Principal, project_id: uuid.UUID
) -> tuple[list[PaymentRequest], list[PaymentAttempt]]:
    await get_project(session, principal=principal, project_id=project_id)
    requests = list(
        (
            await session.execute(
                select(PaymentRequest)
                .where(PaymentRequest.project_id == project_id)
                .order_by(PaymentRequest.requested_at)
            )
        ).scalars()
    )
    attempts = list(
        (
            await session.execute(
                select(PaymentAttempt)
                .where(PaymentAttempt.payment_request_id.in_([r.id for r in requests]))
                .order_by(PaymentAttempt.attempt_no)
            )
        ).scalars()
    )
    return requests, attempts


async def ledger_of(
    session: AsyncSession, *, principal: Principal, project_id: uuid.UUID
) -> tuple[Contract, list[LedgerEntry], int]:
    project = await get_project(session, principal=principal, project_id=project_id)
    contract = await contract_of(session, project)
    entries = list(
        (
            await session.execute(
                select(LedgerEntry)
                .where(LedgerEntry.project_id == project_id)
                .order_by(LedgerEntry.id)
            )
        ).scalars()
    )
    withheld = sum(
        t.amount_fen for t in await tranches_of(session, contract.id) if t.withheld_at is not None
    )
    return contract, entries, withheld
