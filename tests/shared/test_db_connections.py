"""The engine's pool after the server closed its connections (no pre-ping round trips)."""

from __future__ import annotations

import asyncio

import asyncpg
from sqlalchemy import text

from shared.db import Database, plain_dsn
from tests.support.polling import poll

_PID = text("SELECT pg_backend_pid()")


async def _pids(db: Database, count: int) -> set[int]:
    """Check out `count` connections at once (so the pool holds that many) and their pids."""

    async def one(ready: asyncio.Event, held: list[int]) -> None:
        async with db.transaction() as session:
            held.append(int((await session.execute(_PID)).scalar_one()))
            if len(held) == count:
                ready.set()
            await ready.wait()

    ready, held = asyncio.Event(), []
    await asyncio.gather(*(one(ready, held) for _ in range(count)))
    return set(held)


async def _gone(admin: asyncpg.Connection, pids: list[int]) -> bool:
    alive = await admin.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1::int[])", pids
    )
    return bool(alive == 0)


async def _closed_in_pool(db: Database) -> bool:
    records = list(db.engine.sync_engine.pool._pool._queue._queue)  # type: ignore[attr-defined]
    return all(r.dbapi_connection.driver_connection.is_closed() for r in records)


async def test_transactions_recover_after_the_server_closed_the_pooled_connections(
    database_url: str,
) -> None:
    db = Database(database_url)
    admin = await asyncpg.connect(plain_dsn(database_url))
    try:
        for _ in range(3):
            before = await _pids(db, 3)
            for pid in before:
                assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)

            await poll(lambda pids=list(before): _gone(admin, pids))
            # A backend leaves pg_stat_activity a moment before its socket closes: wait
            # until this process has read the close, as a pool idle for any time has.
            await poll(lambda: _closed_in_pool(db))
            # Every pooled connection is dead; each transaction still gets a live one.
            after = await _pids(db, 3)
            assert not after & before
    finally:
        await admin.close()
        await db.dispose()
