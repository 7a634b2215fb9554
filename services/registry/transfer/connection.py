"""The asyncpg connection under an import's session, for what SQLAlchemy makes slow in bulk.

COPY, and look-ups of thousands of keys as one array parameter: SQLAlchemy would
compile an `IN` of 5,000 bound parameters per statement and run its result processors
on every value of every row (a third of an update import's CPU).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession


async def asyncpg_connection(session: AsyncSession) -> Any:
    """The session's own connection, so that its statements run in the same transaction."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection
