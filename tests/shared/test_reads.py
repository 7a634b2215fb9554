"""Single-statement reads on the plain asyncpg pool (shared.reads)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import Integer, String, bindparam, func, select

from shared.db import plain_dsn
from shared.reads import CompiledSelect, ReadPool

_PROBE = CompiledSelect(
    select(
        bindparam("n", type_=Integer).label("n"),
        bindparam("label", "default", type_=String).label("label"),
        func.pg_backend_pid().label("pid"),
        func.current_setting("TimeZone").label("timezone"),
        func.current_setting("statement_timeout").label("statement_timeout"),
    )
)


@pytest.fixture
async def reads(database_url: str) -> AsyncIterator[ReadPool]:
    pool = ReadPool(
        plain_dsn(database_url),
        max_size=1,
        server_settings={"statement_timeout": "1234", "timezone": "UTC"},
        acquire_timeout=5,
    )
    yield pool
    await pool.close()


async def test_named_values_fill_the_statement_and_unnamed_ones_keep_their_default(
    reads: ReadPool,
) -> None:
    row = await reads.fetchrow(_PROBE, n=7)
    assert row is not None
    assert (row["n"], row["label"]) == (7, "default")
    assert (await reads.fetchrow(_PROBE, n=8, label="given") or {})["label"] == "given"


async def test_connections_carry_the_engine_server_settings(reads: ReadPool) -> None:
    row = await reads.fetchrow(_PROBE, n=1)
    assert row is not None
    assert row["timezone"] == "UTC"
    assert row["statement_timeout"] == "1234ms"


async def test_a_read_survives_its_connection_being_cut(reads: ReadPool, database_url: str) -> None:
    admin = await asyncpg.connect(plain_dsn(database_url))
    try:
        previous = await reads.fetchrow(_PROBE, n=0)
        # Cut many times: the read right after a cut may find the connection already
        # known to be closed, or catch the server's goodbye mid-way; both must recover.
        for n in range(1, 21):
            assert previous is not None
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", previous["pid"])
            again = await reads.fetchrow(_PROBE, n=n)
            assert again is not None
            assert again["n"] == n
            assert again["pid"] != previous["pid"]
            previous = again
    finally:
        await admin.close()
