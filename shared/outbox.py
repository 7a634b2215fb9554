"""Transactional outbox, its relay to the queue, and the consumers' inbox.

A service writes its domain events with `record_event` in the same transaction as the
change, so an event exists if and only if the change committed. The relay, running in
each API process, claims unconfirmed rows with `FOR UPDATE SKIP LOCKED` (so replicas
share the work without a watermark that out-of-order commits could skip) and enqueues
one `events.dispatch` job per event, with the event id as the arq job id.

Postgres stays the source of truth: a row is *confirmed* only once arq reports its job
complete and successful. A row published but unknown to Redis after
`OUTBOX_REPUBLISH_AFTER_SECONDS` (Redis flushed or restarted empty) is published again.
Delivery is therefore at least once; consumers make it effectively once by claiming
the event id in their inbox in the same transaction as their effect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from arq import ArqRedis
from arq.jobs import Job, JobStatus
from sqlalchemy import (
    BigInteger,
    Column,
    Identity,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy import event as sa_event
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from shared.db import Database, TimestampTZ, utcnow
from shared.interservice import INTERNAL_EVENT_TYPES
from shared.jobs import EventEnvelope, JobName, deserialize_job
from shared.request_context import current_request_id
from shared.settings import Settings, get_settings

logger = logging.getLogger("sanshe.outbox")


@dataclass(frozen=True)
class InfraTables:
    """The bookkeeping tables every service keeps in its own schema."""

    outbox: Table
    inbox: Table
    idempotency: Table


def infra_tables(metadata: MetaData) -> InfraTables:
    outbox = Table(
        "outbox_event",
        metadata,
        Column("id", UUID(as_uuid=True), primary_key=True),
        # Commit order is not id order; `position` only orders the feed, the relay
        # never uses it as a watermark.
        Column("position", BigInteger, Identity(always=True), nullable=False, unique=True),
        Column("event_type", String(100), nullable=False),
        Column("subject_type", String(60), nullable=False),
        Column("subject_id", String(100), nullable=False),
        # Counts the subject's published events (1, 2, 3…); NULL for internal commands.
        Column("subject_seq", Integer),
        Column("payload", JSONB, nullable=False),
        Column("request_id", String(128)),
        Column("occurred_at", TimestampTZ(), nullable=False, server_default=func.now()),
        Column("published_at", TimestampTZ()),
        Column("confirmed_at", TimestampTZ()),
        Column("publish_count", Integer, nullable=False, server_default=text("0")),
        UniqueConstraint("subject_type", "subject_id", "subject_seq"),
        Index(
            "ix_outbox_event_unconfirmed",
            "occurred_at",
            postgresql_where=text("confirmed_at IS NULL"),
        ),
    )
    inbox = Table(
        "processed_event",
        metadata,
        Column("consumer", String(100), nullable=False),
        Column("event_id", UUID(as_uuid=True), nullable=False),
        Column("processed_at", TimestampTZ(), nullable=False, server_default=func.now()),
        PrimaryKeyConstraint("consumer", "event_id"),
    )
    idempotency = Table(
        "idempotency_key",
        metadata,
        Column("principal", String(200), nullable=False),
        Column("key", String(200), nullable=False),
        Column("method", String(10), nullable=False),
        Column("path", Text, nullable=False),
        Column("request_hash", String(64), nullable=False),
        Column("status_code", Integer),
        Column("response_headers", JSONB),
        Column("response_body", Text),
        Column("created_at", TimestampTZ(), nullable=False, server_default=func.now()),
        Column("completed_at", TimestampTZ()),
        PrimaryKeyConstraint("principal", "key"),
    )
    return InfraTables(outbox=outbox, inbox=inbox, idempotency=idempotency)


async def record_event(
    session: AsyncSession,
    outbox: Table,
    *,
    event_type: str,
    subject_type: str,
    subject_id: str | uuid.UUID,
    data: dict[str, Any],
) -> uuid.UUID:
    """Write a domain event in the caller's transaction; returns its id.

    The per-subject sequence is the next number for that subject. Callers change the
    subject's row in the same transaction (holding its row lock), and the unique
    constraint on (subject, seq) turns any remaining race into a retryable error rather
    than two events with one number.

    Only events that are published get a number: subscribers take a gap in a subject's
    sequence for a missed event, so an internal command (`INTERNAL_EVENT_TYPES`), which
    never leaves our services, is written without one.
    """
    subject_key = str(subject_id)
    next_seq = (
        None
        if event_type in INTERNAL_EVENT_TYPES
        else select(func.coalesce(func.max(outbox.c.subject_seq), 0) + 1)
        .where(outbox.c.subject_type == subject_type, outbox.c.subject_id == subject_key)
        .scalar_subquery()
    )
    event_id = uuid.uuid4()
    _wake_relays_after_commit(session)
    await session.execute(
        insert(outbox).values(
            id=event_id,
            event_type=event_type,
            subject_type=subject_type,
            subject_id=subject_key,
            subject_seq=next_seq,
            payload=data,
            request_id=current_request_id(),
            occurred_at=utcnow(),
        )
    )
    return event_id


# The relays running in this process (one per service app), each with the loop it runs
# on. A commit that wrote an outbox event wakes them at once instead of leaving the
# event for their next poll: the relay hop costs no poll interval for events written in
# the relay's own process, and the poll is only the fallback for other processes' events.
_relay_wakeups: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()


def _wake_relays_after_commit(session: AsyncSession) -> None:
    sync_session = session.sync_session
    if not _relay_wakeups or sync_session.info.get("outbox_wake"):
        return
    sync_session.info["outbox_wake"] = True

    def after_commit(_: Session) -> None:
        sync_session.info.pop("outbox_wake", None)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        for relay_loop, wakeup in list(_relay_wakeups):
            if relay_loop is loop:
                wakeup.set()

    sa_event.listen(sync_session, "after_commit", after_commit, once=True)


def envelope_of(row: Any, source: str) -> EventEnvelope:
    return EventEnvelope(
        id=row.id,
        type=row.event_type,
        source=source,
        subject_type=row.subject_type,
        subject_id=row.subject_id,
        subject_seq=row.subject_seq,
        occurred_at=row.occurred_at,
        request_id=row.request_id,
        data=row.payload,
    )


class OutboxRelay:
    """Publishes one service's outbox to the queue, at least once."""

    def __init__(
        self,
        *,
        database: Database,
        outbox: Table,
        queue: ArqRedis,
        source: str,
        settings: Settings | None = None,
    ) -> None:
        self.database = database
        self.outbox = outbox
        self.queue = queue
        self.source = source
        self.settings = settings or get_settings()

    async def run_once(self) -> int:
        """Publish or confirm one batch; returns how many rows were enqueued."""
        outbox = self.outbox
        republish_before = utcnow() - timedelta(
            seconds=self.settings.outbox_republish_after_seconds
        )
        enqueued = 0
        async with self.database.transaction() as session:
            rows = (
                await session.execute(
                    select(outbox)
                    .where(
                        outbox.c.confirmed_at.is_(None),
                        (outbox.c.published_at.is_(None))
                        | (outbox.c.published_at < republish_before),
                    )
                    # Never-published events first, then the longest unchecked: a
                    # backlog of pending rows must not starve fresh events.
                    .order_by(outbox.c.published_at.asc().nulls_first(), outbox.c.occurred_at)
                    .limit(self.settings.outbox_relay_batch)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            # One UPDATE per outcome for the whole batch, not one per row: a batch of 200
            # was 200 round trips inside the claim's transaction.
            confirmed: list[uuid.UUID] = []
            pending: list[uuid.UUID] = []
            published: list[uuid.UUID] = []
            for row in rows:
                if row.published_at is not None:
                    state = await self._job_state(str(row.id))
                    if state == "confirmed":
                        confirmed.append(row.id)
                        continue
                    if state == "pending":
                        # Still queued, running, or failed with its result kept: look again later.
                        pending.append(row.id)
                        continue
                    logger.warning(
                        "outbox event lost by the queue, publishing again",
                        extra={"event_id": str(row.id), "event_type": row.event_type},
                    )
                await self.queue.enqueue_job(
                    JobName.dispatch_event.value,
                    envelope_of(row, self.source).model_dump(mode="json"),
                    _job_id=str(row.id),
                )
                published.append(row.id)
            now = utcnow()
            if confirmed:
                await session.execute(
                    update(outbox).where(outbox.c.id.in_(confirmed)).values(confirmed_at=now)
                )
            if pending:
                await session.execute(
                    update(outbox).where(outbox.c.id.in_(pending)).values(published_at=now)
                )
            if published:
                await session.execute(
                    update(outbox)
                    .where(outbox.c.id.in_(published))
                    .values(published_at=now, publish_count=outbox.c.publish_count + 1)
                )
            enqueued = len(published)
        return enqueued

    async def _job_state(self, job_id: str) -> str:
        # The queue name matters: a job still waiting is found by its score in *our*
        # queue, and under arq's default name it would look lost and be re-published.
        job = Job(
            job_id,
            self.queue,
            _queue_name=self.queue.default_queue_name,
            _deserializer=deserialize_job,
        )
        status = await job.status()
        if status is JobStatus.not_found:
            return "lost"
        if status is JobStatus.complete:
            info = await job.result_info()
            if info is not None and info.success:
                return "confirmed"
        return "pending"

    async def run_forever(self) -> None:
        """Relay until cancelled: at once after a commit in this process wrote an event,
        else every `outbox_relay_interval_seconds` (events of other processes)."""
        interval = self.settings.outbox_relay_interval_seconds
        wakeup = asyncio.Event()
        registration = (asyncio.get_running_loop(), wakeup)
        _relay_wakeups.add(registration)
        try:
            while True:
                # Cleared before the pass: a commit during it makes the next pass immediate.
                wakeup.clear()
                try:
                    published = await self.run_once()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    logger.exception("outbox relay pass failed; retrying")
                    published = 0
                if not published:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(wakeup.wait(), timeout=interval)
        finally:
            _relay_wakeups.discard(registration)


async def claim_event(
    session: AsyncSession, inbox: Table, *, consumer: str, event_id: uuid.UUID
) -> bool:
    """Record that `consumer` handles `event_id`; False if it already did.

    Call it in the transaction that applies the event's effect: a redelivery then finds
    the row (or waits on the first delivery's lock) and changes nothing.
    """
    result = await session.execute(
        pg_insert(inbox)
        .values(consumer=consumer, event_id=event_id)
        .on_conflict_do_nothing()
        .returning(inbox.c.event_id)
    )
    return result.first() is not None
