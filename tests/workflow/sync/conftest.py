"""Provincial sync test harness: the sync routers on an app, a real arq worker, receivers.

The app and the worker use a private queue, so no other test's jobs run here and none of
ours run elsewhere. Loopback is allowlisted (`WEBHOOK_ALLOWED_NETWORKS`-style) for the
receivers; the SSRF tests use their own policy without it.

Tests that move a fake clock work far in the future, so the real worker (real clock)
never finds their deliveries due; after each test, whatever a test left pending is
failed, so that no test sends to another's receiver.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from arq import ArqRedis, create_pool
from arq.worker import Worker, func
from fastapi import FastAPI
from sqlalchemy import update

import services.workflow.sync as sync
from services.workflow.models import infra
from services.workflow.sync import dependencies
from services.workflow.sync.config import SyncSettings
from services.workflow.sync.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from shared.app import create_service_app
from shared.clients import RegistryClient
from shared.db import database
from shared.jobs import EventEnvelope, deserialize_job, redis_settings, serialize_job
from shared.outbox import claim_event
from tests.support.receiver import Receiver
from tests.workflow.sync.helpers import DISPATCH_JOB, FakeClock

TEST_CONSUMER = "workflow-sync-test"


@pytest.fixture
def clock() -> FakeClock:
    # A year ahead (plus a random offset): the real worker never finds these deliveries due.
    offset = timedelta(days=365, minutes=uuid.uuid4().int % 100_000)
    return FakeClock(datetime.now(UTC).replace(microsecond=0) + offset)


@pytest.fixture(scope="session")
def sync_settings() -> SyncSettings:
    return SyncSettings(
        allowed_networks=[ipaddress.ip_network("127.0.0.0/8")],
        inbound_retry_base_seconds=0.2,
        inbound_retry_max_seconds=1,
        deliver_budget_seconds=10,
    )


@pytest.fixture(scope="session")
def queue_name() -> str:
    return f"sanshe:test:sync:{uuid.uuid4().hex[:8]}"


async def _pool(queue_name: str) -> ArqRedis:
    return await create_pool(
        redis_settings(),
        job_serializer=serialize_job,
        job_deserializer=deserialize_job,
        default_queue_name=queue_name,
    )


@pytest.fixture(scope="session")
async def queue(queue_name: str) -> AsyncIterator[ArqRedis]:
    pool = await _pool(queue_name)
    yield pool
    await pool.aclose()


@pytest.fixture(scope="session")
async def sync_app(sync_settings: SyncSettings, queue: ArqRedis) -> AsyncIterator[FastAPI]:
    app = create_service_app(
        service="workflow",
        title="Sanshe workflow (sync under test)",
        description="The provincial sync routers alone.",
        routers=sync.routers,
        infra=infra,
        run_relay=False,
    )
    app.dependency_overrides[dependencies.sync_settings] = lambda: sync_settings
    app.dependency_overrides[dependencies.queue] = lambda: queue
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="session")
async def api(sync_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=sync_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def registry_stand_in() -> Iterator[Receiver]:
    """Stands in for the registry's `POST /api/v1/organizations/{id}/status`."""
    server = Receiver().start()
    yield server
    server.stop()


async def dispatch(ctx: dict[str, Any], payload: dict[str, Any]) -> str:
    """What `events.dispatch` does for the sync: inbox claim and `on_event`, one transaction."""
    envelope = EventEnvelope.model_validate(payload)
    async with database.transaction() as session:
        if not await claim_event(
            session, infra.inbox, consumer=TEST_CONSUMER, event_id=envelope.id
        ):
            return "duplicate"
        await sync.on_event(session, envelope)
    return "applied"


@pytest.fixture(scope="session")
async def worker(
    queue_name: str, sync_settings: SyncSettings, registry_stand_in: Receiver
) -> AsyncIterator[Worker]:
    """A real arq worker with the sync's functions and cron, on the private queue."""
    pool = await _pool(queue_name)
    ctx: dict[str, Any] = {
        "sync_settings": sync_settings,
        "sync_registry": lambda: RegistryClient(registry_stand_in.url, caller="workflow"),
    }
    running = Worker(
        functions=[func(dispatch, name=DISPATCH_JOB), *sync.worker_functions],
        cron_jobs=sync.cron_jobs,
        redis_pool=pool,
        queue_name=queue_name,
        poll_delay=0.02,
        ctx=ctx,
        on_startup=sync.startup,
        on_shutdown=sync.shutdown,
        job_serializer=serialize_job,
        job_deserializer=deserialize_job,
        keep_result=60,
        handle_signals=False,
    )
    task = asyncio.create_task(running.main())
    yield running
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await running.close()


@pytest.fixture(autouse=True)
async def _nothing_left_pending() -> AsyncIterator[None]:
    yield
    async with database.transaction() as session:
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.status == DeliveryStatus.pending)
            .values(status=DeliveryStatus.failed, next_attempt_at=None, last_error="test_ended")
        )
        await session.execute(update(WebhookEndpoint).values(enabled=False))


@pytest.fixture
def civil(auth: Callable[..., dict[str, str]]) -> dict[str, str]:
    return auth("civil_affairs")
