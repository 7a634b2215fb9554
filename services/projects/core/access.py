"""Who sees and who manages which project.

Reading: the bureau (`civil_affairs`), auditors, services and provincial systems see
everything; the finance bureau (a `department_reviewer` of department `finance`) too,
since it pays every project. A purchasing department sees its own department's
projects, an organization the projects it applied for or supplies, an evaluator the
projects assigned to it, a street office the projects serving its street. Anything
else answers 404, so that a caller cannot learn that a project exists.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from services.projects.codes import FINANCE_DEPARTMENT
from services.projects.core.models import Project
from services.projects.evaluation.models import EvaluatorAssignment
from shared.auth import Principal, Role
from shared.errors import Forbidden, NotFound

READ_ALL = frozenset({Role.civil_affairs, Role.auditor, Role.service, Role.provincial_system})


def reads_everything(principal: Principal) -> bool:
    return principal.role in READ_ALL or is_finance(principal)


def is_finance(principal: Principal) -> bool:
    return principal.role is Role.department_reviewer and principal.department == FINANCE_DEPARTMENT


def visible(principal: Principal) -> ColumnElement[bool]:
    """The WHERE clause limiting `Project` rows to what the principal may read."""
    if reads_everything(principal):
        return true()
    if principal.role is Role.department_reviewer:
        return Project.department == principal.department
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
    session: AsyncSession, *, principal: Principal, project_id: uuid.UUID, lock: bool = False
) -> Project:
    """A project the principal may read, else 404; `lock` takes its row lock.

    Every command locks the project first: commands on one project are serialised,
    which keeps its stage checks and its outbox sequence free of races.
    """
    query = select(Project).where(Project.id == project_id, visible(principal))
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    project = (await session.execute(query)).scalar_one_or_none()
    if project is None:
        raise NotFound("No such project", code="project_not_found")
    return project


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
