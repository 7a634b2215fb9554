"""Provincial sync: signed outbound webhooks, the event feed, verified inbound webhooks.

What the workflow service and worker wire in (and nothing else is public):

* `routers` — `/api/v1/webhooks/...` (endpoint management, deliveries, catalogue),
  `/api/v1/events` (the feed), `/api/v1/inbound/...` (receiver and its sources);
* `on_event(session, envelope)` — called by `events.dispatch` for every event, in the
  transaction that claims it in the workflow inbox: appends it to the feed and creates
  one delivery per matching enabled endpoint; a delivery job starts after the commit
  when there is one;
* `worker_functions`, `cron_jobs`, `startup`, `shutdown` — for the arq worker.

Importing this package registers its tables on the workflow metadata.
"""

from __future__ import annotations

from typing import Any

from arq import cron, func
from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from services.workflow.sync import models as models  # the tables, on the workflow metadata
from services.workflow.sync.config import get_sync_settings
from services.workflow.sync.feed import append_and_fan_out
from services.workflow.sync.jobs import (
    DELIVER_JOB,
    INBOUND_JOB,
    SWEEP_JOB,
    deliver,
    kick_after_commit,
    process_inbound,
    shutdown,
    startup,
    sweep,
)
from services.workflow.sync.routers.events import router as events_router
from services.workflow.sync.routers.inbound import router as inbound_router
from services.workflow.sync.routers.webhooks import router as webhooks_router
from shared.db import utcnow
from shared.jobs import EventEnvelope, every

routers: list[APIRouter] = [webhooks_router, events_router, inbound_router]


async def on_event(session: AsyncSession, envelope: EventEnvelope) -> None:
    """Feed and fan out one event (exactly once: the caller's inbox claim guarantees it)."""
    # A delivery job only when a delivery was created: with no endpoint wanting the
    # event, the job (an enqueue, a worker slot and a claim transaction) would find
    # nothing to send. The sweep still covers a lost kick.
    if await append_and_fan_out(session, envelope, now=utcnow()):
        kick_after_commit(session)


# Jobs keep no result: the fixed ids of delivery jobs must be free as soon as they end.
# (The sweep is registered by its cron entry.)
worker_functions: list[Any] = [
    func(deliver, name=DELIVER_JOB, keep_result=0, max_tries=1),
    func(process_inbound, name=INBOUND_JOB, keep_result=0, max_tries=1),
]
cron_jobs: list[Any] = [
    cron(
        sweep,
        name=SWEEP_JOB,
        second=every(get_sync_settings().sweep_interval_seconds),
        run_at_startup=True,
        unique=True,
        keep_result=0,
        max_tries=1,
    )
]

__all__ = [
    "DELIVER_JOB",
    "INBOUND_JOB",
    "SWEEP_JOB",
    "cron_jobs",
    "on_event",
    "routers",
    "shutdown",
    "startup",
    "worker_functions",
]
