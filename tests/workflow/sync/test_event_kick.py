"""`on_event` starts a delivery job only when the event created a delivery."""

from __future__ import annotations

import httpx
import pytest

import services.workflow.sync as sync
from services.workflow.sync import DELIVER_JOB, jobs
from shared.db import database
from tests.support.polling import poll
from tests.support.receiver import Receiver
from tests.workflow.sync.helpers import envelope, register
from tests.workflow.sync.test_triggers import RecordingQueue


async def test_no_delivery_job_when_no_endpoint_wants_the_event(
    api: httpx.AsyncClient,
    civil: dict[str, str],
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    queue = RecordingQueue()
    monkeypatch.setattr(jobs, "_queue", queue)
    # Every endpoint is disabled after each test (conftest): none is enabled here but
    # this one, which wants project events only.
    await register(api, civil, f"{receiver.url}/ok", event_types=["project.*"])
    async with database.transaction() as session:
        await sync.on_event(session, envelope("organization.updated"))
    assert not jobs._kicks  # no kick scheduled (none still on its way either)
    assert queue.enqueued == []

    async with database.transaction() as session:
        await sync.on_event(session, envelope("project.closed"))

    async def kicked() -> bool:
        return bool(queue.enqueued)

    await poll(kicked)
    assert [name for name, _ in queue.enqueued] == [DELIVER_JOB]
