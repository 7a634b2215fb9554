"""Who sees and who manages which project.

Reading: the bureau (`civil_affairs`), auditors, services and provincial systems see
everything; the finance bureau (a `department_reviewer` of department `finance`) too,
since it pays every project. A purchasing department sees its own department's
projects, an organization the projects it applied for or supplies, an evaluator the
projects assigned to it, a street office the projects serving its street. A reviewer
of another department (the bureau's project office, say) reads one project by id while
its department holds a review task on one of the project's cases, as the workflow says.
Anything else answers 404, so that a caller cannot learn that a project exists.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends
from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from services.projects.core.models import Project
from services.projects.evaluation.models import EvaluatorAssignment
from services.projects.reference.code_lists import FINANCE_DEPARTMENT
from services.projects.stations.models import Station
from shared.auth import Principal, Role
from shared.clients import WorkflowClient
from shared.errors import Forbidden, NotFound
from shared.reviewers import cannot_check_tasks, reviews_subject, workflow_for

R = Role

# Route-level gates (`allow(*SET)`): the roles each kind of endpoint admits. The scope
# rules below then narrow what an admitted caller reaches (others answer 404).
# Read one project and whatever hangs off it: everyone who may see some project.
PROJECT_READERS = (
    R.civil_affairs,
    R.department_reviewer,
    R.organization,
    R.evaluator,
    R.auditor,
    R.street_office,
    R.service,
)
# Procurement and evaluation records: the parties, not the street office.
PROCESS_READERS = (
    R.civil_affairs,
    R.department_reviewer,
    R.organization,
    R.evaluator,
    R.auditor,
    R.service,
)
# Calls and payments: the purchasing side, the organizations, auditors and services.
CALL_READERS = (R.civil_affairs, R.department_reviewer, R.organization, R.auditor, R.service)
PAYMENT_READERS = CALL_READERS
# Funds and the spend report: money as the bureau, departments and auditors see it.
MONEY_READERS = (R.civil_affairs, R.department_reviewer, R.auditor, R.service)
# Allocations of a fund: not services.
ALLOCATION_READERS = (R.civil_affairs, R.department_reviewer, R.auditor)
# Publish calls, record meetings, run procurement, supervise, decide payment requests:
# the bureau, or the purchasing department on its own projects (`require_manager`).
MANAGERS = (R.civil_affairs, R.department_reviewer)
# Ask for a payment or for closure: the project's organization, or the bureau for it.
REQUESTERS = (R.organization, R.civil_affairs)
# Run the progress-report sweep on demand.
SWEEPERS = (R.service, R.civil_affairs)
# Read every score sheet before the conclusion (others see their own).
SEE_ALL_SHEETS = frozenset({R.civil_affairs, R.auditor, R.service})

READ_ALL = frozenset({R.civil_affairs, R.auditor, R.service, R.provincial_system})
WorkflowDep = Annotated[WorkflowClient, Depends(workflow_for("projects"))]


def reads_everything(principal: Principal) -> bool:
    return principal.role in READ_ALL or is_finance(principal)


def is_finance(principal: Principal) -> bool:
    return principal.role is Role.department_reviewer and principal.department == FINANCE_DEPARTMENT


def token_org_id(principal: Principal) -> uuid.UUID | None:
    """The organization the token names (`org_id`), if any.

    403 `scope_invalid` if the token names something that is not an organization id.
    """
    if principal.org_id is None:
        return None
    try:
        return uuid.UUID(principal.org_id)
    except ValueError:
        raise Forbidden(
            "The token's org_id is not an organization id", code="scope_invalid"
        ) from None


def visible(principal: Principal, *, reviewed: uuid.UUID | None = None) -> ColumnElement[bool]:
    """The WHERE clause limiting `Project` rows to what the principal may read.

    `reviewed`: a project the workflow confirmed the principal's department reviews (it
    holds a task on one of the project's cases, `shared.reviewers`).
    """
    if reads_everything(principal):
        return true()
    if principal.role is Role.department_reviewer:
        own = Project.department == principal.department
        return own if reviewed is None else or_(own, Project.id == reviewed)
    if principal.role is Role.organization and principal.org_id:
        try:
            org = uuid.UUID(principal.org_id)
        except ValueError:
            return false()
        return or_(Project.org_id == org, Project.supplier_org_id == org)
    if principal.role is Role.evaluator:
        return Project.id.in_(
            select(EvaluatorAssignment.project_id).where(
                EvaluatorAssignment.evaluator_sub == principal.sub
            )
        )
    if principal.role is Role.street_office:
        return Project.street_code == principal.street_code
    return false()


async def get_project(
    session: AsyncSession,
    *,
    principal: Principal,
    project_id: uuid.UUID,
    lock: bool = False,
    reviewed: bool | None = False,
) -> Project:
    """A project the principal may read, else 404; `lock` takes its row lock.

    Every command locks the project first: commands on one project are serialised,
    which keeps its stage checks and its outbox sequence free of races.

    `reviewed` (reads only) is what `reviewed_by` found: True lets a department reviewer
    read a project of another department whose case it reviews; None (the workflow
    could not say) turns a project found by no other right into a 503, not a 404.
    """
    granted = project_id if reviewed else None
    query = select(Project).where(Project.id == project_id, visible(principal, reviewed=granted))
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    project = (await session.execute(query)).scalar_one_or_none()
    if project is None:
        if reviewed is None:
            raise cannot_check_tasks()
        raise NotFound("No such project", code="project_not_found")
    return project


async def reviewed_by(
    workflow: WorkflowClient, principal: Principal, project_id: uuid.UUID
) -> bool | None:
    """Whether the principal's department reviews a case of the project (an application or
    a closure); None if the workflow cannot say. Asked before the database is touched, and
    only of reviewers who do not read every project anyway."""
    if principal.role is not Role.department_reviewer or reads_everything(principal):
        return False
    return await reviews_subject(
        workflow,
        principal,
        subject_service="projects",
        subject_type="project",
        subject_id=str(project_id),
    )


def is_member(principal: Principal, project: Project) -> bool:
    """The applicant or the supplier organization of the project."""
    return principal.role is Role.organization and principal.org_id in {
        str(project.org_id),
        str(project.supplier_org_id) if project.supplier_org_id else None,
    }


def require_manager(principal: Principal, project: Project, *, department: bool = True) -> None:
    """The bureau manages every project; its purchasing department its own (if allowed)."""
    if principal.role is Role.civil_affairs:
        return
    if (
        department
        and principal.role is Role.department_reviewer
        and principal.department == project.department
    ):
        return
    raise Forbidden("Only the bureau or the purchasing department may do this", code="not_manager")


def require_member(principal: Principal, project: Project) -> None:
    if not is_member(principal, project):
        raise Forbidden("Only the project's organization may do this", code="not_project_member")


def require_payer(principal: Principal) -> None:
    if principal.role is not Role.civil_affairs and not is_finance(principal):
        raise Forbidden("Only the bureau or the finance bureau executes payments", code="not_payer")


# Social-work stations (镇(街道)社会工作站): the bureau manages them (the party committee's
# social-work office, 社工办, works from it); a street office reads its own town's station,
# the host agency the station it runs.
STATION_MANAGERS = (R.civil_affairs,)
STATION_READERS = (R.civil_affairs, R.street_office, R.organization, R.auditor, R.service)


def station_visible(principal: Principal) -> ColumnElement[bool]:
    """The WHERE clause limiting `Station` rows to what the principal may read."""
    if reads_everything(principal):
        return true()
    if principal.role is Role.street_office:
        return Station.street_code == principal.street_code
    if principal.role is Role.organization:
        org = token_org_id(principal)
        return false() if org is None else Station.host_org_id == org
    return false()
