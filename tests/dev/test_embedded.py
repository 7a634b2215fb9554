"""The embedded PostgreSQL and Redis used by `make run` / `make test` really work."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
import redis.asyncio as aioredis

from devtools.embedded import EmbeddedPostgres, EmbeddedRedis
from devtools.processes import free_port, wait_until


@pytest.fixture
def work_dir() -> Iterator[Path]:
    # Not tmp_path: under root it lives in /tmp/pytest-of-root (mode 0700), which the
    # unprivileged PostgreSQL system user could not traverse.
    path = Path(tempfile.mkdtemp(prefix="sanshe-embedded-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def postgres(work_dir: Path) -> Iterator[EmbeddedPostgres]:
    server = EmbeddedPostgres(work_dir / "postgres", free_port(), "sanshe-pg")
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_server(work_dir: Path) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(work_dir / "redis", free_port())
    try:
        server.start()
        yield server
    finally:
        server.stop()


def _dsn(server: EmbeddedPostgres, database: str) -> str:
    return server.url(database).replace("postgresql+asyncpg://", "postgresql://", 1)


async def test_postgres_runs_and_keeps_data_across_restarts(postgres: EmbeddedPostgres) -> None:
    assert postgres.is_running()
    postgres.create_database("sanshe_test")
    postgres.create_database("sanshe_test")  # idempotent

    conn = await asyncpg.connect(_dsn(postgres, "sanshe_test"))
    try:
        assert await conn.fetchval("SELECT 1") == 1
        await conn.execute("CREATE TABLE survivor (note text)")
        await conn.execute("INSERT INTO survivor VALUES ('still here')")
    finally:
        await conn.close()

    await asyncio.to_thread(postgres.stop)
    assert not postgres.is_running()
    await asyncio.to_thread(postgres.start)
    assert postgres.is_running()
    await asyncio.to_thread(postgres.start)  # already running: reused, not an error

    conn = await asyncpg.connect(_dsn(postgres, "sanshe_test"))
    try:
        assert await conn.fetchval("SELECT note FROM survivor") == "still here"
    finally:
        await conn.close()


def test_postgres_refuses_to_reuse_a_cluster_running_on_another_port(
    postgres: EmbeddedPostgres,
) -> None:
    other = EmbeddedPostgres(postgres.data_dir, free_port(), postgres.system_user)
    with pytest.raises(RuntimeError, match="already running on port"):
        other.start()


async def test_redis_answers_ping_and_stops(redis_server: EmbeddedRedis) -> None:
    assert redis_server.url() == f"redis://127.0.0.1:{redis_server.port}/0"
    client = aioredis.Redis(host="127.0.0.1", port=redis_server.port)
    try:
        assert await client.ping()
    finally:
        await client.aclose()

    await asyncio.to_thread(redis_server.stop)
    assert not redis_server.is_running()


def test_wait_until_times_out() -> None:
    with pytest.raises(TimeoutError, match="never"):
        wait_until(lambda: False, 0.2, interval=0.05, description="never")
