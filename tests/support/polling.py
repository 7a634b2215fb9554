"""Wait for asynchronous work by polling with a deadline, never by sleeping blindly."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest


async def poll(
    check: Callable[[], Awaitable[Any]], *, within: float = 10.0, every: float = 0.05
) -> Any:
    """Await `check()` until it returns something truthy; fail the test at the deadline."""
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {within}s")
        await asyncio.sleep(every)


def poll_sync(check: Callable[[], Any], *, within: float = 30.0, every: float = 0.1) -> Any:
    """The synchronous twin of `poll`, for tests driving real processes."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {within}s")
        time.sleep(every)
