"""Applications the workflow decides, and the workflow's callback with their outcome."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from services.registry import events
from services.registry.access import APPLICANTS, APPLICATION_READERS, APPLICATION_READERS_BY_ID
from services.registry.applications import outcomes
from services.registry.applications import service as applications
from services.registry.applications.models import Application
from services.registry.applications.schemas import (
    ApplicationOut,
    ApplicationWithdrawal,
    CaseOutcomeReceipt,
    ChangeApplicationCreate,
    DeregistrationApplicationCreate,
    FiledRegistrationCreate,
    RegistrationApplicationCreate,
    UsccAssignment,
)
from services.registry.enums import ApplicationKind, ApplicationState
from shared.app import API_PREFIX
from shared.auth import CurrentPrincipal, Role, allow
from shared.clients import WorkflowClient
from shared.db import SessionDep
from shared.errors import problem_responses
from shared.interservice import CASE_OUTCOME_CALLBACK_PATH, CaseOutcome
from shared.pagination import Page, PageDep
from shared.reviewers import cannot_check_tasks, reviews_subject, workflow_for

router = APIRouter(prefix=API_PREFIX, tags=["applications"])
WorkflowDep = Annotated[WorkflowClient, Depends(workflow_for("registry"))]
APPLICATIONS = "/applications"


def _created(response: Response, application: Application) -> None:
    response.headers["Location"] = f"{API_PREFIX}{APPLICATIONS}/{application.id}"


@router.post(
    f"{APPLICATIONS}/registrations",
    status_code=status.HTTP_201_CREATED,
    response_model=ApplicationOut,
    operation_id="createRegistrationApplication",
    dependencies=[allow(Role.civil_affairs, Role.service)],
    responses=problem_responses(401, 403, 409, 422),
)
async def create_registration_application(
    body: RegistrationApplicationCreate,
    session: SessionDep,
    principal: CurrentPrincipal,
    response: Response,
) -> ApplicationOut:
    """Apply to register a new organization (成立登记); the workflow decides it."""
    application = await applications.submit_registration(session, principal=principal, data=body)
    _created(response, application)
    return applications.present(application, principal)


@router.post(
    "/organizations/{organization_id}/registration-applications",
    status_code=status.HTTP_201_CREATED,
    response_model=ApplicationOut,
    operation_id="createFiledRegistrationApplication",
    dependencies=[allow(*APPLICANTS)],
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def create_filed_registration_application(
    organization_id: uuid.UUID,
    body: FiledRegistrationCreate,
    session: SessionDep,
    principal: CurrentPrincipal,
    response: Response,
) -> ApplicationOut:
    """A filed organization applies to be registered (备案转登记) as the same record."""
    application = await applications.submit_filed_registration(
        session, principal=principal, organization_id=organization_id, data=body
    )
    _created(response, application)
    return applications.present(application, principal)


@router.post(
    "/organizations/{organization_id}/change-applications",
    status_code=status.HTTP_201_CREATED,
    response_model=ApplicationOut,
    operation_id="createChangeApplication",
    dependencies=[allow(*APPLICANTS)],
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def create_change_application(
    organization_id: uuid.UUID,
    body: ChangeApplicationCreate,
    session: SessionDep,
    principal: CurrentPrincipal,
    response: Response,
) -> ApplicationOut:
    """Apply to change a registered organization's particulars (变更登记)."""
    application = await applications.submit_change(
        session, principal=principal, organization_id=organization_id, data=body
    )
    _created(response, application)
    return applications.present(application, principal)


@router.post(
    "/organizations/{organization_id}/deregistration-applications",
    status_code=status.HTTP_201_CREATED,
    response_model=ApplicationOut,
    operation_id="createDeregistrationApplication",
    dependencies=[allow(*APPLICANTS)],
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def create_deregistration_application(
    organization_id: uuid.UUID,
    body: DeregistrationApplicationCreate,
    session: SessionDep,
    principal: CurrentPrincipal,
    response: Response,
) -> ApplicationOut:
    """Apply to deregister a registered organization (注销登记)."""
    application = await applications.submit_deregistration(
        session, principal=principal, organization_id=organization_id, data=body
    )
    _created(response, application)
    return applications.present(application, principal)


@router.get(
    APPLICATIONS,
    response_model=Page[ApplicationOut],
    operation_id="listApplications",
    dependencies=[allow(*APPLICATION_READERS)],
    responses=problem_responses(401, 403, 422),
)
async def list_applications(
    session: SessionDep,
    principal: CurrentPrincipal,
    page: PageDep,
    kind: ApplicationKind | None = None,
    state: ApplicationState | None = None,
    organization_id: uuid.UUID | None = None,
) -> Page[ApplicationOut]:
    """Applications, newest first (an organization sees its own)."""
    rows, total = await applications.page_of(
        session,
        principal=principal,
        kind=kind,
        state=state,
        organization_id=organization_id,
        page=page,
    )
    return Page(
        items=[applications.present(row, principal) for row in rows],
        page=page.page,
        page_size=page.page_size,
        total=total,
    )


@router.get(
    f"{APPLICATIONS}/{{application_id}}",
    response_model=ApplicationOut,
    operation_id="getApplication",
    dependencies=[allow(*APPLICATION_READERS_BY_ID)],
    responses=problem_responses(401, 403, 404, 503),
)
async def get_application(
    application_id: uuid.UUID,
    session: SessionDep,
    principal: CurrentPrincipal,
    workflow: WorkflowDep,
) -> ApplicationOut:
    """One application and where it stands (a reviewer: one its department reviews)."""
    # Asked before the database is touched: no connection is held while the workflow answers.
    reviewed = await reviews_subject(
        workflow,
        principal,
        subject_service="registry",
        subject_type=events.APPLICATION,
        subject_id=str(application_id),
    )
    if reviewed is None:
        raise cannot_check_tasks()
    application = await applications.get(
        session, principal=principal, application_id=application_id, reviewed=reviewed
    )
    return applications.present(application, principal)


@router.post(
    f"{APPLICATIONS}/{{application_id}}/withdrawal",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ApplicationOut,
    operation_id="withdrawApplication",
    dependencies=[allow(*APPLICANTS)],
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def withdraw_application(
    application_id: uuid.UUID,
    body: ApplicationWithdrawal,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> ApplicationOut:
    """Withdraw an application before it is decided (the workflow withdraws its case)."""
    application = await applications.request_withdrawal(
        session, principal=principal, application_id=application_id, data=body
    )
    return applications.present(application, principal)


@router.put(
    f"{APPLICATIONS}/{{application_id}}/uscc",
    response_model=ApplicationOut,
    operation_id="assignApplicationUscc",
    dependencies=[allow(Role.civil_affairs)],
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def assign_application_uscc(
    application_id: uuid.UUID,
    body: UsccAssignment,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> ApplicationOut:
    """Set the USCC a pending registration will be issued on approval."""
    application = await applications.assign_uscc(
        session, principal=principal, application_id=application_id, uscc=body.uscc
    )
    return applications.present(application, principal)


@router.post(
    CASE_OUTCOME_CALLBACK_PATH.removeprefix(API_PREFIX),
    response_model=CaseOutcomeReceipt,
    operation_id="receiveRegistryCaseOutcome",
    dependencies=[allow(Role.service)],
    tags=["internal"],
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def receive_case_outcome(
    body: CaseOutcome, session: SessionDep, principal: CurrentPrincipal
) -> CaseOutcomeReceipt:
    """The workflow's decision on an application's case; applied once, repeats answer 200."""
    return await outcomes.apply(session, principal=principal, outcome=body)
