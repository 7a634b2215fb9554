"""The worker's own duties: cases requested by services, cron sweeps, its retry policy."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from arq import Retry
from sqlalchemy import delete, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from services.workflow.cases import commands
from services.workflow.cases.commands import precheck
from services.workflow.cases.schemas import CaseSubmit
from services.workflow.jobs import retry_transient
from services.workflow.models import ApprovalCase, infra
from services.workflow.worker import WorkerSettings
from shared.auth import Principal, Role
from shared.db import database, utcnow
from shared.interservice import CASE_REQUESTED_EVENT, CaseRequest, MaterialRef
from shared.jobs import EventEnvelope, JobName, create_queue
from tests.support.polling import poll
from tests.support.processes import ManagedProcess
from tests.workflow.helpers import case_events, materials_for


async def test_a_service_request_opens_one_case_however_often_it_arrives(
    worker: ManagedProcess,
    workflow: httpx.AsyncClient,
    auth: Callable[..., dict[str, str]],
    wait_for_state: Callable[..., Any],
) -> None:
    subject_id = str(uuid.uuid4())
    request = CaseRequest(
        command_id=uuid.uuid4(),
        case_type="organization_change",
        subject_service="registry",
        subject_type="application",
        subject_id=subject_id,
        applicant_name="庐阳区测试协会",
        title="变更登记",
        materials=materials_for("organization_change"),  # type: ignore[arg-type]
        callback_path="/api/v1/internal/case-outcomes/registry",
    )

    def envelope() -> dict[str, Any]:
        # The registry's outbox event, redelivered under new event ids (a replayed feed).
        return EventEnvelope(
            id=uuid.uuid4(),
            type=CASE_REQUESTED_EVENT,
            source="registry",
            subject_type="application",
            subject_id=subject_id,
            subject_seq=1,
            occurred_at=utcnow(),
            data=request.model_dump(mode="json"),
        ).model_dump(mode="json")

    queue = await create_queue()
    try:
        jobs = [
            await queue.enqueue_job(JobName.dispatch_event.value, envelope(), _job_id=str(i))
            for i in (uuid.uuid4(), uuid.uuid4())
        ]
        results = [await job.result(timeout=20) for job in jobs if job is not None]
    finally:
        await queue.aclose()
    assert results == ["applied", "applied"]
    listed = (
        await workflow.get(
            "/api/v1/cases", params={"subject_id": subject_id}, headers=auth("civil_affairs")
        )
    ).json()
    assert listed["total"] == 1
    case = await wait_for_state(listed["items"][0]["id"], "in_joint_review")
    assert case["subject_service"] == "registry"
    assert case["timeline"][0]["actor"] == "service:registry"
    async with database.transaction() as session:
        stored = await session.get(ApprovalCase, uuid.UUID(case["id"]))
        assert stored is not None
        assert stored.callback_path == "/api/v1/internal/case-outcomes/registry"


async def test_timers_fire_once_from_the_worker_sweep_and_survive_a_restart(
    worker: ManagedProcess, submit: Callable[..., Any]
) -> None:
    async def in_review_with_past_timers() -> str:
        case_id: str = await submit("annual_inspection")
        async with database.transaction() as session:
            await precheck(session, case_id=uuid.UUID(case_id))
            await session.execute(
                update(ApprovalCase)
                .where(ApprovalCase.id == uuid.UUID(case_id))
                .values(reminder_at=utcnow() - timedelta(days=2), due_at=utcnow())
            )
        return case_id

    async def fired(case_id: str) -> bool:
        return (
            await case_events(case_id, "case.reminder_due") >= 1
            and await case_events(case_id, "case.overdue") >= 1
        )

    worker.stop()
    try:
        # The timers come due while no worker runs: the next worker fires them.
        first = await in_review_with_past_timers()
    finally:
        worker.start()
    await poll(lambda: fired(first), within=30)
    worker.stop()
    worker.start()
    # A later case firing proves the restarted worker has swept since.
    second = await in_review_with_past_timers()
    await poll(lambda: fired(second), within=30)
    for case_id in (first, second):
        assert await case_events(case_id, "case.reminder_due") == 1
        assert await case_events(case_id, "case.overdue") == 1


async def test_a_lost_precheck_trigger_is_recovered_by_the_sweep(
    worker: ManagedProcess, wait_for_state: Callable[..., Any]
) -> None:
    applicant = Principal(sub="org-user", role=Role.organization, org_id=str(uuid.uuid4()))
    async with database.transaction() as session:
        result = await commands.submit(
            session,
            actor=applicant,
            data=CaseSubmit(
                command_id=uuid.uuid4(),
                case_type="annual_inspection",
                title="年检",
                applicant_name="测试协会",
                materials=[
                    MaterialRef.model_validate(m) for m in materials_for("annual_inspection")
                ],
            ),
        )
        # The trigger is lost for good: its outbox row never commits, so no relay ever
        # sees it (as if Redis lost the job after the relay had confirmed it).
        await session.execute(
            delete(infra.outbox).where(
                infra.outbox.c.subject_id == str(result.case_id),
                infra.outbox.c.event_type == "case.submitted",
            )
        )
    case = await wait_for_state(str(result.case_id), "in_joint_review", within=30)
    assert [s["to_state"] for s in case["timeline"]] == ["submitted", "accepted", "in_joint_review"]


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _failing(error: BaseException) -> Callable[[dict[str, Any]], Any]:
    @retry_transient
    async def job(ctx: dict[str, Any]) -> str:
        raise error

    return job


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("SELECT 1", {}, _PgError("08006")),
        DBAPIError("SELECT 1", {}, _PgError("40001")),  # serialization failure
        DBAPIError("SELECT 1", {}, _PgError("40P01")),  # deadlock
        ConnectionRefusedError("redis down"),
        TimeoutError(),
    ],
)
async def test_transient_errors_become_retry_with_growing_backoff(error: BaseException) -> None:
    job = _failing(error)
    with pytest.raises(Retry) as first:
        await job({"job_try": 1})
    with pytest.raises(Retry) as later:
        await job({"job_try": 4})
    assert first.value.defer_score == 2_000
    assert later.value.defer_score == 16_000
    with pytest.raises(Retry) as capped:
        await job({"job_try": 30})
    assert capped.value.defer_score == 60_000


@pytest.mark.parametrize(
    "error",
    [
        IntegrityError("INSERT", {}, _PgError("23505")),
        DBAPIError("SELECT 1", {}, _PgError("42P01")),
        ValueError("a bug"),
    ],
)
async def test_other_errors_fail_the_job_without_retry(error: BaseException) -> None:
    with pytest.raises(type(error)):
        await _failing(error)({"job_try": 1})


def test_worker_settings_are_explicit() -> None:
    names = {f.name for f in WorkerSettings.functions}
    assert {JobName.dispatch_event.value, JobName.deliver_case_outcome.value} <= names
    assert JobName.workflow_sweep.value in [c.name for c in WorkerSettings.cron_jobs]
    assert {"webhooks.deliver", "inbound.process"} <= names  # the provincial sync
    assert WorkerSettings.job_completion_wait > 0
    assert WorkerSettings.health_check_interval > 0
    # JSON on the wire, never pickle.
    assert WorkerSettings.job_serializer({"a": 1}) == b'{"a": 1}'
    assert WorkerSettings.job_deserializer(b'{"a": 1}') == {"a": 1}
