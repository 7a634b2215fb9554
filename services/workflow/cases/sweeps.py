"""Periodic sweeps: timers, stuck pre-checks, due callbacks. Postgres is the clock's memory.

Timers are columns of the case (`reminder_at`, `due_at`) with a "fired" mark
(`reminded_at`, `escalated_at`) set in the same statement that selects them, so each
fires once however many sweeps run, and none is lost when a worker restarts.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.workflow.cases.commands import conclude
from services.workflow.cases.machine import AWAITING_PRECHECK, CLOCK_RUNNING, TERMINAL
from services.workflow.cases.models import ApprovalCase, CaseState
from services.workflow.cases.transitions import SYSTEM, emit

# What 容缺受理 means when the committed minor materials are not supplied in time: the
# acceptance was conditional on them, so the case is decided as not granted (不予许可),
# and the applicant gets the decision and its reason like any other.
PENDING_OVERDUE_REASON = "容缺受理承诺补交的材料逾期未补齐，不予许可"


@dataclass(frozen=True)
class TimerReport:
    reminded: list[uuid.UUID]
    escalated: list[uuid.UUID]


async def fire_timers(session: AsyncSession, *, now: datetime) -> TimerReport:
    running = ApprovalCase.state.in_(list(CLOCK_RUNNING)) & ApprovalCase.paused_at.is_(None)
    reminders = (
        (
            await session.execute(
                select(ApprovalCase)
                .where(running, ApprovalCase.reminded_at.is_(None), ApprovalCase.reminder_at <= now)
                .with_for_update(skip_locked=True)
            )
        )
        .scalars()
        .all()
    )
    for case in reminders:
        case.reminded_at = now
        await emit(session, case, "case.reminder_due", due_at=case.due_at.isoformat())
    overdue = (
        (
            await session.execute(
                select(ApprovalCase)
                .where(running, ApprovalCase.escalated_at.is_(None), ApprovalCase.due_at <= now)
                .with_for_update(skip_locked=True)
            )
        )
        .scalars()
        .all()
    )
    for case in overdue:
        case.escalated_at = now
        await emit(session, case, "case.overdue", due_at=case.due_at.isoformat())
    return TimerReport(reminded=[c.id for c in reminders], escalated=[c.id for c in overdue])


async def stale_prechecks(
    session: AsyncSession, *, now: datetime, older_than: timedelta
) -> list[uuid.UUID]:
    """Cases still awaiting pre-check long after submission (their trigger was lost)."""
    rows = await session.execute(
        select(ApprovalCase.id).where(
            ApprovalCase.state.in_(list(AWAITING_PRECHECK)),
            ApprovalCase.submitted_at <= now - older_than,
        )
    )
    return list(rows.scalars())


async def due_callbacks(session: AsyncSession, *, now: datetime) -> list[tuple[uuid.UUID, int]]:
    rows = await session.execute(
        select(ApprovalCase.id, ApprovalCase.callback_attempts).where(
            ApprovalCase.callback_delivered_at.is_(None),
            ApprovalCase.next_callback_at.is_not(None),
            ApprovalCase.next_callback_at <= now,
        )
    )
    return [(case_id, attempts) for case_id, attempts in rows.tuples()]


async def expire_pending(session: AsyncSession, *, now: datetime) -> list[uuid.UUID]:
    """Decide the cases whose committed minor materials are past their due date."""
    cases = (
        (
            await session.execute(
                select(ApprovalCase)
                .where(
                    ApprovalCase.pending_due_at <= now,
                    ApprovalCase.state.not_in(list(TERMINAL)),
                )
                .with_for_update(skip_locked=True)
            )
        )
        .scalars()
        .all()
    )
    for case in cases:
        await conclude(
            session, case, CaseState.rejected, actor=SYSTEM, reason=PENDING_OVERDUE_REASON
        )
    return [c.id for c in cases]
