"""arq job functions of the workflow worker.

Each job opens its own transaction. `events.dispatch` claims the event id in the
workflow inbox in the same transaction as the handlers' effects, so the queue's
at-least-once delivery applies every event at most once. arq retries a job only when
it raises `Retry`: transient database and network errors are turned into `Retry` with
backoff; anything else is a bug and fails the job (Postgres still holds the truth,
and the sweep picks the work up again).
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any, ParamSpec, TypeVar

from arq import ArqRedis, Retry
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from services.workflow import sync
from services.workflow.base import infra
from services.workflow.cases import callbacks, commands
from services.workflow.cases.schemas import CaseSubmit
from services.workflow.cases.sweeps import (
    due_callbacks,
    expire_pending,
    fire_timers,
    stale_prechecks,
)
from services.workflow.config import get_workflow_settings
from services.workflow.notifications import adapters
from services.workflow.notifications import service as notifications
from shared.auth import Principal, Role
from shared.backoff import backoff_seconds
from shared.db import database, utcnow
from shared.interservice import (
    CASE_REQUESTED_EVENT,
    CASE_WITHDRAWAL_REQUESTED_EVENT,
    CaseRequest,
    CaseWithdrawalRequest,
)
from shared.jobs import CaseOutcomeJob, EventEnvelope, JobName
from shared.outbox import OutboxRelay, claim_event
from shared.request_context import set_request_id

logger = logging.getLogger("sanshe.workflow.jobs")

EventHandler = Callable[[AsyncSession, EventEnvelope], Awaitable[None]]
CONSUMER = "workflow"

P = ParamSpec("P")
R = TypeVar("R")


def retry_transient(job: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Turn transient infrastructure errors into arq `Retry` with exponential backoff."""

    @functools.wraps(job)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        ctx: dict[str, Any] = args[0]  # type: ignore[assignment]
        try:
            return await job(*args, **kwargs)
        except (OperationalError, RedisConnectionError, ConnectionError, TimeoutError) as exc:
            raise _retry(ctx, exc) from exc
        except DBAPIError as exc:
            # Serialization failures and deadlocks are worth another try; others are bugs.
            if exc.connection_invalidated or getattr(exc.orig, "sqlstate", "") in {
                "40001",
                "40P01",
            }:
                raise _retry(ctx, exc) from exc
            raise

    return wrapper


def _retry(ctx: dict[str, Any], exc: BaseException) -> Retry:
    attempt = int(ctx.get("job_try", 1))
    logger.warning(
        "transient error; retrying", extra={"error": type(exc).__name__, "attempt": attempt}
    )
    # 2 s, 4 s, 8 s… up to a minute (attempt 1 is the first run, which already failed).
    return Retry(defer=backoff_seconds(attempt + 1, base=1.0, cap=60.0))


async def _open_requested_case(session: AsyncSession, envelope: EventEnvelope) -> None:
    request = CaseRequest.model_validate(envelope.data)
    submission = CaseSubmit(
        command_id=request.command_id,
        case_id=request.case_id,
        case_type=request.case_type,
        title=request.title,
        applicant_name=request.applicant_name,
        materials=request.materials,
        subject_service=request.subject_service,
        subject_type=request.subject_type,
        subject_id=request.subject_id,
        subject_department=request.subject_department,
        applicant_org_id=request.applicant_org_id,
    )
    actor = Principal(sub=f"service:{envelope.source}", role=Role.service)
    await commands.submit(
        session, actor=actor, data=submission, callback_path=request.callback_path
    )


async def _withdraw_requested_case(session: AsyncSession, envelope: EventEnvelope) -> None:
    request = CaseWithdrawalRequest.model_validate(envelope.data)
    try:
        await commands.withdraw_on_request(session, source=envelope.source, request=request)
    except commands.CaseNotOpenedYet:
        # Its case request is still on its way (jobs run in parallel): the rollback
        # releases the inbox claim, and arq runs this event again later.
        logger.info(
            "withdrawal before its case opened; retrying", extra={"event_id": str(envelope.id)}
        )
        raise Retry(defer=2.0) from None


async def _precheck(session: AsyncSession, envelope: EventEnvelope) -> None:
    await commands.precheck(session, case_id=uuid.UUID(envelope.subject_id))


EVENT_HANDLERS: dict[str, EventHandler] = {
    CASE_REQUESTED_EVENT: _open_requested_case,
    CASE_WITHDRAWAL_REQUESTED_EVENT: _withdraw_requested_case,
    "case.submitted": _precheck,
    "case.resubmitted": _precheck,
}
# Called for every event (after the type's handler), e.g. the provincial sync's fan-out.
EVENT_SUBSCRIBERS: list[EventHandler] = [sync.on_event]


@retry_transient
async def dispatch_event(ctx: dict[str, Any], payload: dict[str, Any]) -> str:
    envelope = EventEnvelope.model_validate(payload)
    set_request_id(envelope.request_id)
    handlers: Mapping[str, EventHandler] = ctx.get("event_handlers", EVENT_HANDLERS)
    subscribers: Sequence[EventHandler] = ctx.get("event_subscribers", EVENT_SUBSCRIBERS)
    async with database.transaction() as session:
        if not await claim_event(session, infra.inbox, consumer=CONSUMER, event_id=envelope.id):
            logger.info("duplicate event ignored", extra={"event_id": str(envelope.id)})
            return "duplicate"
        handler = handlers.get(envelope.type)
        if handler is not None:
            await handler(session, envelope)
        for subscriber in subscribers:
            await subscriber(session, envelope)
    return "applied" if handler else "recorded"


@retry_transient
async def deliver_case_outcome(ctx: dict[str, Any], payload: dict[str, Any]) -> str:
    job = CaseOutcomeJob.model_validate(payload)
    client_for = ctx.get("client_for", callbacks.default_client)
    return await callbacks.deliver_outcome(job.case_id, client_for=client_for)


async def sweep(ctx: dict[str, Any]) -> dict[str, int]:
    """Fire timers, decide cases past their 容缺 due date, deliver applicants' messages,
    pre-check what a lost trigger left waiting, enqueue due callbacks."""
    settings = get_workflow_settings()
    now = utcnow()
    async with database.transaction() as session:
        timers = await fire_timers(session, now=now)
    async with database.transaction() as session:
        expired = await expire_pending(session, now=now)
    async with database.transaction() as session:
        notified = await notifications.deliver_due(
            session, adapter=ctx.get("notification_adapter") or adapters.default_adapter(), now=now
        )
    async with database.transaction() as session:
        waiting = await stale_prechecks(
            session, now=now, older_than=timedelta(seconds=settings.workflow_precheck_stale_seconds)
        )
    for case_id in waiting:
        async with database.transaction() as session:
            await commands.precheck(session, case_id=case_id)
    queue: ArqRedis = ctx["redis"]
    async with database.transaction() as session:
        due = await due_callbacks(session, now=now)
    for case_id, attempts in due:
        await queue.enqueue_job(
            JobName.deliver_case_outcome.value,
            CaseOutcomeJob(case_id=case_id).model_dump(mode="json"),
            _job_id=f"outcome:{case_id}:{attempts}",
        )
    # The API process relays the workflow outbox; this pass covers it being down.
    relayed = await OutboxRelay(
        database=database, outbox=infra.outbox, queue=queue, source="workflow"
    ).run_once()
    return {
        "reminded": len(timers.reminded),
        "escalated": len(timers.escalated),
        "pending_expired": len(expired),
        "notifications": notified,
        "prechecked": len(waiting),
        "callbacks": len(due),
        "relayed": relayed,
    }
