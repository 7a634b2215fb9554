"""Our deliveries, verified by the `standardwebhooks` library in a receiver of its own process.

The receiver (`receiver_process.py`) imports nothing of ours: what it accepts is what any
Standard Webhooks subscriber accepts. Events go the whole way: `events.dispatch` on the
real arq worker → feed and delivery rows → after the commit, `webhooks.deliver` → signed
POST over loopback → the receiver verifies and answers 204 (401 if no secret verifies).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from arq import ArqRedis
from arq.worker import Worker
from sqlalchemy import update

from services.workflow.sync.models import DeliveryStatus, WebhookEndpoint
from shared.db import database, utcnow
from tests.support.polling import poll
from tests.workflow.sync.helpers import (
    DISPATCH_JOB,
    ReceiverProcess,
    deliveries,
    envelope,
    register,
)


@pytest.fixture(scope="module")
async def subscriber() -> AsyncIterator[ReceiverProcess]:
    running = await ReceiverProcess().start()
    yield running
    await running.stop()


async def _dispatch(queue: ArqRedis, event_type: str = "organization.updated", **kw: Any) -> str:
    event = envelope(event_type, **kw)
    await queue.enqueue_job(DISPATCH_JOB, event.model_dump(mode="json"), _job_id=str(event.id))
    return str(event.id)


async def _succeeded(endpoint_id: str, count: int) -> None:
    async def done() -> bool:
        rows = await deliveries(endpoint_id)
        return len(rows) == count and all(r.status is DeliveryStatus.succeeded for r in rows)

    await poll(done, within=20)


async def test_the_library_verifies_what_the_worker_sends(
    api: httpx.AsyncClient,
    civil: dict[str, str],
    subscriber: ReceiverProcess,
    worker: Worker,
    queue: ArqRedis,
) -> None:
    path = f"/province/{uuid.uuid4().hex[:8]}"
    endpoint = await register(api, civil, f"{subscriber.url}{path}")
    await subscriber.verify_with(
        path,
        ours=endpoint["secret"],
        # Another endpoint's secret must not verify: the check is not vacuous.
        stranger=(
            await register(api, civil, f"{subscriber.url}/elsewhere", event_types=["case.*"])
        )["secret"],
    )
    subject = str(uuid.uuid4())
    event_id = await _dispatch(queue, subject_id=subject, seq=3)

    entry = await subscriber.received(path, event_id)
    assert entry["verified"] == {"ours": True, "stranger": False}
    assert entry["payload"]["id"] == event_id
    assert entry["payload"]["subject"] == {"type": "organization", "id": subject, "seq": 3}
    # The receiver answered 204 only because the library verified the message.
    await _succeeded(endpoint["id"], 1)


async def test_both_secrets_verify_during_the_overlap_and_only_the_new_one_after(
    api: httpx.AsyncClient,
    civil: dict[str, str],
    subscriber: ReceiverProcess,
    worker: Worker,
    queue: ArqRedis,
) -> None:
    path = f"/rotating/{uuid.uuid4().hex[:8]}"
    endpoint = await register(api, civil, f"{subscriber.url}{path}")
    old = endpoint["secret"]
    rotated = await api.post(
        f"/api/v1/webhooks/endpoints/{endpoint['id']}/rotate-secret", headers=civil
    )
    assert rotated.status_code == 200
    new = rotated.json()["secret"]
    # One subscriber still configured with the old secret, one already switched.
    await subscriber.verify_with(path, old=old, new=new)

    during = await subscriber.received(path, await _dispatch(queue))
    assert during["signatures"] == 2
    assert during["verified"] == {"old": True, "new": True}

    # 24 hours on, the overlap is over: only the new secret signs.
    async with database.transaction() as session:
        await session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == uuid.UUID(endpoint["id"]))
            .values(previous_secret_expires_at=utcnow() - timedelta(seconds=1))
        )
    after = await subscriber.received(path, await _dispatch(queue))
    assert after["signatures"] == 1
    assert after["verified"] == {"old": False, "new": True}
    await _succeeded(endpoint["id"], 2)
