"""When progress reports are due (Asia/Shanghai dates).

A monthly report (月报) covers each calendar month of the contract period, or the part
of it inside the period, and is due on the 10th of the following month. The mid-term
report (中期报告) covers the first half of the period and is due 15 days after its
midpoint. These are the customary terms of Haining's purchase contracts; change them
here, they apply to projects initiated afterwards (and to a project whose contract
period an amendment changes: its schedule follows the new period).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.projects.supervision.models import ProgressReport, ReportKind

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


@dataclass(frozen=True, slots=True)
class Rescheduled:
    """What `apply_schedule` did to a project's reports."""

    added: int
    moved: int
    dropped: int
    kept: int  # submitted reports the new period would plan otherwise, left as they are

    def as_details(self) -> dict[str, int]:
        return {
            "added": self.added,
            "moved": self.moved,
            "dropped": self.dropped,
            "kept": self.kept,
        }


async def apply_schedule(
    session: AsyncSession, project_id: uuid.UUID, start_on: date, end_on: date
) -> Rescheduled:
    """Make the project's reports follow the schedule of the period `start_on`..`end_on`.

    At initiation this creates them; after an amendment of the period it reconciles them
    by (kind, seq), which the schedule derives from the start date alone: planned reports
    that are missing are added, unsubmitted ones take their planned period and due date,
    and unsubmitted ones the period no longer holds are dropped. Submitted reports are the
    organization's record and stay exactly as they are. A due date that moves forgets its
    reminder and overdue notice, so that the sweep notifies about the new date once.
    """
    planned = {(item.kind, item.seq): item for item in schedule(start_on, end_on)}
    existing = (
        await session.execute(
            select(ProgressReport)
            .where(ProgressReport.project_id == project_id)
            .order_by(ProgressReport.kind, ProgressReport.seq)
            .with_for_update()
        )
    ).scalars()
    moved = dropped = kept = 0
    for report in existing:
        plan = planned.pop((report.kind, report.seq), None)
        if report.submitted_at is not None:
            kept += plan is None or _differs(report, plan)
            continue
        if plan is None:
            await session.delete(report)
            dropped += 1
        elif _differs(report, plan):
            if report.due_on != plan.due_on:
                report.reminded_at = report.overdue_notified_at = None
            report.period_start_on = plan.period_start_on
            report.period_end_on = plan.period_end_on
            report.due_on = plan.due_on
            moved += 1
    session.add_all(
        ProgressReport(
            project_id=project_id,
            kind=item.kind,
            seq=item.seq,
            period_start_on=item.period_start_on,
            period_end_on=item.period_end_on,
            due_on=item.due_on,
            attachments=[],
        )
        for item in planned.values()
    )
    await session.flush()
    return Rescheduled(added=len(planned), moved=moved, dropped=dropped, kept=kept)


def _differs(report: ProgressReport, plan: ScheduledReport) -> bool:
    return (report.period_start_on, report.period_end_on, report.due_on) != (
        plan.period_start_on,
        plan.period_end_on,
        plan.due_on,
    )
