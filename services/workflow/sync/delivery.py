"""Claim due deliveries, write back what each try got, disable endpoints that are gone.

Postgres holds every delivery's state; the queue only wakes a worker up. A claim
(`FOR UPDATE SKIP LOCKED`, so parallel workers take disjoint rows) pushes
`next_attempt_at` one lease ahead and bumps `attempt_count`, then commits: no lock or
connection is held during the HTTP calls. If the worker dies before writing back, the
lease runs out and the delivery is due again (at least once: the unchanged
`webhook-id` lets the receiver drop the duplicate). The write-back only applies if the
row still carries the claim's `attempt_count`, so a manual resend in between wins.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, Table, and_, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.workflow.base import infra
from services.workflow.sync import payloads
from services.workflow.sync.config import SyncSettings
from services.workflow.sync.models import (
    DeliveryStatus,
    SyncEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from services.workflow.sync.retry_schedule import Verdict, decide
from services.workflow.sync.sender import Job, Result
from services.workflow.sync.signing import SigningKeys
from shared.outbox import record_event

logger = logging.getLogger("sanshe.workflow.sync.delivery")

ENDPOINT_DISABLED_EVENT = "endpoint.disabled"


class Lane(StrEnum):
    """Deliveries to failing endpoints go in their own lane.

    A job sends a batch and waits for all of it; one endpoint that hangs until the
    15 s timeout would hold every batch it appears in, and delay every healthy endpoint
    behind it. Endpoints in a run of failures (`failing_since` set) are therefore claimed
    by a separate job, so a dead receiver slows only the other failing ones.
    """

    healthy = "healthy"
    failing = "failing"


def keys_of(endpoint: WebhookEndpoint) -> SigningKeys:
    return SigningKeys(
        current=endpoint.secret,
        previous=endpoint.previous_secret,
        previous_expires_at=endpoint.previous_secret_expires_at,
    )


def due_condition(now: datetime, lane: Lane | None = None) -> ColumnElement[bool]:
    """Pending, due, for an enabled endpoint (joined), in the lane if one is given."""
    condition = and_(
        WebhookDelivery.status == DeliveryStatus.pending,
        WebhookDelivery.next_attempt_at <= now,
        WebhookEndpoint.enabled,
    )
    if lane is Lane.healthy:
        condition = and_(condition, WebhookEndpoint.failing_since.is_(None))
    elif lane is Lane.failing:
        condition = and_(condition, WebhookEndpoint.failing_since.is_not(None))
    return condition


async def claim_due(
    session: AsyncSession,
    *,
    now: datetime,
    batch: int,
    lease: timedelta,
    lane: Lane | None = None,
) -> list[Job]:
    due = (
        select(WebhookDelivery.id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(due_condition(now, lane))
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(batch)
        .with_for_update(of=WebhookDelivery, skip_locked=True)
    )
    claimed = (
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(due.scalar_subquery()))
            .values(
                attempt_count=WebhookDelivery.attempt_count + 1,
                next_attempt_at=now + lease,
            )
            .returning(
                WebhookDelivery.id,
                WebhookDelivery.endpoint_id,
                WebhookDelivery.event_id,
                WebhookDelivery.attempt_count,
                WebhookDelivery.schedule_step,
            )
            .execution_options(synchronize_session=False)
        )
    ).all()
    if not claimed:
        return []
    endpoint_ids = {row.endpoint_id for row in claimed}
    event_ids = {row.event_id for row in claimed}
    endpoints = {
        e.id: e
        for e in (
            await session.execute(
                select(WebhookEndpoint).where(WebhookEndpoint.id.in_(endpoint_ids))
            )
        ).scalars()
    }
    events = {
        e.id: e
        for e in (
            await session.execute(select(SyncEvent).where(SyncEvent.id.in_(event_ids)))
        ).scalars()
    }
    bodies = {event_id: payloads.render(payloads.payload_of(e)) for event_id, e in events.items()}
    return [
        Job(
            delivery_id=row.id,
            endpoint_id=row.endpoint_id,
            token=row.attempt_count,
            step=row.schedule_step,
            url=endpoints[row.endpoint_id].url,
            keys=keys_of(endpoints[row.endpoint_id]),
            message_id=str(row.event_id),
            body=bodies[row.event_id],
        )
        for row in claimed
    ]


@dataclass
class Recorded:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    disabled: list[uuid.UUID] = field(default_factory=list)


async def record(
    session: AsyncSession,
    results: Sequence[Result],
    *,
    now: datetime,
    settings: SyncSettings,
    rng: random.Random,
) -> Recorded:
    """Store the tries, schedule what follows each, and update the endpoints' health."""
    report = Recorded()
    if not results:
        return report
    attempts = WebhookAttempt.__table__
    assert isinstance(attempts, Table)
    # A Core executemany on the session's connection: one statement compiled once and
    # cached. Through `session.execute` the ORM's bulk insert compiled a multi-row
    # VALUES anew for every batch (a sixth of the worker's CPU under load).
    connection = await session.connection()
    await connection.execute(
        insert(attempts),
        [
            {
                "delivery_id": r.job.delivery_id,
                "attempted_at": r.attempted_at,
                "status_code": r.status_code,
                "latency_ms": r.latency_ms,
                "response_excerpt": r.excerpt,
                "error": r.error,
            }
            for r in results
        ],
    )
    rows: list[dict[str, Any]] = []
    succeeded: set[uuid.UUID] = set()
    failing: set[uuid.UUID] = set()
    gone: set[uuid.UUID] = set()
    for r in results:
        decision = decide(
            step=r.job.step,
            status_code=r.status_code,
            retry_after=r.retry_after,
            now=now,
            jitter=settings.retry_jitter,
            retry_after_max=timedelta(seconds=settings.retry_after_max_seconds),
            rng=rng,
        )
        verdict = decision.verdict
        if verdict is Verdict.delivered:
            succeeded.add(r.job.endpoint_id)
            report.delivered += 1
        else:
            failing.add(r.job.endpoint_id)
            if verdict is Verdict.gone:
                gone.add(r.job.endpoint_id)
            if verdict is Verdict.retry:
                report.retrying += 1
            else:
                report.failed += 1
        rows.append(
            {
                "b_id": r.job.delivery_id,
                "b_token": r.job.token,
                "b_status": (
                    DeliveryStatus.succeeded
                    if verdict is Verdict.delivered
                    else DeliveryStatus.pending
                    if verdict is Verdict.retry
                    else DeliveryStatus.failed
                ),
                "b_step": decision.next_step,
                "b_next": decision.next_attempt_at,
                "b_code": r.status_code,
                "b_error": r.error,
                "b_delivered": now if verdict is Verdict.delivered else None,
                "b_failed": now if verdict in (Verdict.exhausted, Verdict.gone) else None,
            }
        )
    table = WebhookDelivery.__table__
    assert isinstance(table, Table)  # a Core executemany: one statement for the whole batch
    await connection.execute(
        update(table)
        .where(table.c.id == bindparam("b_id"), table.c.attempt_count == bindparam("b_token"))
        .values(
            status=bindparam("b_status"),
            schedule_step=bindparam("b_step"),
            next_attempt_at=bindparam("b_next"),
            last_status_code=bindparam("b_code"),
            last_error=bindparam("b_error"),
            delivered_at=bindparam("b_delivered"),
            failed_at=bindparam("b_failed"),
        ),
        rows,
    )
    report.disabled = await _update_health(
        session,
        succeeded=succeeded,
        failing=failing - succeeded,
        gone=gone,
        now=now,
        disable_after=timedelta(days=settings.disable_after_days),
    )
    return report


async def _update_health(
    session: AsyncSession,
    *,
    succeeded: set[uuid.UUID],
    failing: set[uuid.UUID],
    gone: set[uuid.UUID],
    now: datetime,
    disable_after: timedelta,
) -> list[uuid.UUID]:
    """Any success ends a run of failures; 410, or failing for days, disables."""
    involved = sorted(succeeded | failing | gone)
    # Lock in id order: two workers writing back for the same endpoints cannot deadlock.
    endpoints = (
        (
            await session.execute(
                select(WebhookEndpoint)
                .where(WebhookEndpoint.id.in_(involved))
                .order_by(WebhookEndpoint.id)
                .with_for_update()
            )
        )
        .scalars()
        .all()
    )
    disabled = []
    for endpoint in endpoints:
        if endpoint.id in succeeded:
            endpoint.failing_since = None
        elif endpoint.id in failing and endpoint.failing_since is None:
            endpoint.failing_since = now
        if not endpoint.enabled:
            continue
        if endpoint.id in gone:
            await disable_endpoint(session, endpoint, reason="gone", now=now)
            disabled.append(endpoint.id)
        elif endpoint.failing_since is not None and now - endpoint.failing_since >= disable_after:
            await disable_endpoint(session, endpoint, reason="failing", now=now)
            disabled.append(endpoint.id)
    await session.flush()
    return disabled


async def disable_endpoint(
    session: AsyncSession, endpoint: WebhookEndpoint, *, reason: str, now: datetime
) -> None:
    """Stop sending to an endpoint, fail what it still had pending, tell subscribers.

    Failed deliveries stay listed; after re-enabling, "recover since T" sends them.
    """
    endpoint.enabled = False
    endpoint.disabled_at = now
    endpoint.disabled_reason = reason
    endpoint.updated_at = now
    endpoint.version += 1
    await session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.endpoint_id == endpoint.id,
            WebhookDelivery.status == DeliveryStatus.pending,
        )
        .values(
            status=DeliveryStatus.failed,
            next_attempt_at=None,
            failed_at=now,
            last_error="endpoint_disabled",
        )
        .execution_options(synchronize_session=False)
    )
    host = urlsplit(endpoint.url).hostname or ""
    await record_event(
        session,
        infra.outbox,
        event_type=ENDPOINT_DISABLED_EVENT,
        subject_type="webhook_endpoint",
        subject_id=endpoint.id,
        data={"id": str(endpoint.id), "reason": reason, "url_host": host},
    )
    # The URL's path or query may embed a token of the receiver's: log the host only.
    logger.warning(
        "webhook endpoint disabled",
        extra={"endpoint_id": str(endpoint.id), "reason": reason, "host": host},
    )
