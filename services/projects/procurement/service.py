"""Procurement (统一采购): open it, record bids, award to the best-scored bid.

Scoring is the "lowest price first" comprehensive method (综合评分法, 财政部令第87号
第五十五条): price score = lowest valid price / own price × price weight; total =
technical score × (100 − price weight) / 100 + price score; ties go to the lower
price, then the earlier bid.

Bidders are organizations of the register that it finds eligible under the call's
admission criteria; their names are the registry's. Only qualified bids are scored: a
bid is disqualified with a reason (its bidder found ineligible at the award, false
documents, ...), which revokes the award if it had won, and the next-ranked qualified
bid is awarded instead. A procurement that cannot be awarded is cancelled with a reason
(废标): the project goes back to `approved` and procures again.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.projects.access import get_project, require_manager
from services.projects.calls.models import Call
from services.projects.core import lifecycle
from services.projects.core.models import Project, ProjectStage
from services.projects.ocds.releases import remember_party
from services.projects.procurement.models import Bid, Procurement, ProcurementStatus
from services.projects.procurement.schemas import (
    BidCreate,
    BidOut,
    Cancellation,
    Disqualification,
    ProcurementCreate,
    ProcurementOut,
)
from services.projects.reference.code_lists import MIN_BIDS, ProcurementMethod
from shared.auth import Principal
from shared.db import utcnow
from shared.errors import Conflict, FieldError, NotFound, ProblemError, Unprocessable
from shared.interservice import AdmissionCriteria, OrganizationSummary

CENT = Decimal("0.01")
# Asks the registry whether the organization may supply the project under the call's
# criteria: its summary if so, else a problem (unknown, ineligible, registry down).
EligibilityCheck = Callable[[uuid.UUID, AdmissionCriteria], Awaitable[OrganizationSummary]]


async def procurement_of(
    session: AsyncSession, project: Project, *, required: bool = True
) -> Procurement | None:
    """The project's live procurement (cancelled ones are kept, but no longer live)."""
    found = (
        await session.execute(
            select(Procurement).where(
                Procurement.project_id == project.id, Procurement.cancelled_at.is_(None)
            )
        )
    ).scalar_one_or_none()
    if found is None and required:
        raise Conflict("The project's procurement has not been opened", code="procurement_missing")
    return found


async def present(session: AsyncSession, procurement: Procurement) -> ProcurementOut:
    bids = await session.execute(
        select(Bid)
        .where(Bid.procurement_id == procurement.id)
        .order_by(Bid.rank.asc().nulls_last(), Bid.submitted_at, Bid.id)
    )
    return ProcurementOut.model_validate(
        {
            **{c.key: getattr(procurement, c.key) for c in Procurement.__table__.columns},
            "min_bids": MIN_BIDS[procurement.method],
            "bids": [BidOut.model_validate(bid) for bid in bids.scalars()],
        }
    )


async def open_procurement(
    session: AsyncSession, *, principal: Principal, project_id: uuid.UUID, data: ProcurementCreate
) -> Procurement:
    project = await get_project(session, principal=principal, project_id=project_id, lock=True)
    require_manager(principal, project)
    lifecycle.require_stage(project, ProjectStage.approved, action="open the procurement")
    single = data.method is ProcurementMethod.single_source
    if (single and data.price_weight_pct != 0) or (
        not single and not 10 <= data.price_weight_pct <= 30
    ):
        raise Unprocessable(
            "The price weight must be 10–30 for services, 0 for single source",
            code="invalid_price_weight",
            errors=[
                FieldError(field="body.price_weight_pct", message="out of range", code="range")
            ],
        )
    procurement = Procurement(
        id=uuid.uuid4(),
        project_id=project.id,
        method=data.method,
        price_weight_pct=data.price_weight_pct,
        budget_fen=project.requested_fen,
        notice_url=data.notice_url,
        status=ProcurementStatus.open,
        opened_by=principal.sub,
    )
    session.add(procurement)
    await session.flush()
    await lifecycle.move(
        session,
        project,
        ProjectStage.procuring,
        actor=principal,
        action="procurement_opened",
        details={"method": data.method.value, "budget_fen": procurement.budget_fen},
    )
    return procurement


async def get(session: AsyncSession, *, principal: Principal, project_id: uuid.UUID) -> Procurement:
    """The live procurement, else the latest cancelled one (so that its reason shows)."""
    project = await get_project(session, principal=principal, project_id=project_id)
    procurement = (
        await session.execute(
            select(Procurement)
            .where(Procurement.project_id == project.id)
            .order_by(Procurement.cancelled_at.desc().nulls_first(), Procurement.opened_at.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if procurement is None:
        raise NotFound("The project has no procurement yet", code="procurement_not_found")
    return procurement


async def _live_for_command(
    session: AsyncSession, principal: Principal, project_id: uuid.UUID, *, action: str
) -> tuple[Project, Procurement]:
    """The locked project, managed by the principal and procuring, and its procurement."""
    project = await get_project(session, principal=principal, project_id=project_id, lock=True)
    require_manager(principal, project)
    lifecycle.require_stage(project, ProjectStage.procuring, action=action)
    procurement = await procurement_of(session, project)
    assert procurement is not None
    return project, procurement


async def _admission(session: AsyncSession, project: Project) -> AdmissionCriteria:
    """Whom the project's call admits: its supplier must be admitted as its applicant was."""
    call = await session.get(Call, project.call_id)
    assert call is not None
    return call.admission()


async def add_bid(
    session: AsyncSession,
    *,
    principal: Principal,
    project_id: uuid.UUID,
    data: BidCreate,
    check_eligible: EligibilityCheck,
) -> Procurement:
    project, procurement = await _live_for_command(
        session, principal, project_id, action="record a bid"
    )
    if procurement.status is not ProcurementStatus.open:
        raise Conflict("The procurement is already awarded", code="procurement_awarded")
    if data.price_fen > procurement.budget_fen:
        raise Unprocessable(
            f"The bid exceeds the budget of {procurement.budget_fen} fen", code="bid_over_budget"
        )
    # The project's row lock serialises bids; the unique constraint stays as a backstop.
    existing = await session.execute(
        select(Bid.id).where(
            Bid.procurement_id == procurement.id, Bid.bidder_org_id == data.bidder_org_id
        )
    )
    if existing.first() is not None:
        raise Conflict("This organization has already bid", code="bid_exists")
    # Asked last, once every local rule passed: the registry's answer names the bidder.
    bidder = await check_eligible(data.bidder_org_id, await _admission(session, project))
    await remember_party(session, bidder)  # its USCC, for the OCDS parties
    session.add(
        Bid(
            id=uuid.uuid4(),
            procurement_id=procurement.id,
            bidder_name=bidder.name,
            **data.model_dump(),
        )
    )
    await session.flush()
    await lifecycle.note(
        session,
        project,
        actor=principal,
        action="bid_recorded",
        details={"bidder_org_id": str(data.bidder_org_id), "price_fen": data.price_fen},
    )
    return procurement


def score(bids: list[Bid], price_weight_pct: int) -> list[Bid]:
    """Score and rank the bids in place; returns them best first."""
    lowest = min(bid.price_fen for bid in bids)
    weight = Decimal(price_weight_pct)
    for bid in bids:
        price_score = (Decimal(lowest) / Decimal(bid.price_fen) * weight).quantize(
            CENT, ROUND_HALF_UP
        )
        technical = (bid.technical_score * (100 - weight) / 100).quantize(CENT, ROUND_HALF_UP)
        bid.price_score = price_score
        bid.total_score = technical + price_score
    ranked = sorted(bids, key=lambda b: (-(b.total_score or 0), b.price_fen, b.submitted_at))
    for rank, bid in enumerate(ranked, start=1):
        bid.rank = rank
    return ranked


async def award(
    session: AsyncSession,
    *,
    principal: Principal,
    project_id: uuid.UUID,
    check_eligible: EligibilityCheck,
) -> Procurement:
    """Award to the best-ranked qualified bid, whose bidder must still be eligible."""
    project, procurement = await _live_for_command(
        session, principal, project_id, action="award the procurement"
    )
    if procurement.status is not ProcurementStatus.open:
        raise Conflict("The procurement is already awarded", code="procurement_awarded")
    bids = list(
        (await session.execute(select(Bid).where(Bid.procurement_id == procurement.id))).scalars()
    )
    qualified = [bid for bid in bids if bid.qualified]
    needed = MIN_BIDS[procurement.method]
    if len(qualified) < needed:
        raise Conflict(
            f"{procurement.method.value} needs at least {needed} qualified bids, "
            f"{len(qualified)} qualified of {len(bids)} recorded; record more bids or "
            "cancel the procurement to procure again",
            code="not_enough_bids",
        )
    winner = score(qualified, procurement.price_weight_pct)[0]
    # A supplier on the abnormal list or failing its inspection cannot be awarded: the
    # manager disqualifies its bid, and the next-ranked qualified bid is awarded.
    try:
        await check_eligible(winner.bidder_org_id, await _admission(session, project))
    except ProblemError as problem:
        if problem.status != 422:
            raise
        problem.detail = (
            f"The best-ranked bid {winner.id} ({winner.bidder_name}) cannot be awarded: "
            f"{problem.detail}; disqualify it to award the next-ranked bid"
        )
        raise
    procurement.status = ProcurementStatus.awarded
    procurement.awarded_bid_id = winner.id
    procurement.awarded_at = utcnow()
    project.supplier_org_id = winner.bidder_org_id
    project.supplier_name = winner.bidder_name
    await session.flush()
    await lifecycle.note(
        session,
        project,
        actor=principal,
        action="procurement_awarded",
        details={
            "bid_id": str(winner.id),
            "supplier_org_id": str(winner.bidder_org_id),
            "price_fen": winner.price_fen,
            "total_score": str(winner.total_score),
        },
    )
    await lifecycle.emit(
        session,
        project,
        "procurement.awarded",
        {"supplier_org_id": str(winner.bidder_org_id), "price_fen": winner.price_fen},
    )
    return procurement


async def disqualify(
    session: AsyncSession, *, principal: Principal, project_id: uuid.UUID, data: Disqualification
) -> Procurement:
    """Disqualify a bid with its reason; if it had won, the award is revoked."""
    project, procurement = await _live_for_command(
        session, principal, project_id, action="disqualify a bid"
    )
    bid = (
        await session.execute(
            select(Bid)
            .where(Bid.id == data.bid_id, Bid.procurement_id == procurement.id)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if bid is None:
        raise NotFound("No such bid in the project's procurement", code="bid_not_found")
    if not bid.qualified:
        raise Conflict("The bid is already disqualified", code="bid_disqualified")
    bid.disqualified_at = utcnow()
    bid.disqualified_by = principal.sub
    bid.disqualification_reason = data.reason
    # Never ranked again: the remaining qualified bids are scored among themselves.
    bid.rank = bid.price_score = bid.total_score = None
    revoked = procurement.awarded_bid_id == bid.id
    if revoked:
        procurement.status = ProcurementStatus.open
        procurement.awarded_bid_id = procurement.awarded_at = None
        project.supplier_org_id = project.supplier_name = None
    await session.flush()
    details = {
        "bid_id": str(bid.id),
        "bidder_org_id": str(bid.bidder_org_id),
        "award_revoked": revoked,
    }
    await lifecycle.note(
        session,
        project,
        actor=principal,
        action="bid_disqualified",
        details={**details, "reason": data.reason},
    )
    await lifecycle.emit(session, project, "procurement.bid_disqualified", details)
    return procurement


async def cancel(
    session: AsyncSession, *, principal: Principal, project_id: uuid.UUID, data: Cancellation
) -> Procurement:
    """Cancel the live procurement (废标): the project is `approved` again and may procure
    anew; the cancelled procurement, its bids and the reason are kept."""
    project, procurement = await _live_for_command(
        session, principal, project_id, action="cancel the procurement"
    )
    procurement.status = ProcurementStatus.cancelled
    procurement.cancelled_at = utcnow()
    procurement.cancelled_by = principal.sub
    procurement.cancellation_reason = data.reason
    project.supplier_org_id = project.supplier_name = None
    await session.flush()
    await lifecycle.move(
        session,
        project,
        ProjectStage.approved,
        actor=principal,
        action="procurement_cancelled",
        details={"procurement_id": str(procurement.id), "reason": data.reason},
    )
    await lifecycle.emit(
        session, project, "procurement.cancelled", {"procurement_id": str(procurement.id)}
    )
    return procurement
