"""Endpoints of supervision: progress reports, visits, rectifications."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from services.projects.access import MANAGERS, PROJECT_READERS, SWEEPERS
from services.projects.core.schemas import MilestoneOut
from services.projects.supervision import milestones, service
from services.projects.supervision.reminders import SweepResult, sweep_reports
from services.projects.supervision.schemas import (
    MilestoneConfirmation,
    MilestoneReport,
    ProgressReportOut,
    RectificationOut,
    RectificationResolution,
    RectificationResponse,
    ReportSubmission,
    VisitCreate,
    VisitOut,
)
from shared.app import API_PREFIX
from shared.auth import CurrentPrincipal, Role, allow
from shared.concurrency import IfMatch, set_etag
from shared.db import SessionDep, utcnow
from shared.errors import problem_responses

router = APIRouter(prefix=f"{API_PREFIX}/projects/{{project_id}}", tags=["supervision"])
_MANAGERS = allow(*MANAGERS)
_READERS = allow(*PROJECT_READERS)


@router.get(
    "/progress-reports",
    response_model=list[ProgressReportOut],
    operation_id="listProgressReports",
    responses=problem_responses(401, 403, 404),
    dependencies=[_READERS],
)
async def list_progress_reports(
    project_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> list[ProgressReportOut]:
    """Scheduled progress reports with due dates, late and overdue flags."""
    rows = await service.reports(session, principal=principal, project_id=project_id)
    return [service.present_report(r) for r in rows]


@router.post(
    "/progress-reports/{report_id}/submission",
    response_model=ProgressReportOut,
    operation_id="submitProgressReport",
    responses=problem_responses(401, 403, 404, 409, 422),
    dependencies=[allow(Role.organization)],
)
async def submit_progress_report(
    project_id: uuid.UUID,
    report_id: uuid.UUID,
    body: ReportSubmission,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> ProgressReportOut:
    """Submit a progress report (flagged late after its due date)."""
    report = await service.submit_report(
        session, principal=principal, project_id=project_id, report_id=report_id, data=body
    )
    return service.present_report(report)


@router.post(
    "/milestones/{milestone_id}/report",
    response_model=MilestoneOut,
    operation_id="reportMilestone",
    responses=problem_responses(401, 403, 404, 409, 422),
    dependencies=[allow(Role.organization)],
)
async def report_milestone(
    project_id: uuid.UUID,
    milestone_id: uuid.UUID,
    body: MilestoneReport,
    session: SessionDep,
    principal: CurrentPrincipal,
    response: Response,
) -> MilestoneOut:
    """The organization reports a deliverable achieved: the day, what, the evidence."""
    item = await milestones.report(
        session, principal=principal, project_id=project_id, milestone_id=milestone_id, data=body
    )
    set_etag(response, item.version)
    return MilestoneOut.model_validate(item)


@router.post(
    "/milestones/{milestone_id}/confirmation",
    response_model=MilestoneOut,
    operation_id="confirmMilestone",
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
    dependencies=[_MANAGERS],
)
async def confirm_milestone(
    project_id: uuid.UUID,
    milestone_id: uuid.UUID,
    body: MilestoneConfirmation,
    session: SessionDep,
    principal: CurrentPrincipal,
    response: Response,
    if_match: IfMatch = None,
) -> MilestoneOut:
    """Confirm a reported deliverable met, or send it back (needs `If-Match`)."""
    item = await milestones.confirm(
        session,
        principal=principal,
        project_id=project_id,
        milestone_id=milestone_id,
        data=body,
        if_match=if_match,
    )
    set_etag(response, item.version)
    return MilestoneOut.model_validate(item)


@router.post(
    "/supervision-visits",
    status_code=status.HTTP_201_CREATED,
    response_model=VisitOut,
    operation_id="recordSupervisionVisit",
    responses=problem_responses(401, 403, 404, 409, 422),
    dependencies=[_MANAGERS],
)
async def record_supervision_visit(
    project_id: uuid.UUID, body: VisitCreate, session: SessionDep, principal: CurrentPrincipal
) -> VisitOut:
    """Record a visit; each finding opens a rectification with a deadline."""
    return await service.record_visit(
        session, principal=principal, project_id=project_id, data=body
    )


@router.get(
    "/supervision-visits",
    response_model=list[VisitOut],
    operation_id="listSupervisionVisits",
    responses=problem_responses(401, 403, 404),
    dependencies=[_READERS],
)
async def list_supervision_visits(
    project_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> list[VisitOut]:
    """Visits with their findings and the state of each rectification."""
    return await service.visits(session, principal=principal, project_id=project_id)


@router.post(
    "/rectifications/{rectification_id}/response",
    response_model=RectificationOut,
    operation_id="respondToRectification",
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
    dependencies=[allow(Role.organization)],
)
async def respond_to_rectification(
    project_id: uuid.UUID,
    rectification_id: uuid.UUID,
    body: RectificationResponse,
    session: SessionDep,
    principal: CurrentPrincipal,
    response: Response,
    if_match: IfMatch = None,
) -> RectificationOut:
    """The organization's response to a finding (needs `If-Match`)."""
    item = await service.respond(
        session,
        principal=principal,
        project_id=project_id,
        rectification_id=rectification_id,
        data=body,
        if_match=if_match,
    )
    set_etag(response, item.version)
    return service.present_rectification(item)


@router.post(
    "/rectifications/{rectification_id}/resolution",
    response_model=RectificationOut,
    operation_id="resolveRectification",
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
    dependencies=[_MANAGERS],
)
async def resolve_rectification(
    project_id: uuid.UUID,
    rectification_id: uuid.UUID,
    body: RectificationResolution,
    session: SessionDep,
    principal: CurrentPrincipal,
    response: Response,
    if_match: IfMatch = None,
) -> RectificationOut:
    """Accept the response (resolved) or send it back (open again); needs `If-Match`."""
    item = await service.resolve(
        session,
        principal=principal,
        project_id=project_id,
        rectification_id=rectification_id,
        data=body,
        if_match=if_match,
    )
    set_etag(response, item.version)
    return service.present_rectification(item)


# The sweep `reminders.sweep_forever` runs hourly in each API process, on demand.
sweeps_router = APIRouter(tags=["internal"])


@sweeps_router.post(
    f"{API_PREFIX}/internal/progress-report-sweeps",
    response_model=SweepResult,
    operation_id="sweepProgressReports",
    responses=problem_responses(401, 403),
    dependencies=[allow(*SWEEPERS)],
)
async def sweep_progress_reports(session: SessionDep, principal: CurrentPrincipal) -> SweepResult:
    """Send due-soon reminders and overdue notices for progress reports, each at most once."""
    return await sweep_reports(session, now=utcnow())
