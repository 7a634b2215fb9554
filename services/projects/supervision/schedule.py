"""When progress reports are due (Asia/Shanghai dates).

A monthly report (月报) covers each calendar month of the contract period, or the part
of it inside the period, and is due on the 10th of the following month. The mid-term
report (中期报告) covers the first half of the period and is due 15 days after its
midpoint. These are the customary terms of Haining's purchase contracts; change them
here, they apply to projects initiated afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from services.projects.supervision.models import ReportKind

MONTHLY_DUE_DAY = 10
MID_TERM_GRACE_DAYS = 15
REMIND_DAYS_BEFORE = 3


@dataclass(frozen=True, slots=True)
class ScheduledReport:
    kind: ReportKind
    seq: int
    period_start_on: date
    period_end_on: date
    due_on: date


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def schedule(start_on: date, end_on: date) -> list[ScheduledReport]:
    reports = []
    month_start, seq = start_on, 1
    while month_start <= end_on:
        following = _next_month(month_start)
        period_end = min(following - timedelta(days=1), end_on)
        reports.append(
            ScheduledReport(
                ReportKind.monthly,
                seq,
                month_start,
                period_end,
                following.replace(day=MONTHLY_DUE_DAY),
            )
        )
        month_start, seq = following, seq + 1
    midpoint = start_on + (end_on - start_on) / 2
    reports.append(
        ScheduledReport(
            ReportKind.mid_term, 1, start_on, midpoint, midpoint + timedelta(MID_TERM_GRACE_DAYS)
        )
    )
    return reports
