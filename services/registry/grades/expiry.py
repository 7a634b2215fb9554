"""Grades whose five years of validity ended: expired, and the organizations' fields cleared.

`sweep` runs in every registry API process (`sweep_forever`, started with the app: at
start-up, then every `REGISTRY_GRADE_SWEEP_INTERVAL_SECONDS`, an hour by default:
validity ends on a civil day, so an hour is prompt enough) and on demand by the bureau
(`POST /api/v1/grade-evaluations/expiry-sweeps`). Rows are claimed with
`FOR UPDATE SKIP LOCKED`, so concurrent sweeps (replicas, the endpoint) never expire one
grade twice. A grade is valid through its `valid_until` day (Asia/Shanghai) and expires
the day after.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.config import get_registry_settings
from services.registry.grades import repository, service
from services.registry.grades.schemas import GradeSweepResult
from services.registry.organizations import bulk_writes
from shared.auth import Principal, Role
from shared.clock import shanghai_date
from shared.db import database, utcnow
from shared.jobs import repeat

logger = logging.getLogger("sanshe.registry.grades")
SWEEPER = Principal(sub="system:grade-expiry", role=Role.service)


async def sweep(
    session: AsyncSession, *, now: datetime, principal: Principal = SWEEPER, limit: int = 500
) -> GradeSweepResult:
    """Expire up to `limit` lapsed evaluations and clear up to `limit` lapsed grade fields."""
    today = shanghai_date(now)
    # Clearing grades changes the tally's rows one organization at a time.
    await bulk_writes.sweep_alone(session)
    expired = 0
    for evaluation in await repository.lapsed(session, today=today, limit=limit):
        expired += await service.expire(session, principal=principal, evaluation=evaluation)
    cleared = await repository.lapsed_organizations(session, today=today, limit=limit)
    for organization in cleared:
        await service.clear_lapsed_field(session, principal=principal, organization=organization)
    return GradeSweepResult(expired=expired, cleared=len(cleared))


async def sweep_once() -> None:
    """One sweep in its own transaction (the loop's, and a benchmark's before it starts
    a server)."""
    async with database.transaction() as session:
        result = await sweep(session, now=utcnow())
    if result.expired or result.cleared:
        logger.info("evaluation grades swept", extra=result.model_dump())


async def sweep_forever(interval: float | None = None) -> None:
    """Sweep now, then every `interval` seconds, until cancelled; a failed sweep is retried."""
    await repeat(
        sweep_once,
        interval=interval or get_registry_settings().registry_grade_sweep_interval_seconds,
        logger=logger,
        failure="evaluation grade sweep failed; will retry",
    )
