"""Dates of the register are civil dates in China (a listing "on 2025-06-01" is Beijing time)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def today() -> date:
    return datetime.now(CHINA).date()


def local_date(instant: datetime) -> date:
    return instant.astimezone(CHINA).date()
