"""One HTTP try of one delivery: sign, POST, measure, keep the start of the answer.

No redirects are followed (a 3xx is a failed try: following it would go somewhere the
SSRF check never saw), the whole try is bounded by `WEBHOOK_TIMEOUT_SECONDS` (httpx's
timeouts are per read, so a receiver dripping a byte a second is cut off too), and at
most `WEBHOOK_RESPONSE_EXCERPT_BYTES` of the answer are read.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import httpx

from services.workflow.sync.receiver_window import ReceiverWindows, overloaded
from services.workflow.sync.signing import SigningKeys, signature_headers
from services.workflow.sync.ssrf import DestinationRefused

USER_AGENT = "Sanshe-Webhooks/1.0 (+https://www.standardwebhooks.com/)"


@dataclass(frozen=True, slots=True)
class Job:
    """A claimed delivery, with everything needed to send it."""

    delivery_id: uuid.UUID
    endpoint_id: uuid.UUID
    token: int  # the delivery's attempt_count after the claim: guards the write-back
    step: int
    url: str
    keys: SigningKeys
    message_id: str
    body: str


@dataclass(frozen=True, slots=True)
class Result:
    job: Job
    attempted_at: datetime
    status_code: int | None
    latency_ms: int
    excerpt: str | None
    error: str | None
    retry_after: str | None


@lru_cache(maxsize=1024)
def _parsed(url: str) -> httpx.URL:
    """An endpoint's URL parsed once, not once per delivery (httpx.URL is immutable)."""
    return httpx.URL(url)


def _error_code(status: int) -> str | None:
    if 200 <= status < 300:
        return None
    if 300 <= status < 400:
        return "redirect"
    return f"http_{status}"


async def send(
    client: httpx.AsyncClient,
    job: Job,
    *,
    now: datetime,
    timeout_seconds: float,
    excerpt_bytes: int,
) -> Result:
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        **signature_headers(
            message_id=job.message_id, timestamp=now, body=job.body, keys=job.keys.active(now)
        ),
    }
    started = time.perf_counter()
    status: int | None = None
    excerpt: str | None = None
    error: str | None = None
    retry_after: str | None = None
    try:
        async with asyncio.timeout(timeout_seconds):
            request = client.build_request(
                "POST", _parsed(job.url), content=job.body.encode(), headers=headers
            )
            response = await client.send(request, stream=True)
            try:
                status = response.status_code
                retry_after = response.headers.get("retry-after")
                excerpt = await _excerpt(response, excerpt_bytes)
            finally:
                await response.aclose()
        error = _error_code(status)
    except DestinationRefused:
        error = "address_refused"
    except TimeoutError:
        error = "timeout"
    except httpx.TimeoutException:
        error = "timeout"
    except httpx.ConnectError:
        error = "connect_error"
    except httpx.HTTPError as exc:
        error = type(exc).__name__[:60]
    latency_ms = round((time.perf_counter() - started) * 1000)
    return Result(job, now, status, latency_ms, excerpt, error, retry_after)


async def _excerpt(response: httpx.Response, limit: int) -> str | None:
    if limit <= 0:
        return None
    collected = bytearray()
    async for chunk in response.aiter_bytes():
        collected += chunk
        if len(collected) >= limit:
            break
    return bytes(collected[:limit]).decode("utf-8", errors="replace")


async def send_all(
    client: httpx.AsyncClient,
    jobs: Sequence[Job],
    *,
    now: datetime,
    timeout_seconds: float,
    excerpt_bytes: int,
    concurrency: int,
    windows: ReceiverWindows,
) -> list[Result]:
    """Send a batch, `concurrency` at a time, each within its receiver's window.

    The batch must end within its lease (`jobs.lease_for`: its waves of `concurrency`
    tries, plus one timeout). So the i-th request waits for a slot of its receiver's
    window at most until `start + (i // concurrency + 1) × timeout`, then goes anyway:
    by induction each request ends by `start + (i // concurrency + 2) × timeout` (the
    ones `concurrency` places ahead of it have ended, freeing its job slot, by its
    deadline), the last within waves + 1 timeouts.
    """
    gate = asyncio.Semaphore(concurrency)
    start = asyncio.get_running_loop().time()

    async def one(index: int, job: Job) -> Result:
        async with gate:
            window = windows.of(job.url)
            await window.acquire(start + (index // concurrency + 1) * timeout_seconds)
            began = time.perf_counter()
            result: Result | None = None
            try:
                result = await send(
                    client,
                    job,
                    now=now,
                    timeout_seconds=timeout_seconds,
                    excerpt_bytes=excerpt_bytes,
                )
                return result
            finally:
                ok = result is not None and not overloaded(result.status_code, result.error)
                window.release(time.perf_counter() - began, ok=ok)

    return list(await asyncio.gather(*(one(i, job) for i, job in enumerate(jobs))))
