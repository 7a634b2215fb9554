"""Contracts: signing allocates the amount from the pool; amendments keep every version.

Tranche amounts are the percentages of the amount in fen, rounded down, the remainder
going to the last tranche, so that they always add up to the contract exactly. An
amendment changes the amount or the end date: paid tranches keep what was paid, the
rest of the new amount is spread over the unpaid tranches by their percentages; a new
end date moves the progress-report schedule of an initiated project with it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.projects.access import get_project, require_manager
from services.projects.core import lifecycle
from services.projects.core.models import Project, ProjectStage
from services.projects.funds.models import AllocationKind
from services.projects.funds.service import allocate
from services.projects.procurement.models import (
    AmendmentStatus,
    Bid,
    Contract,
    ContractAmendment,
    ContractStatus,
    ContractVersion,
    ProcurementStatus,
    Tranche,
    TrancheTrigger,
)
from services.projects.procurement.schemas import (
    AmendmentCreate,
    AmendmentOut,
    ContractCreate,
    ContractOut,
    ContractVersionOut,
    TrancheOut,
)
from services.projects.procurement.service import procurement_of
from services.projects.supervision.schedule import apply_schedule
from shared.auth import Principal, Role
from shared.concurrency import require_version
from shared.db import utcnow
from shared.errors import Conflict, Forbidden, NotFound, Unprocessable

AMENDABLE = (ProjectStage.contracted, ProjectStage.implementing, ProjectStage.evaluating)


def split(amount_fen: int, percents: Sequence[int]) -> list[int]:
    """Shares of `amount_fen` by weights, rounded down, the remainder on the last one."""
    total = sum(percents)
    shares = [amount_fen * p // total for p in percents]
    shares[-1] += amount_fen - sum(shares)
    return shares


async def contract_of(session: AsyncSession, project: Project) -> Contract:
    contract = (
        await session.execute(select(Contract).where(Contract.project_id == project.id))
    ).scalar_one_or_none()
    if contract is None:
        raise Conflict("The project has no contract yet", code="contract_missing")
    return contract


async def tranches_of(session: AsyncSession, contract_id: uuid.UUID) -> list[Tranche]:
    rows = await session.execute(
        select(Tranche).where(Tranche.contract_id == contract_id).order_by(Tranche.seq)
    )
    return list(rows.scalars())


async def mark_milestone(
    session: AsyncSession, project: Project, trigger: TrancheTrigger
) -> list[int]:
    """Make the tranches tied to `trigger` payable; returns their sequence numbers."""
    contract = (
        await session.execute(select(Contract).where(Contract.project_id == project.id))
    ).scalar_one_or_none()
    if contract is None:
        return []
    met = []
    for tranche in await tranches_of(session, contract.id):
        if tranche.trigger is trigger and tranche.milestone_met_at is None:
            tranche.milestone_met_at = utcnow()
            met.append(tranche.seq)
    await session.flush()
    return met


def _schedule(tranches: Sequence[Tranche]) -> list[dict[str, object]]:
    return [
        {
            "seq": t.seq,
            "percent": t.percent,
            "amount_fen": t.amount_fen,
            "trigger": t.trigger.value,
            "description": t.description,
        }
        for t in tranches
    ]


async def sign(
    session: AsyncSession, *, principal: Principal, project_id: uuid.UUID, data: ContractCreate
) -> Contract:
    project = await get_project(session, principal=principal, project_id=project_id, lock=True)
    require_manager(principal, project)
    lifecycle.require_stage(project, ProjectStage.procuring, action="sign the contract")
    procurement = await procurement_of(session, project)
    assert procurement is not None
    if procurement.status is not ProcurementStatus.awarded or procurement.awarded_bid_id is None:
        raise Conflict("The procurement has not been awarded", code="procurement_not_awarded")
    bid = await session.get(Bid, procurement.awarded_bid_id)
    assert bid is not None
    if await session.scalar(select(Contract.id).where(Contract.number == data.number)):
        raise Conflict("A contract with this number exists", code="contract_number_taken")
    contract = Contract(
        id=uuid.uuid4(),
        project_id=project.id,
        procurement_id=procurement.id,
        supplier_org_id=bid.bidder_org_id,
        number=data.number,
        amount_fen=bid.price_fen,
        paid_fen=0,
        start_on=data.start_on,
        end_on=data.end_on,
        signed_on=data.signed_on,
        current_version=1,
        status=ContractStatus.active,
    )
    session.add(contract)
    await session.flush()
    # The allocation is the money commitment: refused (409) if the pool cannot cover it.
    await allocate(
        session,
        pool_id=project.pool_id,
        amount_fen=contract.amount_fen,
        kind=AllocationKind.contract,
        actor=principal.sub,
        project_id=project.id,
        note=f"合同 {contract.number}",
    )
    amounts = split(contract.amount_fen, [t.percent for t in data.schedule])
    tranches = [
        Tranche(
            id=uuid.uuid4(),
            contract_id=contract.id,
            seq=seq,
            percent=t.percent,
            amount_fen=amount,
            trigger=t.trigger,
            description=t.description,
        )
        for seq, (t, amount) in enumerate(zip(data.schedule, amounts, strict=True), start=1)
    ]
    session.add_all(tranches)
    session.add(
        ContractVersion(
            contract_id=contract.id,
            number=1,
            amount_fen=contract.amount_fen,
            start_on=contract.start_on,
            end_on=contract.end_on,
            schedule=_schedule(tranches),
            approved_by=principal.sub,
        )
    )
    await session.flush()
    await lifecycle.move(
        session,
        project,
        ProjectStage.contracted,
        actor=principal,
        action="contract_signed",
        details={"contract_id": str(contract.id), "amount_fen": contract.amount_fen},
    )
    await mark_milestone(session, project, TrancheTrigger.contract_signed)
    await lifecycle.emit(
        session,
        project,
        "contract.signed",
        {"contract_id": str(contract.id), "amount_fen": contract.amount_fen},
    )
    return contract


async def present(session: AsyncSession, contract: Contract) -> ContractOut:
    tranches = await tranches_of(session, contract.id)
    versions = await session.execute(
        select(ContractVersion)
        .where(ContractVersion.contract_id == contract.id)
        .order_by(ContractVersion.number)
    )
    amendments = await session.execute(
        select(ContractAmendment)
        .where(ContractAmendment.contract_id == contract.id)
        .order_by(ContractAmendment.proposed_at)
    )
    last = tranches[-1].seq if tranches else None
    return ContractOut.model_validate(
        {
            **{c.key: getattr(contract, c.key) for c in Contract.__table__.columns},
            "tranches": [
                TrancheOut.model_validate(
                    {
                        **{c.key: getattr(t, c.key) for c in Tranche.__table__.columns},
                        "final": t.seq == last,
                    }
                )
                for t in tranches
            ],
            "versions": [ContractVersionOut.model_validate(v) for v in versions.scalars()],
            "amendments": [AmendmentOut.model_validate(a) for a in amendments.scalars()],
        }
    )


async def get(session: AsyncSession, *, principal: Principal, project_id: uuid.UUID) -> Contract:
    project = await get_project(session, principal=principal, project_id=project_id)
    try:
        return await contract_of(session, project)
    except Conflict:
        raise NotFound("The project has no contract yet", code="contract_not_found") from None


async def propose_amendment(
    session: AsyncSession, *, principal: Principal, project_id: uuid.UUID, data: AmendmentCreate
) -> ContractAmendment:
    project = await get_project(session, principal=principal, project_id=project_id, lock=True)
    require_manager(principal, project)
    lifecycle.require_stage(project, *AMENDABLE, action="amend the contract")
    contract = await contract_of(session, project)
    pending = await session.scalar(
        select(ContractAmendment.id).where(
            ContractAmendment.contract_id == contract.id,
            ContractAmendment.status == AmendmentStatus.proposed,
        )
    )
    if pending is not None:
        raise Conflict("Another amendment awaits a decision", code="amendment_pending")
    if data.new_end_on is not None and data.new_end_on <= contract.start_on:
        raise Unprocessable("The new end date precedes the start", code="invalid_period")
    if data.new_amount_fen is not None and data.new_amount_fen < contract.paid_fen:
        raise Unprocessable("The new amount is below what was paid", code="below_paid")
    amendment = ContractAmendment(
        id=uuid.uuid4(),
        contract_id=contract.id,
        status=AmendmentStatus.proposed,
        rationale=data.rationale,
        new_amount_fen=data.new_amount_fen,
        new_end_on=data.new_end_on,
        proposed_by=principal.sub,
    )
    session.add(amendment)
    await session.flush()
    await lifecycle.note(
        session,
        project,
        actor=principal,
        action="amendment_proposed",
        details={"amendment_id": str(amendment.id), "new_amount_fen": data.new_amount_fen},
    )
    return amendment


async def decide_amendment(
    session: AsyncSession,
    *,
    principal: Principal,
    project_id: uuid.UUID,
    amendment_id: uuid.UUID,
    approve: bool,
    note: str | None,
    if_match: str | None,
) -> Contract:
    if principal.role is not Role.civil_affairs:
        raise Forbidden(
            "The bureau, which holds the fund, decides amendments", code="role_forbidden"
        )
    project = await get_project(session, principal=principal, project_id=project_id, lock=True)
    contract = await contract_of(session, project)
    require_version(if_match, contract.version)
    amendment = await session.get(ContractAmendment, amendment_id, with_for_update=True)
    if amendment is None or amendment.contract_id != contract.id:
        raise NotFound("No such amendment", code="amendment_not_found")
    if amendment.status is not AmendmentStatus.proposed:
        raise Conflict(
            f"The amendment is already {amendment.status.value}", code="amendment_decided"
        )
    amendment.decided_by = principal.sub
    amendment.decided_at = utcnow()
    amendment.decision_note = note
    if not approve:
        amendment.status = AmendmentStatus.rejected
        await session.flush()
        await lifecycle.note(
            session,
            project,
            actor=principal,
            action="amendment_rejected",
            details={"amendment_id": str(amendment.id)},
        )
        return contract
    lifecycle.require_stage(project, *AMENDABLE, action="amend the contract")
    before = contract.amount_fen
    if amendment.new_amount_fen is not None and amendment.new_amount_fen != before:
        await _reprice(session, project, contract, amendment.new_amount_fen, principal)
    rescheduled = None
    if amendment.new_end_on is not None and amendment.new_end_on != contract.end_on:
        contract.end_on = amendment.new_end_on
        if project.stage is not ProjectStage.contracted:
            # Initiated: its progress reports follow the new period (before initiation
            # there are none yet, and initiation schedules them from the amended period).
            rescheduled = await apply_schedule(
                session, project.id, contract.start_on, contract.end_on
            )
    contract.current_version += 1
    amendment.status = AmendmentStatus.approved
    amendment.resulting_version = contract.current_version
    session.add(
        ContractVersion(
            contract_id=contract.id,
            number=contract.current_version,
            amount_fen=contract.amount_fen,
            start_on=contract.start_on,
            end_on=contract.end_on,
            schedule=_schedule(await tranches_of(session, contract.id)),
            rationale=amendment.rationale,
            amendment_id=amendment.id,
            approved_by=principal.sub,
        )
    )
    await session.flush()
    details = {
        "amendment_id": str(amendment.id),
        "version": contract.current_version,
        "amount_before_fen": before,
        "amount_after_fen": contract.amount_fen,
    }
    await lifecycle.note(
        session, project, actor=principal, action="contract_amended", details=details
    )
    if rescheduled is not None:
        await lifecycle.note(
            session,
            project,
            actor=principal,
            action="reports_rescheduled",
            details={"amendment_id": str(amendment.id), **rescheduled.as_details()},
        )
    await lifecycle.emit(session, project, "contract.amended", details)
    return contract


async def _reprice(
    session: AsyncSession, project: Project, contract: Contract, amount_fen: int, actor: Principal
) -> None:
    tranches = await tranches_of(session, contract.id)
    settled = [t for t in tranches if t.paid_at is not None or t.withheld_at is not None]
    open_ = [t for t in tranches if t not in settled]
    if not open_:
        raise Conflict("Every tranche is settled: nothing left to amend", code="nothing_to_amend")
    remaining = amount_fen - sum(t.amount_fen for t in settled)
    if remaining < 0:
        raise Unprocessable("The new amount is below what was paid", code="below_paid")
    await allocate(
        session,
        pool_id=project.pool_id,
        amount_fen=amount_fen - contract.amount_fen,
        kind=AllocationKind.amendment,
        actor=actor.sub,
        project_id=project.id,
        note=f"合同变更 {contract.number}",
    )
    for tranche, share in zip(open_, split(remaining, [t.percent for t in open_]), strict=True):
        tranche.amount_fen = share
    contract.amount_fen = amount_fen
    await session.flush()
