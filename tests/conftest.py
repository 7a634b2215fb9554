"""Test harness: a real PostgreSQL and a real Redis, never the development data.

The servers are the ones in DATABASE_URL / REDIS_URL when given (CI: the machine's
own), else the embedded ones (`devtools.embedded`, under `var/test-servers`). Each
run creates its own database (migrated with the real alembic history) and dropped at
the end, uses its own Redis database index and queue name, and so never touches what
`make run` uses.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
from alembic import command
from alembic.config import Config
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from shared.settings import PROJECT_ROOT

_RUN_ID = uuid.uuid4().hex[:10]
TEST_DATABASE = f"sanshe_test_{_RUN_ID}"
# Redis database 0 is what `make run` uses; tests keep to their own index and queue.
TEST_REDIS_DB = 9


# Embedded servers this run started (and so stops at the end).
_STARTED: list[Any] = []


def _server_urls() -> tuple[str, str]:
    database_url = os.environ.get("DATABASE_URL")
    redis_url = os.environ.get("REDIS_URL")
    if database_url and redis_url:
        return database_url, redis_url
    from devtools.embedded import EmbeddedPostgres, EmbeddedRedis
    from shared.settings import get_settings

    settings = get_settings()
    var = PROJECT_ROOT / "var" / "test-servers"
    if not database_url:
        postgres = EmbeddedPostgres(
            var / "postgres", settings.embedded_pg_port + 1, settings.embedded_pg_user
        )
        if not postgres.is_running():
            _STARTED.append(postgres)
        postgres.start()
        database_url = postgres.url("postgres")
    if not redis_url:
        redis = EmbeddedRedis(var / "redis", settings.embedded_redis_port + 1)
        if not redis.is_running():
            _STARTED.append(redis)
        redis.start()
        redis_url = redis.url()
    return database_url, redis_url


def _plain_dsn(sqlalchemy_url: str, database: str) -> str:
    url = make_url(sqlalchemy_url).set(drivername="postgresql", database=database)
    return url.render_as_string(hide_password=False)


async def _recreate_database(server_url: str, name: str, *, drop_only: bool = False) -> None:
    connection = await asyncpg.connect(_plain_dsn(server_url, "postgres"))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


def alembic_config(database_url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["database_url"] = database_url
    return config


def pytest_configure(config: pytest.Config) -> None:
    server_url, redis_url = _server_urls()
    asyncio.run(_recreate_database(server_url, TEST_DATABASE))
    database_url = make_url(server_url).set(drivername="postgresql+asyncpg", database=TEST_DATABASE)
    rendered = database_url.render_as_string(hide_password=False)
    os.environ.update(
        {
            "ENV": "test",
            "DATABASE_URL": rendered,
            "REDIS_URL": urlsplit(redis_url)._replace(path=f"/{TEST_REDIS_DB}").geturl(),
            "ARQ_QUEUE_NAME": f"sanshe:test:{_RUN_ID}",
            "LOG_JSON": "true",
            "OUTBOX_RELAY_INTERVAL_SECONDS": "0.1",
            # Years past the shipped official schedule, so that cases opened "now" do not
            # start failing when today's deadlines reach an unpublished year (test data).
            "WORKFLOW_CALENDAR_FILE": str(
                PROJECT_ROOT / "tests/data/calendar_beyond_official.yaml"
            ),
        }
    )
    config.stash[_SERVER_KEY] = server_url
    from shared.settings import get_settings

    get_settings.cache_clear()
    command.upgrade(alembic_config(rendered), "heads")


_SERVER_KEY = pytest.StashKey[str]()


def pytest_unconfigure(config: pytest.Config) -> None:
    server_url = config.stash.get(_SERVER_KEY, None)
    if server_url:
        asyncio.run(_recreate_database(server_url, TEST_DATABASE, drop_only=True))
    for server in reversed(_STARTED):
        server.stop()


@pytest.fixture(scope="session")
def database_url() -> str:
    return os.environ["DATABASE_URL"]


@pytest.fixture(scope="session")
def redis_url() -> str:
    return os.environ["REDIS_URL"]


@pytest.fixture(scope="session")
def fresh_database(database_url: str) -> Callable[[str], AsyncIterator[str]]:
    """`async for url in fresh_database("name")`: a newly migrated database, dropped after."""

    async def create(label: str) -> AsyncIterator[str]:
        name = f"{TEST_DATABASE}_{label}"
        await _recreate_database(database_url, name)
        url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
        await asyncio.to_thread(command.upgrade, alembic_config(url), "heads")
        try:
            yield url
        finally:
            await _recreate_database(database_url, name, drop_only=True)

    return create


@pytest.fixture(scope="session")
def plain_dsn(database_url: str) -> str:
    """The test database for a bare asyncpg connection."""
    return _plain_dsn(database_url, TEST_DATABASE)


async def _started(stack: AsyncExitStack, app: FastAPI) -> httpx.AsyncClient:
    await stack.enter_async_context(app.router.lifespan_context(app))
    return await stack.enter_async_context(
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    )


@pytest.fixture(scope="session")
async def clients() -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """In-process clients of the three services, each with its lifespan (queue, relay) running."""
    from services.projects.main import app as projects_app
    from services.registry.main import app as registry_app
    from services.workflow.main import app as workflow_app
    from shared.clients import WorkflowClient

    async with AsyncExitStack() as stack:
        clients = {
            "registry": await _started(stack, registry_app),
            "projects": await _started(stack, projects_app),
            "workflow": await _started(stack, workflow_app),
        }
        # The registry and projects ask the workflow which department reviews what
        # (shared/reviewers.py): they reach the in-process workflow, as `make run` wires them.
        for app, caller in ((registry_app, "registry"), (projects_app, "projects")):
            app.state.workflow_client = await stack.enter_async_context(
                WorkflowClient(
                    "http://testserver",
                    caller=caller,
                    transport=httpx.ASGITransport(app=workflow_app),
                )
            )
        yield clients


@pytest.fixture
def registry(clients: dict[str, httpx.AsyncClient]) -> httpx.AsyncClient:
    return clients["registry"]


@pytest.fixture
def projects(clients: dict[str, httpx.AsyncClient]) -> httpx.AsyncClient:
    return clients["projects"]


@pytest.fixture
def workflow(clients: dict[str, httpx.AsyncClient]) -> httpx.AsyncClient:
    return clients["workflow"]


@pytest.fixture(scope="session")
def auth() -> Callable[..., dict[str, str]]:
    """`auth("civil_affairs", street_code=...)` -> Authorization headers."""
    from shared.auth import Role, mint_token

    def headers(role: str, **claims: Any) -> dict[str, str]:
        sub = claims.pop("sub", f"test-{role}-{uuid.uuid4().hex[:6]}")
        return {"Authorization": f"Bearer {mint_token(sub=sub, role=Role(role), **claims)}"}

    return headers
