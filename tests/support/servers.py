"""The run's PostgreSQL and Redis: never the development data.

The servers are the ones in DATABASE_URL / REDIS_URL when given (CI: the machine's
own), else the embedded ones (`devtools.embedded`, the `local` extra, under
`var/test-servers`). Each run creates its own database (migrated with the real alembic
history) and drops it at the end, uses its own Redis database index and queue name, and
so never touches what `make run` uses.

`configure` / `unconfigure` are called from tests/conftest.py's pytest hooks, before any
service module is imported (they read the settings this sets).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from shared.settings import PROJECT_ROOT

_RUN_ID = uuid.uuid4().hex[:10]
TEST_DATABASE = f"sanshe_test_{_RUN_ID}"
# Redis database 0 is what `make run` uses; tests keep to their own index and queue.
TEST_REDIS_DB = 9

# Embedded servers this run started (and so stops at the end).
_STARTED: list[Any] = []
_SERVER_KEY = pytest.StashKey[str]()


def _server_urls() -> tuple[str, str]:
    database_url = os.environ.get("DATABASE_URL")
    redis_url = os.environ.get("REDIS_URL")
    if database_url and redis_url:
        return database_url, redis_url
    # Only here: without the `local` extra, a run given both URLs never needs them.
    from devtools.embedded import EmbeddedPostgres, EmbeddedRedis
    from devtools.settings import get_dev_settings

    settings = get_dev_settings()
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


def plain_dsn_of(sqlalchemy_url: str, database: str) -> str:
    url = make_url(sqlalchemy_url).set(drivername="postgresql", database=database)
    return url.render_as_string(hide_password=False)


async def recreate_database(server_url: str, name: str, *, drop_only: bool = False) -> None:
    connection = await asyncpg.connect(plain_dsn_of(server_url, "postgres"))
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


def configure(config: pytest.Config) -> None:
    server_url, redis_url = _server_urls()
    asyncio.run(recreate_database(server_url, TEST_DATABASE))
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
    from services.projects.config import get_projects_settings
    from services.registry.config import get_registry_settings
    from services.workflow.config import get_workflow_settings
    from shared.settings import get_settings

    # Whatever read the settings before the environment above was set reads them again.
    for cached in (
        get_settings,
        get_registry_settings,
        get_projects_settings,
        get_workflow_settings,
    ):
        cached.cache_clear()
    command.upgrade(alembic_config(rendered), "heads")


def unconfigure(config: pytest.Config) -> None:
    server_url = config.stash.get(_SERVER_KEY, None)
    if server_url:
        asyncio.run(recreate_database(server_url, TEST_DATABASE, drop_only=True))
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
        await recreate_database(database_url, name)
        url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
        await asyncio.to_thread(command.upgrade, alembic_config(url), "heads")
        try:
            yield url
        finally:
            await recreate_database(database_url, name, drop_only=True)

    return create


@pytest.fixture(scope="session")
def plain_dsn(database_url: str) -> str:
    """The test database for a bare asyncpg connection."""
    return plain_dsn_of(database_url, TEST_DATABASE)
