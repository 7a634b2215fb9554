"""Delivery of the applicant's messages: a sink that fails is retried with backoff."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
from sqlalchemy import select

from services.workflow.cases.commands import precheck
from services.workflow.notifications.adapters import FileSink
from services.workflow.notifications.models import ApplicantNotification, NotificationStatus
from services.workflow.notifications.service import deliver_due
from shared.db import database, utcnow
from tests.workflow.helpers import materials_for


def _delivered(sink: Path, case_id: uuid.UUID) -> list[dict[str, str]]:
    """The sink's lines for this case (other tests' messages may be due at the same time)."""
    path = sink / "in_app.jsonl"
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    return [line for line in lines if line["case_id"] == str(case_id)]


async def test_a_failing_sink_is_retried_later_and_the_message_then_delivered_once(
    workflow: httpx.AsyncClient, auth: Callable[..., dict[str, str]], tmp_path: Path
) -> None:
    org_id = str(uuid.uuid4())
    filed = await workflow.post(
        "/api/v1/cases",
        json={
            "command_id": str(uuid.uuid4()),
            "case_type": "organization_change",
            "title": "变更住所",
            "applicant_name": "庐阳区书法协会",
            "materials": materials_for("organization_change", leave_out=("council_resolution",)),
        },
        headers=auth("organization", org_id=org_id),
    )
    assert filed.status_code == 201, filed.text
    case_id = uuid.UUID(filed.json()["case_id"])
    async with database.transaction() as session:
        await precheck(session, case_id=case_id)

    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")  # the sink cannot create its directory here
    now = utcnow()
    async with database.transaction() as session:
        await deliver_due(session, adapter=FileSink(blocked / "sink"), now=now)
    async with database.transaction() as session:
        (row,) = (
            await session.execute(
                select(ApplicantNotification).where(ApplicantNotification.case_id == case_id)
            )
        ).scalars()
        assert row.status is NotificationStatus.pending
        assert row.attempts == 1 and row.last_error == "file sink: NotADirectoryError"
        assert row.next_attempt_at is not None and row.next_attempt_at > now

    sink = tmp_path / "sink"
    async with database.transaction() as session:
        # Not due yet: nothing is sent before its backoff.
        await deliver_due(session, adapter=FileSink(sink), now=now)
    assert _delivered(sink, case_id) == []
    later = row.next_attempt_at
    async with database.transaction() as session:
        await deliver_due(session, adapter=FileSink(sink), now=later)
        await deliver_due(session, adapter=FileSink(sink), now=later)
    mine = _delivered(sink, case_id)
    assert len(mine) == 1
    assert mine[0]["recipient"] == org_id and "理事会（会员大会）决议" in mine[0]["text"]
    inbox = await workflow.get("/api/v1/notifications", headers=auth("organization", org_id=org_id))
    (shown,) = inbox.json()["items"]
    assert shown["status"] == "delivered" and shown["delivered_at"] is not None
