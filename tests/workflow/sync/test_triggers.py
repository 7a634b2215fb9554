"""Triggers: a delivery job after the event's commit (not before, not on rollback); the sweep."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from services.workflow.sync import DELIVER_JOB, jobs
from services.workflow.sync.config import SyncSettings
from services.workflow.sync.jobs import kick_after_commit
from services.workflow.sync.models import WebhookEndpoint
from shared.db import database
from tests.support.polling import poll
from tests.support.receiver import Receiver
from tests.workflow.sync.helpers import FakeClock, append, envelope, register


class RecordingQueue:
    default_queue_name = "sanshe:test:kick"

    def __init__(self) -> None:
        self.enqueued: list[tuple[str, dict[str, Any]]] = []

    async def enqueue_job(self, name: str, *args: Any, **kwargs: Any) -> None:
        self.enqueued.append((name, {"args": args, **kwargs}))


async def test_the_kick_follows_the_commit_once() -> None:
    queue = RecordingQueue()
    async with database.transaction() as session:
        kick_after_commit(session, queue)  # type: ignore[arg-type]
        kick_after_commit(session, queue)  # type: ignore[arg-type]
        assert queue.enqueued == []  # nothing before the commit

    async def kicked() -> bool:
        return bool(queue.enqueued)

    await poll(kicked)
    ((name, options),) = queue.enqueued
    assert name == DELIVER_JOB
    assert options["_job_id"] == f"{DELIVER_JOB}:sanshe:test:kick:healthy:0"


async def test_no_kick_when_the_transaction_rolls_back() -> None:
    queue = RecordingQueue()
    with pytest.raises(RuntimeError):
        async with database.transaction() as session:
            kick_after_commit(session, queue)  # type: ignore[arg-type]
            raise RuntimeError("the event's effect failed")
    async with database.transaction() as session:
        pass  # a later transaction commits: the old listener must not fire
    assert not jobs._kicks  # no kick scheduled at all (none still on its way)
    assert queue.enqueued == []


async def test_the_sweep_starts_a_job_per_lane_with_due_deliveries(
    api: httpx.AsyncClient,
    civil: dict[str, str],
    receiver: Receiver,
    clock: FakeClock,
    sync_settings: SyncSettings,
) -> None:
    healthy = await register(api, civil, f"{receiver.url}/ok")
    failing = await register(api, civil, f"{receiver.url}/failing")
    async with database.transaction() as session:
        await session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == failing["id"])
            .values(failing_since=clock() - timedelta(hours=1))
        )
    await append(envelope(), now=clock())
    queue = RecordingQueue()
    ctx: dict[str, Any] = {
        "redis": queue,
        "sync_settings": sync_settings,
        "sync_clock": clock,
        # A year ahead, housekeeping would purge every test's feed: not here.
        "sync_next_purge": float("inf"),
    }
    report = await jobs.sweep(ctx)
    assert report["deliver_jobs"] == 2
    started = {o["_job_id"] for name, o in queue.enqueued if name == DELIVER_JOB}
    assert started == {
        f"{DELIVER_JOB}:sanshe:test:kick:healthy:0",
        f"{DELIVER_JOB}:sanshe:test:kick:failing:0",
    }
    assert {o["args"] for name, o in queue.enqueued if name == DELIVER_JOB} == {
        ("healthy",),
        ("failing",),
    }
    assert healthy["id"] != failing["id"]
