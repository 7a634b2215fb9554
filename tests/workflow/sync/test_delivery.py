"""Outbound end to end: event → real arq worker → signed POST to a real loopback receiver."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import jsonschema_rs
from arq import ArqRedis
from arq.worker import Worker
from standardwebhooks import Webhook

from services.workflow.sync.models import DeliveryStatus
from tests.support.polling import poll
from tests.support.receiver import Receiver
from tests.workflow.sync.helpers import DISPATCH_JOB, deliveries, envelope, register


async def _dispatch(queue: ArqRedis, payload: dict[str, Any], job_id: str) -> None:
    await queue.enqueue_job(DISPATCH_JOB, payload, _job_id=job_id)


async def _received(receiver: Receiver, path: str, count: int = 1) -> list[Any]:
    async def enough() -> list[Any] | None:
        found = receiver.to(path)
        return found if len(found) >= count else None

    result: list[Any] = await poll(enough, within=15)
    return result


class TestDeliveryEndToEnd:
    async def test_an_event_arrives_once_signed_and_matching_its_catalogue_schema(
        self,
        api: httpx.AsyncClient,
        civil: dict[str, str],
        receiver: Receiver,
        worker: Worker,
        queue: ArqRedis,
    ) -> None:
        endpoint = await register(
            api, civil, f"{receiver.url}/hooks", event_types=["organization.*"]
        )
        elsewhere = await register(api, civil, f"{receiver.url}/cases", event_types=["case.*"])
        event = envelope("organization.updated", seq=4)
        payload = event.model_dump(mode="json")
        # The queue is at least once: the same event dispatched three times.
        for attempt in range(3):
            await _dispatch(queue, payload, f"{event.id}:{attempt}")

        (request,) = await _received(receiver, "/hooks")
        verified = Webhook(endpoint["secret"]).verify(request.body, request.headers)
        assert request.headers["webhook-id"] == str(event.id)
        assert verified["type"] == "organization.updated"
        assert verified["subject"] == {"type": "organization", "id": event.subject_id, "seq": 4}
        assert verified["data"] == event.data
        assert len(request.body) < 20 * 1024

        catalogue = (await api.get("/api/v1/webhooks/event-types", headers=civil)).json()
        schema = next(t["payload_schema"] for t in catalogue if t["type"] == "organization.updated")
        jsonschema_rs.validator_for(schema).validate(verified)

        async def succeeded() -> bool:
            rows = await deliveries(endpoint["id"])
            return len(rows) == 1 and rows[0].status is DeliveryStatus.succeeded

        await poll(succeeded)
        assert await deliveries(elsewhere["id"]) == []  # its filter wants cases only
        assert len(receiver.to("/hooks")) == 1  # the redeliveries changed nothing

        listing = await api.get(
            f"/api/v1/webhooks/endpoints/{endpoint['id']}/deliveries", headers=civil
        )
        assert listing.status_code == 200
        (item,) = listing.json()["items"]
        (attempt,) = item["attempts"]
        assert item["status"] == "succeeded"
        assert attempt["status_code"] == 200
        assert attempt["latency_ms"] >= 0
        assert attempt["response_excerpt"] == '{"ok":true}'

    async def test_test_event_and_manual_resend(
        self,
        api: httpx.AsyncClient,
        civil: dict[str, str],
        receiver: Receiver,
        worker: Worker,
    ) -> None:
        endpoint = await register(api, civil, f"{receiver.url}/probe")
        sent = await api.post(
            f"/api/v1/webhooks/endpoints/{endpoint['id']}/test",
            json={"message": "你好"},
            headers=civil,
        )
        assert sent.status_code == 202, sent.text
        (first,) = await _received(receiver, "/probe")
        body = Webhook(endpoint["secret"]).verify(first.body, first.headers)
        assert body["type"] == "webhook.test"
        assert body["data"] == {"endpoint_id": endpoint["id"], "message": "你好"}

        delivery_id = sent.json()["delivery_ids"][0]

        async def delivered() -> bool:
            found = await api.get(f"/api/v1/webhooks/deliveries/{delivery_id}", headers=civil)
            return bool(found.json()["status"] == "succeeded")

        await poll(delivered)
        resent = await api.post(f"/api/v1/webhooks/deliveries/{delivery_id}/resend", headers=civil)
        assert resent.status_code == 202
        _, second = await _received(receiver, "/probe", count=2)
        assert second.headers["webhook-id"] == first.headers["webhook-id"]
        await poll(delivered)
        detail = (await api.get(f"/api/v1/webhooks/deliveries/{delivery_id}", headers=civil)).json()
        assert [a["status_code"] for a in detail["attempts"]] == [200, 200]


class TestEndpointManagement:
    async def test_a_provincial_system_manages_only_its_own_endpoints(
        self, api: httpx.AsyncClient, auth: Callable[..., dict[str, str]], receiver: Receiver
    ) -> None:
        anhui = auth("provincial_system", sub="province-anhui")
        other = auth("provincial_system", sub="province-zhejiang")
        mine = await register(api, anhui, f"{receiver.url}/mine")

        assert (
            await api.get(f"/api/v1/webhooks/endpoints/{mine['id']}", headers=other)
        ).status_code == 404
        listed = (await api.get("/api/v1/webhooks/endpoints", headers=other)).json()["items"]
        assert mine["id"] not in {e["id"] for e in listed}
        seen_by_civil = await api.get(
            f"/api/v1/webhooks/endpoints/{mine['id']}", headers=auth("civil_affairs")
        )
        assert seen_by_civil.status_code == 200
        assert "secret" not in seen_by_civil.json()
        refused = await api.get(
            "/api/v1/webhooks/endpoints", headers=auth("organization", org_id="x")
        )
        assert refused.status_code == 403

    async def test_update_needs_the_current_etag_and_disable_fails_pending_work(
        self, api: httpx.AsyncClient, civil: dict[str, str], receiver: Receiver
    ) -> None:
        endpoint = await register(api, civil, f"{receiver.url}/a", description="old")
        path = f"/api/v1/webhooks/endpoints/{endpoint['id']}"
        missing = await api.patch(path, json={"description": "new"}, headers=civil)
        assert missing.status_code == 428, missing.text
        stale = await api.patch(
            path, json={"description": "new"}, headers={**civil, "If-Match": '"9"'}
        )
        assert stale.status_code == 412
        etag = (await api.get(path, headers=civil)).headers["ETag"]
        updated = await api.patch(
            path,
            json={"description": "new", "event_types": ["case.decided", "fund.*"]},
            headers={**civil, "If-Match": etag},
        )
        assert updated.status_code == 200, updated.text
        assert updated.json()["event_types"] == ["case.decided", "fund.*"]
        typo = await api.patch(
            path,
            json={"event_types": ["organisation.*"]},
            headers={**civil, "If-Match": updated.headers["ETag"]},
        )
        assert typo.status_code == 422
        assert typo.json()["code"] == "unknown_event_types"

        disabled = await api.post(f"{path}/disable", headers=civil)
        assert disabled.json()["enabled"] is False
        assert disabled.json()["disabled_reason"] == "manual"
        test_refused = await api.post(f"{path}/test", headers=civil)
        assert test_refused.status_code == 409
        enabled = await api.post(f"{path}/enable", headers=civil)
        assert enabled.json()["enabled"] is True
        assert enabled.json()["disabled_reason"] is None

    async def test_unknown_endpoint_and_delivery_are_404(
        self, api: httpx.AsyncClient, civil: dict[str, str]
    ) -> None:
        missing = uuid.uuid4()
        assert (
            await api.get(f"/api/v1/webhooks/endpoints/{missing}", headers=civil)
        ).status_code == 404
        resend = await api.post(f"/api/v1/webhooks/deliveries/{missing}/resend", headers=civil)
        assert resend.status_code == 404
