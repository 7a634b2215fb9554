"""Deliver each decided case's outcome to the service that owns its subject.

Postgres holds the delivery state (`next_callback_at`, attempts, last error); a job
makes one attempt and, on failure, schedules the next with exponential backoff. The
sweep enqueues what is due, so deliveries survive worker restarts and Redis loss and
are retried until the subject service answers 2xx.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from services.workflow.cases.models import ApprovalCase, CaseState
from services.workflow.config import get_workflow_settings
from shared.backoff import backoff_delay
from shared.clients import (
    ServiceCallError,
    ServiceClient,
    post_case_outcome,
    projects_client,
    registry_client,
)
from shared.db import database, utcnow
from shared.interservice import CaseOutcome

logger = logging.getLogger("sanshe.workflow.callbacks")

ClientFactory = Callable[[str], ServiceClient]


def default_client(service: str) -> ServiceClient:
    factories = {"registry": registry_client, "projects": projects_client}
    return factories[service]("workflow")


def backoff(attempts: int) -> timedelta:
    settings = get_workflow_settings()
    return backoff_delay(
        attempts,
        base=settings.workflow_callback_backoff_seconds,
        cap=settings.workflow_callback_backoff_max_seconds,
    )


def outcome_of(case: ApprovalCase) -> CaseOutcome:
    assert case.decided_at is not None and case.subject_type and case.subject_id
    outcome = {
        CaseState.approved: "approved",
        CaseState.rejected: "rejected",
        CaseState.withdrawn: "withdrawn",
    }
    return CaseOutcome(
        case_id=case.id,
        case_type=case.case_type,
        subject_type=case.subject_type,
        subject_id=case.subject_id,
        outcome=outcome[case.state],
        reason=case.outcome_reason,
        decided_at=case.decided_at,
        definition_version=case.definition_version,
    )


async def deliver_outcome(case_id: uuid.UUID, *, client_for: ClientFactory = default_client) -> str:
    async with database.transaction() as session:
        case = (
            await session.execute(
                select(ApprovalCase)
                .where(ApprovalCase.id == case_id)
                .with_for_update(skip_locked=True)
            )
        ).scalar_one_or_none()
        # Locked by a concurrent delivery, already delivered, or nothing to deliver.
        if case is None or case.callback_delivered_at is not None or case.next_callback_at is None:
            return "skipped"
        assert case.subject_service and case.callback_path
        client = client_for(case.subject_service)
        try:
            await post_case_outcome(client, case.callback_path, outcome_of(case))
        except ServiceCallError as exc:
            case.callback_attempts += 1
            case.next_callback_at = utcnow() + backoff(case.callback_attempts)
            case.callback_last_error = str(exc)[:300]
            logger.warning(
                "outcome callback failed; will retry",
                extra={
                    "case_id": str(case.id),
                    "attempts": case.callback_attempts,
                    "error": str(exc),
                },
            )
            return "retry_scheduled"
        finally:
            await client.aclose()
        case.callback_attempts += 1
        case.callback_delivered_at = utcnow()
        case.next_callback_at = None
        case.callback_last_error = None
    return "delivered"
