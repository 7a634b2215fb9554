"""Rules of funds: only the bureau creates them and grants from them; money is integer fen.

A pool's `allocated_fen` moves only through `allocate`, a conditional UPDATE
(`allocated + x <= amount`) backed by the table's CHECK: whatever the concurrency, a
pool is never overdrawn, and every movement leaves an `allocation` row.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.projects.access import MONEY_READERS, is_finance
from services.projects.base import infra
from services.projects.funds.models import Allocation, AllocationKind, Fund, FundPool
from services.projects.funds.schemas import AllocationOut, FundCreate, FundOut, GrantCreate, PoolOut
from shared.auth import Principal, Role
from shared.errors import Conflict, Forbidden, NotFound
from shared.outbox import record_event
from shared.pagination import Page, PageParams, paginate, to_page


def _require_reader(principal: Principal) -> None:
    if principal.role not in MONEY_READERS:
        raise Forbidden(f"Role {principal.role} may not read funds", code="role_forbidden")


def _require_bureau(principal: Principal) -> None:
    if principal.role is not Role.civil_affairs:
        raise Forbidden("Only the civil-affairs bureau manages funds", code="role_forbidden")


async def allocate(
    session: AsyncSession,
    *,
    pool_id: uuid.UUID,
    amount_fen: int,
    kind: AllocationKind,
    actor: str,
    project_id: uuid.UUID | None = None,
    org_id: uuid.UUID | None = None,
    note: str | None = None,
) -> Allocation:
    """Move `amount_fen` (negative gives back) on a pool, or 409 `pool_exhausted`."""
    moved = (
        await session.execute(
            update(FundPool)
            .where(
                FundPool.id == pool_id,
                FundPool.allocated_fen + amount_fen <= FundPool.amount_fen,
                FundPool.allocated_fen + amount_fen >= 0,
            )
            .values(allocated_fen=FundPool.allocated_fen + amount_fen)
            .returning(FundPool.fund_id)
            .execution_options(synchronize_session="fetch")
        )
    ).first()
    if moved is None:
        exists = await session.get(FundPool, pool_id)
        if exists is None:
            raise NotFound("No such pool", code="pool_not_found")
        raise Conflict(
            f"The pool has {exists.amount_fen - exists.allocated_fen} fen left, "
            f"{amount_fen} fen were asked for",
            code="pool_exhausted",
        )
    allocation = Allocation(
        id=uuid.uuid4(),
        fund_id=moved.fund_id,
        pool_id=pool_id,
        kind=kind,
        amount_fen=amount_fen,
        project_id=project_id,
        org_id=org_id,
        note=note,
        created_by=actor,
    )
    session.add(allocation)
    await session.flush()
    await record_event(
        session,
        infra.outbox,
        event_type="fund.allocated",
        subject_type="fund_pool",
        subject_id=pool_id,
        data={
            "allocation_id": str(allocation.id),
            "pool_id": str(pool_id),
            "kind": kind.value,
            "amount_fen": amount_fen,
            "project_id": str(project_id) if project_id else None,
        },
    )
    return allocation


async def create_fund(session: AsyncSession, *, principal: Principal, data: FundCreate) -> FundOut:
    _require_bureau(principal)
    exists = await session.execute(
        select(Fund.id).where(Fund.year == data.year, Fund.name == data.name).limit(1)
    )
    if exists.first() is not None:
        raise Conflict("A fund with this name exists for that year", code="fund_exists")
    fund = Fund(
        id=uuid.uuid4(),
        year=data.year,
        name=data.name,
        total_fen=data.total_fen,
        description=data.description,
    )
    session.add(fund)
    await session.flush()
    pools = [
        FundPool(id=uuid.uuid4(), fund_id=fund.id, allocated_fen=0, **pool.model_dump())
        for pool in data.pools
    ]
    session.add_all(pools)
    await session.flush()
    await record_event(
        session,
        infra.outbox,
        event_type="fund.created",
        subject_type="fund",
        subject_id=fund.id,
        data={"id": str(fund.id), "year": fund.year, "total_fen": fund.total_fen},
    )
    return _present(fund, pools)


async def _fund(session: AsyncSession, fund_id: uuid.UUID) -> Fund:
    fund = await session.get(Fund, fund_id)
    if fund is None:
        raise NotFound("No such fund", code="fund_not_found")
    return fund


async def _pools(session: AsyncSession, fund_ids: Sequence[uuid.UUID]) -> list[FundPool]:
    if not fund_ids:
        return []
    query = select(FundPool).where(FundPool.fund_id.in_(fund_ids)).order_by(FundPool.name)
    return list((await session.execute(query)).scalars())


async def get_fund(session: AsyncSession, *, principal: Principal, fund_id: uuid.UUID) -> FundOut:
    _require_reader(principal)
    fund = await _fund(session, fund_id)
    return _present(fund, await _pools(session, [fund.id]))


async def list_funds(
    session: AsyncSession, *, principal: Principal, year: int | None, page: PageParams
) -> Page[FundOut]:
    _require_reader(principal)
    query = select(Fund)
    if year is not None:
        query = query.where(Fund.year == year)
    # (year, name) is unique: pages neither repeat nor skip a fund.
    funds, total = await paginate(session, query, page, order_by=(Fund.year.desc(), Fund.name))
    pools = await _pools(session, [fund.id for fund in funds])
    return to_page(
        funds, total, page, lambda fund: _present(fund, [p for p in pools if p.fund_id == fund.id])
    )


async def grant(
    session: AsyncSession, *, principal: Principal, fund_id: uuid.UUID, data: GrantCreate
) -> AllocationOut:
    _require_bureau(principal)
    pool = await session.get(FundPool, data.pool_id)
    if pool is None or pool.fund_id != fund_id:
        raise NotFound("No such pool in this fund", code="pool_not_found")
    allocation = await allocate(
        session,
        pool_id=data.pool_id,
        amount_fen=data.amount_fen,
        kind=AllocationKind.grant,
        actor=principal.sub,
        org_id=data.org_id,
        note=data.note,
    )
    return AllocationOut.model_validate(allocation)


async def list_allocations(
    session: AsyncSession, *, principal: Principal, fund_id: uuid.UUID, page: PageParams
) -> Page[AllocationOut]:
    if principal.role not in {Role.civil_affairs, Role.auditor} and not is_finance(principal):
        raise Forbidden(
            "Allocations are for the bureau, finance and auditors", code="role_forbidden"
        )
    await _fund(session, fund_id)
    query = select(Allocation).where(Allocation.fund_id == fund_id)
    rows, total = await paginate(
        session, query, page, order_by=(Allocation.created_at, Allocation.id)
    )
    return to_page(rows, total, page, AllocationOut.model_validate)


def _present(fund: Fund, pools: Sequence[FundPool]) -> FundOut:
    return FundOut(
        id=fund.id,
        year=fund.year,
        name=fund.name,
        total_fen=fund.total_fen,
        description=fund.description,
        version=fund.version,
        created_at=fund.created_at,
        pools=[PoolOut.model_validate(pool) for pool in pools],
    )
