"""Operational endpoints every service serves: `/healthz`, `/readyz`, `/metrics`."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import Table, func, select, text

from shared import metrics
from shared.db import database
from shared.settings import get_settings

logger = logging.getLogger("sanshe.health")

_CHECK_TIMEOUT_SECONDS = 2.0


class Health(BaseModel):
    status: str
    checks: dict[str, str] = {}


def operational_router(*, service: str, outbox: Table) -> APIRouter:
    """The probes' operation ids carry the service name (`registryHealthz`), so that they
    stay unique across the three services' documents."""
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", response_model=Health, operation_id=f"{service}Healthz")
    async def healthz() -> Health:
        """The process is up."""
        return Health(status="ok")

    @router.get(
        "/readyz",
        response_model=Health,
        operation_id=f"{service}Readyz",
        responses={503: {"model": Health, "description": "A dependency is unreachable"}},
    )
    async def readyz(request: Request, response: Response) -> Health:
        """The database and Redis are reachable."""
        checks = {
            "database": await _check(_ping_database()),
            "redis": await _check(request.app.state.queue.ping()),
        }
        ready = all(value == "ok" for value in checks.values())
        if not ready:
            response.status_code = 503
        return Health(status="ok" if ready else "unavailable", checks=checks)

    @router.get("/metrics", include_in_schema=False)
    async def prometheus_metrics(request: Request) -> Response:
        await _refresh_gauges(request, service, outbox)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return router


async def _ping_database() -> None:
    async with database.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def _check(probe: object) -> str:
    try:
        await asyncio.wait_for(probe, _CHECK_TIMEOUT_SECONDS)  # type: ignore[arg-type]
    except Exception as exc:
        logger.warning("readiness check failed", extra={"error": type(exc).__name__})
        return "unavailable"
    return "ok"


async def _refresh_gauges(request: Request, service: str, outbox: Table) -> None:
    queue_name = get_settings().arq_queue_name
    try:
        depth = await request.app.state.queue.zcard(queue_name)
        metrics.queue_depth.labels(queue_name).set(depth)
        async with database.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(
                        func.count(),
                        func.coalesce(
                            func.extract("epoch", func.now() - func.min(outbox.c.occurred_at)), 0
                        ),
                    ).where(outbox.c.published_at.is_(None))
                )
            ).one()
        metrics.outbox_pending.labels(service).set(row[0])
        metrics.outbox_lag.labels(service).set(float(row[1]))
    except Exception as exc:
        logger.warning("metrics refresh failed", extra={"error": type(exc).__name__})
