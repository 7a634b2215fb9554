"""The one retry schedule: exponential backoff, capped, optionally jittered.

Attempt 1 waits `base`, attempt 2 waits 2×base, then 4×, 8×… up to `cap`. Webhook
deliveries, inbound provincial events, workflow callbacks and service-to-service
calls all retry on this curve, each with its own base and cap from settings.
"""

from __future__ import annotations

import random
from datetime import timedelta


def backoff_seconds(attempt: int, *, base: float, cap: float | None = None) -> float:
    """Seconds to wait after the `attempt`-th failure (1-based; 0 counts as 1)."""
    seconds = base * 2.0 ** max(attempt - 1, 0)
    return seconds if cap is None else min(seconds, cap)


def backoff_delay(attempt: int, *, base: float, cap: float | None = None) -> timedelta:
    return timedelta(seconds=backoff_seconds(attempt, base=base, cap=cap))


def jittered(seconds: float) -> float:
    """Spread concurrent retries: a uniform factor in [0.5, 1.5)."""
    return seconds * (0.5 + random.random())
