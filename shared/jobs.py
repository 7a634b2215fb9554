"""Job contracts: every arq job name and payload model, defined once.

Jobs are serialized as JSON (never pickle), so a payload is plain data that any
version of a worker can read, and nothing executable crosses Redis.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from arq import ArqRedis, create_pool
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
