"""The three services in-process: ASGI clients with each app's lifespan running, and tokens.

Service modules are imported inside the fixtures: they read settings that
tests/support/servers.py sets once pytest is configured.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from fastapi import FastAPI

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from shared.db import Database
    from shared.reads import ReadPool


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


@contextmanager
def answering_from(client: httpx.AsyncClient, db: Database) -> Iterator[None]:
    """The in-process app behind `client` reads and writes `db` for the duration (a demo
    loaded into a database of its own, asked over HTTP)."""
    from shared.db import _read_pool, _request_session

    app: Any = client._transport.app  # type: ignore[attr-defined]

    async def session() -> AsyncIterator[AsyncSession]:
        async with db.transaction() as s:
            yield s

    async def reads() -> ReadPool:
        return db.reads

    app.dependency_overrides[_request_session] = session
    app.dependency_overrides[_read_pool] = reads
    try:
        yield
    finally:
        del app.dependency_overrides[_request_session]
        del app.dependency_overrides[_read_pool]
