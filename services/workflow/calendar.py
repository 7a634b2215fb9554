"""Working days in Asia/Shanghai, for committed time limits (承诺时限).

Conventions (documented for applicants and reviewers alike):
- A limit of N working days runs from the day *after* the starting day and ends at
  midnight (Asia/Shanghai) at the close of the N-th working day. Weekends are not
  working days unless listed as make-up days (调休); listed public holidays are not.
- While a case waits for the applicant's supplement the clock is paused: on
  resubmission the deadline moves forward by the working days that passed while paused
  (days after the pause day up to and including the resubmission day).
- Statutory limits are calendar days (the regulations count natural days).
- Only the years whose official schedule is loaded are known: the State Council publishes
  each year's holidays and make-up days late in the year before, and they cannot be
  derived. A computation reaching another year raises `CalendarNotCovered` (a 503 problem
  at the API) rather than treating that year as plain Monday-Friday weeks; at startup
  `check_coverage` logs an error when the longest committed limit already runs past the
  loaded years, and exports until when they reach as a metric.
Instants are stored in UTC; only the day arithmetic happens in Asia/Shanghai.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Self
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.workflow.models import CalendarDay
from shared import metrics
from shared.errors import ProblemError
from shared.settings import get_settings

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOLIDAYS_FILE = Path(__file__).parent / "holidays.yaml"
_ONE_DAY = timedelta(days=1)
# Operators are warned this long before the loaded schedule runs out: the next year's is
# usually published in November, leaving about six weeks to add it.
COVERAGE_WARNING_DAYS = 45

logger = logging.getLogger("sanshe.workflow.calendar")


class CalendarNotCovered(ProblemError):
    """A working-day computation reached a year whose official schedule is not loaded.

    The service's data is missing, not the request's: 503, and nothing is changed.
    """

    status = 503
    default_code = "calendar_not_covered"
    title = "Working-day calendar not available"

    def __init__(self, year: int) -> None:
        super().__init__(
            f"Committed time limits reaching {year} cannot be computed yet: the official "
            f"{year} public-holiday schedule (国务院办公厅关于{year}年部分节假日安排的通知) "
            "is not loaded into the working-day calendar."
        )
        self.year = year


@dataclass(frozen=True)
class WorkingCalendar:
    holidays: frozenset[date] = field(default_factory=frozenset)
    make_up_days: frozenset[date] = field(default_factory=frozenset)
    # The years whose official schedule is loaded; every other year is unknown.
    covered_years: frozenset[int] = field(default_factory=frozenset)

    @classmethod
    def from_days(cls, days: Iterable[tuple[date, bool]]) -> Self:
        """From (day, is_working_day) exceptions; each year listed counts as covered."""
        listed = list(days)
        return cls(
            holidays=frozenset(day for day, working in listed if not working),
            make_up_days=frozenset(day for day, working in listed if working),
            covered_years=frozenset(day.year for day, _ in listed),
        )

    def covered_through(self, today: date) -> date | None:
        """The last day of the covered years running on from `today`'s (None: not covered)."""
        if today.year not in self.covered_years:
            return None
        year = today.year
        while year + 1 in self.covered_years:
            year += 1
        return date(year, 12, 31)

    def is_working_day(self, day: date) -> bool:
        if day.year not in self.covered_years:
            raise CalendarNotCovered(day.year)
        if day in self.make_up_days:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def _advance(self, day: date, working_days: int) -> date:
        counted = 0
        while counted < working_days:
            day += _ONE_DAY
            if self.is_working_day(day):
                counted += 1
        return day

    def deadline(self, start: datetime, working_days: int) -> datetime:
        """Midnight after the `working_days`-th working day following `start`'s day."""
        day = self._advance(start.astimezone(SHANGHAI).date(), working_days)
        return _end_of(day)

    def extend(self, deadline: datetime, working_days: int) -> datetime:
        """Move a deadline (as returned by `deadline`) forward by some working days."""
        if working_days <= 0:
            return deadline
        last_day = (deadline.astimezone(SHANGHAI) - timedelta(microseconds=1)).date()
        return _end_of(self._advance(last_day, working_days))

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """Working days after `start`'s day, up to and including `end`'s day."""
        first = start.astimezone(SHANGHAI).date()
        last = end.astimezone(SHANGHAI).date()
        count, day = 0, first
        while day < last:
            day += _ONE_DAY
            count += self.is_working_day(day)
        return count


def statutory_deadline(start: datetime, calendar_days: int) -> datetime:
    return _end_of(start.astimezone(SHANGHAI).date() + timedelta(days=calendar_days))


def _end_of(day: date) -> datetime:
    return datetime.combine(day + _ONE_DAY, time(0), SHANGHAI).astimezone(UTC)


def calendar_files() -> list[Path]:
    """The shipped schedule, then the operator's (WORKFLOW_CALENDAR_FILE), which wins."""
    extra = get_settings().workflow_calendar_file
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
    today = now.astimezone(SHANGHAI).date()
    through = calendar.covered_through(today)
    covered_until = _end_of(through).timestamp() if through else 0
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
