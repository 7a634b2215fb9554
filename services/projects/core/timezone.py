"""Dates in the purchasing authorities' time zone (Asia/Shanghai, UTC+8, no DST)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def end_of_day(day: date) -> datetime:
    """The instant a day ends in Shanghai: the midnight after it."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=SHANGHAI)


def today(now: datetime) -> date:
    return now.astimezone(SHANGHAI).date()
