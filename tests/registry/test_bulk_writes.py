"""Imports and sweeps take turns (`organizations/bulk_writes.py`): a sweep never runs while
an import writes, so the two never lock the register's tally rows in opposite orders."""

from __future__ import annotations

import asyncio
from datetime import date

import httpx
from sqlalchemy import text

from services.registry.inspections import deadlines
from services.registry.organizations import bulk_writes
from shared.db import database
from tests.registry.helpers import Auth
from tests.support.polling import poll

# Someone of this database waiting for the lock of imports and sweeps (a bigint advisory
# key is held as two halves).
_WAITING = text(
    "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database"
    " WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = current_database()"
    " AND (l.classid::bigint << 32 | l.objid::bigint)"
    " = hashtextextended('registry:bulk-organization-writes', 0)"
)


async def test_a_sweep_waits_for_an_import_that_writes_and_the_hourly_one_skips_it(
    registry: httpx.AsyncClient, auth: Auth
) -> None:
    async with database.transaction() as importing:
        await bulk_writes.import_writing(importing)
        async with database.transaction() as hourly:
            skipped = await deadlines.sweep_unless_running(
                hourly, principal=deadlines.SCHEDULER, year=2000, today=date(2002, 1, 1)
            )
        assert skipped is None
        # The bureau's grade sweep (what it does to the register, the hourly sweep would do).
        bureau = asyncio.create_task(
            registry.post("/api/v1/grade-evaluations/expiry-sweeps", headers=auth("civil_affairs"))
        )

        async def waiting() -> bool:
            async with database.transaction() as session:
                return bool(await session.scalar(_WAITING))

        await poll(waiting)
        assert not bureau.done()
    # The import committed: the bureau's sweep runs.
    response = await asyncio.wait_for(bureau, 30)
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"expired", "cleared"}


async def test_imports_write_side_by_side() -> None:
    async with database.transaction() as first, database.transaction() as second:
        await bulk_writes.import_writing(first)
        await asyncio.wait_for(bulk_writes.import_writing(second), 10)
        async with database.transaction() as sweeping:
            assert not await bulk_writes.sweep_alone_unless_busy(sweeping)
    async with database.transaction() as sweeping:
        assert await bulk_writes.sweep_alone_unless_busy(sweeping)
