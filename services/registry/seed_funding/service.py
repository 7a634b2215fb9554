"""Seed funding (种子基金) drawn from the year's incubation pool, line by line in a ledger.

The seed (庐阳区): "培育“早期”，注重资源到位；一方面通过链接落地社区、给予种子基金支持、协助
资源对接等多方面支持".

- One pool per year, its amount in integer fen; `balance_fen` is what is left.
- Each grant goes to an incubated organization and is a ledger line with the balance
  after it. The balance never goes below zero: a grant takes the pool's row lock before
  it reads the balance, so two grants at once are decided one after the other (the
  second sees what the first left), and a CHECK on the balance backs it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import events
from services.registry.incubation import repository as incubations
from services.registry.incubation.service import refuse_future
from services.registry.organizations import service as organizations
from services.registry.seed_funding import repository
from services.registry.seed_funding.models import SeedGrant, SeedPool
from services.registry.seed_funding.schemas import SeedGrantCreate, SeedPoolCreate
from shared.auth import Principal
from shared.errors import Conflict, NotFound
from shared.pagination import PageParams


async def create_pool(
    session: AsyncSession, *, principal: Principal, data: SeedPoolCreate
) -> SeedPool:
    pool = SeedPool(
        id=uuid.uuid4(),
        year=data.year,
        amount_fen=data.amount_fen,
        balance_fen=data.amount_fen,
        created_by=principal.sub,
    )
    session.add(pool)
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict("The year has its seed pool already", code="seed_pool_exists") from None
    return pool


async def get_pool(
    session: AsyncSession, pool_id: uuid.UUID, *, for_update: bool = False
) -> SeedPool:
    pool = await repository.get(session, pool_id, for_update=for_update)
    if pool is None:
        raise NotFound("No such seed pool", code="seed_pool_not_found")
    return pool


async def pools(session: AsyncSession, page: PageParams) -> tuple[Sequence[SeedPool], int]:
    return await repository.page(session, page)


async def grant(
    session: AsyncSession, *, principal: Principal, pool_id: uuid.UUID, data: SeedGrantCreate
) -> SeedGrant:
    refuse_future(data.granted_on, "body.granted_on")
    # The pool's row lock before the balance is read: concurrent grants queue here.
    pool = await get_pool(session, pool_id, for_update=True)
    organization = await organizations.get(
        session, principal=principal, organization_id=data.organization_id
    )
    organizations.refuse_if_closed(organization)
    if await incubations.of_organization(session, organization.id) is None:
        raise Conflict("Seed funding goes to incubated organizations", code="not_incubated")
    if data.amount_fen > pool.balance_fen:
        raise Conflict(
            f"The pool has {pool.balance_fen} fen left, less than {data.amount_fen}",
            code="seed_pool_overdrawn",
        )
    pool.balance_fen -= data.amount_fen
    line = SeedGrant(
        id=uuid.uuid4(),
        pool_id=pool.id,
        organization_id=organization.id,
        amount_fen=data.amount_fen,
        purpose=data.purpose,
        granted_on=data.granted_on,
        balance_after_fen=pool.balance_fen,
        granted_by=principal.sub,
    )
    session.add(line)
    await session.flush()
    await events.emit(
        session,
        "organization.seed_funding_granted",
        subject_type=events.ORGANIZATION,
        subject_id=organization.id,
        data={"grant_id": line.id, "pool_id": pool.id, "amount_fen": line.amount_fen},
    )
    return line


async def ledger(
    session: AsyncSession, *, pool_id: uuid.UUID, page: PageParams
) -> tuple[Sequence[SeedGrant], int]:
    pool = await get_pool(session, pool_id)
    return await repository.ledger(session, pool.id, page)


async def grants_to(
    session: AsyncSession, *, principal: Principal, organization_id: uuid.UUID
) -> Sequence[SeedGrant]:
    organization = await organizations.get(
        session, principal=principal, organization_id=organization_id
    )
    return await repository.grants_to(session, organization.id)
