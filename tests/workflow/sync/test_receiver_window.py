"""Each receiver's adaptive window: the rule alone, its slots, and against a real receiver."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from services.workflow.sync.config import SyncSettings
from services.workflow.sync.receiver_window import (
    LatencyWindow,
    ReceiverWindow,
    ReceiverWindows,
    origin_of,
    overloaded,
)
from services.workflow.sync.sender import Job, send_all
from services.workflow.sync.signing import SigningKeys, new_secret
from services.workflow.sync.ssrf import AddressPolicy, guarded_client
from tests.support.receiver import Answer, Receiver, Request


def _round(window: LatencyWindow, latency: float, *, ok: bool = True, full: bool = True) -> None:
    """One round of answers, all with this latency, the window full (or not) meanwhile."""
    if full:
        window.saw_full()
    for _ in range(max(8, int(window.limit))):
        window.observe(latency, ok=ok)


def test_a_far_receiver_with_flat_latency_gets_the_whole_ceiling() -> None:
    window = LatencyWindow(ceiling=20)
    assert window.limit == 2  # starts small
    sizes = []
    for _ in range(5):
        _round(window, 0.400)  # slow, but no slower as the window grows
        sizes.append(window.limit)
    assert sizes == [4, 8, 16, 20, 20]  # doubling, then the configured ceiling


def test_rising_latency_shrinks_the_window_and_ends_the_slow_start() -> None:
    window = LatencyWindow(ceiling=20)
    _round(window, 0.001)
    _round(window, 0.001)
    assert window.limit == 8
    _round(window, 0.0035)  # more than twice the base: requests queue somewhere
    assert window.limit == 8 * 0.8  # a fifth less
    assert not window.slow_start
    _round(window, 0.0015)  # risen a little: hold
    assert window.limit == 8 * 0.8
    _round(window, 0.001)  # flat again: one more at a time, no longer doubling
    assert window.limit == 8 * 0.8 + 1


def test_rising_latency_alone_leaves_two_in_flight() -> None:
    window = LatencyWindow(ceiling=20)
    _round(window, 0.001)
    for _ in range(10):
        _round(window, 0.010)  # ten times the base latency, round after round
    assert window.limit == 2
    _round(window, 0.010, ok=False)
    assert window.limit == 1  # a failure does go below
    _round(window, 0.050)
    assert window.limit == 1  # and rising latency does not raise it back


def test_errors_halve_the_window_down_to_one() -> None:
    window = LatencyWindow(ceiling=20)
    for _ in range(3):
        _round(window, 0.01)
    assert window.limit == 16
    window.saw_full()
    for _ in range(15):
        window.observe(0.01, ok=True)
    window.observe(0.01, ok=False)  # one 503 (or 429, or timeout) in a round of 16
    assert window.limit == 8
    for _ in range(5):
        _round(window, 0.01, ok=False)
    assert window.limit == 1


def test_only_signs_of_overload_count_as_failures() -> None:
    for status, error in ((429, "http_429"), (503, "http_503"), (504, "http_504")):
        assert overloaded(status, error)
    for error in ("timeout", "connect_error", "RemoteProtocolError"):
        assert overloaded(None, error)
    # An endpoint's own trouble (a wrong path, a refused message) is not the receiver's load.
    for status, error in ((404, "http_404"), (410, "http_410"), (500, "http_500")):
        assert not overloaded(status, error)
    assert not overloaded(200, None)


def test_a_window_never_full_does_not_grow() -> None:
    window = LatencyWindow(ceiling=20)
    for _ in range(4):
        _round(window, 0.01, full=False)
    assert window.limit == 2


async def test_a_request_waits_for_a_slot_until_its_deadline_then_goes_anyway() -> None:
    loop = asyncio.get_running_loop()
    window = ReceiverWindow(ceiling=1)
    window.size.limit = 1
    await window.acquire(loop.time() + 60)
    late = loop.time() + 0.05
    await window.acquire(late)  # no slot: waits until the deadline, then goes
    assert loop.time() >= late
    assert window.in_flight == 2
    waiting = asyncio.create_task(window.acquire(loop.time() + 60))
    await asyncio.sleep(0)
    assert not waiting.done()
    window.release(0.01, ok=True)
    window.release(0.01, ok=True)  # one slot free again: the waiter gets it
    await asyncio.wait_for(waiting, timeout=5)
    assert window.in_flight == 1


def test_one_window_per_origin() -> None:
    windows = ReceiverWindows(ceiling=4)
    assert windows.of("https://Sz.example.cn/a?x=1") is windows.of("https://sz.example.cn/b")
    assert windows.of("https://sz.example.cn:8443/a") is not windows.of("https://sz.example.cn/a")
    assert origin_of("http://127.0.0.1:8080/hook") == "http://127.0.0.1:8080"


def _jobs(url: str, count: int) -> list[Job]:
    keys = SigningKeys(current=new_secret())
    return [
        Job(
            delivery_id=uuid.uuid4(),
            endpoint_id=uuid.uuid4(),
            token=1,
            step=0,
            url=url,
            keys=keys,
            message_id=str(uuid.uuid4()),
            body='{"type":"organization.updated"}',
        )
        for _ in range(count)
    ]


def _most_at_once(requests: list[Request], hold: float) -> int:
    """Requests the receiver held at once, each held `hold` seconds after it arrived."""
    arrivals = sorted(r.at for r in requests)
    return max(sum(1 for b in arrivals if a <= b < a + hold) for a in arrivals)


async def test_a_slow_receiver_is_sent_more_at_once_and_a_refusing_one_less(
    receiver: Receiver, sync_settings: SyncSettings
) -> None:
    hold = 0.2  # a far receiver: slow, but just as slow with 20 requests in flight
    receiver.answer_with(Answer(delay=hold))
    refusing = Receiver().start()
    refusing.answer_with(Answer(status=503, body=b"busy"))
    windows = ReceiverWindows(ceiling=20)
    client = guarded_client(
        AddressPolicy.from_settings(sync_settings), timeout=15, max_connections=20
    )
    try:
        slow = await send_all(
            client,
            _jobs(f"{receiver.url}/slow", 300),
            now=datetime.now(UTC),
            timeout_seconds=15,
            excerpt_bytes=64,
            concurrency=20,
            windows=windows,
        )
        assert [r.status_code for r in slow] == [200] * 300
        assert windows.of(receiver.url).size.limit >= 10
        assert _most_at_once(receiver.to("/slow"), hold) >= 10

        # Another receiver, answering 503 at once: its window falls to one.
        busy_url = f"{refusing.url}/busy"
        busy = await send_all(
            client,
            _jobs(busy_url, 40),
            now=datetime.now(UTC),
            timeout_seconds=15,
            excerpt_bytes=64,
            concurrency=20,
            windows=windows,
        )
    finally:
        await client.aclose()
        refusing.stop()
    assert [r.error for r in busy] == ["http_503"] * 40
    assert windows.of(busy_url).size.limit == 1
