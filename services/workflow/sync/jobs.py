"""arq jobs of the provincial sync: the sweep (cron), delivery, inbound processing.

The queue is only a trigger. `webhooks.sweep` looks at Postgres every
`WEBHOOK_SWEEP_INTERVAL_SECONDS`: it starts delivery jobs for what is due, re-enqueues
inbound messages whose processing is due, expires rotated-out secrets and purges the
feed past its retention. Right after an event's transaction commits,
`kick_after_commit` starts a delivery job at once, so the first try really is immediate.

Delivery jobs have fixed ids (`webhooks.deliver:<queue>:<lane>:<n>`) and keep no result,
so arq coalesces triggers: at most `WEBHOOK_PARALLEL_JOBS` run for healthy endpoints and
one for failing ones (`delivery.Lane`), each draining its due deliveries until none are
left or its time budget is spent.

Tests and benchmarks inject through the job context: `sync_settings`, `sync_clock`
(a callable returning the time), `sync_rng` (a `random.Random`), `sync_http` (an httpx
client), `sync_registry` (a factory of registry clients).
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, cast

import httpx
from arq import ArqRedis
from sqlalchemy import (
    ColumnElement,
    Select,
    bindparam,
    exists,
    func,
    literal_column,
    select,
    update,
)
from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from services.workflow.sync import delivery, feed, inbound_apply
from services.workflow.sync.config import SyncSettings, get_sync_settings
from services.workflow.sync.delivery import Lane
from services.workflow.sync.models import (
    DeliveryStatus,
    InboundEvent,
    InboundSource,
    InboundStatus,
    WebhookDelivery,
    WebhookEndpoint,
)
from services.workflow.sync.receiver_window import ReceiverWindows
from services.workflow.sync.sender import send_all
from services.workflow.sync.ssrf import AddressPolicy, guarded_client
from shared.db import database, utcnow
from shared.jobs import JobName
from shared.reads import CompiledSelect

logger = logging.getLogger("sanshe.workflow.sync.jobs")

SWEEP_JOB = JobName.webhooks_sweep.value
DELIVER_JOB = JobName.webhooks_deliver.value
INBOUND_JOB = JobName.inbound_process.value

Clock = Callable[[], datetime]
_PURGE_INTERVAL_SECONDS = 300.0
_TRIGGER_EXPIRES = timedelta(seconds=60)
# Time to write a batch back after its last request (see `lease_for`).
_LEASE_MARGIN_SECONDS = 15.0

# The queue of this process, set by `startup` (worker) or passed in (API).
_queue: ArqRedis | None = None
# Strong references to fire-and-forget kicks, so they are not collected mid-flight.
_kicks: set[asyncio.Task[Any]] = set()


def settings_of(ctx: dict[str, Any]) -> SyncSettings:
    settings: SyncSettings = ctx.get("sync_settings") or get_sync_settings()
    return settings


def clock_of(ctx: dict[str, Any]) -> Clock:
    clock: Clock = ctx.get("sync_clock", utcnow)
    return clock


def rng_of(ctx: dict[str, Any]) -> random.Random:
    rng: random.Random = ctx.setdefault("sync_rng", random.Random())
    return rng


def http_of(ctx: dict[str, Any]) -> httpx.AsyncClient:
    """One pooled client per worker process, all connections through the SSRF policy."""
    client: httpx.AsyncClient | None = ctx.get("sync_http")
    if client is None:
        settings = settings_of(ctx)
        client = guarded_client(
            AddressPolicy.from_settings(settings),
            timeout=settings.timeout_seconds,
            max_connections=settings.concurrency * settings.parallel_jobs,
        )
        ctx["sync_http"] = client
        windows_of(ctx)  # with the client: in the worker's shared ctx (worker.startup)
    return client


def windows_of(ctx: dict[str, Any]) -> ReceiverWindows:
    """Each receiver's window of requests in flight, shared by this process's jobs."""
    windows: ReceiverWindows | None = ctx.get("sync_windows")
    if windows is None:
        settings = settings_of(ctx)
        windows = ReceiverWindows(ceiling=settings.concurrency * settings.parallel_jobs)
        ctx["sync_windows"] = windows
    return windows


async def startup(ctx: dict[str, Any]) -> None:
    global _queue
    _queue = ctx.get("redis")
    # arq hands each job a copy of this ctx: what a job caches in its copy is lost when
    # it ends. The pooled client and the receivers' windows are made here, once, so that
    # every delivery job shares them (a window learnt by one job serves the next).
    http_of(ctx)


async def shutdown(ctx: dict[str, Any]) -> None:
    global _queue
    _queue = None
    client: httpx.AsyncClient | None = ctx.pop("sync_http", None)
    if client is not None:
        await client.aclose()


def kick_after_commit(session: AsyncSession, queue: ArqRedis | None = None) -> None:
    """Start a delivery job once this session's transaction has committed.

    Enqueued before the commit, the job could look for the deliveries before they are
    visible; after it, they are there. Without a queue the sweep picks them up.
    """
    target = queue or _queue
    sync_session = session.sync_session
    if target is None or sync_session.info.get("sync_kick"):
        return
    sync_session.info["sync_kick"] = True

    def after_commit(_: Session) -> None:
        sync_session.info.pop("sync_kick", None)
        task = asyncio.get_running_loop().create_task(_enqueue_deliver(target, Lane.healthy, 0))
        _kicks.add(task)
        task.add_done_callback(_kicks.discard)

    sa_event.listen(sync_session, "after_commit", after_commit, once=True)


async def _enqueue_deliver(queue: ArqRedis, lane: Lane, slot: int) -> None:
    try:
        # arq job ids are global to the Redis database, not per queue, and a queued job's
        # key lives until it expires: a short expiry keeps a job stranded by a stopped
        # worker from blocking its slot for long (the sweep enqueues it again).
        await queue.enqueue_job(
            DELIVER_JOB,
            lane.value,
            _job_id=f"{DELIVER_JOB}:{queue.default_queue_name}:{lane.value}:{slot}",
            _expires=_TRIGGER_EXPIRES,
        )
    except Exception:
        # The sweep covers a missed trigger; nothing is lost with it.
        logger.warning("could not enqueue a delivery job", exc_info=True)


def lease_for(settings: SyncSettings, batch: int) -> timedelta:
    """How long a claim stays ours: at least as long as the batch can possibly take.

    A batch is sent in waves of `WEBHOOK_CONCURRENCY`, each up to one timeout long, and
    a request may first wait up to one more timeout for its receiver's window
    (`sender.send_all`). A lease shorter than that would make deliveries still in flight
    due again, and another job would send them a second time (and void this one's
    write-back).
    """
    waves = math.ceil(batch / settings.concurrency)
    worst = (waves + 1) * settings.timeout_seconds + _LEASE_MARGIN_SECONDS
    return timedelta(seconds=max(settings.lease_seconds, worst))


async def deliver(ctx: dict[str, Any], lane: str = Lane.healthy.value) -> dict[str, int]:
    """Send due deliveries of a lane in batches until none are left or the budget is spent."""
    settings = settings_of(ctx)
    clock = clock_of(ctx)
    client = http_of(ctx)
    which = Lane(lane)
    # A failing lane's batch is one wave of requests: it lasts one timeout at worst.
    batch = settings.batch_size if which is Lane.healthy else settings.concurrency
    lease = lease_for(settings, batch)
    deadline = time.monotonic() + settings.deliver_budget_seconds
    totals = {"sent": 0, "delivered": 0, "retrying": 0, "failed": 0, "disabled": 0}
    while time.monotonic() < deadline:
        async with database.transaction() as session:
            jobs = await delivery.claim_due(
                session,
                now=clock(),
                batch=batch,
                lease=lease,
                lane=which,
            )
        if not jobs:
            break
        results = await send_all(
            client,
            jobs,
            now=clock(),
            timeout_seconds=settings.timeout_seconds,
            excerpt_bytes=settings.response_excerpt_bytes,
            concurrency=settings.concurrency,
            windows=windows_of(ctx),
        )
        async with database.transaction() as session:
            recorded = await delivery.record(
                session, results, now=clock(), settings=settings, rng=rng_of(ctx)
            )
        totals["sent"] += len(results)
        totals["delivered"] += recorded.delivered
        totals["retrying"] += recorded.retrying
        totals["failed"] += recorded.failed
        totals["disabled"] += len(recorded.disabled)
    return totals


async def process_inbound(ctx: dict[str, Any], inbound_id: str) -> str:
    """Apply one stored provincial message (see `inbound_apply`)."""
    settings = settings_of(ctx)
    factory = ctx.get("sync_registry", inbound_apply.default_registry)
    return await inbound_apply.process(
        uuid.UUID(inbound_id), now=clock_of(ctx)(), settings=settings, registry_factory=factory
    )


async def enqueue_inbound(queue: ArqRedis, inbound_id: uuid.UUID, attempts: int) -> None:
    await queue.enqueue_job(
        INBOUND_JOB,
        str(inbound_id),
        _job_id=f"{INBOUND_JOB}:{inbound_id}:{attempts}",
        _expires=_TRIGGER_EXPIRES,
    )


# Whether anything at all is due: one indexed statement (both partial "due" indexes),
# compiled once and run without a session or transaction. An idle worker runs only this
# every second: the ORM session, BEGIN/COMMIT and the grouped count cost it most of a
# percent of a CPU (bench: `python -m bench.webhooks_throughput --idle 60`).
_DUE_PROBES: list[ColumnElement[bool]] = [
    exists()
    .where(
        # Literal states: they match the partial indexes' predicates in any plan.
        WebhookDelivery.status == literal_column(f"'{DeliveryStatus.pending.value}'"),
        WebhookDelivery.next_attempt_at <= bindparam("now"),
        WebhookEndpoint.id == WebhookDelivery.endpoint_id,
        WebhookEndpoint.enabled,
    )
    .label("deliveries"),
    exists()
    .where(
        InboundEvent.status == literal_column(f"'{InboundStatus.received.value}'"),
        InboundEvent.next_attempt_at <= bindparam("now"),
    )
    .label("inbound"),
]
_ANYTHING_DUE = CompiledSelect(cast("Select[Any]", select(*_DUE_PROBES)))


async def sweep(ctx: dict[str, Any]) -> dict[str, int]:
    settings = settings_of(ctx)
    now = clock_of(ctx)()
    queue: ArqRedis = ctx["redis"]
    due = await database.reads.fetchrow(_ANYTHING_DUE, now=now)
    if due and (due["deliveries"] or due["inbound"]):
        jobs, inbound = await _start_due(queue, settings, now)
    else:
        jobs = inbound = 0
    purged = expired = 0
    if time.monotonic() >= ctx.get("sync_next_purge", 0.0):
        # Housekeeping needs no second-by-second precision: every few minutes will do.
        ctx["sync_next_purge"] = time.monotonic() + _PURGE_INTERVAL_SECONDS
        async with database.transaction() as session:
            purged = await feed.purge(
                session, now=now, retention=timedelta(days=settings.feed_retention_days)
            )
            expired = await _forget_rotated_secrets(session, now=now)
    return {
        "deliver_jobs": jobs,
        "inbound": inbound,
        "purged": purged,
        "secrets_expired": expired,
    }


async def _start_due(queue: ArqRedis, settings: SyncSettings, now: datetime) -> tuple[int, int]:
    """Enqueue delivery jobs for each lane with due deliveries, and due inbound messages."""
    async with database.transaction() as session:
        counts = await session.execute(
            select(WebhookEndpoint.failing_since.is_not(None), func.count())
            .select_from(WebhookDelivery)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(delivery.due_condition(now))
            .group_by(WebhookEndpoint.failing_since.is_not(None))
        )
        due_by_lane = {bool(failing): int(count) for failing, count in counts.all()}
        inbound_due = (
            await session.execute(
                select(InboundEvent.id, InboundEvent.attempts)
                .where(
                    InboundEvent.status == InboundStatus.received,
                    InboundEvent.next_attempt_at <= now,
                )
                .order_by(InboundEvent.next_attempt_at)
                .limit(settings.batch_size)
            )
        ).all()
    healthy, failing = due_by_lane.get(False, 0), due_by_lane.get(True, 0)
    jobs = min(settings.parallel_jobs, math.ceil(healthy / settings.batch_size))
    for slot in range(jobs):
        await _enqueue_deliver(queue, Lane.healthy, slot)
    if failing:
        jobs += 1
        await _enqueue_deliver(queue, Lane.failing, 0)
    for inbound_id, attempts in inbound_due:
        await enqueue_inbound(queue, inbound_id, attempts)
    return jobs, len(inbound_due)


async def _forget_rotated_secrets(session: AsyncSession, *, now: datetime) -> int:
    """A rotated-out secret is deleted once its overlap ends: it cannot leak after that."""
    count = 0
    for model in (WebhookEndpoint, InboundSource):
        result = await session.execute(
            update(model)
            .where(model.previous_secret_expires_at <= now)
            .values(previous_secret=None, previous_secret_expires_at=None)
            .execution_options(synchronize_session=False)
        )
        count += int(getattr(result, "rowcount", 0) or 0)
    return count
