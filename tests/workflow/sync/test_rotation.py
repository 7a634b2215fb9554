"""Secret rotation: during the overlap both signatures verify; after it, only the new one."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import update
from standardwebhooks import Webhook, WebhookVerificationError

from services.workflow.sync.config import SyncSettings
from services.workflow.sync.models import WebhookEndpoint
from shared.db import database, utcnow
from tests.support.polling import poll
from tests.support.receiver import Answer, Receiver, Request
from tests.workflow.sync.helpers import DeliverPass, append, envelope, register


@pytest.fixture
async def deliver(sync_settings: SyncSettings) -> AsyncIterator[DeliverPass]:
    # The real clock: receivers check the signature's timestamp against theirs.
    runner = DeliverPass(sync_settings, utcnow)
    yield runner
    await runner.aclose()


async def _requests(receiver: Receiver, path: str, count: int) -> list[Request]:
    """The worker of other tests may be the one that sends (same real clock): wait for it."""

    async def arrived() -> list[Request] | None:
        found = receiver.to(path)
        return found if len(found) >= count else None

    found: list[Request] = await poll(arrived)
    return found


async def test_both_secrets_verify_during_the_overlap_and_only_the_new_one_after(
    api: httpx.AsyncClient, civil: dict[str, str], receiver: Receiver, deliver: DeliverPass
) -> None:
    endpoint = await register(api, civil, f"{receiver.url}/rotating")
    old = endpoint["secret"]
    rotated = await api.post(
        f"/api/v1/webhooks/endpoints/{endpoint['id']}/rotate-secret", headers=civil
    )
    assert rotated.status_code == 200
    new = rotated.json()["secret"]
    assert new.startswith("whsec_") and new != old
    expires = datetime.fromisoformat(rotated.json()["previous_secret_expires_at"])
    assert timedelta(hours=23, minutes=59) < expires - datetime.now(UTC) <= timedelta(hours=24)

    await append(envelope(), now=utcnow())
    await deliver()
    (during,) = await _requests(receiver, "/rotating", 1)
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    # A receiver still on the old secret and one already on the new both verify.
    Webhook(old).verify(during.body, during.headers)
    Webhook(new).verify(during.body, during.headers)

    # The overlap ends (24 h later): the old secret signs no more.
    async with database.transaction() as session:
        await session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint["id"])
            .values(previous_secret_expires_at=utcnow() - timedelta(seconds=1))
        )
    await append(envelope(), now=utcnow())
    await deliver()
    after = (await _requests(receiver, "/rotating", 2))[1]
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    Webhook(new).verify(after.body, after.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(after.body, after.headers)


async def test_a_tampered_body_or_foreign_secret_does_not_verify(
    api: httpx.AsyncClient, civil: dict[str, str], receiver: Receiver, deliver: DeliverPass
) -> None:
    endpoint = await register(api, civil, f"{receiver.url}/plain")
    await append(envelope(), now=utcnow())
    await deliver()
    (request,) = await _requests(receiver, "/plain", 1)
    Webhook(endpoint["secret"]).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint["secret"]).verify(
            request.body.replace(b"address", b"adress"), request.headers
        )
    other = await register(api, civil, f"{receiver.url}/other")
    with pytest.raises(WebhookVerificationError):
        Webhook(other["secret"]).verify(request.body, request.headers)


async def test_no_secret_ever_reaches_a_log_record(
    api: httpx.AsyncClient,
    civil: dict[str, str],
    receiver: Receiver,
    deliver: DeliverPass,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    endpoint = await register(api, civil, f"{receiver.url}/quiet")
    rotated = await api.post(
        f"/api/v1/webhooks/endpoints/{endpoint['id']}/rotate-secret", headers=civil
    )
    await append(envelope(), now=utcnow())
    await deliver()
    await _requests(receiver, "/quiet", 1)
    receiver.answer_with(Answer(status=410))
    await append(envelope(), now=utcnow())
    await deliver()  # 410: the endpoint is disabled, and that is logged
    secrets = {endpoint["secret"], rotated.json()["secret"]}
    everything = "\n".join(repr(record.__dict__) for record in caplog.records)
    assert "webhook endpoint disabled" in everything
    assert not any(secret in everything for secret in secrets)
    assert not any(secret[len("whsec_") :] in everything for secret in secrets)
