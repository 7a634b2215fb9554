"""The working-day calendar's data: the shipped and the operator's holiday files, the
copy in Postgres, and the start-up check of how far the loaded years reach.

The arithmetic itself is `working_days` (no I/O).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.workflow.calendar.models import CalendarDay
from services.workflow.calendar.working_days import CalendarNotCovered, WorkingCalendar, end_of
from services.workflow.config import get_workflow_settings
from shared import metrics
from shared.clock import shanghai_date

# Ships as package data (pyproject `[tool.setuptools.package-data]`).
HOLIDAYS_FILE = Path(__file__).parent / "holidays.yaml"
# Operators are warned this long before the loaded schedule runs out: the next year's is
# usually published in November, leaving about six weeks to add it.
COVERAGE_WARNING_DAYS = 45

logger = logging.getLogger("sanshe.workflow.calendar")


def calendar_files() -> list[Path]:
    """The shipped schedule, then the operator's (WORKFLOW_CALENDAR_FILE), which wins."""
    extra = get_workflow_settings().workflow_calendar_file
    return [HOLIDAYS_FILE, *([extra] if extra else [])]


def read_calendar_files(paths: Iterable[Path] | None = None) -> list[dict[str, object]]:
    """Every listed day once: a later file's entry for a day replaces an earlier one's."""
    days: dict[object, dict[str, object]] = {}
    for path in calendar_files() if paths is None else paths:
        years = yaml.safe_load(path.read_text("utf-8")) or {}
        for entries in years.values():
            for entry in entries:
                days[entry["day"]] = {
                    "day": entry["day"],
                    "is_working_day": bool(entry["working"]),
                    "name": entry["name"],
                }
    return list(days.values())


async def sync_calendar(session: AsyncSession, rows: list[dict[str, object]]) -> None:
    """The data file is authoritative for the days it lists."""
    if not rows:
        return
    statement = pg_insert(CalendarDay).values(rows)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[CalendarDay.day],
            set_={
                "is_working_day": statement.excluded.is_working_day,
                "name": statement.excluded.name,
            },
        )
    )


async def load_calendar(session: AsyncSession) -> WorkingCalendar:
    rows = (await session.execute(select(CalendarDay.day, CalendarDay.is_working_day))).all()
    return WorkingCalendar.from_days((day, working) for day, working in rows)


async def check_coverage(
    session: AsyncSession, *, now: datetime, longest_limit: int
) -> date | None:
    """At startup: export until when the calendar is covered and tell operators in time.

    Logs an error when a case opened now with the longest committed limit
    (`longest_limit` working days) would already be refused, a warning when the covered
    years end within COVERAGE_WARNING_DAYS. Returns the last covered day (None: today's
    year is not covered). Serving goes on either way: reads, decisions and cases whose
    deadline stays inside the covered years are unaffected.
    """
    calendar = await load_calendar(session)
    today = shanghai_date(now)
    through = calendar.covered_through(today)
    covered_until = end_of(through).timestamp() if through else 0
    metrics.workflow_calendar_covered_until.labels("workflow").set(covered_until)
    action = (
        f"add the official schedule to {HOLIDAYS_FILE.name} or to the file WORKFLOW_CALENDAR_FILE "
        "names, and restart the workflow API and worker"
    )
    try:
        calendar.deadline(now, longest_limit)
    except CalendarNotCovered as exc:
        logger.error(
            f"the working-day calendar ends {through or 'before today'}: new cases with a "
            f"{longest_limit}-working-day limit are refused until the {exc.year} schedule is "
            f"loaded ({action})",
            extra={"covered_through": str(through), "missing_year": exc.year},
        )
        return through
    if through is not None and (through - today).days < COVERAGE_WARNING_DAYS:
        logger.warning(
            f"the working-day calendar ends {through}: {action} for {through.year + 1} "
            "before deadlines reach it",
            extra={"covered_through": str(through)},
        )
    return through
