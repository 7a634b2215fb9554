"""The annual-report deadline: who did not file becomes 未参检 and goes onto the lists.

"加强对存量社会组织监管力度，严格社会组织年检和抽查工作制度" (the Luyang seed): the annual
inspection is enforced, not merely offered. The rules:

- Due date: the report of year Y by 31 May of Y + 1, Asia/Shanghai (《社会团体登记管理
  条例》 art. 28; the day is `REGISTRY_REPORT_DEADLINE_MONTH` / `_DAY`). Until that day
  has ended, a year cannot be swept (`deadline_not_passed`).
- Who owes it: see `repository.lock_non_filers` (registered, open, at least six months
  old at the year's end).
- Not filed: the year is concluded 未参检 (`absent`) and the organization is put on the
  abnormal-activity list (活动异常名录), reason `annual_report_not_filed`, dated the day
  of the sweep and carrying the report year (《社会组织信用信息管理办法》, MCA order
  No. 60, art. 13 (一): 未按照规定时限和要求向登记管理机关报送年度工作报告的). An
  organization already listed for an earlier year's report stays on that one entry.
- Two consecutive years 未参检 (Y − 1 and Y): also the serious illegal & dishonest list
  (严重违法失信名单), reason `abnormal_two_years` (art. 14 (一): 被列入活动异常名录满2年
  的 — the second missed deadline is where a listing for a missed report reaches its
  second year without being put right).
- Once: an organization with a report row for Y is never swept for Y again, so a second
  sweep changes nothing. Sweeps are serialised by a transaction-scoped advisory lock:
  the endpoint waits for it, the hourly loop of each API process skips when another
  replica holds it.
- Late filing (补报) after the sweep: `service.py` (the entry leaves the list on a late
  report that passes).
"""

from __future__ import annotations

import logging
from datetime import date

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.config import get_registry_settings
from services.registry.enums import InspectionResult, InspectionState, ListReason, ListType
from services.registry.inspections import repository
from services.registry.inspections.models import AnnualInspection
from services.registry.inspections.schemas import DeadlineSweepOut
from services.registry.inspections.service import conclude
from services.registry.organizations import bulk_writes
from services.registry.organizations.models import Organization
from services.registry.standing import service as standing
from shared.auth import Principal, Role
from shared.clock import shanghai_today, utcnow
from shared.db import database
from shared.errors import Conflict
from shared.jobs import repeat

logger = logging.getLogger("sanshe.registry.deadlines")

_LOCK_KEY = "registry:annual-report-deadline-sweep"
# Who the automatic sweep acts as, in the history and the list entries.
SCHEDULER = Principal(sub="system:annual-report-deadline", role=Role.service)


def last_due_year(today: date) -> int:
    """The latest report year whose deadline has ended by `today` (Asia/Shanghai)."""
    settings = get_registry_settings()
    return today.year - 1 if today > settings.report_deadline(today.year - 1) else today.year - 2


def _deadline_of(year: int, today: date) -> date:
    deadline = get_registry_settings().report_deadline(year)
    if today <= deadline:
        raise Conflict(
            f"The {year} reports are due by {deadline.isoformat()}; sweep after that day",
            code="deadline_not_passed",
        )
    return deadline


_LOCK = func.hashtextextended(_LOCK_KEY, 0)


async def sweep(
    session: AsyncSession, *, principal: Principal, year: int, today: date | None = None
) -> DeadlineSweepOut:
    """Conclude `year` 未参检 for every non-filer and list them, after any running sweep."""
    today = today or shanghai_today()
    deadline = _deadline_of(year, today)
    await session.execute(select(func.pg_advisory_xact_lock(_LOCK)))
    await bulk_writes.sweep_alone(session)
    return await _sweep_locked(
        session, principal=principal, year=year, deadline=deadline, today=today
    )


async def sweep_unless_running(
    session: AsyncSession, *, principal: Principal, year: int, today: date
) -> DeadlineSweepOut | None:
    """`sweep`, or None at once when another process is sweeping (it does the work) or an
    import is writing (the next sweep does it)."""
    deadline = _deadline_of(year, today)
    if not await session.scalar(select(func.pg_try_advisory_xact_lock(_LOCK))):
        return None
    if not await bulk_writes.sweep_alone_unless_busy(session):
        return None
    return await _sweep_locked(
        session, principal=principal, year=year, deadline=deadline, today=today
    )


async def _sweep_locked(
    session: AsyncSession, *, principal: Principal, year: int, deadline: date, today: date
) -> DeadlineSweepOut:
    outcome = DeadlineSweepOut(
        year=year, deadline=deadline, marked_absent=0, listed_abnormal=0, listed_serious=0
    )
    for organization in await repository.lock_non_filers(session, year=year):
        await _mark_absent(session, principal=principal, organization=organization, year=year)
        outcome.marked_absent += 1
        if not await _listed(
            session, organization, ListType.abnormal, ListReason.annual_report_not_filed
        ):
            await standing.add_entry(
                session,
                principal=principal,
                organization=organization,
                list_type=ListType.abnormal,
                reason_code=ListReason.annual_report_not_filed,
                reason=f"未在{deadline.isoformat()}前报送{year}年度工作报告",
                listed_on=today,
                report_year=year,
            )
            outcome.listed_abnormal += 1
        if await repository.was_absent(
            session, organization_id=organization.id, year=year - 1
        ) and not await _listed(
            session, organization, ListType.serious_illegal, ListReason.abnormal_two_years
        ):
            await standing.add_entry(
                session,
                principal=principal,
                organization=organization,
                list_type=ListType.serious_illegal,
                reason_code=ListReason.abnormal_two_years,
                reason=f"连续两年未报送年度工作报告（{year - 1}、{year}年度）",
                listed_on=today,
                report_year=year,
            )
            outcome.listed_serious += 1
    return outcome


async def _listed(
    session: AsyncSession, organization: Organization, list_type: ListType, reason: ListReason
) -> bool:
    entries = await standing.open_entries(session, organization.id, list_type)
    return any(entry.reason_code is reason for entry in entries)


async def _mark_absent(
    session: AsyncSession, *, principal: Principal, organization: Organization, year: int
) -> None:
    inspection = await repository.lock_report(session, organization_id=organization.id, year=year)
    if inspection is None:
        inspection = AnnualInspection(organization_id=organization.id, year=year)
        session.add(inspection)
    inspection.result = InspectionResult.absent
    inspection.party_building_ok = None
    inspection.financial_audit_ok = None
    inspection.remarks = "逾期未报送年度工作报告，未参检"
    inspection.conclusion_recorded_by = principal.sub
    inspection.state = InspectionState.concluded
    await session.flush()
    await conclude(session, principal=principal, organization=organization, inspection=inspection)


async def sweep_once() -> None:
    """One sweep of the latest due year, in its own transaction (the loop's, and a
    benchmark's before it starts a server)."""
    async with database.transaction() as session:
        # Bound the wait on row locks: a request holding one must not stall the loop.
        await session.execute(text("SET LOCAL lock_timeout = '10s'"))
        today = shanghai_today(utcnow())
        outcome = await sweep_unless_running(
            session, principal=SCHEDULER, year=last_due_year(today), today=today
        )
    if outcome is not None and outcome.marked_absent:
        logger.info("annual-report deadline swept", extra=outcome.model_dump(mode="json"))


async def sweep_forever(interval: float | None = None) -> None:
    """Sweep the latest due year now, then every `interval` seconds, until cancelled."""
    await repeat(
        sweep_once,
        interval=interval or get_registry_settings().registry_deadline_sweep_interval_seconds,
        logger=logger,
        failure="annual-report deadline sweep failed; will retry",
    )
