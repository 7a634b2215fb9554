"""Inbound provincial pushes: signature on the raw body, replays, duplicates, order, apply."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from arq.worker import Worker
from sqlalchemy import func, select, update
from standardwebhooks import Webhook

from services.workflow.sync.config import SyncSettings
from services.workflow.sync.models import InboundEvent, InboundSource
from shared.db import database
from tests.support.polling import poll
from tests.support.receiver import Answer, Receiver

Message = tuple[bytes, dict[str, str]]


def signed(
    secret: str,
    body: dict[str, Any] | bytes,
    *,
    message_id: str | None = None,
    at: datetime | None = None,
) -> Message:
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    sent_at = at or datetime.now(UTC)
    message_id = message_id or f"msg_{uuid.uuid4().hex}"
    signature = Webhook(secret).sign(message_id, sent_at, raw.decode("utf-8", "replace"))
    return raw, {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
    }


def status_change(
    org: str, status: str, *, at: datetime | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "type": "organization.status_changed",
        "timestamp": (at or datetime.now(UTC)).isoformat(),
        "data": {"organization_id": org, "status": status, "reason": "省级平台核查"},
        **extra,
    }


@pytest.fixture
def registry(registry_stand_in: Receiver) -> Iterator[Receiver]:
    registry_stand_in.answer_with(Answer(status=200))
    yield registry_stand_in
    registry_stand_in.answer_with(Answer(status=200))


@pytest.fixture
async def source(api: httpx.AsyncClient, civil: dict[str, str]) -> dict[str, Any]:
    name = f"anhui-{uuid.uuid4().hex[:8]}"
    created = await api.post(
        "/api/v1/inbound/sources", json={"name": name, "description": "安徽省平台"}, headers=civil
    )
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return body


async def push(api: httpx.AsyncClient, source: str, message: Message) -> httpx.Response:
    body, headers = message
    return await api.post(f"/api/v1/inbound/webhooks/{source}", content=body, headers=headers)


def calls_for(registry: Receiver, org: str) -> list[dict[str, Any]]:
    path = f"/api/v1/organizations/{org}/status"
    return [json.loads(r.body) for r in registry.to(path)]


async def status_of(inbound_id: str) -> str | None:
    async with database.transaction() as session:
        found = await session.get(InboundEvent, uuid.UUID(inbound_id))
        return None if found is None else found.status.value


async def settled(inbound_id: str, expected: str) -> None:
    async def reached() -> bool:
        return await status_of(inbound_id) == expected

    await poll(reached, within=15)


async def stored_for(source: str) -> int:
    async with database.transaction() as session:
        count = await session.execute(
            select(func.count()).select_from(InboundEvent).where(InboundEvent.source == source)
        )
        return int(count.scalar_one())


class TestVerification:
    async def test_a_signed_message_is_accepted_and_applied_through_the_registry(
        self,
        api: httpx.AsyncClient,
        source: dict[str, Any],
        registry: Receiver,
        worker: Worker,
    ) -> None:
        org = str(uuid.uuid4())
        answer = await push(
            api, source["name"], signed(source["secret"], status_change(org, "abnormal"))
        )
        assert answer.status_code == 202, answer.text
        assert answer.json()["status"] == "accepted"
        await settled(answer.json()["id"], "applied")
        assert calls_for(registry, org) == [{"status": "abnormal", "reason": "省级平台核查"}]
        (call,) = registry.to(f"/api/v1/organizations/{org}/status")
        assert call.headers["idempotency-key"] == f"inbound:{answer.json()['id']}"
        assert call.headers["authorization"].startswith("Bearer ")

    @pytest.mark.parametrize(
        "tamper",
        [
            "wrong_secret",
            "body_changed",
            "no_signature",
            "no_id",
            "garbled_signature",
            "not_a_timestamp",
            "unknown_source",
            "not_utf8",
            "unreadable_and_unsigned",
        ],
    )
    async def test_every_signature_failure_is_the_same_bare_401_and_stores_nothing(
        self, api: httpx.AsyncClient, source: dict[str, Any], tamper: str
    ) -> None:
        org = str(uuid.uuid4())
        secret, name = source["secret"], source["name"]
        body, headers = signed(secret, status_change(org, "revoked"))
        if tamper == "wrong_secret":
            body, headers = signed("whsec_" + "QUJDRA" * 6, status_change(org, "revoked"))
        elif tamper == "body_changed":
            body = body.replace(b"revoked", b"active")
        elif tamper == "no_signature":
            del headers["webhook-signature"]
        elif tamper == "no_id":
            del headers["webhook-id"]
        elif tamper == "garbled_signature":
            headers["webhook-signature"] = "v1,@@@ v2 v1"
        elif tamper == "not_a_timestamp":
            headers["webhook-timestamp"] = "yesterday"
        elif tamper == "unknown_source":
            name = "no-such-source"
        elif tamper == "not_utf8":
            body, headers = signed(secret, b"\xff\xfe{}")
        elif tamper == "unreadable_and_unsigned":
            # 401, not 400: nothing is parsed before the signature verifies.
            body, headers = signed("whsec_" + "QUJDRA" * 6, b"[1, 2")
        answer = await push(api, name, (body, headers))
        assert answer.status_code == 401
        problem = answer.json()
        assert problem["code"] == "signature_invalid"
        assert problem["detail"] is None and problem["errors"] == []
        assert await stored_for(source["name"]) == 0

    @pytest.mark.parametrize("offset", [timedelta(minutes=-6), timedelta(minutes=6)])
    async def test_a_timestamp_outside_the_tolerance_is_refused(
        self, api: httpx.AsyncClient, source: dict[str, Any], offset: timedelta
    ) -> None:
        replayed = signed(
            source["secret"],
            status_change(str(uuid.uuid4()), "active"),
            at=datetime.now(UTC) + offset,
        )
        answer = await push(api, source["name"], replayed)
        assert answer.status_code == 401
        assert await stored_for(source["name"]) == 0

    async def test_a_message_over_the_size_limit_is_413_and_stores_nothing(
        self, api: httpx.AsyncClient, source: dict[str, Any], sync_settings: SyncSettings
    ) -> None:
        message = status_change(str(uuid.uuid4()), "active")
        message["data"]["reason"] = "长" * sync_settings.inbound_max_body_bytes
        answer = await push(api, source["name"], signed(source["secret"], message))
        assert answer.status_code == 413
        assert answer.json()["code"] == "payload_too_large"
        assert await stored_for(source["name"]) == 0

    async def test_a_signed_but_unreadable_message_is_400(
        self, api: httpx.AsyncClient, source: dict[str, Any]
    ) -> None:
        answer = await push(api, source["name"], signed(source["secret"], b"[1, 2"))
        assert answer.status_code == 400
        assert answer.json()["code"] == "message_malformed"

    async def test_both_secrets_verify_during_a_source_rotation(
        self, api: httpx.AsyncClient, civil: dict[str, str], source: dict[str, Any]
    ) -> None:
        rotated = await api.post(
            f"/api/v1/inbound/sources/{source['name']}/rotate-secret", headers=civil
        )
        assert rotated.status_code == 200
        new = rotated.json()["secret"]
        for secret in (source["secret"], new):
            message = signed(secret, status_change(str(uuid.uuid4()), "active"))
            assert (await push(api, source["name"], message)).status_code == 202
        assert "secret" not in (await api.get("/api/v1/inbound/sources", headers=civil)).json()[0]

        # The overlap is over: the old secret is refused, the new one still verifies.
        async with database.transaction() as session:
            await session.execute(
                update(InboundSource)
                .where(InboundSource.name == source["name"])
                .values(previous_secret_expires_at=datetime.now(UTC) - timedelta(seconds=1))
            )
        stored = await stored_for(source["name"])
        late = signed(source["secret"], status_change(str(uuid.uuid4()), "active"))
        assert (await push(api, source["name"], late)).status_code == 401
        assert await stored_for(source["name"]) == stored
        fresh = signed(new, status_change(str(uuid.uuid4()), "active"))
        assert (await push(api, source["name"], fresh)).status_code == 202


class TestOnceAndInOrder:
    async def test_a_redelivery_is_acknowledged_and_ignored(
        self,
        api: httpx.AsyncClient,
        source: dict[str, Any],
        registry: Receiver,
        worker: Worker,
    ) -> None:
        org = str(uuid.uuid4())
        message = signed(source["secret"], status_change(org, "abnormal"))
        first = await push(api, source["name"], message)
        again = await push(api, source["name"], message)
        assert first.status_code == 202
        assert again.status_code == 200
        assert again.json() == {"status": "duplicate", "id": first.json()["id"]}
        await settled(first.json()["id"], "applied")
        # The same message re-signed (a sender's retry has a new timestamp, same id).
        retry = signed(
            source["secret"], status_change(org, "abnormal"), message_id=message[1]["webhook-id"]
        )
        assert (await push(api, source["name"], retry)).json()["status"] == "duplicate"
        assert len(calls_for(registry, org)) == 1
        assert await stored_for(source["name"]) == 1

    async def test_an_older_change_arriving_late_is_not_applied(
        self,
        api: httpx.AsyncClient,
        source: dict[str, Any],
        registry: Receiver,
        worker: Worker,
    ) -> None:
        org = str(uuid.uuid4())
        now = datetime.now(UTC)
        newer = signed(source["secret"], status_change(org, "active", at=now))
        older = signed(
            source["secret"], status_change(org, "abnormal", at=now - timedelta(hours=1))
        )
        applied = (await push(api, source["name"], newer)).json()["id"]
        await settled(applied, "applied")
        stale = (await push(api, source["name"], older)).json()["id"]
        await settled(stale, "stale")
        assert [c["status"] for c in calls_for(registry, org)] == ["active"]

        # Same timestamp, a higher sequence number wins; a lower one is stale.
        at = now + timedelta(seconds=1)
        seq5 = signed(source["secret"], status_change(org, "abnormal", at=at, sequence=5))
        seq4 = signed(source["secret"], status_change(org, "revoked", at=at, sequence=4))
        await settled((await push(api, source["name"], seq5)).json()["id"], "applied")
        await settled((await push(api, source["name"], seq4)).json()["id"], "stale")
        assert [c["status"] for c in calls_for(registry, org)] == ["active", "abnormal"]


class TestProcessing:
    async def test_unknown_types_and_other_lists_are_recorded_without_failing(
        self,
        api: httpx.AsyncClient,
        civil: dict[str, str],
        source: dict[str, Any],
        registry: Receiver,
        worker: Worker,
    ) -> None:
        org = str(uuid.uuid4())
        unknown = signed(source["secret"], {"type": "grant.awarded", "data": {"x": 1}})
        dishonest = signed(
            source["secret"],
            {
                "type": "credit_list.entry_added",
                "data": {"organization_id": org, "list": "serious_dishonest", "reason": "r"},
            },
        )
        invalid = signed(
            source["secret"], {"type": "organization.status_changed", "data": {"status": "x"}}
        )
        ids = []
        for message in (unknown, dishonest, invalid):
            answer = await push(api, source["name"], message)
            assert answer.status_code == 202
            ids.append(answer.json()["id"])
        await settled(ids[0], "unknown_type")
        await settled(ids[1], "recorded")
        await settled(ids[2], "invalid")
        assert calls_for(registry, org) == []
        listed = await api.get(
            "/api/v1/inbound/events", params={"status": "unknown_type"}, headers=civil
        )
        assert ids[0] in {e["id"] for e in listed.json()["items"]}

    async def test_a_refusal_is_final_and_an_outage_is_retried_until_applied(
        self,
        api: httpx.AsyncClient,
        source: dict[str, Any],
        registry: Receiver,
        worker: Worker,
    ) -> None:
        missing, flaky = str(uuid.uuid4()), str(uuid.uuid4())
        outage = {"on": True}

        def answer(request: Any) -> Answer:
            if missing in request.path:
                return Answer(status=404, body=b'{"code": "organization_not_found"}')
            if outage["on"]:
                return Answer(status=503)
            return Answer(status=200)

        registry.answer_with(answer)
        refused = (
            await push(
                api, source["name"], signed(source["secret"], status_change(missing, "active"))
            )
        ).json()
        await settled(refused["id"], "failed")
        waiting = (
            await push(
                api, source["name"], signed(source["secret"], status_change(flaky, "revoked"))
            )
        ).json()

        async def retried() -> bool:
            async with database.transaction() as session:
                row = await session.get(InboundEvent, uuid.UUID(waiting["id"]))
                return row is not None and row.attempts >= 1 and row.status.value == "received"

        await poll(retried, within=15)
        outage["on"] = False
        await settled(waiting["id"], "applied")
        async with database.transaction() as session:
            row = await session.get(InboundEvent, uuid.UUID(refused["id"]))
            assert row is not None and row.error == "404 organization_not_found"
        assert calls_for(registry, flaky)[-1]["status"] == "revoked"


async def test_sources_are_managed_by_civil_affairs_only(
    api: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    body = {"name": f"zj-{uuid.uuid4().hex[:6]}"}
    refused = await api.post(
        "/api/v1/inbound/sources", json=body, headers=auth("provincial_system")
    )
    assert refused.status_code == 403
    created = await api.post("/api/v1/inbound/sources", json=body, headers=auth("civil_affairs"))
    assert created.status_code == 201
    again = await api.post("/api/v1/inbound/sources", json=body, headers=auth("civil_affairs"))
    assert again.status_code == 409
