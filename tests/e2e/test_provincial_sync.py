"""The provincial sync in the deployed system: a register change reaches the province.

Real processes only: the registry and workflow under uvicorn, the arq worker, and a
Standard Webhooks subscriber of its own process that verifies with the
`standardwebhooks` package. The path is the one production takes: registry outbox →
relay → `events.dispatch` on the worker → feed + delivery → signed POST.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx

from tests.factories import registered_org
from tests.support.polling import poll_sync
from tests.support.system import System
from tests.workflow.sync.helpers import ReceiverProcess


async def test_an_organization_created_in_the_registry_reaches_the_province_signed(
    system: System,
    http: Callable[[str], httpx.Client],
    auth: Callable[..., dict[str, str]],
    province: ReceiverProcess,
) -> None:
    registry, workflow = http("registry"), http("workflow")
    path = f"/province/{uuid.uuid4().hex[:8]}"
    endpoint = workflow.post(
        "/api/v1/webhooks/endpoints",
        json={"url": f"{province.url}{path}", "event_types": ["organization.*"]},
        headers=auth("civil_affairs"),
    )
    assert endpoint.status_code == 201, endpoint.text
    await province.verify_with(path, ours=endpoint.json()["secret"])

    created = registry.post(
        "/api/v1/organizations", json=registered_org(), headers=auth("civil_affairs")
    )
    assert created.status_code == 201, created.text
    org_id = created.json()["id"]

    # The pull side carries the same event: find it in the feed to learn its id.
    def fed() -> dict[str, Any] | None:
        page = workflow.get("/api/v1/events", headers=auth("provincial_system")).json()
        return next((e for e in page["items"] if e["subject"]["id"] == org_id), None)

    event = poll_sync(fed, within=60)
    assert event["type"] == "organization.created"
    assert event["source"] == "registry"

    entry = await province.received(path, event["id"])
    assert entry["verified"] == {"ours": True}
    assert entry["payload"]["type"] == "organization.created"
    assert entry["payload"]["subject"] == {"type": "organization", "id": org_id, "seq": 1}
