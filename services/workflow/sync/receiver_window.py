"""How many deliveries one receiver gets at once: a window that adapts, like TCP's.

A far, slow provincial receiver needs many requests in flight to take our backlog at
its pace; a fast one (or loopback) gains nothing from them and only makes us spend CPU
on more connections (bench/README.md, webhooks_throughput). So each receiver (an
origin: scheme, host and port, what the connection pool shares) gets a window that
starts small and is judged once per round of answers, delay-based like TCP Vegas:

* latency flat (the round's mean within `_FLAT` of the lowest recent round's) while the
  window was full: it grows, doubling until the first rise (slow start), then by one.
  A window that was never full is not grown: the answers say nothing about more.
* latency risen past `_RISEN`: something queues (the receiver, the network or our own
  CPU), more in flight would only add delay: it shrinks by a fifth (not below two).
* any sign of overload in the round (429, 502, 503, 504, a timeout, a refused or
  broken connection): it halves. Other failures (404, 410, 400, 500...) say something
  about one endpoint or message, not about the receiver's capacity, and a failing
  endpoint must not slow a healthy one on the same host: they count as plain answers.

The window never exceeds the configured maximum in flight (`WEBHOOK_CONCURRENCY` ×
`WEBHOOK_PARALLEL_JOBS`) nor goes below one. It is a soft limit: a request waits for a
slot only until its deadline (see `sender.send_all`), which keeps every claimed batch
within its lease whatever the window does.
"""

from __future__ import annotations

import asyncio
from collections import deque
from functools import lru_cache
from urllib.parse import urlsplit

# A round is at least this many answers (or the window's size, if larger): fewer would
# judge millisecond latencies by their noise.
_MIN_ROUND = 8
# The base latency is the lowest round mean among the last this many rounds, so that it
# follows a receiver (or our own load) that has become slower for good.
_BASE_ROUNDS = 16
_FLAT = 1.3
_RISEN = 2.0
_SHRINK = 0.8
# Rising latency alone leaves two in flight: one being answered while we prepare the
# next, so that our work and the receiver's overlap (on loopback the bare httpx loop is
# as fast at 2 as at 1). Only failures bring a window down to one.
_LEAST_QUEUED = 2.0
_HALVE = 0.5


# Statuses that mean "too much, slow down" (a gateway's 502 and 504 included).
_OVERLOAD_STATUSES = frozenset({429, 502, 503, 504})


def overloaded(status_code: int | None, error: str | None) -> bool:
    """Whether a try's outcome asks for fewer requests in flight (no answer, or a busy one)."""
    return error is not None and (status_code is None or status_code in _OVERLOAD_STATUSES)


class LatencyWindow:
    """The window's size, from the answers it is told about (no I/O: unit-testable)."""

    def __init__(self, ceiling: int, initial: int = 2) -> None:
        self.ceiling = max(1, ceiling)
        self.limit = float(min(max(1, initial), self.ceiling))
        self.slow_start = True
        self._rounds: deque[float] = deque(maxlen=_BASE_ROUNDS)
        self._answers = 0
        self._latency_sum = 0.0
        self._successes = 0
        self._failed = False
        self._full = False

    def saw_full(self) -> None:
        """All of the window was in use at some point of this round."""
        self._full = True

    def observe(self, latency: float, *, ok: bool) -> None:
        self._answers += 1
        if ok:
            self._successes += 1
            self._latency_sum += latency
        else:
            self._failed = True
        if self._answers >= max(_MIN_ROUND, int(self.limit)):
            self._end_round()

    def _end_round(self) -> None:
        mean = self._latency_sum / self._successes if self._successes else None
        if self._failed:
            self.slow_start = False
            self.limit = max(1.0, self.limit * _HALVE)
        elif mean is not None:
            base = min(self._rounds, default=mean)
            if mean > base * _RISEN:
                self.slow_start = False
                floor = min(self.limit, _LEAST_QUEUED)
                self.limit = max(floor, min(self.limit - 1, self.limit * _SHRINK))
            elif mean > base * _FLAT:
                self.slow_start = False
            elif self._full:
                grown = self.limit * 2 if self.slow_start else self.limit + 1
                self.limit = min(float(self.ceiling), grown)
        if mean is not None:
            self._rounds.append(mean)
        self._answers = self._successes = 0
        self._latency_sum = 0.0
        self._failed = self._full = False


class ReceiverWindow:
    """Slots of one receiver's window, shared by every delivery job of this process."""

    def __init__(self, ceiling: int) -> None:
        self.size = LatencyWindow(ceiling)
        self.in_flight = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def acquire(self, deadline: float) -> None:
        """A slot, or none once `deadline` (event-loop time) passes: the request goes anyway.

        Either way the request counts as in flight until `release`.
        """
        if self.in_flight < self.size.limit and not self._waiters:
            self._take()
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout_at(deadline):
                await waiter
        except TimeoutError:
            if waiter.done() and not waiter.cancelled():
                return  # granted at the very moment the deadline passed
            self._forget(waiter)
            self.in_flight += 1
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.in_flight -= 1
                self._grant()
            else:
                self._forget(waiter)
            raise

    def release(self, latency: float, *, ok: bool) -> None:
        self.in_flight -= 1
        self.size.observe(latency, ok=ok)
        self._grant()

    def _take(self) -> None:
        self.in_flight += 1
        if self.in_flight >= self.size.limit:
            self.size.saw_full()

    def _grant(self) -> None:
        while self._waiters and self.in_flight < self.size.limit:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                self._take()
        if self._waiters:
            self.size.saw_full()

    def _forget(self, waiter: asyncio.Future[None]) -> None:
        if waiter in self._waiters:
            self._waiters.remove(waiter)


@lru_cache(maxsize=1024)
def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class ReceiverWindows:
    """One window per receiver origin, kept for the life of the worker process."""

    def __init__(self, ceiling: int) -> None:
        self.ceiling = ceiling
        self._windows: dict[str, ReceiverWindow] = {}

    def of(self, url: str) -> ReceiverWindow:
        origin = origin_of(url)
        window = self._windows.get(origin)
        if window is None:
            window = self._windows[origin] = ReceiverWindow(self.ceiling)
        return window
