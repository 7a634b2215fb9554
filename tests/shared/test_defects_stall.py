"""While PostgreSQL stalls, requests fail fast with a 503 and Retry-After, never hang.

The stall is real. Either another connection holds `LOCK TABLE registry.organization IN ACCESS
EXCLUSIVE MODE`, so every statement on the table waits. The registry runs as operators
run it (uvicorn) with a small pool: the first requests take every connection and wait on
the lock; the next one finds no free connection and is answered 503 `database_busy`
after the pool timeout, and those waiting are answered 503 `database_timeout` when the
lock (or statement) timeout ends their wait. Once the lock is gone, all is well again.
Or the server accepts connections and never answers (what a frozen PostgreSQL looks
like): opening a connection gives up after the pool timeout, with the same 503.
"""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager

import asyncpg
import httpx
import pytest

from tests.support.polling import poll
from tests.support.system import System

Auth = Callable[..., dict[str, str]]
POOL_TIMEOUT = 1.0
LOCK_TIMEOUT = 4.0
# One session connection and one overflow; a read pool of one.
SMALL_POOL = {
    "DB_POOL_SIZE": "1",
    "DB_POOL_TIMEOUT_SECONDS": str(POOL_TIMEOUT),
    # The relay would only compete for the two connections: once at start is enough.
    "OUTBOX_RELAY_INTERVAL_SECONDS": "60",
}


@pytest.fixture
def start_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., str]]:
    """Start the registry process with these settings; its base URL."""
    system = System(env=dict(SMALL_POOL), log_dir=str(tmp_path_factory.mktemp("stall")))

    def start(*, wait: bool = True, **settings: str) -> str:
        system.start("registry", wait=wait, **settings)
        return system.url("registry")

    yield start
    system.stop_all()


@asynccontextmanager
async def organizations_locked(dsn: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(dsn)
    transaction = connection.transaction()
    await transaction.start()
    try:
        await connection.execute("LOCK TABLE registry.organization IN ACCESS EXCLUSIVE MODE")
        yield connection
    finally:
        await transaction.rollback()
        await connection.close()


async def waiting_for_the_lock(connection: asyncpg.Connection, count: int) -> None:
    async def waiting() -> bool:
        waiters = await connection.fetchval(
            "SELECT count(*) FROM pg_locks WHERE NOT granted"
            " AND relation = 'registry.organization'::regclass"
        )
        return int(waiters) == count

    await poll(waiting, within=10)


def assert_unavailable(response: httpx.Response, code: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert int(response.headers["Retry-After"]) >= 1


# A list goes through the session pool, an organization by id through the read pool.
through_each_pool = pytest.mark.parametrize(
    "path",
    [
        pytest.param("/api/v1/organizations", id="session"),
        pytest.param(f"/api/v1/organizations/{uuid.uuid4()}", id="read-pool"),
    ],
)


@through_each_pool
async def test_with_every_connection_stuck_the_next_request_is_503_at_once(
    start_registry: Callable[..., str], plain_dsn: str, auth: Auth, path: str
) -> None:
    url = start_registry(DB_LOCK_TIMEOUT_MS=str(int(LOCK_TIMEOUT * 1000)))
    headers = auth("civil_affairs")
    # The session pool has two connections (one overflow), the read pool one.
    stuck = 2 if path == "/api/v1/organizations" else 1
    async with httpx.AsyncClient(base_url=url, timeout=15) as client:
        async with organizations_locked(plain_dsn) as lock:
            waiting = [asyncio.create_task(client.get(path, headers=headers)) for _ in range(stuck)]
            await waiting_for_the_lock(lock, stuck)

            started = time.monotonic()
            refused = await client.get(path, headers=headers)
            elapsed = time.monotonic() - started
            assert_unavailable(refused, "database_busy")
            assert POOL_TIMEOUT * 0.9 <= elapsed < LOCK_TIMEOUT, elapsed

            for response in await asyncio.gather(*waiting):
                assert_unavailable(response, "database_timeout")
        # The stall is over: the same request is answered normally.
        after = await client.get(path, headers=headers)
        assert after.status_code in (200, 404), after.text
        assert after.status_code == (200 if stuck == 2 else 404)


async def test_a_statement_held_up_past_the_statement_timeout_is_503(
    start_registry: Callable[..., str], plain_dsn: str, auth: Auth
) -> None:
    url = start_registry(DB_LOCK_TIMEOUT_MS="0", DB_STATEMENT_TIMEOUT_MS="1500")
    async with (
        httpx.AsyncClient(base_url=url, timeout=15) as client,
        organizations_locked(plain_dsn),
    ):
        started = time.monotonic()
        response = await client.get("/api/v1/organizations", headers=auth("civil_affairs"))
        assert_unavailable(response, "database_timeout")
        assert time.monotonic() - started < 5


@pytest.fixture
def frozen_server() -> Iterator[int]:
    """A port that accepts connections (the kernel does) and never answers: a frozen server."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield listener.getsockname()[1]


@through_each_pool
async def test_a_database_that_never_answers_is_503_after_the_pool_timeout(
    start_registry: Callable[..., str], frozen_server: int, auth: Auth, path: str
) -> None:
    url = start_registry(
        wait=False, DATABASE_URL=f"postgresql+asyncpg://sanshe@127.0.0.1:{frozen_server}/sanshe"
    )
    async with httpx.AsyncClient(base_url=url, timeout=15) as client:

        async def alive() -> bool:
            try:
                return (await client.get("/healthz")).status_code == 200
            except httpx.TransportError:
                return False

        await poll(alive, within=30)
        started = time.monotonic()
        response = await client.get(path, headers=auth("civil_affairs"))
    assert_unavailable(response, "database_busy")
    assert time.monotonic() - started < 5
