"""Reminders and escalation fire once, from Postgres, whoever sweeps and how often."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import func, update

from services.workflow.cases.sweeps import fire_timers
from services.workflow.models import ApprovalCase
from shared.db import database, utcnow
from tests.workflow.helpers import case_events


async def _sweep_at(now: Any) -> None:
    async with database.transaction() as session:
        await fire_timers(session, now=now)


async def test_reminder_then_escalation_each_fire_once(submit: Callable[..., Any]) -> None:
    case_id = await submit("organization_registration")
    async with database.transaction() as session:
        case = await session.get(ApprovalCase, uuid.UUID(case_id))
        assert case is not None
        reminder_at, due_at = case.reminder_at, case.due_at
    assert reminder_at < due_at

    await _sweep_at(reminder_at - timedelta(seconds=1))
    assert await case_events(case_id, "case.reminder_due") == 0

    # Several sweeps at once, then again later: the reminder fires exactly once.
    await asyncio.gather(*(_sweep_at(reminder_at + timedelta(minutes=1)) for _ in range(5)))
    await _sweep_at(reminder_at + timedelta(hours=1))
    assert await case_events(case_id, "case.reminder_due") == 1
    assert await case_events(case_id, "case.overdue") == 0

    await asyncio.gather(*(_sweep_at(due_at + timedelta(seconds=1)) for _ in range(5)))
    await _sweep_at(due_at + timedelta(days=3))
    assert await case_events(case_id, "case.overdue") == 1


async def test_paused_and_decided_cases_do_not_fire(submit: Callable[..., Any]) -> None:
    paused = await submit("organization_registration")
    decided = await submit("organization_registration")
    async with database.transaction() as session:
        await session.execute(
            update(ApprovalCase)
            .where(ApprovalCase.id == uuid.UUID(paused))
            .values(paused_at=utcnow())
        )
        await session.execute(
            update(ApprovalCase)
            .where(ApprovalCase.id == uuid.UUID(decided))
            .values(state="approved")
        )
    await _sweep_at(utcnow() + timedelta(days=90))
    for case_id in (paused, decided):
        assert await case_events(case_id, "case.reminder_due") == 0
        assert await case_events(case_id, "case.overdue") == 0


async def test_overdue_filter_lists_escalated_cases(
    submit: Callable[..., Any], workflow: Any, auth: Callable[..., Any]
) -> None:
    case_id = await submit("annual_inspection")
    async with database.transaction() as session:
        await session.execute(
            update(ApprovalCase)
            .where(ApprovalCase.id == uuid.UUID(case_id))
            .values(due_at=func.now() - timedelta(hours=1))
        )
    overdue = (
        await workflow.get(
            "/api/v1/cases",
            params={"overdue": "true", "page_size": 200},
            headers=auth("civil_affairs"),
        )
    ).json()
    assert case_id in {item["id"] for item in overdue["items"]}
    assert all(item["overdue"] for item in overdue["items"])
