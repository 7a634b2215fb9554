"""Closure (结项): a workflow case, once the evaluation is concluded and payments reconciled.

Reconciled means: no payment request in flight, every tranche paid or withheld, and
the ledger adding up to what the contract records as paid. When the case is approved
the contract closes and what the project did not spend goes back to its pool.
"""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.projects.access import get_project, is_member
from services.projects.base import infra
from services.projects.core import lifecycle
from services.projects.core.models import Project, ProjectStage
from services.projects.funds.models import AllocationKind
from services.projects.funds.service import allocate
from services.projects.meetings.models import MeetingKind
from services.projects.meetings.service import require_meeting
from services.projects.payments.models import LedgerEntry, PaymentRequest, PaymentStatus
from services.projects.procurement.contracts import contract_of, tranches_of
from services.projects.procurement.models import ContractStatus
from shared.auth import Principal, Role
from shared.cases import request_case
from shared.errors import Conflict, Forbidden
from shared.interservice import CaseRequest, MaterialRef

CASE_TYPE = "project_closure"


class ClosureRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    summary: str = Field(min_length=1, max_length=20_000, description="结项报告摘要")
    materials: list[MaterialRef] = Field(
        default_factory=list, max_length=50, description="Codes of the project_closure case"
    )


async def reconcile(session: AsyncSession, project: Project) -> dict[str, int]:
    """Check the money is settled; returns the figures, or 409 `payments_unreconciled`."""
    contract = await contract_of(session, project)
    in_flight = await session.scalar(
        select(func.count()).where(
            PaymentRequest.project_id == project.id,
            PaymentRequest.status.in_([PaymentStatus.requested, PaymentStatus.approved]),
        )
    )
    tranches = await tranches_of(session, contract.id)
    unsettled = [t.seq for t in tranches if t.paid_at is None and t.withheld_at is None]
    ledger = await session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount_fen), 0)).where(
            LedgerEntry.project_id == project.id
        )
    )
    problems = []
    if in_flight:
        problems.append(f"{in_flight} payment request(s) in flight")
    if unsettled:
        problems.append(f"tranches {unsettled} neither paid nor withheld")
    if ledger != contract.paid_fen:
        problems.append(f"ledger {ledger} fen differs from the contract's paid {contract.paid_fen}")
    if problems:
        raise Conflict(
            "Payments are not reconciled: " + "; ".join(problems), code="payments_unreconciled"
        )
    withheld = sum(t.amount_fen for t in tranches if t.withheld_at is not None)
    return {
        "amount_fen": contract.amount_fen,
        "paid_fen": contract.paid_fen,
        "withheld_fen": withheld,
    }


async def request_closure(
    session: AsyncSession, *, principal: Principal, project_id: uuid.UUID, data: ClosureRequest
) -> Project:
    project = await get_project(session, principal=principal, project_id=project_id, lock=True)
    if not is_member(principal, project) and principal.role is not Role.civil_affairs:
        raise Forbidden(
            "The project's organization or the bureau requests closure", code="not_project_member"
        )
    lifecycle.require_stage(project, ProjectStage.evaluated, action="request closure")
    await require_meeting(session, project, MeetingKind.evaluation_briefing)
    figures = await reconcile(session, project)
    project.closure_command_id = uuid.uuid4()
    await lifecycle.move(
        session,
        project,
        ProjectStage.closing,
        actor=principal,
        action="closure_requested",
        details=figures,
    )
    case = CaseRequest(
        command_id=project.closure_command_id,
        case_type=CASE_TYPE,
        subject_service="projects",
        subject_type="project",
        subject_id=str(project.id),
        # Its review includes the purchasing department that published the call.
        subject_department=project.department.value,
        applicant_org_id=str(project.supplier_org_id or project.org_id),
        applicant_name=project.supplier_name or project.org_name,
        title=f"{project.title}:结项",
        materials=data.materials,
    )
    await request_case(session, infra.outbox, case, subject_type="project", subject_id=project.id)
    return project


async def decide(
    session: AsyncSession, project: Project, *, outcome: str, case_id: uuid.UUID, reason: str | None
) -> None:
    lifecycle.require_stage(project, ProjectStage.closing, action="decide the closure")
    project.closure_case_id = case_id
    details: dict[str, object] = {"case_id": str(case_id), "reason": reason}
    if outcome != "approved":
        await lifecycle.move(
            session,
            project,
            ProjectStage.evaluated,
            actor="service:workflow",
            action=f"closure_{outcome}",
            details=details,
        )
        return
    contract = await contract_of(session, project)
    contract.status = ContractStatus.closed
    unspent = contract.amount_fen - contract.paid_fen
    if unspent:
        await allocate(
            session,
            pool_id=project.pool_id,
            amount_fen=-unspent,
            kind=AllocationKind.release,
            actor="service:workflow",
            project_id=project.id,
            note=f"结项释放 {contract.number}",
        )
    details["released_fen"] = unspent
    await lifecycle.move(
        session,
        project,
        ProjectStage.closed,
        actor="service:workflow",
        action="closed",
        details=details,
    )
    await lifecycle.emit(session, project, "project.closed", {"released_fen": unspent})
