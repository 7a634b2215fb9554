"""Prometheus metrics: request counts and latency, queue depth, outbox lag, worker jobs.

The APIs serve them at /metrics (shared.health); each worker process serves its own on
WORKER_METRICS_PORT (serve_worker_metrics below).
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
import urllib.request
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from shared.settings import get_settings

logger = logging.getLogger("sanshe.metrics")

registry = CollectorRegistry(auto_describe=True)

http_requests = Counter(
    "sanshe_http_requests_total",
    "HTTP requests handled",
    ["service", "method", "route", "status"],
    registry=registry,
)
http_latency = Histogram(
    "sanshe_http_request_duration_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=registry,
)
queue_depth = Gauge(
    "sanshe_queue_depth",
    "Jobs waiting in the arq queue",
    ["queue"],
    registry=registry,
)
outbox_pending = Gauge(
    "sanshe_outbox_pending_events",
    "Outbox events not yet published to the queue",
    ["service"],
    registry=registry,
)
outbox_lag = Gauge(
    "sanshe_outbox_lag_seconds",
    "Age of the oldest outbox event not yet published (0 when none)",
    ["service"],
    registry=registry,
)
workflow_calendar_covered_until = Gauge(
    "sanshe_workflow_calendar_covered_until_timestamp_seconds",
    "End (Unix time) of the years whose official holiday schedule the working-day calendar "
    "holds, from today on; 0 when today's year is missing. Deadlines past it are refused",
    # Labelled so that only the workflow's processes, which set it, export a sample.
    ["service"],
    registry=registry,
)
worker_jobs_started = Counter(
    "sanshe_worker_jobs_started_total",
    "Jobs this worker process started (arq on_job_start)",
    ["service"],
    registry=registry,
)
worker_jobs_finished = Counter(
    "sanshe_worker_jobs_finished_total",
    "Jobs this worker process finished, whatever the outcome (arq on_job_end)",
    ["service"],
    registry=registry,
)
worker_last_job_end = Gauge(
    "sanshe_worker_last_job_end_timestamp_seconds",
    "When (Unix time) this worker process last finished a job",
    ["service"],
    registry=registry,
)


# -- the worker's own /healthz and /metrics -----------------------------------------------
#
# arq's health key (`arq --check`) is one per queue: any live replica refreshes it, so it
# cannot tell which replica is stuck. Each worker process serves instead, on
# WORKER_METRICS_PORT, from its own event loop:
#   GET /healthz  200 while the loop answers and the process reaches Redis, else 503;
#   GET /metrics  this process's Prometheus metrics (queue depth refreshed on scrape).
# A loop blocked by a runaway job does not answer at all: the healthcheck times out.
#
# services/workflow/worker.py wires it in (startup / shutdown / on_job_start / on_job_end):
#   await serve_worker_metrics(ctx)     # in startup
#   await stop_worker_metrics(ctx)      # in shutdown
#   on_job_start = count_job_start; on_job_end = count_job_end

_WORKER_SERVICE = "workflow-worker"
_SERVER_KEY = "sanshe_metrics_server"
_PING_TIMEOUT_SECONDS = 2.0


async def serve_worker_metrics(ctx: dict[str, Any], service: str = _WORKER_SERVICE) -> None:
    """Start the worker's health and metrics endpoint, if WORKER_METRICS_PORT is set."""
    settings = get_settings()
    if settings.worker_metrics_port is None:
        return

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request_line = await asyncio.wait_for(reader.readline(), 5)
            while (await asyncio.wait_for(reader.readline(), 5)) not in (b"\r\n", b"\n", b""):
                pass
            parts = request_line.decode("latin-1").split()
            path = parts[1] if len(parts) >= 2 else ""
            status, content_type, body = await _answer(ctx, service, path)
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode("latin-1")
                + body
            )
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    ctx[_SERVER_KEY] = await asyncio.start_server(
        # Every interface: Prometheus scrapes it from another container.
        handle,
        host="0.0.0.0",  # noqa: S104
        port=settings.worker_metrics_port,
    )
    logger.info("worker metrics listening", extra={"port": settings.worker_metrics_port})


async def stop_worker_metrics(ctx: dict[str, Any]) -> None:
    server: asyncio.Server | None = ctx.pop(_SERVER_KEY, None)
    if server is not None:
        server.close()
        await server.wait_closed()


async def count_job_start(ctx: dict[str, Any]) -> None:
    worker_jobs_started.labels(_WORKER_SERVICE).inc()


async def count_job_end(ctx: dict[str, Any]) -> None:
    worker_jobs_finished.labels(_WORKER_SERVICE).inc()
    worker_last_job_end.labels(_WORKER_SERVICE).set(time.time())


async def _answer(ctx: dict[str, Any], service: str, path: str) -> tuple[str, str, bytes]:
    redis = ctx.get("redis")
    if path == "/healthz":
        try:
            await asyncio.wait_for(redis.ping(), _PING_TIMEOUT_SECONDS)  # type: ignore[union-attr]
        except Exception as exc:
            logger.warning("worker health check failed", extra={"error": type(exc).__name__})
            return "503 Service Unavailable", "text/plain", b"redis unavailable\n"
        return "200 OK", "text/plain", b"ok\n"
    if path == "/metrics":
        queue_name = get_settings().arq_queue_name
        try:
            depth = await asyncio.wait_for(redis.zcard(queue_name), _PING_TIMEOUT_SECONDS)  # type: ignore[union-attr]
            queue_depth.labels(queue_name).set(depth)
        except Exception as exc:
            logger.warning("metrics refresh failed", extra={"error": type(exc).__name__})
        return "200 OK", CONTENT_TYPE_LATEST, generate_latest(registry)
    return "404 Not Found", "text/plain", b"not found\n"


def check(argv: list[str]) -> int:
    """`python -m shared.metrics check`: the worker container's healthcheck (exit 0/1)."""
    if argv != ["check"]:
        print("usage: python -m shared.metrics check", file=sys.stderr)
        return 2
    port = get_settings().worker_metrics_port
    if port is None:
        print("WORKER_METRICS_PORT is not set", file=sys.stderr)
        return 1
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
            return 0 if answer.status == 200 else 1
    except OSError as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(check(sys.argv[1:]))
