"""Prometheus metrics: request counts and latency, queue depth, outbox lag."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

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
