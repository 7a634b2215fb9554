"""Reminders and overdue notices for progress reports, each sent at most once.

`sweep_reports` runs in every projects API process (`sweep_forever`, started with the
app: once at start-up, then hourly; due dates are days, so an hour is prompt enough) and
on demand by `POST /api/v1/internal/progress-report-sweeps`. Rows are claimed with
`FOR UPDATE SKIP LOCKED` and stamped in the same transaction as their event, so
concurrent sweeps (several replicas, or the endpoint) never notify twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.projects.base import infra
from services.projects.config import get_projects_settings
from services.projects.supervision.models import ProgressReport
from services.projects.supervision.schedule import REMIND_DAYS_BEFORE
from shared.clock import shanghai_date
from shared.db import database, utcnow
from shared.jobs import repeat
from shared.outbox import record_event

logger = logging.getLogger("sanshe.projects.reminders")


class SweepResult(BaseModel):
    reminded: int
    overdue: int


async def sweep_reports(session: AsyncSession, *, now: datetime, limit: int = 500) -> SweepResult:
    day = shanghai_date(now)
    due_soon = (
        await session.execute(
            select(ProgressReport)
            .where(
                ProgressReport.submitted_at.is_(None),
                ProgressReport.reminded_at.is_(None),
                ProgressReport.due_on <= day + timedelta(days=REMIND_DAYS_BEFORE),
                ProgressReport.due_on >= day,
            )
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).scalars()
    reminded = 0
    for report in due_soon:
        report.reminded_at = now
        await _event(session, report, "progress_report.reminder")
        reminded += 1
    overdue_rows = (
        await session.execute(
            select(ProgressReport)
            .where(
                ProgressReport.submitted_at.is_(None),
                ProgressReport.overdue_notified_at.is_(None),
                ProgressReport.due_on < day,
            )
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).scalars()
    overdue = 0
    for report in overdue_rows:
        report.overdue_notified_at = now
        await _event(session, report, "progress_report.overdue")
        overdue += 1
    await session.flush()
    return SweepResult(reminded=reminded, overdue=overdue)


async def _event(session: AsyncSession, report: ProgressReport, event_type: str) -> None:
    await record_event(
        session,
        infra.outbox,
        event_type=event_type,
        subject_type="progress_report",
        subject_id=report.id,
        data={
            "report_id": str(report.id),
            "project_id": str(report.project_id),
            "kind": report.kind.value,
            "due_on": report.due_on.isoformat(),
        },
    )


async def _sweep_once() -> None:
    async with database.transaction() as session:
        result = await sweep_reports(session, now=utcnow())
    if result.reminded or result.overdue:
        logger.info("progress reports swept", extra=result.model_dump())


async def sweep_forever(interval: float | None = None) -> None:
    """Sweep now, then every `interval` seconds, until cancelled; a failed sweep is retried."""
    await repeat(
        _sweep_once,
        interval=interval or get_projects_settings().projects_report_sweep_interval_seconds,
        logger=logger,
        failure="progress-report sweep failed; will retry",
    )
