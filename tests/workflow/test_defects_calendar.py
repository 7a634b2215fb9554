"""A deadline past the years whose official holiday schedule is loaded fails loudly.

The State Council publishes each year's schedule (国务院办公厅关于N年部分节假日安排的通知)
late in the year before; until operators add it to holidays.yaml, a working-day deadline
reaching that year cannot be known. It must be refused with a clear problem, never computed
as if that year had ordinary Monday-Friday weeks, and operators are told ahead of time.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from services.workflow.calendar import service as calendar_service
from services.workflow.calendar import working_days
from services.workflow.calendar.service import read_calendar_files
from services.workflow.calendar.working_days import SHANGHAI
from services.workflow.cases import commands
from services.workflow.models import ApprovalCase, infra
from shared.db import database
from tests.workflow.helpers import materials_for

ROWS = read_calendar_files()
# The last year the loaded schedules cover (the shipped one and the test harness's
# WORKFLOW_CALENDAR_FILE): the test follows the data as years are added.
LAST_YEAR = max(r["day"].year for r in ROWS)  # type: ignore[attr-defined]
COVERAGE_METRIC = "sanshe_workflow_calendar_covered_until_timestamp_seconds"


def shanghai(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


def from_file() -> working_days.WorkingCalendar:
    return working_days.WorkingCalendar.from_days(
        (r["day"], r["is_working_day"])  # type: ignore[misc]
        for r in ROWS
    )


def test_a_deadline_reaching_an_uncovered_year_is_refused_not_guessed() -> None:
    # 28 Dec of the last covered year + 5 working days needs days of the next year.
    calendar = from_file()
    with pytest.raises(working_days.CalendarNotCovered) as raised:
        calendar.deadline(shanghai(LAST_YEAR, 12, 28, 10), 5)
    error = raised.value
    assert error.status == 503
    assert error.code == "calendar_not_covered"
    assert f"{LAST_YEAR + 1}年部分节假日安排" in str(error.detail)
    # Extending a deadline and counting a pause into that year are refused alike.
    due = calendar.deadline(shanghai(LAST_YEAR, 12, 21, 10), 2)
    with pytest.raises(working_days.CalendarNotCovered):
        calendar.extend(due, 10)
    with pytest.raises(working_days.CalendarNotCovered):
        calendar.working_days_between(
            shanghai(LAST_YEAR, 12, 30, 9), shanghai(LAST_YEAR + 1, 1, 5, 9)
        )
    # Within the covered years nothing changes.
    assert calendar.deadline(shanghai(LAST_YEAR, 12, 21, 10), 2).astimezone(SHANGHAI).year == (
        LAST_YEAR
    )


def test_the_covered_range_is_the_years_the_schedule_lists() -> None:
    calendar = from_file()
    assert calendar.covered_years == frozenset(r["day"].year for r in ROWS)  # type: ignore[attr-defined]
    assert calendar.covered_through(date(LAST_YEAR, 6, 1)) == date(LAST_YEAR, 12, 31)
    assert calendar.covered_through(date(LAST_YEAR + 1, 1, 1)) is None
    empty = working_days.WorkingCalendar.from_days([])
    with pytest.raises(working_days.CalendarNotCovered):
        empty.is_working_day(date(LAST_YEAR, 3, 2))


async def _cases_of(org_id: str) -> int:
    async with database.transaction() as session:
        return (
            await session.execute(
                select(func.count())
                .select_from(ApprovalCase)
                .where(ApprovalCase.applicant_org_id == org_id)
            )
        ).scalar_one()


async def _outbox_events() -> int:
    async with database.transaction() as session:
        return (await session.execute(select(func.count()).select_from(infra.outbox))).scalar_one()


async def test_a_case_whose_deadline_falls_in_an_uncovered_year_is_a_clear_problem(
    workflow: httpx.AsyncClient,
    auth: Callable[..., dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An organization files on 28 December of the last covered year (5 working days).
    monkeypatch.setattr(commands, "utcnow", lambda: shanghai(LAST_YEAR, 12, 28, 10).astimezone(UTC))
    org_id = str(uuid.uuid4())
    events_before = await _outbox_events()
    response = await workflow.post(
        "/api/v1/cases",
        json={
            "command_id": str(uuid.uuid4()),
            "case_type": "organization_registration",
            "title": "成立登记",
            "applicant_name": "庐阳区测试服务中心",
            "materials": materials_for("organization_registration"),
        },
        headers=auth("organization", org_id=org_id)
        | {"Accept-Language": "en"},  # the English detail is read
    )
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "calendar_not_covered"
    assert f"{LAST_YEAR + 1}" in problem["detail"]
    # Nothing was opened, nothing was announced.
    assert await _cases_of(org_id) == 0
    assert await _outbox_events() == events_before


async def test_startup_check_warns_when_the_longest_limit_leaves_the_calendar(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="sanshe.workflow.calendar")
    async with database.transaction() as session:
        late = await calendar_service.check_coverage(
            session, now=shanghai(LAST_YEAR, 12, 24, 9).astimezone(UTC), longest_limit=10
        )
    assert late == date(LAST_YEAR, 12, 31)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1, caplog.text
    assert f"{LAST_YEAR + 1}" in errors[0].getMessage()

    caplog.clear()
    async with database.transaction() as session:
        await calendar_service.check_coverage(
            session, now=shanghai(LAST_YEAR, 3, 2, 9).astimezone(UTC), longest_limit=10
        )
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


async def test_metrics_tell_until_when_the_calendar_is_covered(
    workflow: httpx.AsyncClient,
) -> None:
    text = (await workflow.get("/metrics")).text
    samples = {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    assert COVERAGE_METRIC in samples, text[:2000]
    today = datetime.now(SHANGHAI).date()
    through = from_file().covered_through(today)
    expected = datetime(through.year + 1, 1, 1, tzinfo=SHANGHAI).timestamp() if through else 0.0
    assert samples[COVERAGE_METRIC] == expected


def test_an_operators_schedule_adds_years_and_overrides_shipped_days(tmp_path: Path) -> None:
    # A notice published after the release goes in without one (WORKFLOW_CALENDAR_FILE).
    notice = tmp_path / "notice.yaml"
    notice.write_text(
        "2099:\n"
        "  - {day: 2099-01-01, working: false, name: 元旦}\n"
        "2026:\n"
        "  - {day: 2026-01-02, working: true, name: 更正}\n",
        "utf-8",
    )
    rows = calendar_service.read_calendar_files([calendar_service.HOLIDAYS_FILE, notice])
    by_day = {row["day"]: row for row in rows}
    assert by_day[date(2099, 1, 1)]["is_working_day"] is False
    assert by_day[date(2026, 1, 2)] == {
        "day": date(2026, 1, 2),
        "is_working_day": True,
        "name": "更正",
    }
    assert len(rows) == len(by_day)  # each day once: one upsert row per day
    calendar = working_days.WorkingCalendar.from_days(
        (row["day"], row["is_working_day"])  # type: ignore[misc]
        for row in rows
    )
    assert 2099 in calendar.covered_years
    assert calendar.is_working_day(date(2026, 1, 2))
    # The setting is what the services read.
    assert calendar_service.calendar_files()[0] == calendar_service.HOLIDAYS_FILE
    assert os.environ["WORKFLOW_CALENDAR_FILE"] in map(str, calendar_service.calendar_files())
