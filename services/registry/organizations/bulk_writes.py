"""Imports and the sweeps take turns, so that neither waits for the other holding locks.

An import writes its organizations in a few statements per batch of rows (COPY,
`UPDATE ... FROM`), each folding its rows into `organization_tally` (migration 0006) in
key order, batch after batch, and it locks the existing organizations of each batch
before writing it. A sweep (annual-report deadline, grade expiry) locks its
organizations, then changes them one statement at a time, taking their tally rows in
the order of the organizations. Both at once could take the same tally rows in
opposite orders (a deadlock: PostgreSQL aborts one of them, the import's whole file or
the sweep). So an import that writes holds a shared transaction-scoped advisory lock
from before it reads the register, and a sweep an exclusive one before it locks
anything: a sweep waits for the running imports (new imports wait for it), and imports
still run side by side.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

_KEY = func.hashtextextended("registry:bulk-organization-writes", 0)


async def import_writing(session: AsyncSession) -> None:
    """Wait until no sweep runs; sweeps then wait for this transaction."""
    await session.execute(select(func.pg_advisory_xact_lock_shared(_KEY)))


async def sweep_alone(session: AsyncSession) -> None:
    """Wait until no import writes; imports then wait for this transaction."""
    await session.execute(select(func.pg_advisory_xact_lock(_KEY)))


async def sweep_alone_unless_busy(session: AsyncSession) -> bool:
    """`sweep_alone`, or False at once when an import is writing."""
    return bool(await session.scalar(select(func.pg_try_advisory_xact_lock(_KEY))))
