"""Applications (统一申报): an eligible organization applies to an open call.

The application is a workflow case (`project_application`): the project row and the
`workflow.case_requested` event are written in one transaction, and the decision comes
back through `POST /api/v1/internal/case-outcomes`.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.projects.access import token_org_id
from services.projects.applications.models import BudgetLine, ProjectMilestone
from services.projects.applications.schemas import ApplicationCreate
from services.projects.base import infra
from services.projects.calls import service as calls
from services.projects.core import lifecycle
from services.projects.core.models import Project, ProjectStage, TimelineEntry
from services.projects.ocds.releases import remember_party
from shared.auth import Principal, Role
from shared.cases import request_case
from shared.errors import Conflict, FieldError, Forbidden, Unprocessable
from shared.interservice import CaseRequest, OrganizationSummary

CASE_TYPE = "project_application"
_ENDED = (ProjectStage.rejected, ProjectStage.withdrawn)


def applicant_id(principal: Principal) -> uuid.UUID:
    if principal.role is not Role.organization or not principal.org_id:
        raise Forbidden("Only an organization applies, for itself", code="role_forbidden")
    org_id = token_org_id(principal)
    assert org_id is not None  # org_id is set: checked above
    return org_id


async def apply(
    session: AsyncSession,
    *,
    principal: Principal,
    call_id: uuid.UUID,
    organization: OrganizationSummary,
    data: ApplicationCreate,
) -> Project:
    call = await calls.get(session, principal=principal, call_id=call_id, lock=True)
    if not calls.accepting(call):
        raise Conflict("The call no longer takes applications", code="call_closed")
    errors = []
    if data.requested_fen > call.budget_ceiling_fen:
        errors.append(
            FieldError(
                field="body.budget_lines",
                message=f"the budget exceeds the call's ceiling of {call.budget_ceiling_fen} fen",
                code="over_ceiling",
            )
        )
    if not {t.value for t in data.service_targets} <= set(call.service_targets):
        errors.append(
            FieldError(
                field="body.service_targets",
                message="the call does not purchase services for these targets",
                code="target_not_in_call",
            )
        )
    if errors:
        raise Unprocessable(
            "The application does not fit the call", code="invalid_application", errors=errors
        )
    pending = await session.execute(
        select(Project.id)
        .where(
            Project.call_id == call.id,
            Project.org_id == organization.id,
            Project.stage.not_in(_ENDED),
        )
        .limit(1)
    )
    if pending.first() is not None:
        raise Conflict("The organization has already applied to this call", code="already_applied")
    project = Project(
        id=uuid.uuid4(),
        call_id=call.id,
        department=call.department,
        fund_id=call.fund_id,
        pool_id=call.pool_id,
        catalogue_item=call.catalogue_item,
        year=call.year,
        org_id=organization.id,
        org_name=organization.name,
        street_code=data.street_code or organization.street_code,
        title=data.title,
        summary=data.summary,
        proposal_url=data.proposal_url,
        service_targets=[t.value for t in data.service_targets],
        central_task=data.central_task,
        central_task_other=data.central_task_other,
        requested_fen=data.requested_fen,
        stage=ProjectStage.applied,
        application_command_id=uuid.uuid4(),
        created_by=principal.sub,
    )
    session.add(project)
    await session.flush()
    await remember_party(session, organization)  # its USCC, for the OCDS parties
    session.add_all(
        [
            BudgetLine(project_id=project.id, seq=seq, **line.model_dump())
            for seq, line in enumerate(data.budget_lines, start=1)
        ]
        + [
            ProjectMilestone(project_id=project.id, seq=seq, **milestone.model_dump())
            for seq, milestone in enumerate(data.milestones, start=1)
        ]
    )
    session.add(
        TimelineEntry(
            project_id=project.id,
            actor_sub=principal.sub,
            actor_role=principal.role.value,
            action="application_submitted",
            to_stage=ProjectStage.applied.value,
            details={"call_id": str(call.id), "requested_fen": project.requested_fen},
        )
    )
    await session.flush()
    await lifecycle.emit(
        session,
        project,
        "project.stage_changed",
        {"from": None, "to": "applied", "action": "apply"},
    )
    request = CaseRequest(
        command_id=project.application_command_id,
        case_type=CASE_TYPE,
        subject_service="projects",
        subject_type="project",
        subject_id=str(project.id),
        # Its review includes the purchasing department that published the call.
        subject_department=project.department.value,
        applicant_org_id=str(organization.id),
        applicant_name=organization.name,
        title=f"{call.title}:{project.title}",
        materials=data.materials,
    )
    await request_case(
        session, infra.outbox, request, subject_type="project", subject_id=project.id
    )
    return project


async def decide(
    session: AsyncSession, project: Project, *, outcome: str, case_id: uuid.UUID, reason: str | None
) -> None:
    """Apply the workflow's decision on the application."""
    lifecycle.require_stage(project, ProjectStage.applied, action="decide the application")
    project.application_case_id = case_id
    to = {
        "approved": ProjectStage.approved,
        "rejected": ProjectStage.rejected,
        "withdrawn": ProjectStage.withdrawn,
    }[outcome]
    await lifecycle.move(
        session,
        project,
        to,
        actor="service:workflow",
        action=f"application_{outcome}",
        details={"case_id": str(case_id), "reason": reason},
    )
