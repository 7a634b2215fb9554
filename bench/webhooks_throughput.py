"""Webhook delivery throughput: signed deliveries per second to a local receiver.

    python -m bench.webhooks_throughput [--events 2000]

Receiver: uvicorn in a subprocess on loopback, a bare ASGI app answering 200 at once
(this module with `--serve PORT`). Ceiling, measured in the same run against the same
receiver: a bare httpx POST loop sending the same bodies, at its best number of
requests in flight (1, 2, 4, ... up to what the delivery path allows,
`WEBHOOK_CONCURRENCY` × `WEBHOOK_PARALLEL_JOBS`), measured before and after the system
and averaged.

System: the events are appended to the feed first (not timed: that is the dispatch
job's share), then a real arq worker (in this process, the sync's functions and cron)
claims the due deliveries (`FOR UPDATE SKIP LOCKED`), signs each (Standard Webhooks,
HMAC-SHA256), POSTs it through the SSRF-guarded client and records the attempt and the
outcome; timed from the worker's start to the last delivery recorded `succeeded`.
`ratio` = system ÷ ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import os
import socket
import sys
import tempfile
import time
import uuid
from datetime import datetime
from typing import Any

import httpx
from arq.worker import Worker
from sqlalchemy import text

from bench.harness import MemoryWatch, cpu_seconds, machine, scratch_environment, summary_ms
from devtools.processes import ManagedProcess, free_port
from services.workflow.sync import cron_jobs, feed, payloads, startup, worker_functions
from services.workflow.sync import shutdown as sync_shutdown
from services.workflow.sync.config import SyncSettings
from services.workflow.sync.models import SyncEvent, WebhookEndpoint
from services.workflow.sync.signing import new_secret
from shared.db import database, utcnow
from shared.jobs import EventEnvelope, create_queue, deserialize_job, serialize_job
from shared.settings import get_settings

_APPEND_BATCH = 500


async def _answer(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The least a receiver can do: read the body, answer 200."""
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]}
    )
    await send({"type": "http.response.body", "body": b"{}"})


def serve(port: int) -> None:
    import uvicorn

    uvicorn.run(
        _answer,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        interface="asgi3",
    )


def _start_receiver(log_dir: str) -> tuple[ManagedProcess, str]:
    port = free_port()
    process = ManagedProcess(
        "webhook-receiver", ["-m", "bench.webhooks_throughput", "--serve", str(port)], {}, log_dir
    ).start()
    deadline = time.monotonic() + 20
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return process, f"http://127.0.0.1:{port}/hook"
        if time.monotonic() > deadline or not process.alive:
            raise RuntimeError("the receiver did not start")
        time.sleep(0.05)


def _event(index: int) -> EventEnvelope:
    subject = str(uuid.uuid4())
    return EventEnvelope(
        id=uuid.uuid4(),
        type="organization.updated",
        source="registry",
        subject_type="organization",
        subject_id=subject,
        subject_seq=index + 1,
        occurred_at=utcnow(),
        data={"id": subject, "changed_fields": ["address", "contact_phone"], "source": "api"},
    )


def _as_row(event: EventEnvelope) -> SyncEvent:
    return SyncEvent(
        id=event.id,
        type=event.type,
        source=event.source,
        subject_type=event.subject_type,
        subject_id=event.subject_id,
        subject_seq=event.subject_seq,
        occurred_at=event.occurred_at,
        data=event.data,
    )


# CPU of this process per request, for each ceiling run: a shared machine's load moves
# the rates a lot from run to run, the CPU each request costs much less.
_ceiling_cpu_ms: list[float] = []


async def _ceiling(url: str, bodies: list[str], in_flight: int) -> float:
    limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
    async with httpx.AsyncClient(timeout=15, limits=limits, trust_env=False) as client:
        gate = asyncio.Semaphore(in_flight)

        async def post(body: str) -> None:
            async with gate:
                response = await client.post(
                    url, content=body.encode(), headers={"content-type": "application/json"}
                )
                response.raise_for_status()

        await asyncio.gather(*(post(b) for b in bodies[:50]))  # connections warmed, as ours are
        started, cpu = time.perf_counter(), _cpu_seconds()
        await asyncio.gather(*(post(b) for b in bodies))
        _ceiling_cpu_ms.append((_cpu_seconds() - cpu) * 1000 / len(bodies))
        return len(bodies) / (time.perf_counter() - started)


async def _best_ceiling(url: str, bodies: list[str], most: int) -> tuple[float, int]:
    """The bare loop's best rate over 1, 2, 4, ... up to `most` requests in flight."""
    levels = sorted({min(2**k, most) for k in range(most.bit_length() + 1)})
    rates = {level: await _ceiling(url, bodies[:1000], level) for level in levels}
    best = max(rates, key=lambda level: rates[level])
    return await _ceiling(url, bodies, best), best


async def _prepare(url: str, events: list[EventEnvelope]) -> None:
    now = utcnow()
    async with database.transaction() as session:
        session.add(
            WebhookEndpoint(
                id=uuid.uuid4(),
                url=url,
                description="bench",
                event_types=[],
                owner_sub="bench",
                owner_role="civil_affairs",
                secret=new_secret(),
                enabled=True,
                version=1,
            )
        )
    for start in range(0, len(events), _APPEND_BATCH):
        async with database.transaction() as session:
            for event in events[start : start + _APPEND_BATCH]:
                await feed.append(session, event, now=now)


async def _succeeded() -> tuple[int, datetime | None]:
    """How many deliveries succeeded, and when the last of them was recorded."""
    async with database.engine.connect() as connection:
        done = await connection.execute(
            text(
                "SELECT count(*), max(delivered_at) FROM workflow.webhook_delivery"
                " WHERE status = 'succeeded'"
            )
        )
        count, last = done.one()
        return int(count), last


async def _system(
    count: int, settings: SyncSettings, url: str
) -> tuple[float, float, list[float], float | None]:
    worker = await _sync_worker(settings, cron=cron_jobs, poll_delay=0.01)
    started, cpu = utcnow(), _cpu_seconds()
    running = asyncio.create_task(worker.main())
    try:
        deadline = time.monotonic() + 600
        # The rate is timed to the last delivery's own record (`delivered_at`, the worker's
        # clock), not to when this loop saw it: the loop can poll seldom, and its queries,
        # which run in the worker's process, take little of the CPU counted below.
        while (done := await _succeeded())[0] < count or done[1] is None:
            if time.monotonic() > deadline or running.done():
                raise TimeoutError("deliveries did not complete in time")
            await asyncio.sleep(0.1)
        elapsed = (done[1] - started).total_seconds()
        cpu_ms = (_cpu_seconds() - cpu) * 1000 / count
        # Let the jobs in flight find nothing more to do and end, then stop the worker.
        settle = time.monotonic() + 30
        while worker.tasks and time.monotonic() < settle:  # noqa: ASYNC110 - arq has no event
            await asyncio.sleep(0.05)
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await worker.close()
    async with database.engine.connect() as connection:
        rows = await connection.execute(text("SELECT latency_ms FROM workflow.webhook_attempt"))
        latencies = [float(row[0]) / 1000 for row in rows]
    # The receiver's adaptive window as the run left it (`receiver_window`).
    windows = worker.ctx.get("sync_windows")
    window = windows.of(url).size.limit if windows else None
    return count / elapsed, cpu_ms, latencies, window


def _cpu_seconds() -> float:
    """This process's user + system CPU time (what the idle target counts)."""
    return cpu_seconds(os.getpid())


async def _sync_worker(
    settings: SyncSettings, *, cron: list[Any], poll_delay: float | None = None
) -> Worker:
    """An arq worker with the sync's jobs, in this process (arq's poll delay unless given)."""
    extra: dict[str, Any] = {} if poll_delay is None else {"poll_delay": poll_delay}
    return Worker(
        functions=worker_functions,
        cron_jobs=cron,
        redis_pool=await create_queue(),
        queue_name=get_settings().arq_queue_name,
        ctx={"sync_settings": settings},
        on_startup=startup,
        on_shutdown=sync_shutdown,
        job_serializer=serialize_job,
        job_deserializer=deserialize_job,
        keep_result=0,
        handle_signals=False,
        **extra,
    )


async def _idle_share(seconds: float, *, with_sweep: bool) -> float:
    """Share of one CPU an idle arq worker with the sync's jobs uses (sweep on or off).

    arq's own poll delay is the worker's setting, not the sync's: the same in both runs,
    so the difference between them is the sweep's cost.
    """
    worker = await _sync_worker(SyncSettings(), cron=cron_jobs if with_sweep else [])
    running = asyncio.create_task(worker.main())
    try:
        await asyncio.sleep(5)  # startup, first sweep, connections opened
        cpu, wall = _cpu_seconds(), time.monotonic()
        await asyncio.sleep(seconds)
        return (_cpu_seconds() - cpu) / (time.monotonic() - wall)
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await worker.close()


async def idle(seconds: float) -> dict[str, Any]:
    async with scratch_environment("webhooks_idle"):
        try:
            bare = await _idle_share(seconds, with_sweep=False)
            swept = await _idle_share(seconds, with_sweep=True)
        finally:
            await database.dispose()
    return {
        "benchmark": "webhooks: an idle worker's CPU with and without the sync's sweep",
        "seconds": seconds,
        "sweep_interval_s": SyncSettings().sweep_interval_seconds,
        "worker_without_sweep_cpu_share": round(bare, 4),
        "worker_with_sweep_cpu_share": round(swept, 4),
        "sweep_cpu_share": round(swept - bare, 4),
        "machine": machine(),
    }


RECEIVER = "webhook receiver"
WORKER = "sync worker (in this benchmark's process)"


async def run(events: int, overrides: dict[str, Any]) -> dict[str, Any]:
    async with scratch_environment("webhooks"):
        log_dir = tempfile.mkdtemp(prefix="sanshe-bench-")
        receiver, url = _start_receiver(log_dir)
        memory = MemoryWatch()
        memory.watch(RECEIVER, receiver.process.pid if receiver.process else None)
        memory.watch(WORKER, os.getpid())
        settings = SyncSettings(allowed_networks=[ipaddress.ip_network("127.0.0.0/8")], **overrides)
        in_flight = settings.concurrency * settings.parallel_jobs
        try:
            batch = [_event(i) for i in range(events)]
            # The very bodies the system sends (same JSON, same size).
            bodies = [payloads.render(payloads.payload_of(_as_row(e))) for e in batch]
            # The ceiling is the bare loop at its best number of requests in flight, measured
            # before and again after the system and averaged: a machine whose load drifts
            # during the run then biases neither side.
            _ceiling_cpu_ms.clear()
            before, best = await _best_ceiling(url, bodies, in_flight)
            ceiling_cpu_ms = [_ceiling_cpu_ms[-1]]
            await _prepare(url, batch)
            memory.idle()  # the events are in: what the worker adds is the delivery's
            with memory.under_load():
                per_second, cpu_ms, latencies, window = await _system(events, settings, url)
            after = await _ceiling(url, bodies, best)
            ceiling_cpu_ms.append(_ceiling_cpu_ms[-1])
            ceiling = (before + after) / 2
        finally:
            receiver.stop()
            await database.dispose()
    return {
        "benchmark": "webhooks: claim, sign, POST, record per delivery, to a loopback receiver",
        "events": events,
        "in_flight": in_flight,
        "deliveries_per_s": round(per_second, 1),
        "ceiling_bare_httpx_posts_per_s": round(ceiling, 1),
        "ceiling_in_flight": best,
        "ceiling_before_after": f"{before:.0f} / {after:.0f}",
        "ratio": round(per_second / ceiling, 3),
        # This process's CPU per delivery (worker and the bench's own polling) and per
        # bare POST; steadier than the rates on a loaded machine.
        "cpu_ms_per_delivery": round(cpu_ms, 3),
        "ceiling_cpu_ms_per_post": round(sum(ceiling_cpu_ms) / len(ceiling_cpu_ms), 3),
        # The receiver's window (requests in flight to it) when the last delivery ended.
        "receiver_window": window,
        "attempt_latency": summary_ms(latencies),
        "rss": memory.report(),
        "machine": machine(),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--events", type=int, default=int(os.environ.get("BENCH_WEBHOOK_EVENTS", "2000"))
    )
    parser.add_argument("--concurrency", type=int, help="WEBHOOK_CONCURRENCY for this run")
    parser.add_argument("--parallel-jobs", type=int, help="WEBHOOK_PARALLEL_JOBS for this run")
    parser.add_argument("--batch", type=int, help="WEBHOOK_BATCH_SIZE for this run")
    parser.add_argument(
        "--idle", type=float, metavar="SECONDS", help="measure the idle sweep's CPU instead"
    )
    args = parser.parse_args(argv)
    if args.idle:
        return asyncio.run(idle(args.idle))
    overrides: dict[str, Any] = {
        name: value
        for name, value in (
            ("concurrency", args.concurrency),
            ("parallel_jobs", args.parallel_jobs),
            ("batch_size", args.batch),
        )
        if value is not None
    }
    return asyncio.run(run(args.events, overrides))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve(int(sys.argv[2]))
    else:
        print(json.dumps(main(sys.argv[1:]), ensure_ascii=False, indent=2))
