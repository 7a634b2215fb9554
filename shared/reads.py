"""One-statement reads on a plain asyncpg pool, for the hottest GET endpoints.

A read through the ORM session costs five round trips (pre-ping, BEGIN, the SELECT,
COMMIT, the reset when the connection goes back to the pool) and about 3 ms of Python
per request; a single SELECT needs none of the transaction around it (one statement
sees one snapshot). `ReadPool` runs a SQLAlchemy Core SELECT compiled once
(`CompiledSelect`) on asyncpg directly: one round trip, no ORM, no greenlet.

Writes and multi-statement reads stay on `shared.db` sessions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import asyncpg
from sqlalchemy import Select
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect

from shared.errors import DatabaseBusy

# A connection the server restarted or cut is not always known to be closed when it is
# next used: the query fails (gone, or the protocol caught mid-way by the server's
# goodbye: InternalClientError). Such a connection is dropped and a read, which changes
# nothing, tried once more on a fresh one.
_LOST_CONNECTION = (
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.CannotConnectNowError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    ConnectionError,
)
_DIALECT = asyncpg_dialect(paramstyle="numeric_dollar")  # type: ignore[no-untyped-call]


class CompiledSelect:
    """A Core SELECT whose values are named `bindparam`s, compiled once to asyncpg SQL."""

    def __init__(self, statement: Select[Any]) -> None:
        compiled = statement.compile(dialect=_DIALECT)
        self.sql = compiled.string
        self._names = tuple(compiled.positiontup or ())
        self._defaults = compiled.params

    def args(self, values: Mapping[str, Any]) -> list[Any]:
        """Positional arguments in the statement's order; unnamed ones keep their value."""
        return [values[name] if name in values else self._defaults[name] for name in self._names]


async def _nothing_to_reset(connection: asyncpg.Connection) -> None:
    """Replaces asyncpg's reset query on release (one more round trip per read).

    A read connection only ever runs single SELECTs: no session setting, listener,
    advisory lock or open cursor can be left on it for the next caller.
    """


async def _fetchrow_once(
    pool: asyncpg.Pool, sql: str, args: list[Any], acquire_timeout: float
) -> dict[str, Any] | None:
    try:
        connection = await pool.acquire(timeout=acquire_timeout)
    except TimeoutError:
        # Every connection busy, or a new one not opened in time: the server stalls or
        # is overloaded. A 503 now rather than a request hanging as long as it does.
        raise DatabaseBusy() from None
    try:
        row = await connection.fetchrow(sql, *args)
    except _LOST_CONNECTION:
        # Dropped, so that the pool opens a new one rather than hand this one back.
        connection.terminate()
        raise
    finally:
        await pool.release(connection)
    return None if row is None else dict(row)


class ReadPool:
    """A lazily opened asyncpg pool with the same server settings as the engine."""

    def __init__(
        self,
        dsn: str,
        *,
        max_size: int,
        server_settings: dict[str, str],
        acquire_timeout: float,
    ) -> None:
        self._dsn = dsn
        self._max_size = max_size
        self._server_settings = server_settings
        self._acquire_timeout = acquire_timeout
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()

    async def _open(self) -> asyncpg.Pool:
        if self._pool is None:
            async with self._opening:
                if self._pool is None:
                    self._pool = await asyncpg.create_pool(
                        self._dsn,
                        min_size=0,
                        max_size=self._max_size,
                        server_settings=self._server_settings,
                        reset=_nothing_to_reset,
                        timeout=self._acquire_timeout,  # to open a connection
                    )
        return self._pool

    async def fetchrow(self, query: CompiledSelect, **values: Any) -> dict[str, Any] | None:
        pool = await self._open()
        args = query.args(values)
        try:
            return await _fetchrow_once(pool, query.sql, args, self._acquire_timeout)
        except _LOST_CONNECTION:
            return await _fetchrow_once(pool, query.sql, args, self._acquire_timeout)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
        self._pool = None
