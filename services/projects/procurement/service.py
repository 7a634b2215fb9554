"""Procurement (统一采购): open it, record bids, award to the best-scored bid.

Scoring is the "lowest price first" comprehensive method (综合评分法, 财政部令第87号
第五十五条): price score = lowest valid price / own price × price weight; total =
technical score × (100 − price weight) / 100 + price score; ties go to the lower
price, then the earlier bid.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.projects.codes import MIN_BIDS, ProcurementMethod
from services.projects.core import lifecycle
from services.projects.core.access import get_project, require_manager
from services.projects.core.models import Project, ProjectStage
from services.projects.procurement.models import Bid, Procurement, ProcurementStatus
from services.projects.procurement.schemas import (
    BidCreate,
    BidOut,
    ProcurementCreate,
    ProcurementOut,
)
from shared.auth import Principal
from shared.db import utcnow
from shared.errors import Conflict, FieldError, NotFound, Unprocessable

CENT = Decimal("0.01")
EligibilityCheck = Callable[[uuid.UUID], Awaitable[object]]


async def procurement_of(
    session: AsyncSession, project: Project, *, required: bool = True
) -> Procurement | None:
    found = (
        await session.execute(select(Procurement).where(Procurement.project_id == project.id))
    ).scalar_one_or_none()
    if found is None and required:
        raise Conflict("The project's procurement has not been opened", code="procurement_missing")
    return found


async def present(session: AsyncSession, procurement: Procurement) -> ProcurementOut:
    bids = await session.execute(
        select(Bid)
        .where(Bid.procurement_id == procurement.id)
        .order_by(Bid.rank.asc().nulls_last(), Bid.submitted_at)
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
    project = await get_project(session, principal=principal, project_id=project_id)
    procurement = await procurement_of(session, project, required=False)
    if procurement is None:
        raise NotFound("The project has no procurement yet", code="procurement_not_found")
    return procurement


async def add_bid(
    session: AsyncSession, *, principal: Principal, project_id: uuid.UUID, data: BidCreate
) -> Procurement:
    project = await get_project(session, principal=principal, project_id=project_id, lock=True)
    require_manager(principal, project)
    lifecycle.require_stage(project, ProjectStage.procuring, action="record a bid")
    procurement = await procurement_of(session, project)
    assert procurement is not None
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
    session.add(Bid(id=uuid.uuid4(), procurement_id=procurement.id, **data.model_dump()))
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
    project = await get_project(session, principal=principal, project_id=project_id, lock=True)
    require_manager(principal, project)
    lifecycle.require_stage(project, ProjectStage.procuring, action="award the procurement")
    procurement = await procurement_of(session, project)
    assert procurement is not None
    if procurement.status is not ProcurementStatus.open:
        raise Conflict("The procurement is already awarded", code="procurement_awarded")
    bids = list(
        (await session.execute(select(Bid).where(Bid.procurement_id == procurement.id))).scalars()
    )
    needed = MIN_BIDS[procurement.method]
    if len(bids) < needed:
        raise Conflict(
            f"{procurement.method.value} needs at least {needed} bids, {len(bids)} recorded",
            code="not_enough_bids",
        )
    winner = score(bids, procurement.price_weight_pct)[0]
    # A supplier on the abnormal list or failing its inspection cannot be awarded.
    await check_eligible(winner.bidder_org_id)
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
