"""Working-day deadlines in Asia/Shanghai, with holidays, make-up days and paused clocks."""

from __future__ import annotations

from datetime import UTC, date, datetime

from services.workflow.calendar.service import read_calendar_files
from services.workflow.calendar.working_days import SHANGHAI, WorkingCalendar, statutory_deadline

ROWS = read_calendar_files()
CALENDAR = WorkingCalendar.from_days((r["day"], r["is_working_day"]) for r in ROWS)  # type: ignore[misc]


def shanghai(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


def test_plain_week_skips_the_weekend() -> None:
    # Thursday + 3 working days = Fri, Mon, Tue -> due at midnight closing Tuesday.
    due = CALENDAR.deadline(shanghai(2026, 11, 19, 15, 30), 3)
    assert due == shanghai(2026, 11, 25, 0, 0)
    assert due.tzinfo is not None and due.utcoffset() == UTC.utcoffset(due)


def test_national_day_holidays_and_make_up_saturday() -> None:
    # Submitted Wed 30 Sep 2026; 1–7 Oct are holidays; Sat 10 Oct is a make-up working day.
    # Working days: Thu 8, Fri 9, Sat 10, Mon 12, Tue 13 -> due at midnight closing 13 Oct.
    assert CALENDAR.deadline(shanghai(2026, 9, 30, 10), 5) == shanghai(2026, 10, 14)
    assert CALENDAR.is_working_day(date(2026, 10, 10))
    assert not CALENDAR.is_working_day(date(2026, 10, 5))


def test_the_day_counts_in_shanghai_not_utc() -> None:
    # 23:30 UTC on Sunday is already Monday 07:30 in Shanghai: counting starts from Monday.
    from_utc = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    assert CALENDAR.deadline(from_utc, 1) == shanghai(2026, 11, 25)


def test_paused_clock_extends_by_working_days_only() -> None:
    due = CALENDAR.deadline(shanghai(2026, 11, 16, 9), 5)  # Mon -> due end of Mon 23 Nov
    assert due == shanghai(2026, 11, 24)
    paused = CALENDAR.working_days_between(shanghai(2026, 11, 18, 10), shanghai(2026, 11, 23, 9))
    assert paused == 3  # Thu 19, Fri 20, Mon 23 (the weekend does not count)
    assert CALENDAR.extend(due, paused) == shanghai(2026, 11, 27)
    assert CALENDAR.extend(due, 0) == due


def test_pause_over_a_holiday_costs_nothing_for_the_holiday() -> None:
    paused = CALENDAR.working_days_between(shanghai(2026, 9, 30, 16), shanghai(2026, 10, 8, 9))
    assert paused == 1  # only Thu 8 Oct


def test_statutory_limit_counts_calendar_days() -> None:
    assert statutory_deadline(shanghai(2026, 1, 10, 9), 60) == shanghai(2026, 3, 12)
