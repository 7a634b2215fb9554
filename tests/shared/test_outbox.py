"""Transactional outbox → queue → inbox: at least once on the wire, once in effect."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from arq import ArqRedis
from arq.jobs import Job, JobStatus
from arq.worker import Worker, func
from sqlalchemy import func as sql_func
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.models import infra as registry_infra
from services.workflow.jobs import CONSUMER, dispatch_event
from services.workflow.models import infra as workflow_infra
from shared.db import Database, database
from shared.jobs import EventEnvelope, JobName, create_queue, deserialize_job, serialize_job
from shared.outbox import OutboxRelay, record_event
from shared.settings import get_settings
from tests.support.polling import poll

outbox = registry_infra.outbox


@pytest.fixture
async def queue() -> AsyncIterator[ArqRedis]:
    pool = await create_queue()
    yield pool
    await pool.aclose()


def _job(queue: ArqRedis, job_id: uuid.UUID | str) -> Job:
    return Job(
        str(job_id), queue, _queue_name=get_settings().arq_queue_name, _deserializer=deserialize_job
    )


async def _event_for(subject_id: str) -> Any:
    async with database.transaction() as session:
        return (
            await session.execute(select(outbox).where(outbox.c.subject_id == subject_id))
        ).first()


async def test_event_committed_with_a_change_reaches_the_queue(
    registry: Any, auth: Callable[..., dict[str, str]], queue: ArqRedis
) -> None:
    from tests.factories import registered_org

    created = await registry.post(
        "/api/v1/organizations", json=registered_org(), headers=auth("civil_affairs")
    )
    assert created.status_code == 201
    event = await poll(lambda: _event_for(created.json()["id"]))
    assert event.event_type == "organization.created"
    assert event.subject_seq == 1

    async def enqueued() -> bool:
        return await _job(queue, event.id).status() is not JobStatus.not_found

    await poll(enqueued)
    info = await _job(queue, event.id).info()
    assert info is not None
    assert info.function == JobName.dispatch_event
    assert info.args[0]["type"] == "organization.created"
    assert info.args[0]["subject_id"] == created.json()["id"]


async def test_event_of_a_rolled_back_transaction_never_reaches_the_queue(queue: ArqRedis) -> None:
    subject = str(uuid.uuid4())
    event_id: uuid.UUID | None = None
    with pytest.raises(RuntimeError):
        async with database.transaction() as session:
            event_id = await record_event(
                session,
                outbox,
                event_type="organization.updated",
                subject_type="organization",
                subject_id=subject,
                data={},
            )
            raise RuntimeError("the change failed")
    assert event_id is not None
    relay = OutboxRelay(database=database, outbox=outbox, queue=queue, source="registry")
    await relay.run_once()
    assert await _event_for(subject) is None
    assert await _job(queue, event_id).status() is JobStatus.not_found


async def test_subject_sequence_numbers_count_up_per_subject() -> None:
    subject = str(uuid.uuid4())
    async with database.transaction() as session:
        for _ in range(3):
            await record_event(
                session,
                outbox,
                event_type="organization.updated",
                subject_type="organization",
                subject_id=subject,
                data={},
            )
    async with database.transaction() as session:
        seqs = (
            (
                await session.execute(
                    select(outbox.c.subject_seq)
                    .where(outbox.c.subject_id == subject)
                    .order_by(outbox.c.subject_seq)
                )
            )
            .scalars()
            .all()
        )
    assert seqs == [1, 2, 3]


async def test_relay_republishes_what_redis_lost_and_confirms_what_ran(queue: ArqRedis) -> None:
    subject = str(uuid.uuid4())
    async with database.transaction() as session:
        event_id = await record_event(
            session,
            outbox,
            event_type="organization.updated",
            subject_type="organization",
            subject_id=subject,
            data={"changed_fields": ["address"]},
        )
    eager = get_settings().model_copy(update={"outbox_republish_after_seconds": 0})
    relay = OutboxRelay(
        database=database, outbox=outbox, queue=queue, source="registry", settings=eager
    )

    async def published() -> bool:
        await relay.run_once()
        return await _job(queue, event_id).status() is not JobStatus.not_found

    await poll(published)
    # Redis loses everything it knew about the job (flushed, or restarted empty).
    await queue.delete(f"arq:job:{event_id}")
    await queue.zrem(get_settings().arq_queue_name, str(event_id))
    assert await _job(queue, event_id).status() is JobStatus.not_found

    await poll(published)
    row = await _event_for(subject)
    assert row.publish_count >= 2
    assert row.confirmed_at is None

    # Once a worker has run the job successfully, the relay confirms the row.
    await _run_worker_burst(queue, handlers={})

    async def confirmed() -> bool:
        await relay.run_once()
        return (await _event_for(subject)).confirmed_at is not None

    await poll(confirmed)


async def _run_worker_burst(
    queue: ArqRedis,
    *,
    handlers: dict[str, Any],
    queue_name: str | None = None,
) -> None:
    worker = Worker(
        functions=[func(dispatch_event, name=JobName.dispatch_event.value)],
        redis_pool=queue,
        queue_name=queue_name or get_settings().arq_queue_name,
        burst=True,
        poll_delay=0.05,
        ctx={"event_handlers": handlers},
        job_serializer=serialize_job,
        job_deserializer=deserialize_job,
        keep_result=3600,
        handle_signals=False,
    )
    try:
        await worker.main()
    finally:
        await worker.close()


@pytest.fixture
def applied() -> Iterator[list[uuid.UUID]]:
    yield []


async def test_redelivered_event_is_applied_once(queue: ArqRedis, applied: list[uuid.UUID]) -> None:
    async def handler(session: AsyncSession, envelope: EventEnvelope) -> None:
        await session.execute(text("SELECT 1"))
        applied.append(envelope.id)

    envelope = EventEnvelope(
        id=uuid.uuid4(),
        type="test.ping",
        source="registry",
        subject_type="test",
        subject_id="s",
        subject_seq=1,
        occurred_at=datetime.now(UTC),
    )
    private_queue = f"sanshe:test:redelivery:{uuid.uuid4().hex}"
    payload = envelope.model_dump(mode="json")
    # The same event delivered three times (the queue is at least once).
    for attempt in range(3):
        await queue.enqueue_job(
            JobName.dispatch_event.value,
            payload,
            _job_id=f"{envelope.id}-{attempt}",
            _queue_name=private_queue,
        )
    await _run_worker_burst(queue, handlers={"test.ping": handler}, queue_name=private_queue)

    assert applied == [envelope.id]
    inbox = workflow_infra.inbox
    async with database.transaction() as session:
        claimed = (
            await session.execute(
                select(sql_func.count()).where(
                    inbox.c.consumer == CONSUMER, inbox.c.event_id == envelope.id
                )
            )
        ).scalar_one()
    assert claimed == 1


async def _record_update(db: Database) -> uuid.UUID:
    async with db.transaction() as session:
        return await record_event(
            session,
            outbox,
            event_type="organization.updated",
            subject_type="organization",
            subject_id=str(uuid.uuid4()),
            data={},
        )


async def test_a_backlog_of_pending_events_does_not_starve_a_fresh_one(
    queue: ArqRedis, fresh_database: Callable[[str], AsyncGenerator[str, None]]
) -> None:
    """Rows published but not yet run must not keep a new event out of every batch."""
    # Closed explicitly, so the database is dropped even when an assertion fails.
    databases = fresh_database(f"starve_{uuid.uuid4().hex[:6]}")
    isolated = Database(await anext(databases))
    try:
        backlog_settings = get_settings().model_copy(
            update={"outbox_relay_batch": 2, "outbox_republish_after_seconds": 0}
        )
        relay = OutboxRelay(
            database=isolated,
            outbox=outbox,
            queue=queue,
            source="registry",
            settings=backlog_settings,
        )

        # A backlog larger than one batch, all published and still pending in arq.
        for _ in range(3):
            await _record_update(isolated)
        for _ in range(5):
            if not await relay.run_once():
                break
        async with isolated.transaction() as session:
            counts = (await session.execute(select(outbox.c.publish_count))).scalars().all()
        # Still queued is pending, not lost: nothing was published twice.
        assert counts == [1, 1, 1]

        fresh = await _record_update(isolated)
        assert await relay.run_once() == 1
        assert await _job(queue, fresh).status() is not JobStatus.not_found
    finally:
        await isolated.dispose()
        await databases.aclose()
