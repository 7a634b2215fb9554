"""Supervision (统一督导): reports, visits, findings and their rectification (整改).

A rectification goes open → responded (the organization's answer) → resolved (the
supervisor accepts it) or back to open (not accepted, another round). The evaluation
cannot start while any rectification is unresolved.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.projects.access import get_project, require_manager, require_member
from services.projects.core import lifecycle
from services.projects.core.models import Project, ProjectStage
from services.projects.supervision.models import (
    ProgressReport,
    Rectification,
    RectificationStatus,
    SupervisionVisit,
)
from services.projects.supervision.schemas import (
    ProgressReportOut,
    RectificationOut,
    RectificationResolution,
    RectificationResponse,
    ReportSubmission,
    VisitCreate,
    VisitOut,
)
from shared.auth import Principal
from shared.clock import end_of_day, shanghai_today
from shared.concurrency import require_version
from shared.db import utcnow
from shared.errors import Conflict, NotFound

SUPERVISED = (ProjectStage.implementing, ProjectStage.evaluating)


def present_report(report: ProgressReport) -> ProgressReportOut:
    overdue = report.submitted_at is None and shanghai_today() > report.due_on
    return ProgressReportOut.model_validate(
        {
            **{c.key: getattr(report, c.key) for c in ProgressReport.__table__.columns},
            "overdue": overdue,
        }
    )


def present_rectification(item: Rectification) -> RectificationOut:
    overdue = (
        item.status is not RectificationStatus.resolved and shanghai_today() > item.deadline_on
    )
    return RectificationOut.model_validate(
        {
            **{c.key: getattr(item, c.key) for c in Rectification.__table__.columns},
            "overdue": overdue,
        }
    )


async def reports(
    session: AsyncSession, *, principal: Principal, project_id: uuid.UUID
) -> list[ProgressReport]:
    await get_project(session, principal=principal, project_id=project_id)
    rows = await session.execute(
        select(ProgressReport)
        .where(ProgressReport.project_id == project_id)
        .order_by(ProgressReport.due_on, ProgressReport.kind)
    )
    return list(rows.scalars())


async def submit_report(
    session: AsyncSession,
    *,
    principal: Principal,
    project_id: uuid.UUID,
    report_id: uuid.UUID,
    data: ReportSubmission,
) -> ProgressReport:
    project = await get_project(session, principal=principal, project_id=project_id, lock=True)
    require_member(principal, project)
    lifecycle.require_stage(project, *SUPERVISED, action="submit a progress report")
    report = await session.get(ProgressReport, report_id)
    if report is None or report.project_id != project.id:
        raise NotFound("No such progress report", code="report_not_found")
    if report.submitted_at is not None:
        raise Conflict("The report is already submitted", code="report_submitted")
    now = utcnow()
    report.content = data.content
    report.attachments = [a.model_dump(mode="json") for a in data.attachments]
    report.submitted_at = now
    report.submitted_by = principal.sub
    report.submitted_late = now >= end_of_day(report.due_on)
    await session.flush()
    details = {
        "report_id": str(report.id),
        "kind": report.kind.value,
        "late": report.submitted_late,
    }
    await lifecycle.note(
        session, project, actor=principal, action="report_submitted", details=details
    )
    await lifecycle.emit(session, project, "progress_report.submitted", details)
    return report


async def record_visit(
    session: AsyncSession, *, principal: Principal, project_id: uuid.UUID, data: VisitCreate
) -> VisitOut:
    project = await get_project(session, principal=principal, project_id=project_id, lock=True)
    require_manager(principal, project)
    lifecycle.require_stage(project, *SUPERVISED, action="record a supervision visit")
    visit = SupervisionVisit(
        id=uuid.uuid4(),
        project_id=project.id,
        visited_on=data.visited_on,
        supervisor=data.supervisor,
        summary=data.summary,
        created_by=principal.sub,
    )
    session.add(visit)
    await session.flush()
    items = [
        Rectification(
            id=uuid.uuid4(),
            project_id=project.id,
            visit_id=visit.id,
            finding=f.finding,
            severity=f.severity,
            deadline_on=f.deadline_on,
            status=RectificationStatus.open,
            rounds=0,
        )
        for f in data.findings
    ]
    session.add_all(items)
    await session.flush()
    await lifecycle.note(
        session,
        project,
        actor=principal,
        action="visit_recorded",
        details={"visit_id": str(visit.id), "findings": len(items)},
    )
    for item in items:
        await lifecycle.emit(
            session,
            project,
            "rectification.opened",
            {"rectification_id": str(item.id), "deadline_on": item.deadline_on.isoformat()},
        )
    return VisitOut.model_validate(
        {
            **{c.key: getattr(visit, c.key) for c in SupervisionVisit.__table__.columns},
            "rectifications": [present_rectification(i) for i in items],
        }
    )


async def visits(
    session: AsyncSession, *, principal: Principal, project_id: uuid.UUID
) -> list[VisitOut]:
    await get_project(session, principal=principal, project_id=project_id)
    rows = list(
        (
            await session.execute(
                select(SupervisionVisit)
                .where(SupervisionVisit.project_id == project_id)
                .order_by(SupervisionVisit.visited_on, SupervisionVisit.created_at)
            )
        ).scalars()
    )
    items = list(
        (
            await session.execute(
                select(Rectification).where(Rectification.project_id == project_id)
            )
        ).scalars()
    )
    return [
        VisitOut.model_validate(
            {
                **{c.key: getattr(v, c.key) for c in SupervisionVisit.__table__.columns},
                "rectifications": [present_rectification(i) for i in items if i.visit_id == v.id],
            }
        )
        for v in rows
    ]


async def _rectification(
    session: AsyncSession, project: Project, rectification_id: uuid.UUID, if_match: str | None
) -> Rectification:
    item = await session.get(Rectification, rectification_id, with_for_update=True)
    if item is None or item.project_id != project.id:
        raise NotFound("No such rectification", code="rectification_not_found")
    require_version(if_match, item.version)
    return item


async def respond(
    session: AsyncSession,
    *,
    principal: Principal,
    project_id: uuid.UUID,
    rectification_id: uuid.UUID,
    data: RectificationResponse,
    if_match: str | None,
) -> Rectification:
    project = await get_project(session, principal=principal, project_id=project_id, lock=True)
    require_member(principal, project)
    item = await _rectification(session, project, rectification_id, if_match)
    if item.status is not RectificationStatus.open:
        raise Conflict(f"The rectification is {item.status.value}", code="rectification_not_open")
    item.response = data.response
    item.responded_at = utcnow()
    item.responded_by = principal.sub
    item.status = RectificationStatus.responded
    await session.flush()
    await lifecycle.note(
        session,
        project,
        actor=principal,
        action="rectification_responded",
        details={"rectification_id": str(item.id)},
    )
    return item


async def resolve(
    session: AsyncSession,
    *,
    principal: Principal,
    project_id: uuid.UUID,
    rectification_id: uuid.UUID,
    data: RectificationResolution,
    if_match: str | None,
) -> Rectification:
    project = await get_project(session, principal=principal, project_id=project_id, lock=True)
    require_manager(principal, project)
    item = await _rectification(session, project, rectification_id, if_match)
    if item.status is not RectificationStatus.responded:
        raise Conflict(
            "Only a rectification the organization responded to can be resolved",
            code="rectification_not_responded",
        )
    item.rounds += 1
    item.resolution = data.resolution
    if data.accepted:
        item.status = RectificationStatus.resolved
        item.resolved_at = utcnow()
        item.resolved_by = principal.sub
    else:
        item.status = RectificationStatus.open
    await session.flush()
    details = {"rectification_id": str(item.id), "accepted": data.accepted}
    await lifecycle.note(
        session, project, actor=principal, action="rectification_reviewed", details=details
    )
    if data.accepted:
        await lifecycle.emit(session, project, "rectification.resolved", details)
    return item


async def unresolved_count(session: AsyncSession, project: Project) -> int:
    rows = await session.execute(
        select(Rectification.id).where(
            Rectification.project_id == project.id,
            Rectification.status != RectificationStatus.resolved,
        )
    )
    return len(rows.all())
