"""The dates and instants a request may carry: from 1900-01-01 to 2100-12-31.

Python's dates run from year 1 to 9999 and pydantic accepts them all, but what is done
with them afterwards does not: the end of 9999-12-31 overflows, an instant at 0001-01-01
+14:00 is before year 1 in UTC, a contract over eight thousand years schedules a hundred
thousand reports. Nothing in this domain (a register entry, a deadline, a meeting) lies
outside these two centuries, so every request schema uses these types and anything
beyond is a 422 on its field, before any code runs.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import AwareDatetime, Field

EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2100, 12, 31)

CalendarDate = Annotated[date, Field(ge=EARLIEST_DAY, le=LATEST_DAY)]
"""A calendar day (no time zone: the day in Asia/Shanghai) between 1900 and 2100."""

Instant = Annotated[
    AwareDatetime,
    Field(ge=datetime(1900, 1, 1, tzinfo=UTC), lt=datetime(2101, 1, 1, tzinfo=UTC)),
]
"""A moment with its UTC offset (a naive time is ambiguous), in the years 1900 to 2100 UTC."""
