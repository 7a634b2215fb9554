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

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Self

from shared.clock import SHANGHAI, end_of_day, shanghai_date
from shared.errors import ProblemError

__all__ = [
    "SHANGHAI",
    "CalendarNotCovered",
    "WorkingCalendar",
    "end_of",
    "statutory_deadline",
]

_ONE_DAY = timedelta(days=1)


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
        day = self._advance(shanghai_date(start), working_days)
        return end_of(day)

    def extend(self, deadline: datetime, working_days: int) -> datetime:
        """Move a deadline (as returned by `deadline`) forward by some working days."""
        if working_days <= 0:
            return deadline
        last_day = (deadline.astimezone(SHANGHAI) - timedelta(microseconds=1)).date()
        return end_of(self._advance(last_day, working_days))

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """Working days after `start`'s day, up to and including `end`'s day."""
        first = shanghai_date(start)
        last = shanghai_date(end)
        count, day = 0, first
        while day < last:
            day += _ONE_DAY
            count += self.is_working_day(day)
        return count


def statutory_deadline(start: datetime, calendar_days: int) -> datetime:
    return end_of(shanghai_date(start) + timedelta(days=calendar_days))


def end_of(day: date) -> datetime:
    """The instant (in UTC) `day` ends in Asia/Shanghai."""
    return end_of_day(day).astimezone(UTC)
