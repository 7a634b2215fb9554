"""Small async helpers shared by the sync tests: endpoints, events, rows, a deliver pass."""

from __future__ import annotations

import random
import tempfile
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from devtools.processes import ManagedProcess, free_port
from services.workflow.sync import feed, jobs
from services.workflow.sync.config import SyncSettings
from services.workflow.sync.delivery import Lane
from services.workflow.sync.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from services.workflow.sync.ssrf import AddressPolicy, guarded_client
from shared.db import database
from shared.jobs import EventEnvelope
from tests.support.polling import poll


async def register(
    api: httpx.AsyncClient, headers: dict[str, str], url: str, **body: Any
) -> dict[str, Any]:
    response = await api.post(
        "/api/v1/webhooks/endpoints", json={"url": url, **body}, headers=headers
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def envelope(
    event_type: str = "organization.updated",
    *,
    subject_id: str | None = None,
    seq: int = 1,
    data: dict[str, Any] | None = None,
    source: str = "registry",
    occurred_at: datetime | None = None,
) -> EventEnvelope:
    subject = subject_id or str(uuid.uuid4())
    return EventEnvelope(
        id=uuid.uuid4(),
        type=event_type,
        source=source,
        subject_type=event_type.split(".", 1)[0],
        subject_id=subject,
        subject_seq=seq,
        occurred_at=occurred_at or datetime.now(UTC),
        data=data if data is not None else {"id": subject, "changed_fields": ["address"]},
    )


async def append(event: EventEnvelope, *, now: datetime) -> bool:
    async with database.transaction() as session:
        return await feed.append(session, event, now=now)


async def deliveries(endpoint_id: str | uuid.UUID) -> list[WebhookDelivery]:
    async with database.transaction() as session:
        rows = await session.execute(
            select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == uuid.UUID(str(endpoint_id)))
            .order_by(WebhookDelivery.created_at)
        )
        return list(rows.scalars())


async def attempts(delivery_id: uuid.UUID) -> list[WebhookAttempt]:
    async with database.transaction() as session:
        rows = await session.execute(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id == delivery_id)
            .order_by(WebhookAttempt.id)
        )
        return list(rows.scalars())


async def endpoint_row(endpoint_id: str | uuid.UUID) -> WebhookEndpoint:
    async with database.transaction() as session:
        found = await session.get(WebhookEndpoint, uuid.UUID(str(endpoint_id)))
        assert found is not None
        return found


class DeliverPass:
    """Runs the real `webhooks.deliver` job function with an injected clock and settings."""

    def __init__(self, settings: SyncSettings, clock: Any, *, seed: int = 20261123) -> None:
        self.ctx: dict[str, Any] = {
            "sync_settings": settings,
            "sync_clock": clock,
            "sync_rng": random.Random(seed),
            "sync_http": guarded_client(
                AddressPolicy.from_settings(settings),
                timeout=settings.timeout_seconds,
                max_connections=10,
            ),
        }

    async def __call__(self, *lanes: Lane) -> dict[str, int]:
        """One pass of each lane (both by default); the counts summed."""
        totals: Counter[str] = Counter()
        for lane in lanes or tuple(Lane):
            totals.update(await jobs.deliver(self.ctx, lane.value))
        return {key: totals[key] for key in ("sent", "delivered", "retrying", "failed", "disabled")}

    async def aclose(self) -> None:
        await self.ctx["sync_http"].aclose()


class ReceiverProcess:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = ManagedProcess(
            "standardwebhooks-receiver",
            ["-m", "tests.workflow.sync.receiver_process", str(self.port)],
            {},
            tempfile.mkdtemp(prefix="sanshe-receiver-"),
        )
        self.control = httpx.AsyncClient(base_url=self.url, timeout=5, trust_env=False)

    async def start(self) -> ReceiverProcess:
        self.process.start()

        async def up() -> bool:
            assert self.process.alive, f"the receiver died: see {self.process.log_path}"
            try:
                return (await self.control.get("/_log")).status_code == 200
            except httpx.TransportError:
                return False

        await poll(up, within=30)
        return self

    async def verify_with(self, path: str, **verifiers: str) -> None:
        answer = await self.control.put(f"/_config{path}", json={"verifiers": verifiers})
        assert answer.status_code == 204

    async def log(self, path: str) -> list[dict[str, Any]]:
        """Every message received on `path`, in arrival order, retries included."""
        entries: list[dict[str, Any]] = (await self.control.get("/_log")).json()
        return [e for e in entries if e["path"] == path]

    async def received(self, path: str, webhook_id: str) -> dict[str, Any]:
        async def arrived() -> dict[str, Any] | None:
            return next((e for e in await self.log(path) if e["webhook_id"] == webhook_id), None)

        entry: dict[str, Any] = await poll(arrived, within=20)
        return entry

    async def stop(self) -> None:
        await self.control.aclose()
        self.process.stop()


DISPATCH_JOB = "events.dispatch"


class FakeClock:
    """A clock the test moves by hand (injected as `sync_clock`)."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, when: datetime) -> None:
        self.now = when
