"""Job contracts: every arq job name and payload model, defined once.

Jobs are serialized as JSON (never pickle), so a payload is plain data that any
version of a worker can read, and nothing executable crosses Redis.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from arq import ArqRedis, create_pool
from arq import worker as arq_worker
from arq.connections import RedisSettings
from pydantic import BaseModel, Field

from shared.settings import Settings, get_settings


class JobName(StrEnum):
    # An outbox event handed to its consumers (the relay enqueues it with job id = event id).
    dispatch_event = "events.dispatch"
    # Deliver one decided case's outcome to its subject service (payload: {"case_id"}).
    deliver_case_outcome = "workflow.deliver_outcome"
    # The workflow's periodic sweep (cron): timers, stuck pre-checks, due callbacks.
    workflow_sweep = "workflow.sweep"
    # Provincial sync (services.workflow.sync): one delivery lane's pass over its due
    # webhook deliveries, one received provincial message applied, and the sync's sweep
    # (cron: re-enqueues due deliveries and inbound messages, purges old rows).
    webhooks_deliver = "webhooks.deliver"
    inbound_process = "inbound.process"
    webhooks_sweep = "webhooks.sweep"


def every(seconds: int) -> set[int]:
    """The seconds of each minute an arq cron entry runs on, `seconds` apart (from :00)."""
    return set(range(0, 60, seconds))


class EventEnvelope(BaseModel):
    """A domain event as it travels through the queue (and, later, to webhooks)."""

    id: UUID
    type: str = Field(description="Event type, e.g. `organization.created`")
    source: str = Field(description="The service that wrote the event")
    subject_type: str
    subject_id: str
    subject_seq: int | None = Field(
        description="Per-subject sequence number of published events: ignore anything older. "
        "None for internal commands (`shared.interservice.INTERNAL_EVENT_TYPES`), never published"
    )
    occurred_at: datetime
    request_id: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class CaseOutcomeJob(BaseModel):
    case_id: UUID


def serialize_job(value: Any) -> bytes:
    return json.dumps(value, default=str, ensure_ascii=False).encode()


def deserialize_job(raw: bytes) -> Any:
    return json.loads(raw)


def redis_settings(settings: Settings | None = None) -> RedisSettings:
    settings = settings or get_settings()
    return RedisSettings.from_dsn(settings.require_redis_url())


async def create_queue(settings: Settings | None = None) -> ArqRedis:
    settings = settings or get_settings()
    return await create_pool(
        redis_settings(settings),
        job_serializer=serialize_job,
        job_deserializer=deserialize_job,
        default_queue_name=settings.arq_queue_name,
    )


async def repeat(
    step: Callable[[], Awaitable[None]],
    *,
    interval: float,
    logger: logging.Logger,
    failure: str,
) -> None:
    """Run `step` now, then every `interval` seconds, until cancelled. A failed run is
    logged (`failure`) and tried again at the next tick: a periodic sweep of an API
    process must outlive a database that went away for a while."""
    while True:
        try:
            await step()
        except Exception:
            logger.exception(failure)
        await asyncio.sleep(interval)


class AdaptivePoll:
    """arq's poll loop, fast while jobs flow and backing off when the queue stays empty.

    arq polls its queue every `poll_delay` (one ZRANGEBYSCORE, its abort check and its
    heart beat each time), busy or not: at the 50 ms that keeps jobs flowing, an idle
    worker wakes 20 times a second for nothing. Here the delay is `poll_delay` while a
    job started or ended within `busy_for` seconds, then doubles at each empty poll up
    to `idle_delay`, so the first job after a quiet spell waits at most that long.
    `install` swaps it in for `arq.worker.poll`, which `Worker.main` calls after the
    worker's `on_startup`; the cron look-ahead (at least one second) is not shortened.
    """

    def __init__(self, *, idle_delay: float = 0.5, busy_for: float = 1.0) -> None:
        self.idle_delay = idle_delay
        self.busy_for = busy_for
        self._last_activity = 0.0

    def activity(self) -> None:
        """A job started or ended: poll at full speed again."""
        self._last_activity = time.monotonic()

    def next_delay(self, current: float, fast: float) -> float:
        if time.monotonic() - self._last_activity < self.busy_for:
            return fast
        return min(self.idle_delay, max(current, fast) * 2)

    async def poll(self, step: float = 0.5) -> AsyncGenerator[float, None]:
        loop = asyncio.get_running_loop()
        start = loop.time()
        delay = step
        while True:
            before = loop.time()
            yield before - start
            delay = self.next_delay(delay, step)
            await asyncio.sleep(max(0.0, delay - (loop.time() - before)))

    def install(self) -> None:
        arq_worker.poll = self.poll  # type: ignore[attr-defined]
