"""Working days in Asia/Shanghai, for committed time limits (承诺时限).

Conventions (documented for applicants and reviewers alike):
- A limit of N working days runs from the day *after* the starting day and ends at
  midnight (Asia/Shanghai) at the close of the N-th working day. Weekends are not
  working days unless listed as make-up days (调休); listed public holidays are not.
- While a case waits for the applicant's supplement the clock is paused: on
  resubmission the deadline moves forward by the working days that passed while paused
  (days after the pause day up to and including the resubmission day).
- Statutory limits are calendar days (the regulations count natural days).
Instants are stored in UTC; only the day arithmetic happens in Asia/Shanghai.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.workflow.models import CalendarDay

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOLIDAYS_FILE = Path(__file__).parent / "holidays.yaml"
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class WorkingCalendar:
    holidays: frozenset[date] = field(default_factory=frozenset)
    make_up_days: frozenset[date] = field(default_factory=frozenset)

    def is_working_day(self, day: date) -> bool:
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


def read_calendar_file(path: Path = HOLIDAYS_FILE) -> list[dict[str, object]]:
    years = yaml.safe_load(path.read_text("utf-8")) or {}
    return [
        {"day": entry["day"], "is_working_day": bool(entry["working"]), "name": entry["name"]}
        for entries in years.values()
        for entry in entries
    ]


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
    return WorkingCalendar(
        holidays=frozenset(day for day, working in rows if not working),
        make_up_days=frozenset(day for day, working in rows if working),
    )
