"""Applications decided by the workflow: registration (成立登记), change (变更登记),
deregistration (注销登记) and the annual-inspection report (年检).

Submitting writes the application row and, in the same transaction, asks the workflow
for its case (`shared.cases.request_case`: a `workflow.case_requested` outbox command
carrying a `CaseRequest`, subject: the application). Nothing touches the register until
the workflow posts the approved outcome back (`outcomes.py`), so a rejected application
leaves nothing half-done.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import events
from services.registry.access import (
    APPLICATION_READERS_ALL,
    may_see_id_numbers,
    own_organization_id,
)
from services.registry.applications.models import Application
from services.registry.applications.schemas import (
    ApplicationOut,
    ApplicationWithdrawal,
    ChangeApplicationCreate,
    DeregistrationApplicationCreate,
    FiledRegistrationCreate,
    Material,
    RegistrationApplicationCreate,
)
from services.registry.base import infra
from services.registry.enums import (
    CASE_TYPES,
    ApplicationKind,
    ApplicationState,
    OrganizationKind,
    Registration,
)
from services.registry.organizations import repository, service
from services.registry.organizations.id_numbers import mask_id_number
from services.registry.organizations.models import Organization
from services.registry.organizations.uscc import authority_divisions, uscc_errors
from services.registry.organizations.validation import organization_issues
from shared import cases
from shared.auth import Principal, Role
from shared.clock import shanghai_today, utcnow
from shared.errors import Conflict, FieldError, Forbidden, NotFound, Unprocessable
from shared.interservice import CaseRequest, CaseWithdrawalRequest, MaterialRef
from shared.pagination import PageParams, paginate


async def create(
    session: AsyncSession,
    *,
    principal: Principal,
    kind: ApplicationKind,
    proposal: dict[str, Any],
    materials: Sequence[Material],
    applicant_name: str,
    title: str,
    organization: Organization | None = None,
) -> Application:
    """Record an application and request its workflow case in the same transaction."""
    application = Application(
        id=uuid.uuid4(),
        kind=kind,
        state=ApplicationState.pending,
        organization_id=organization.id if organization else None,
        proposal=proposal,
        materials=[m.model_dump(mode="json", exclude_none=True) for m in materials],
        applicant_name=applicant_name,
        title=title,
        command_id=uuid.uuid4(),
        # The registry names the case it requests: the application shows it from now on.
        case_id=uuid.uuid4(),
        submitted_by=principal.sub,
    )
    session.add(application)
    try:
        await session.flush()
    except IntegrityError:
        # The partial unique index: one pending application of a kind per organization.
        raise Conflict(
            f"The organization has a {kind} application in progress", code="application_pending"
        ) from None
    request = CaseRequest(
        command_id=application.command_id,
        case_id=application.case_id,
        case_type=CASE_TYPES[kind],
        subject_service="registry",
        subject_type=events.APPLICATION,
        subject_id=str(application.id),
        applicant_org_id=str(organization.id) if organization else None,
        applicant_name=applicant_name,
        title=title,
        materials=[MaterialRef(**m.model_dump()) for m in materials],
    )
    await cases.request_case(
        session, infra.outbox, request, subject_type=events.APPLICATION, subject_id=application.id
    )
    await events.emit(
        session,
        "application.submitted",
        subject_type=events.APPLICATION,
        subject_id=application.id,
        data={"kind": kind, "organization_id": application.organization_id},
    )
    return application


async def submit_registration(
    session: AsyncSession, *, principal: Principal, data: RegistrationApplicationCreate
) -> Application:
    proposal = data.organization
    # The registered-only rules (USCC) wait for the code; every other rule applies now.
    values = {**proposal.model_dump(), "registration": None}
    if issues := organization_issues(values, today=shanghai_today()):
        raise Unprocessable(
            "The proposed organization is invalid",
            code="invalid_fields",
            errors=[issue.field_error("body.organization.") for issue in issues],
        )
    if await repository.name_in_use(session, proposal.name) or await repository.name_applied_for(
        session, proposal.name
    ):
        raise Conflict("An organization of this name exists or is applied for", code="name_taken")
    return await create(
        session,
        principal=principal,
        kind=ApplicationKind.registration,
        proposal=proposal.model_dump(mode="json"),
        materials=data.materials,
        applicant_name=data.applicant_name,
        title=f"{proposal.name} 成立登记",
    )


async def submit_filed_registration(
    session: AsyncSession,
    *,
    principal: Principal,
    organization_id: uuid.UUID,
    data: FiledRegistrationCreate,
) -> Application:
    """A filed organization applies for registration; approval keeps its record (outcomes)."""
    organization = await service.get(
        session, principal=principal, organization_id=organization_id, for_update=True
    )
    service.refuse_if_closed(organization)
    if organization.registration is not Registration.filed:
        raise Conflict("Only a filed organization applies to be registered", code="not_filed")
    pending = select(Application.id).where(
        Application.organization_id == organization.id,
        Application.kind == ApplicationKind.registration,
        Application.state == ApplicationState.pending,
    )
    # Its own pending registration proposes its name too: say what is really wrong.
    if (await session.execute(pending)).first() is not None:
        raise Conflict(
            "The organization has a registration application in progress",
            code="application_pending",
        )
    if await repository.name_in_use(
        session, organization.name, other_than=organization.id
    ) or await repository.name_applied_for(session, organization.name):
        raise Conflict("An organization of this name exists or is applied for", code="name_taken")
    kind = data.kind or organization.kind
    return await create(
        session,
        principal=principal,
        kind=ApplicationKind.registration,
        # What `assign_uscc` and the outcome need: the kind and the registering district.
        proposal={
            "name": organization.name,
            "kind": kind.value,
            "district_code": organization.district_code,
        },
        materials=data.materials,
        applicant_name=organization.name,
        title=f"{organization.name} 成立登记（备案转登记）",
        organization=organization,
    )


async def _registered_applicant(
    session: AsyncSession, principal: Principal, organization_id: uuid.UUID
) -> Organization:
    organization = await service.get(
        session, principal=principal, organization_id=organization_id, for_update=True
    )
    service.refuse_if_closed(organization)
    if organization.registration is not Registration.registered:
        raise Conflict(
            "Filed organizations change at their street office, without an application",
            code="not_registered",
        )
    return organization


async def submit_change(
    session: AsyncSession,
    *,
    principal: Principal,
    organization_id: uuid.UUID,
    data: ChangeApplicationCreate,
) -> Application:
    organization = await _registered_applicant(session, principal, organization_id)
    changes = data.changes.model_dump(exclude_unset=True, mode="json")
    typed = data.changes.model_dump(exclude_unset=True)
    if not any(getattr(organization, field) != value for field, value in typed.items()):
        raise Unprocessable(
            "The application changes nothing",
            code="no_changes",
            errors=[FieldError(field="body.changes", message="Nothing differs", code="no_changes")],
        )
    merged = {c.key: getattr(organization, c.key) for c in Organization.__table__.columns}
    merged.update(typed)
    if issues := [
        i for i in organization_issues(merged, today=shanghai_today()) if i.field in typed
    ]:
        raise Unprocessable(
            "The proposed changes are invalid",
            code="invalid_fields",
            errors=[issue.field_error("body.changes.") for issue in issues],
        )
    return await create(
        session,
        principal=principal,
        kind=ApplicationKind.change,
        proposal=changes,
        materials=data.materials,
        applicant_name=organization.name,
        title=f"{organization.name} 变更登记",
        organization=organization,
    )


async def submit_deregistration(
    session: AsyncSession,
    *,
    principal: Principal,
    organization_id: uuid.UUID,
    data: DeregistrationApplicationCreate,
) -> Application:
    organization = await _registered_applicant(session, principal, organization_id)
    return await create(
        session,
        principal=principal,
        kind=ApplicationKind.deregistration,
        proposal={"reason": data.reason},
        materials=data.materials,
        applicant_name=organization.name,
        title=f"{organization.name} 注销登记",
        organization=organization,
    )


def _visible(principal: Principal, application: Application, *, reviewed: bool) -> bool:
    if principal.role in APPLICATION_READERS_ALL:
        return True
    if principal.role is Role.department_reviewer:
        return reviewed
    own = own_organization_id(principal)
    return own is not None and application.organization_id == own


async def get(
    session: AsyncSession,
    *,
    principal: Principal,
    application_id: uuid.UUID,
    for_update: bool = False,
    reviewed: bool = False,
) -> Application:
    """The application if the principal may see it, else 404 (as if there were none).

    `reviewed`: the workflow confirmed that the principal's department holds a review
    task on the application's case (`shared.reviewers`), which lets a reviewer read it.
    """
    query = select(Application).where(Application.id == application_id)
    if for_update:
        query = query.with_for_update()
    application = (await session.execute(query)).scalar_one_or_none()
    if application is None or not _visible(principal, application, reviewed=reviewed):
        raise NotFound("No such application", code="application_not_found")
    return application


def _require_applicant(principal: Principal, application: Application) -> None:
    """The applicant withdraws: the organization (it sees only its own), or the
    civil-affairs window for promoters whose organization does not exist yet and for
    what it filed itself."""
    if principal.role is Role.organization:
        return
    if principal.role is Role.civil_affairs and (
        application.organization_id is None or application.submitted_by == principal.sub
    ):
        return
    raise Forbidden("Only the applicant may withdraw the application", code="not_the_applicant")


async def request_withdrawal(
    session: AsyncSession,
    *,
    principal: Principal,
    application_id: uuid.UUID,
    data: ApplicationWithdrawal,
) -> Application:
    """Ask the workflow to withdraw the application's case, in the same transaction.

    The application stays `pending` until the `withdrawn` outcome comes back
    (`outcomes.apply`); a case decided meanwhile keeps its outcome. Asking again while
    the request is on its way asks nothing more.
    """
    application = await get(
        session, principal=principal, application_id=application_id, for_update=True
    )
    _require_applicant(principal, application)
    if application.state is not ApplicationState.pending:
        raise Conflict(
            f"The application was decided already ({application.state})",
            code="application_decided",
        )
    if application.withdrawal_requested_at is not None:
        return application
    application.withdrawal_requested_at = utcnow()
    application.withdrawal_requested_by = principal.sub
    request = CaseWithdrawalRequest(
        command_id=uuid.uuid4(),
        case_command_id=application.command_id,
        subject_service="registry",
        subject_type=events.APPLICATION,
        subject_id=str(application.id),
        reason=data.reason,
    )
    await session.flush()
    await cases.request_withdrawal(
        session, infra.outbox, request, subject_type=events.APPLICATION, subject_id=application.id
    )
    return application


async def page_of(
    session: AsyncSession,
    *,
    principal: Principal,
    kind: ApplicationKind | None,
    state: ApplicationState | None,
    organization_id: uuid.UUID | None,
    page: PageParams,
) -> tuple[Sequence[Application], int]:
    conditions = []
    if principal.role not in APPLICATION_READERS_ALL:
        conditions.append(Application.organization_id == own_organization_id(principal))
    if kind:
        conditions.append(Application.kind == kind)
    if state:
        conditions.append(Application.state == state)
    if organization_id:
        conditions.append(Application.organization_id == organization_id)
    query = select(Application).where(*conditions)
    return await paginate(
        session, query, page, order_by=(Application.submitted_at.desc(), Application.id)
    )


async def assign_uscc(
    session: AsyncSession, *, principal: Principal, application_id: uuid.UUID, uscc: str
) -> Application:
    """The reviewer records the code to issue on approval (e.g. from the national system)."""
    application = await get(
        session, principal=principal, application_id=application_id, for_update=True
    )
    if application.kind is not ApplicationKind.registration:
        raise Conflict("Only registrations are issued a USCC", code="not_a_registration")
    if application.state is not ApplicationState.pending:
        raise Conflict("The application is decided", code="application_decided")
    kind = OrganizationKind(application.proposal["kind"])
    district = application.proposal["district_code"]
    if errors := uscc_errors(
        uscc, kind=kind, authority_division=authority_divisions(kind, district)
    ):
        raise Unprocessable(
            "The USCC is invalid",
            code="invalid_codes",
            errors=[FieldError(field="body.uscc", message=e.message, code=e.code) for e in errors],
        )
    taken = (
        await repository.find_by_codes(session, uscc=uscc)
        or (
            await session.execute(
                select(Application.id).where(
                    Application.assigned_uscc == uscc, Application.id != application.id
                )
            )
        ).first()
    )
    if taken:
        raise Conflict("This USCC is in use", code="uscc_taken")
    application.assigned_uscc = uscc
    await session.flush()
    return application


def present(application: Application, principal: Principal) -> ApplicationOut:
    out = ApplicationOut.model_validate(application)
    if not may_see_id_numbers(principal) and out.proposal.get("legal_rep_id_number"):
        out.proposal = {
            **out.proposal,
            "legal_rep_id_number": mask_id_number(out.proposal["legal_rep_id_number"]),
        }
    return out
