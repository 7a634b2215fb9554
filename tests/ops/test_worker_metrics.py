"""Each worker process's own /healthz and /metrics (shared.metrics), per replica."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from devtools.processes import free_port
from shared import metrics
from shared.settings import get_settings


class DeadRedis:
    async def ping(self) -> bool:
        raise ConnectionError("gone")

    async def zcard(self, name: str) -> int:
        raise ConnectionError("gone")


@pytest.fixture
def port(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    chosen = free_port()
    monkeypatch.setenv("WORKER_METRICS_PORT", str(chosen))
    get_settings.cache_clear()
    yield chosen
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def _serving(ctx: dict[str, Any]) -> None:
    await metrics.serve_worker_metrics(ctx)
    assert "sanshe_metrics_server" in ctx


async def test_a_worker_answers_health_and_metrics_on_its_own_port(port: int, redis: Redis) -> None:
    ctx: dict[str, Any] = {"redis": redis}
    await _serving(ctx)
    try:
        await metrics.count_job_start(ctx)
        await metrics.count_job_end(ctx)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            health = await client.get("/healthz")
            assert (health.status_code, health.text) == (200, "ok\n")
            scraped = await client.get("/metrics")
            assert scraped.status_code == 200
            assert scraped.headers["content-type"].startswith("text/plain")
            for name in (
                "sanshe_queue_depth",
                "sanshe_worker_jobs_started_total",
                "sanshe_worker_jobs_finished_total",
                "sanshe_worker_last_job_end_timestamp_seconds",
            ):
                assert name in scraped.text, name
            assert (await client.get("/elsewhere")).status_code == 404
        # The container healthcheck: `python -m shared.metrics check`.
        assert await asyncio.to_thread(metrics.check, ["check"]) == 0
    finally:
        await metrics.stop_worker_metrics(ctx)
    assert await asyncio.to_thread(metrics.check, ["check"]) == 1


async def test_a_worker_that_cannot_reach_redis_is_unhealthy(port: int) -> None:
    ctx: dict[str, Any] = {"redis": DeadRedis()}
    await _serving(ctx)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            assert (await client.get("/healthz")).status_code == 503
            assert (await client.get("/metrics")).status_code == 200
        assert await asyncio.to_thread(metrics.check, ["check"]) == 1
    finally:
        await metrics.stop_worker_metrics(ctx)


async def test_without_a_port_nothing_is_served(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WORKER_METRICS_PORT", raising=False)
    get_settings.cache_clear()
    try:
        ctx: dict[str, Any] = {}
        await metrics.serve_worker_metrics(ctx)
        assert ctx == {}
        await metrics.stop_worker_metrics(ctx)
        assert metrics.check(["check"]) == 1
        assert metrics.check([]) == 2
    finally:
        get_settings.cache_clear()
