"""The one clock of the system: instants in UTC, civil days in Asia/Shanghai.

The database stores instants (timezone-aware UTC). Deadlines, working days, due dates
and "today" are civil dates of the people who use the system, in China's one time
zone (UTC+8, no daylight saving), so every day arithmetic goes through here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


def shanghai_date(instant: datetime) -> date:
    """The civil day in Shanghai at `instant` (which must be timezone-aware)."""
    return instant.astimezone(SHANGHAI).date()


def shanghai_today(now: datetime | None = None) -> date:
    """Today in Shanghai: at `now` if given (a request's or a sweep's instant), else now."""
    return shanghai_date(now or utcnow())


def end_of_day(day: date) -> datetime:
    """The instant a Shanghai day ends: the midnight after it."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=SHANGHAI)
