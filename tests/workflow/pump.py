"""Drive the worker's duties in-process: relay a subject's outbox events through the real
`events.dispatch`, and deliver a decided case's outcome to the in-process subject app.

For tests that need the workflow to react without a worker process: the functions are
the worker's own (inbox claim, handlers, callbacks), only the queue is skipped.
"""

from __future__ import annotations

import uuid
from typing import TypeVar

import httpx
from fastapi import FastAPI
from sqlalchemy import Table, select

from services.workflow.cases import callbacks
from services.workflow.jobs import dispatch_event
from services.workflow.models import ApprovalCase
from services.workflow.models import infra as workflow_infra
from shared.clients import ServiceClient
from shared.db import database
from shared.outbox import envelope_of

C = TypeVar("C", bound=ServiceClient)


def in_process(client: type[C], app: FastAPI, *, caller: str) -> C:
    """A typed service client whose calls go to an in-process app (no network)."""
    return client("http://testserver", caller=caller, transport=httpx.ASGITransport(app=app))


async def dispatch_subject(outbox: Table, source: str, subject_id: str | uuid.UUID) -> int:
    """Run every outbox event of the subject through `events.dispatch`, in writing order
    (one already handled is a duplicate the inbox drops); returns how many were new."""
    async with database.transaction() as session:
        rows = (
            await session.execute(
                select(outbox)
                .where(outbox.c.subject_id == str(subject_id))
                .order_by(outbox.c.position)
            )
        ).all()
    results = [
        await dispatch_event({}, envelope_of(row, source).model_dump(mode="json")) for row in rows
    ]
    return sum(result != "duplicate" for result in results)


async def run_case(case_id: str | uuid.UUID) -> None:
    """The workflow's own reactions to its case's events (pre-check after submission)."""
    await dispatch_subject(workflow_infra.outbox, "workflow", case_id)


async def case_of_subject(subject_id: str | uuid.UUID) -> ApprovalCase | None:
    async with database.transaction() as session:
        return (
            await session.execute(
                select(ApprovalCase).where(ApprovalCase.subject_id == str(subject_id))
            )
        ).scalar_one_or_none()


async def deliver_outcome(case_id: uuid.UUID, subject_app: FastAPI) -> str:
    """The worker's callback of a decided case, posted to the in-process subject app."""
    return await callbacks.deliver_outcome(
        case_id,
        client_for=lambda _service: in_process(ServiceClient, subject_app, caller="workflow"),
    )
