"""Faults: duplicate job delivery, a worker killed mid-job, the subject service down."""

from __future__ import annotations

import signal
import uuid
from collections.abc import Callable
from typing import Any

import httpx
from arq import ArqRedis
from arq.jobs import Job, JobStatus
from sqlalchemy import func, select, text

from services.workflow.jobs import CONSUMER as WORKFLOW_CONSUMER
from services.workflow.models import CaseTransition, infra
from shared.db import database
from shared.jobs import JobName, create_queue, deserialize_job
from shared.outbox import envelope_of
from shared.settings import get_settings
from tests.support.polling import poll
from tests.support.processes import ManagedProcess, worker_process
from tests.support.receiver import Receiver
from tests.workflow.helpers import transitions_to

# Generous: the worker process may still be starting, on two cores shared with other runs.
WITHIN = 90.0


async def _claimed_by_the_worker(event_id: uuid.UUID) -> bool:
    inbox = infra.inbox
    async with database.transaction() as session:
        claimed = await session.execute(
            select(func.count()).where(
                inbox.c.consumer == WORKFLOW_CONSUMER, inbox.c.event_id == event_id
            )
        )
        return bool(claimed.scalar_one())


async def test_duplicate_job_delivery_changes_nothing(
    submit: Callable[..., Any], wait_for_state: Callable[..., Any], worker: ManagedProcess
) -> None:
    case_id = await submit("organization_change")
    await wait_for_state(case_id, "in_joint_review", within=WITHIN)
    outbox = infra.outbox
    async with database.transaction() as session:
        row = (
            await session.execute(
                select(outbox).where(
                    outbox.c.subject_id == case_id, outbox.c.event_type == "case.submitted"
                )
            )
        ).one()
    # The case can reach joint review through the sweep's pre-check before the event's own
    # job has run: the redeliveries below must come after the first delivery, not race it.
    await poll(lambda: _claimed_by_the_worker(row.id), within=WITHIN)
    queue: ArqRedis = await create_queue()
    try:
        # The same event delivered again under other job ids (as after a Redis failover).
        jobs = [
            await queue.enqueue_job(
                JobName.dispatch_event.value,
                envelope_of(row, "workflow").model_dump(mode="json"),
                _job_id=f"redelivery-{uuid.uuid4()}",
            )
            for _ in range(3)
        ]
        results = [await job.result(timeout=WITHIN) for job in jobs if job is not None]
    finally:
        await queue.aclose()
    assert results == ["duplicate", "duplicate", "duplicate"]
    assert await transitions_to(case_id, "accepted") == 1
    assert await transitions_to(case_id, "in_joint_review") == 1


async def test_worker_killed_mid_job_reruns_and_applies_once(
    submit: Callable[..., Any],
    wait_for_state: Callable[..., Any],
    worker: ManagedProcess,
    tmp_path: Any,
) -> None:
    worker.stop()  # this test runs its own workers
    blocker = await database.engine.connect()
    transaction = await blocker.begin()
    replacement: ManagedProcess | None = None
    try:
        case_id = await submit("organization_change")
        # Hold the case's row lock: the worker's pre-check job blocks inside its transaction.
        await blocker.execute(
            text("SELECT 1 FROM workflow.approval_case WHERE id = :id FOR UPDATE"), {"id": case_id}
        )
        victim = worker_process(str(tmp_path), WORKER_JOB_TIMEOUT_SECONDS="3").start()

        async def worker_is_blocked_on_the_case() -> bool:
            async with database.engine.connect() as probe:
                waiting = await probe.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND query ILIKE '%approval_case%' AND datname = current_database()"
                    )
                )
                return bool(waiting.scalar_one())

        await poll(worker_is_blocked_on_the_case, within=20)
        victim.kill(signal.SIGKILL)
        await transaction.rollback()
        replacement = worker_process(str(tmp_path), WORKER_JOB_TIMEOUT_SECONDS="3").start()
        await wait_for_state(case_id, "in_joint_review", within=40)
        # The killed job itself runs again once its in-progress mark expires. Whether the
        # sweep or that re-run got there first, the pre-check is applied once (counted below).
        killed_job_id = await _submitted_event_id(case_id)
        queue = await create_queue()
        try:
            rerun = await queue_job_result(queue, killed_job_id, within=40)
        finally:
            await queue.aclose()
        assert rerun in {"applied", "duplicate"}
        async with database.transaction() as session:
            accepted = (
                await session.execute(
                    select(func.count()).where(
                        CaseTransition.case_id == uuid.UUID(case_id),
                        CaseTransition.to_state == "accepted",
                    )
                )
            ).scalar_one()
        assert accepted == 1
        assert await transitions_to(case_id, "in_joint_review") == 1
    finally:
        if transaction.is_active:
            await transaction.rollback()
        await blocker.close()
        if replacement is not None:
            replacement.stop()
        worker.start()


async def _submitted_event_id(case_id: str) -> str:
    outbox = infra.outbox
    async with database.transaction() as session:
        event_id = (
            await session.execute(
                select(outbox.c.id).where(
                    outbox.c.subject_id == case_id, outbox.c.event_type == "case.submitted"
                )
            )
        ).scalar_one()
    return str(event_id)


async def queue_job_result(queue: ArqRedis, job_id: str, *, within: float) -> Any:
    job = Job(
        job_id, queue, _queue_name=get_settings().arq_queue_name, _deserializer=deserialize_job
    )

    async def finished() -> bool:
        return await job.status() is JobStatus.complete

    await poll(finished, within=within)
    return await job.result(timeout=1)


async def test_outcome_callback_is_retried_until_the_subject_service_is_back(
    submit: Callable[..., Any],
    workflow: httpx.AsyncClient,
    auth: Callable[..., Any],
    worker: ManagedProcess,
    callback_receiver: Receiver,
) -> None:
    from tests.workflow.helpers import decide, in_review, tasks

    # The subject service ("registry") is down: nothing listens on its port yet.
    case_id = await in_review(submit, "organization_change", service=True)
    t = await tasks(workflow, auth, case_id)
    assert (
        await decide(
            workflow, auth, "civil_affairs_registration", t["civil_affairs_registration"], "approve"
        )
    ).json()["state"] == "approved"

    async def attempts() -> int:
        async with database.transaction() as session:
            value = (
                await session.execute(
                    text("SELECT callback_attempts FROM workflow.approval_case WHERE id = :id"),
                    {"id": case_id},
                )
            ).scalar_one()
        return int(value) if value >= 2 else 0

    await poll(attempts, within=30)
    callback_receiver.start()

    async def delivered() -> bool:
        case = (
            await workflow.get(f"/api/v1/cases/{case_id}", headers=auth("civil_affairs"))
        ).json()
        return case["callback_delivered_at"] is not None

    await poll(delivered, within=30)
    bodies = [
        b
        for b in callback_receiver.json_bodies("/api/v1/internal/case-outcomes")
        if b["case_id"] == case_id
    ]
    assert len(bodies) == 1
    assert bodies[0]["outcome"] == "approved"
    assert bodies[0]["case_type"] == "organization_change"
    request = next(r for r in callback_receiver.requests if case_id in r.body.decode())
    assert request.headers["idempotency-key"] == f"{case_id}:approved"
    assert request.headers["authorization"].startswith("Bearer ")
