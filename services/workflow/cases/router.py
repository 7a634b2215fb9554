"""Cases: submit, read with timeline, list, and the applicant's and acceptance window's commands."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from services.workflow.cases import commands, repository
from services.workflow.cases.models import ApprovalCase, CaseState
from services.workflow.cases.repository import CaseFilters
from services.workflow.cases.schemas import (
    CaseDetail,
    CaseOut,
    CaseSubmit,
    CommandResult,
    PendingSupply,
    Resubmission,
    SupplementRequest,
    TaskOut,
    TransitionOut,
    Withdrawal,
)
from shared.app import API_PREFIX
from shared.auth import CurrentPrincipal, Role, allow
from shared.concurrency import set_etag
from shared.db import SessionDep
from shared.errors import NotFound, problem_responses
from shared.pagination import Page, PageDep

router = APIRouter(prefix=f"{API_PREFIX}/cases", tags=["cases"])

_COMMAND_ERRORS = problem_responses(401, 403, 404, 409, 422)
_APPLICANTS = (Role.organization, Role.service)
# Who answers a notice or withdraws: the applicant organization, the subject's service,
# and the civil-affairs window for promoters whose organization does not exist yet
# (`commands._authorize_applicant` narrows each to its own cases).
_ACTING_FOR_APPLICANT = (*_APPLICANTS, Role.civil_affairs)
_READERS = (
    Role.civil_affairs,
    Role.auditor,
    Role.service,
    Role.organization,
    Role.department_reviewer,
)
_SENDERS_BACK = (Role.civil_affairs, Role.department_reviewer)


def present(case: ApprovalCase) -> CaseOut:
    return CaseOut.model_validate(
        {
            **{c: getattr(case, c) for c in CaseOut.model_fields if c != "overdue"},
            "overdue": repository.is_overdue(case),
        }
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CommandResult,
    operation_id="submitCase",
    dependencies=[allow(*_APPLICANTS)],
    responses=problem_responses(401, 403, 409, 422),
)
async def submit_case(
    body: CaseSubmit, session: SessionDep, principal: CurrentPrincipal, response: Response
) -> CommandResult:
    """Submit a case (an organization for itself, or a service for its subject)."""
    result = await commands.submit(session, actor=principal, data=body)
    response.headers["Location"] = f"{API_PREFIX}/cases/{result.case_id}"
    return result


@router.get(
    "",
    response_model=Page[CaseOut],
    operation_id="listCases",
    dependencies=[allow(*_READERS)],
    responses=problem_responses(401, 403, 422),
)
async def list_cases(
    session: SessionDep,
    principal: CurrentPrincipal,
    page: PageDep,
    state: CaseState | None = None,
    case_type: Annotated[str | None, Query(max_length=60)] = None,
    overdue: bool | None = None,
    department: Annotated[str | None, Query(max_length=60)] = None,
    applicant_org_id: Annotated[str | None, Query(max_length=100)] = None,
    subject_id: Annotated[str | None, Query(max_length=100)] = None,
) -> Page[CaseOut]:
    """Cases within the caller's scope, newest first, with filters."""
    repository.require_case_reader(principal)
    filters = CaseFilters(
        state=state,
        case_type=case_type,
        overdue=overdue,
        department=department,
        applicant_org_id=applicant_org_id,
        subject_id=subject_id,
    )
    rows, total = await repository.list_cases(
        session, principal=principal, filters=filters, page=page
    )
    return Page(
        items=[present(row) for row in rows], page=page.page, page_size=page.page_size, total=total
    )


@router.get(
    "/{case_id}",
    response_model=CaseDetail,
    operation_id="getCase",
    dependencies=[allow(*_READERS)],
    responses=problem_responses(401, 403, 404),
)
async def get_case(
    case_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal, response: Response
) -> CaseDetail:
    """A case with its review tasks and its full timeline (audit trail)."""
    repository.require_case_reader(principal)
    case = await repository.get_case(session, principal=principal, case_id=case_id)
    if case is None:
        raise NotFound("No such case", code="case_not_found")
    set_etag(response, case.version)
    return CaseDetail(
        **present(case).model_dump(),
        tasks=[TaskOut.model_validate(t) for t in await repository.tasks_of(session, case.id)],
        timeline=[
            TransitionOut.model_validate(t) for t in await repository.timeline_of(session, case.id)
        ],
    )


@router.post(
    "/{case_id}/supplement-requests",
    response_model=CommandResult,
    operation_id="requestSupplement",
    dependencies=[allow(*_SENDERS_BACK)],
    responses=_COMMAND_ERRORS,
)
async def request_supplement(
    case_id: uuid.UUID, body: SupplementRequest, session: SessionDep, principal: CurrentPrincipal
) -> CommandResult:
    """Send the case back once, listing everything missing or invalid in one notice."""
    await _visible(session, principal, case_id)
    return await commands.request_supplement(
        session,
        actor=principal,
        case_id=case_id,
        command_id=body.command_id,
        items=body.items,
        note=body.note,
    )


@router.post(
    "/{case_id}/resubmissions",
    response_model=CommandResult,
    operation_id="resubmitCase",
    dependencies=[allow(*_ACTING_FOR_APPLICANT)],
    responses=_COMMAND_ERRORS,
)
async def resubmit_case(
    case_id: uuid.UUID, body: Resubmission, session: SessionDep, principal: CurrentPrincipal
) -> CommandResult:
    """The applicant supplies what the notice asked for (the clock restarts)."""
    await _visible(session, principal, case_id)
    return await commands.resubmit(
        session,
        actor=principal,
        case_id=case_id,
        command_id=body.command_id,
        materials=body.materials,
    )


@router.post(
    "/{case_id}/pending-materials",
    response_model=CommandResult,
    operation_id="supplyPendingMaterials",
    dependencies=[allow(*_ACTING_FOR_APPLICANT)],
    responses=_COMMAND_ERRORS,
)
async def supply_pending_materials(
    case_id: uuid.UUID, body: PendingSupply, session: SessionDep, principal: CurrentPrincipal
) -> CommandResult:
    """The applicant supplies minor materials accepted as pending (容缺受理); not a return."""
    await _visible(session, principal, case_id)
    return await commands.supply_pending(
        session,
        actor=principal,
        case_id=case_id,
        command_id=body.command_id,
        materials=body.materials,
    )


@router.post(
    "/{case_id}/withdrawal",
    response_model=CommandResult,
    operation_id="withdrawCase",
    dependencies=[allow(*_ACTING_FOR_APPLICANT)],
    responses=_COMMAND_ERRORS,
)
async def withdraw_case(
    case_id: uuid.UUID, body: Withdrawal, session: SessionDep, principal: CurrentPrincipal
) -> CommandResult:
    """The applicant withdraws the case before it is decided."""
    await _visible(session, principal, case_id)
    return await commands.withdraw(
        session, actor=principal, case_id=case_id, command_id=body.command_id, reason=body.reason
    )


async def _visible(session: SessionDep, principal: CurrentPrincipal, case_id: uuid.UUID) -> None:
    repository.require_case_reader(principal)
    if await repository.get_case(session, principal=principal, case_id=case_id) is None:
        raise NotFound("No such case", code="case_not_found")
