"""When a failed delivery is tried again, and what an answer means for its endpoint.

The schedule is the one of the Standard Webhooks guidance (and Svix): the first try
immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h later — eight tries over
about 28 hours — each delay with a little random jitter so that endpoints that failed
together do not all retry in the same second.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum

# Delay before try n (0-based): try 0 is immediate.
RETRY_SCHEDULE: tuple[timedelta, ...] = (
    timedelta(0),
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
# Answers whose Retry-After we honour (RFC 9110 §10.2.3; RFC 6585 §4 for 429).
RETRY_AFTER_STATUSES = frozenset({429, 503})


class Verdict(StrEnum):
    delivered = "delivered"
    retry = "retry"  # a later try is scheduled
    exhausted = "exhausted"  # the schedule ran out: the delivery failed
    gone = "gone"  # 410: the receiver says the endpoint no longer exists


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    next_step: int
    next_attempt_at: datetime | None


def parse_retry_after(value: str | None, *, now: datetime) -> timedelta | None:
    """`Retry-After: <seconds>` or `Retry-After: <HTTP-date>`; None if absent or garbled."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(when - now, timedelta(0))


def jittered(delay: timedelta, *, jitter: float, rng: random.Random) -> timedelta:
    if not delay or not jitter:
        return delay
    return delay * rng.uniform(1 - jitter, 1 + jitter)


def decide(
    *,
    step: int,
    status_code: int | None,
    retry_after: str | None,
    now: datetime,
    jitter: float,
    retry_after_max: timedelta,
    rng: random.Random,
) -> Decision:
    """What follows try number `step` (0-based) that got `status_code` (None: no answer).

    On 429/503 the receiver's Retry-After is honoured: the next try waits at least that
    long (capped), and never less than the schedule says either — both are "not before".
    """
    if status_code is not None and 200 <= status_code < 300:
        return Decision(Verdict.delivered, step, None)
    if status_code == 410:
        return Decision(Verdict.gone, step, None)
    next_step = step + 1
    if next_step >= len(RETRY_SCHEDULE):
        return Decision(Verdict.exhausted, step, None)
    delay = jittered(RETRY_SCHEDULE[next_step], jitter=jitter, rng=rng)
    if status_code in RETRY_AFTER_STATUSES:
        asked = parse_retry_after(retry_after, now=now)
        if asked is not None:
            delay = max(delay, min(asked, retry_after_max))
    return Decision(Verdict.retry, next_step, now + delay)
