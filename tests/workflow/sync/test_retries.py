"""The retry schedule, 410, Retry-After and the 5-day rule, driven by a fake clock.

Each test calls the real `webhooks.deliver` job function (`DeliverPass`) against a real
loopback receiver; only time is fake, so a 28-hour schedule runs in a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from email.utils import format_datetime

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from services.workflow.models import infra
from services.workflow.sync import dependencies
from services.workflow.sync.config import SyncSettings
from services.workflow.sync.delivery import Lane
from services.workflow.sync.models import DeliveryStatus
from services.workflow.sync.retry_schedule import RETRY_SCHEDULE
from shared.db import database
from tests.support.polling import poll
from tests.support.receiver import Answer, Receiver, Request
from tests.workflow.sync.helpers import (
    DeliverPass,
    FakeClock,
    append,
    attempts,
    deliveries,
    endpoint_row,
    envelope,
    register,
)


@pytest.fixture
async def deliver(sync_settings: SyncSettings, clock: FakeClock) -> AsyncIterator[DeliverPass]:
    runner = DeliverPass(sync_settings, clock)
    yield runner
    await runner.aclose()


@pytest.fixture
def api_on_fake_time(sync_app: FastAPI, clock: FakeClock) -> Iterator[None]:
    """The API's clock (resend, recover) is the test's fake clock too."""
    sync_app.dependency_overrides[dependencies.clock] = clock
    yield
    del sync_app.dependency_overrides[dependencies.clock]


async def _endpoint(api: httpx.AsyncClient, civil: dict[str, str], receiver: Receiver) -> str:
    created = await register(api, civil, f"{receiver.url}/hook")
    return str(created["id"])


@dataclass
class SilentReceiver:
    url: str
    connections: int = 0


@contextlib.asynccontextmanager
async def silent_receiver() -> AsyncIterator[SilentReceiver]:
    """A loopback endpoint that accepts connections and never answers, until the end."""
    release = asyncio.Event()

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        silent.connections += 1
        await release.wait()
        writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    silent = SilentReceiver(url=f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}")
    try:
        yield silent
    finally:
        release.set()
        server.close()
        await server.wait_closed()


async def _disabled_events(endpoint_id: str) -> list[dict[str, object]]:
    outbox = infra.outbox
    async with database.transaction() as session:
        rows = await session.execute(
            select(outbox.c.payload).where(
                outbox.c.event_type == "endpoint.disabled", outbox.c.subject_id == endpoint_id
            )
        )
        return [dict(row) for row in rows.scalars()]


class TestRetrySchedule:
    async def test_immediately_then_5s_5min_30min_2h_5h_10h_10h_with_jitter_then_failed(
        self,
        api: httpx.AsyncClient,
        civil: dict[str, str],
        receiver: Receiver,
        clock: FakeClock,
        deliver: DeliverPass,
    ) -> None:
        receiver.answer_with(Answer(status=500, body=b"down for maintenance"))
        endpoint_id = await _endpoint(api, civil, receiver)
        start = clock()
        await append(envelope(), now=start)

        # The first try needs no time to pass at all.
        assert (await deliver())["sent"] == 1
        gaps = []
        for expected in RETRY_SCHEDULE[1:]:
            (row,) = await deliveries(endpoint_id)
            assert row.status is DeliveryStatus.pending
            assert row.next_attempt_at is not None
            gap = row.next_attempt_at - clock()
            assert expected * 0.9 <= gap <= expected * 1.1, (expected, gap)
            gaps.append(gap)
            # One second early: nothing is due yet.
            clock.set(row.next_attempt_at - timedelta(seconds=1))
            assert (await deliver())["sent"] == 0
            clock.set(row.next_attempt_at)
            assert (await deliver())["sent"] == 1
        assert len(set(gaps)) == len(gaps)  # jittered, not exact multiples

        (row,) = await deliveries(endpoint_id)
        assert row.status is DeliveryStatus.failed
        assert row.next_attempt_at is None
        tries = await attempts(row.id)
        assert len(tries) == len(RETRY_SCHEDULE) == 8
        assert {t.status_code for t in tries} == {500}
        assert tries[0].response_excerpt == "down for maintenance"
        assert len(receiver.to("/hook")) == 8
        assert len({r.headers["webhook-id"] for r in receiver.to("/hook")}) == 1
        clock.advance(days=2)
        assert (await deliver())["sent"] == 0

    async def test_a_success_after_failures_delivers_and_ends_the_failing_run(
        self,
        api: httpx.AsyncClient,
        civil: dict[str, str],
        receiver: Receiver,
        clock: FakeClock,
        deliver: DeliverPass,
    ) -> None:
        receiver.answer_with(Answer(status=502))
        endpoint_id = await _endpoint(api, civil, receiver)
        await append(envelope(), now=clock())
        await deliver()
        assert (await endpoint_row(endpoint_id)).failing_since == clock()

        receiver.answer_with(Answer(status=204, body=b""))
        clock.advance(seconds=6)
        await deliver()
        (row,) = await deliveries(endpoint_id)
        assert row.status is DeliveryStatus.succeeded
        assert row.attempt_count == 2
        assert (await endpoint_row(endpoint_id)).failing_since is None


class TestGoneAndFailing:
    async def test_410_disables_the_endpoint_fails_its_backlog_and_records_the_event(
        self,
        api: httpx.AsyncClient,
        civil: dict[str, str],
        receiver: Receiver,
        clock: FakeClock,
        deliver: DeliverPass,
    ) -> None:
        receiver.answer_with(Answer(status=410))
        endpoint_id = await _endpoint(api, civil, receiver)
        await append(envelope(), now=clock())
        await deliver()
        # Arrives while the first is being refused: never sent.
        later = envelope()
        await append(later, now=clock() + timedelta(hours=1))

        endpoint = await endpoint_row(endpoint_id)
        assert endpoint.enabled is False
        assert endpoint.disabled_reason == "gone"
        rows = await deliveries(endpoint_id)
        assert len(rows) == 1  # a disabled endpoint gets no new deliveries
        assert rows[0].status is DeliveryStatus.failed
        assert await _disabled_events(endpoint_id) == [
            {"id": endpoint_id, "reason": "gone", "url_host": "127.0.0.1"}
        ]
        clock.advance(hours=2)
        assert (await deliver())["sent"] == 0
        assert len(receiver.to("/hook")) == 1

    async def test_failing_continuously_for_five_days_disables(
        self,
        api_on_fake_time: None,
        api: httpx.AsyncClient,
        civil: dict[str, str],
        receiver: Receiver,
        clock: FakeClock,
        deliver: DeliverPass,
    ) -> None:
        receiver.answer_with(Answer(status=500))
        endpoint_id = await _endpoint(api, civil, receiver)
        started = clock()
        for day in range(5):
            clock.set(started + timedelta(days=day))
            await append(envelope(), now=clock())
            await deliver()
            assert (await endpoint_row(endpoint_id)).enabled is True
        assert (await endpoint_row(endpoint_id)).failing_since == started

        clock.set(started + timedelta(days=5))
        await append(envelope(), now=clock())
        await deliver()
        endpoint = await endpoint_row(endpoint_id)
        assert endpoint.enabled is False
        assert endpoint.disabled_reason == "failing"
        assert [e["reason"] for e in await _disabled_events(endpoint_id)] == ["failing"]
        assert {d.status for d in await deliveries(endpoint_id)} == {DeliveryStatus.failed}

        # Re-enabled, "recover since T" sends the failed ones again.
        enabled = await api.post(f"/api/v1/webhooks/endpoints/{endpoint_id}/enable", headers=civil)
        assert enabled.status_code == 200
        receiver.answer_with(Answer(status=200))
        since = (started + timedelta(days=3)).isoformat()
        recovered = await api.post(
            f"/api/v1/webhooks/endpoints/{endpoint_id}/recover",
            json={"since": since},
            headers=civil,
        )
        assert recovered.json()["count"] == 3  # days 3, 4 and 5
        assert (await deliver())["delivered"] == 3


class TestRetryAfter:
    @pytest.mark.parametrize("status", [429, 503])
    async def test_retry_after_seconds_is_honoured(
        self,
        status: int,
        api: httpx.AsyncClient,
        civil: dict[str, str],
        receiver: Receiver,
        clock: FakeClock,
        deliver: DeliverPass,
    ) -> None:
        receiver.answer_with(Answer(status=status, headers={"Retry-After": "120"}))
        endpoint_id = await _endpoint(api, civil, receiver)
        await append(envelope(), now=clock())
        await deliver()
        (row,) = await deliveries(endpoint_id)
        # The schedule says 5 s; the receiver asked for two minutes.
        assert row.next_attempt_at == clock() + timedelta(seconds=120)
        clock.advance(seconds=119)
        assert (await deliver())["sent"] == 0
        clock.advance(seconds=1)
        assert (await deliver())["sent"] == 1

    async def test_retry_after_http_date_and_never_sooner_than_the_schedule(
        self,
        api: httpx.AsyncClient,
        civil: dict[str, str],
        receiver: Receiver,
        clock: FakeClock,
        deliver: DeliverPass,
    ) -> None:
        when = clock() + timedelta(minutes=10)
        receiver.answer_with(
            Answer(status=503, headers={"Retry-After": format_datetime(when, usegmt=True)})
        )
        endpoint_id = await _endpoint(api, civil, receiver)
        await append(envelope(), now=clock())
        await deliver()
        (row,) = await deliveries(endpoint_id)
        assert row.next_attempt_at == when

        receiver.answer_with(Answer(status=429, headers={"Retry-After": "1"}))
        clock.set(when)
        await deliver()
        (row,) = await deliveries(endpoint_id)
        assert row.next_attempt_at is not None
        # Step 2 of the schedule is 5 minutes (±10 %): "retry after 1 s" does not shorten it.
        assert row.next_attempt_at - clock() >= timedelta(minutes=4, seconds=30)

    @pytest.mark.parametrize(
        ("retry_after", "low", "high"),
        [
            # A receiver cannot park a delivery for ever: capped at 24 h.
            ("9999999", timedelta(hours=24), timedelta(hours=24)),
            # Garbled, or on a status whose Retry-After means nothing to us: the schedule.
            ("soon", timedelta(seconds=4.5), timedelta(seconds=5.5)),
        ],
    )
    async def test_retry_after_is_capped_and_a_garbled_one_falls_back_to_the_schedule(
        self,
        retry_after: str,
        low: timedelta,
        high: timedelta,
        api: httpx.AsyncClient,
        civil: dict[str, str],
        receiver: Receiver,
        clock: FakeClock,
        deliver: DeliverPass,
    ) -> None:
        receiver.answer_with(Answer(status=503, headers={"Retry-After": retry_after}))
        endpoint_id = await _endpoint(api, civil, receiver)
        await append(envelope(), now=clock())
        await deliver()
        (row,) = await deliveries(endpoint_id)
        assert row.next_attempt_at is not None
        assert low <= row.next_attempt_at - clock() <= high

    async def test_retry_after_on_another_status_is_ignored(
        self,
        api: httpx.AsyncClient,
        civil: dict[str, str],
        receiver: Receiver,
        clock: FakeClock,
        deliver: DeliverPass,
    ) -> None:
        receiver.answer_with(Answer(status=500, headers={"Retry-After": "3600"}))
        endpoint_id = await _endpoint(api, civil, receiver)
        await append(envelope(), now=clock())
        await deliver()
        (row,) = await deliveries(endpoint_id)
        assert row.next_attempt_at is not None
        assert row.next_attempt_at - clock() <= timedelta(seconds=5.5)


class TestNoRedirectsAndTimeouts:
    async def test_a_redirect_is_a_failed_try_and_is_not_followed(
        self,
        api: httpx.AsyncClient,
        civil: dict[str, str],
        receiver: Receiver,
        clock: FakeClock,
        deliver: DeliverPass,
    ) -> None:
        receiver.answer_with(
            lambda r: (
                Answer(status=307, headers={"Location": "/elsewhere"})
                if r.path == "/hook"
                else Answer()
            )
        )
        endpoint_id = await _endpoint(api, civil, receiver)
        await append(envelope(), now=clock())
        await deliver()
        (row,) = await deliveries(endpoint_id)
        assert row.status is DeliveryStatus.pending
        assert row.last_error == "redirect"
        assert receiver.to("/elsewhere") == []

    async def test_a_slow_receiver_times_out(
        self,
        api: httpx.AsyncClient,
        civil: dict[str, str],
        sync_settings: SyncSettings,
        clock: FakeClock,
    ) -> None:
        # Never answers until the test is over: whatever the machine's load, the only way
        # the try can end is the sender's own timeout.
        async with silent_receiver() as silent:
            created = await register(api, civil, f"{silent.url}/slow")
            quick = DeliverPass(sync_settings.model_copy(update={"timeout_seconds": 0.3}), clock)
            try:
                await append(envelope(), now=clock())
                await quick()
            finally:
                await quick.aclose()
        (row,) = await deliveries(created["id"])
        (attempt,) = await attempts(row.id)
        assert attempt.error == "timeout"
        assert attempt.status_code is None
        # It waited its timeout, and gave up then (a loaded machine adds some lag).
        assert 250 <= attempt.latency_ms < 10_000


async def test_a_hanging_failing_endpoint_does_not_hold_up_a_healthy_one(
    api: httpx.AsyncClient,
    civil: dict[str, str],
    receiver: Receiver,
    clock: FakeClock,
    sync_settings: SyncSettings,
) -> None:
    # The timeout is long next to a healthy loopback answer even on a loaded machine, so
    # a healthy pass that waited for the dead endpoint would show; and the dead endpoint's
    # connection count says outright whether it was tried.
    timeout = 5.0
    async with silent_receiver() as silent:
        dead = await register(api, civil, f"{silent.url}/x")
        await _endpoint(api, civil, receiver)  # and a healthy one
        runner = DeliverPass(sync_settings.model_copy(update={"timeout_seconds": timeout}), clock)
        quick = DeliverPass(sync_settings.model_copy(update={"timeout_seconds": 0.3}), clock)
        try:
            await append(envelope(), now=clock())  # one delivery to each endpoint
            first = await runner(Lane.healthy)  # both are healthy yet: waits for the timeout
            assert first["delivered"] == 1 and first["retrying"] == 1
            assert (await endpoint_row(dead["id"])).failing_since is not None
            assert silent.connections == 1

            clock.advance(minutes=1)
            await append(envelope(), now=clock())
            started = time.monotonic()
            second = await runner(Lane.healthy)
            assert second == {"sent": 1, "delivered": 1, "retrying": 0, "failed": 0, "disabled": 0}
            assert silent.connections == 1  # the dead one was not tried in the healthy lane
            assert time.monotonic() - started < timeout  # and not waited for
            assert [d.status for d in await deliveries(dead["id"])] == [DeliveryStatus.pending] * 2
            assert (await quick(Lane.failing))["sent"] == 2  # its own lane tries it
            assert silent.connections >= 2
        finally:
            await runner.aclose()
            await quick.aclose()
    assert len(receiver.to("/hook")) == 2


async def test_a_claimed_delivery_is_due_again_after_its_lease(
    api: httpx.AsyncClient,
    civil: dict[str, str],
    receiver: Receiver,
    clock: FakeClock,
    sync_settings: SyncSettings,
) -> None:
    """A worker killed between claim and write-back: the lease runs out, it is sent again."""
    from services.workflow.sync import delivery

    endpoint_id = await _endpoint(api, civil, receiver)
    await append(envelope(), now=clock())
    async with database.transaction() as session:
        claimed = await delivery.claim_due(
            session, now=clock(), batch=10, lease=timedelta(seconds=60)
        )
    assert [job.endpoint_id for job in claimed] == [uuid.UUID(endpoint_id)]
    runner = DeliverPass(sync_settings, clock)
    try:
        assert (await runner())["sent"] == 0  # leased
        clock.advance(seconds=61)
        assert (await runner())["delivered"] == 1
    finally:
        await runner.aclose()


async def test_a_slow_batch_keeps_its_claim_until_it_is_written_back(
    api: httpx.AsyncClient,
    civil: dict[str, str],
    clock: FakeClock,
    sync_settings: SyncSettings,
) -> None:
    """Four tries, one at a time, each timing out: the batch outlasts WEBHOOK_LEASE_SECONDS.

    The lease must still cover it, or a second job would claim and send them again.
    """
    from services.workflow.sync import delivery

    release = asyncio.Event()
    connections = 0

    async def hanging(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(release.wait(), timeout=30)
        writer.close()

    server = await asyncio.start_server(hanging, "127.0.0.1", 0)
    created = await register(api, civil, f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/")
    settings = sync_settings.model_copy(
        update={"timeout_seconds": 0.4, "concurrency": 1, "batch_size": 4, "lease_seconds": 0.1}
    )
    runner = DeliverPass(settings, clock)
    try:
        for _ in range(4):
            await append(envelope(), now=clock())
        sending = asyncio.create_task(runner(Lane.healthy))

        async def first_try_started() -> bool:
            return connections >= 1

        await poll(first_try_started, within=60)
        clock.advance(seconds=1)  # ten leases of 0.1 s, while the batch is still going
        async with database.transaction() as session:
            again = await delivery.claim_due(
                session, now=clock(), batch=10, lease=timedelta(seconds=60)
            )
        assert again == []
        assert (await sending)["retrying"] == 4
    finally:
        release.set()
        await runner.aclose()
        server.close()
    rows = await deliveries(created["id"])
    assert [row.attempt_count for row in rows] == [1, 1, 1, 1]
    assert connections == 4


async def test_a_receiver_that_fails_then_times_out_then_recovers_gets_every_event_once(
    api: httpx.AsyncClient,
    civil: dict[str, str],
    receiver: Receiver,
    clock: FakeClock,
    sync_settings: SyncSettings,
) -> None:
    phase = "failing"
    accepted: list[tuple[str, str]] = []  # (path, webhook-id) of every 2xx the receiver gave

    def respond(request: Request) -> Answer:
        answer = Answer(status=204, body=b"")
        if request.path == "/flaky":
            answer = {
                "failing": Answer(status=503, body=b"maintenance"),
                # Far slower than the impatient sender's timeout, then failing itself:
                # never accepted.
                "hanging": Answer(status=504, delay=5.0),
                "recovered": answer,
            }[phase]
        if answer.status < 300:
            accepted.append((request.path, request.headers["webhook-id"]))
        return answer

    receiver.answer_with(respond)
    flaky = await register(api, civil, f"{receiver.url}/flaky")
    steady = await register(api, civil, f"{receiver.url}/steady")
    events = [envelope() for _ in range(12)]
    for event in events:
        await append(event, now=clock())
    # While the receiver answers, the sender waits as long as a loaded machine may need
    # (the default timeout); only the hanging pass uses a short one, far below the hang.
    patient = DeliverPass(sync_settings, clock)
    impatient = DeliverPass(sync_settings.model_copy(update={"timeout_seconds": 0.3}), clock)
    try:
        await patient()  # first tries: the steady endpoint takes all, the flaky one refuses
        phase = "hanging"
        clock.advance(seconds=6)  # past the 5 s retry
        await impatient()
        phase = "recovered"
        # Past the 5 min retry, then on until a pass finds nothing due (a failing endpoint's
        # lane sends one wave per pass, so a backlog drains over several).
        for _ in range(10):
            clock.advance(minutes=6)
            if (await patient())["sent"] == 0:
                break
        else:
            pytest.fail("the deliveries never drained")
    finally:
        await patient.aclose()
        await impatient.aclose()

    ids = sorted(str(event.id) for event in events)
    for path in ("/flaky", "/steady"):
        assert sorted(i for p, i in accepted if p == path) == ids  # every event, once each
    for endpoint, expected in (
        (steady, [(204, None)]),
        (flaky, [(503, "http_503"), (None, "timeout"), (204, None)]),
    ):
        rows = await deliveries(endpoint["id"])
        assert sorted(str(row.event_id) for row in rows) == ids
        assert {row.status for row in rows} == {DeliveryStatus.succeeded}
        for row in rows:
            assert [(t.status_code, t.error) for t in await attempts(row.id)] == expected
