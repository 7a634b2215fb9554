"""Async engine and sessions: one transaction per request, one per job.

A request's transaction is committed inside the dependency *before* the response is
sent (FastAPI `scope="function"`), so a failed commit turns into a 500 problem and can
never be answered with 2xx.
"""

from __future__ import annotations

import select
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import DateTime, Enum, MetaData
from sqlalchemy import event as sa_event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

# Re-exported: most callers take the clock along with the session.
from shared.clock import utcnow as utcnow
from shared.reads import ReadPool
from shared.settings import Settings, get_settings

# Deterministic constraint names so that alembic autogenerate and hand-written
# migrations agree (https://alembic.sqlalchemy.org/en/latest/naming.html).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def schema_metadata(schema: str) -> MetaData:
    """Metadata for one service's Postgres schema (one schema per service)."""
    return MetaData(schema=schema, naming_convention=NAMING_CONVENTION)


def TimestampTZ() -> DateTime:
    """Timezone-aware timestamp: every instant is stored as UTC `timestamptz`."""
    return DateTime(timezone=True)


def str_enum(enum: type[StrEnum], name: str) -> Enum:
    """An enum column stored as VARCHAR + CHECK of its English codes.

    Not a native Postgres enum: adding a value is then a plain constraint change in a
    migration, and the stored values are exactly the codes the API speaks.
    """
    return Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [member.value for member in members],
    )


# Every mapped `datetime` is timezone-aware.
TYPE_ANNOTATION_MAP: dict[Any, Any] = {datetime: TimestampTZ()}


class Model(DeclarativeBase):
    """The one declarative base. Each service derives an abstract base naming its schema:

        class Base(Model):
            __abstract__ = True
            metadata = schema_metadata("registry")

    so each service's tables live in its own `MetaData` (migrated per schema) while the
    mapping conventions are declared once.
    """

    type_annotation_map = TYPE_ANNOTATION_MAP


def plain_dsn(url: str) -> str:
    """A SQLAlchemy URL (`postgresql+asyncpg://...`) as the libpq DSN asyncpg takes."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _server_settings(settings: Settings) -> dict[str, str]:
    return {
        "statement_timeout": str(settings.db_statement_timeout_ms),
        "lock_timeout": str(settings.db_lock_timeout_ms),
        "timezone": "UTC",
    }


def _discard_closed(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """At checkout, a connection the server has closed is thrown away and another one
    taken (SQLAlchemy's pool retries the checkout on `DisconnectionError`).

    Two checks that cost no round trip: asyncpg already knows the connection closed
    once its loop has read the socket's end; and an idle connection has nothing to
    read, so data waiting on its socket is the server's goodbye not read yet (or a
    rare notice: the connection is then replaced for nothing). What they cannot see (a
    server that has not closed the socket yet, a network gone silent) fails the first
    statement, which invalidates the connection as a failure mid-transaction does.
    """
    connection = dbapi_connection.driver_connection
    if connection.is_closed():
        raise DisconnectionError("connection closed by the server")
    sock = connection._transport.get_extra_info("socket")
    if sock is not None and select.select([sock], [], [], 0)[0]:
        raise DisconnectionError("data waiting on an idle connection")


class Database:
    """The engine, session factory and read pool of one process, created lazily."""

    def __init__(self, url: str | None = None) -> None:
        self._url = url
        self._engine: AsyncEngine | None = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None
        self._reads: ReadPool | None = None

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            settings = get_settings()
            url = self._url or settings.require_database_url()
            self._engine = create_async_engine(
                url,
                pool_size=settings.db_pool_size,
                max_overflow=settings.db_pool_size,
                # Waiting for a connection, or for one to open, is bounded: a 503 then
                # (shared.errors), not a request hanging for as long as the server stalls.
                pool_timeout=settings.db_pool_timeout_seconds,
                # No pre-ping: with asyncpg it is three round trips (BEGIN, an empty
                # query, ROLLBACK) per checkout, as much as a small job's own statements.
                # A connection the server closed (restart, pg_terminate_backend) is
                # already known closed by asyncpg once its loop saw the socket end, and
                # `_discard_closed` drops it at checkout instead.
                pool_pre_ping=False,
                # Bound values are request data (names, phone numbers): an error's message
                # shows the statement without them (see also shared.logging.describe).
                hide_parameters=True,
                connect_args={
                    "server_settings": _server_settings(settings),
                    "timeout": settings.db_pool_timeout_seconds,
                },
            )
            sa_event.listen(self._engine.sync_engine, "checkout", _discard_closed)
        return self._engine

    @property
    def reads(self) -> ReadPool:
        """Single-statement reads without a session (see shared.reads)."""
        if self._reads is None:
            settings = get_settings()
            self._reads = ReadPool(
                plain_dsn(self._url or settings.require_database_url()),
                max_size=settings.db_pool_size,
                server_settings=_server_settings(settings),
                acquire_timeout=settings.db_pool_timeout_seconds,
            )
        return self._reads

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        if self._sessions is None:
            self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        return self._sessions

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose transaction commits on success and rolls back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
        if self._reads is not None:
            await self._reads.close()
        self._engine = None
        self._sessions = None
        self._reads = None


database = Database()


async def _request_session() -> AsyncIterator[AsyncSession]:
    async with database.transaction() as session:
        yield session


# `scope="function"`: the commit in `transaction()` runs before the response is sent.
SessionDep = Annotated[AsyncSession, Depends(_request_session, scope="function")]


async def _read_pool() -> ReadPool:  # async: FastAPI runs a plain def in a thread
    return database.reads


ReadsDep = Annotated[ReadPool, Depends(_read_pool)]
