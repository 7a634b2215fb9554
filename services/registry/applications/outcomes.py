"""Apply a workflow case's outcome to its application, exactly once.

The workflow POSTs a `CaseOutcome` until it gets a 2xx, so the same outcome may arrive
many times. Under the application's row lock the case id is claimed in
`case_outcome_receipt` (`shared.cases.claim_outcome`, as the projects service does):
a repeat of the receipt's outcome answers 2xx again (`applied: false`) and changes
nothing; a contradicting outcome is refused (409 `application_already_decided`, the
code the registry has always answered). An approval that can no longer be applied
(the organization was closed meanwhile, the change no longer valid) is recorded as
`lapsed` with the reason rather than refused: refusing would make the workflow retry
forever.

An approved registration creates the organization, `active`, with the USCC the
reviewer assigned to the application or, failing that, one the registry issues from
its own serial range (`organizations.models.USCC_SERIAL`). A filed organization's
registration (备案转登记, the application names it) creates nothing: the same row
becomes registered with that USCC, its filing number left in its history.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import events
from services.registry.applications.models import CASE_OUTCOME_RECEIPT, Application
from services.registry.applications.schemas import CaseOutcomeReceipt, OrganizationProposal
from services.registry.enums import (
    CASE_TYPES,
    TERMINAL_STATUSES,
    ApplicationKind,
    ApplicationState,
    OrganizationKind,
    OrganizationStatus,
    Registration,
)
from services.registry.inspections import service as inspections
from services.registry.organizations import history, repository
from services.registry.organizations.models import Organization
from services.registry.organizations.schemas import OrganizationUpdate
from services.registry.organizations.service import apply_changes
from services.registry.organizations.uscc import authority_divisions, make_uscc
from services.registry.standing import service as standing
from shared.auth import Principal
from shared.cases import claim_outcome
from shared.errors import Conflict, NotFound, ProblemError, Unprocessable
from shared.interservice import CaseOutcome

_STATE_OF = {
    "approved": ApplicationState.approved,
    "rejected": ApplicationState.rejected,
    "withdrawn": ApplicationState.withdrawn,
}


def _receipt(application: Application, *, applied: bool) -> CaseOutcomeReceipt:
    return CaseOutcomeReceipt(
        application_id=application.id,
        kind=application.kind,
        state=application.state,
        applied=applied,
        organization_id=application.organization_id,
    )


async def apply(
    session: AsyncSession, *, principal: Principal, outcome: CaseOutcome
) -> CaseOutcomeReceipt:
    application = await _application_of(session, outcome)
    if CASE_TYPES[application.kind] != outcome.case_type:
        raise Unprocessable(
            f"A {application.kind} application is decided by a {CASE_TYPES[application.kind]} case",
            code="case_type_mismatch",
        )
    # The registry named the case when it requested it (legacy applications did not).
    if application.case_id is not None and application.case_id != outcome.case_id:
        raise Conflict(
            f"The application is decided by case {application.case_id}, not this one",
            code="case_mismatch",
        )
    try:
        first = await claim_outcome(session, CASE_OUTCOME_RECEIPT, outcome)
    except Conflict:
        # The receipt holds another outcome of this case: answered as before the receipts.
        raise Conflict(
            f"The application was decided already ({application.state})",
            code="application_already_decided",
        ) from None
    if not first:
        return _receipt(application, applied=False)
    if application.state is not ApplicationState.pending:
        raise Conflict(
            f"The application was decided already ({application.state})",
            code="application_already_decided",
        )
    application.case_id = outcome.case_id
    application.decided_at = outcome.decided_at
    application.outcome_reason = outcome.reason
    application.state = _STATE_OF[outcome.outcome]
    approved = outcome.outcome == "approved"
    reason = f"case {outcome.case_id}: {outcome.outcome}"
    if application.kind is ApplicationKind.annual_inspection:
        await inspections.on_case_decided(
            session, principal=principal, application=application, approved=approved
        )
    elif approved:
        await _apply_approval(session, principal=principal, application=application, reason=reason)
    await session.flush()
    await events.emit(
        session,
        "application.decided",
        subject_type=events.APPLICATION,
        subject_id=application.id,
        data={
            "kind": application.kind,
            "organization_id": application.organization_id,
            "outcome": outcome.outcome,
            "state": application.state,
        },
    )
    return _receipt(application, applied=True)


async def _application_of(session: AsyncSession, outcome: CaseOutcome) -> Application:
    missing = NotFound("No application is the subject of this case", code="case_subject_not_found")
    if outcome.subject_type != events.APPLICATION:
        raise missing
    try:
        application_id = uuid.UUID(outcome.subject_id)
    except ValueError:
        raise missing from None
    application = (
        await session.execute(
            select(Application).where(Application.id == application_id).with_for_update()
        )
    ).scalar_one_or_none()
    if application is None:
        raise missing
    return application


async def _apply_approval(
    session: AsyncSession, *, principal: Principal, application: Application, reason: str
) -> None:
    if application.kind is ApplicationKind.registration:
        await _register(session, principal=principal, application=application, reason=reason)
        return
    organization = (
        await session.execute(
            select(Organization)
            .where(Organization.id == application.organization_id)
            .with_for_update()
        )
    ).scalar_one()
    if organization.status in TERMINAL_STATUSES:
        _lapse(application, f"the organization is {organization.status}")
        return
    try:
        if application.kind is ApplicationKind.change:
            changes = OrganizationUpdate.model_validate(application.proposal)
            await apply_changes(
                session,
                principal=principal,
                organization=organization,
                changes=changes.model_dump(exclude_unset=True),
                source=history.Source.case_outcome,
                reason=reason,
            )
        else:
            await standing.change_status(
                session,
                principal=principal,
                organization=organization,
                to=OrganizationStatus.deregistered,
                reason=f"{application.proposal.get('reason', '')} ({reason})",
                source=history.Source.case_outcome,
            )
    except ProblemError as exc:
        _lapse(application, exc.detail or exc.code)


def _lapse(application: Application, why: str) -> None:
    application.state = ApplicationState.lapsed
    application.outcome_reason = f"approved, not applicable: {why}"


async def _register(
    session: AsyncSession, *, principal: Principal, application: Application, reason: str
) -> None:
    if application.organization_id is not None:
        await _register_filed(session, principal=principal, application=application, reason=reason)
        return
    proposal = OrganizationProposal.model_validate(application.proposal)
    # Names are unique in the register; one registered meanwhile (say, by an import)
    # makes the approval inapplicable rather than a second organization of that name.
    if await repository.name_in_use(session, proposal.name):
        _lapse(application, f"an organization named {proposal.name} is registered")
        return
    uscc = application.assigned_uscc
    if uscc is None or await repository.find_by_codes(session, uscc=uscc):
        uscc = await issue_uscc(session, kind=proposal.kind, district_code=proposal.district_code)
        application.assigned_uscc = uscc
    organization = Organization(
        id=uuid.uuid4(),
        registration=Registration.registered,
        status=OrganizationStatus.active,
        uscc=uscc,
        **proposal.model_dump(),
    )
    session.add(organization)
    await session.flush()
    application.organization_id = organization.id
    await history.record(
        session,
        organization_id=organization.id,
        principal=principal,
        action=history.Action.created,
        source=history.Source.case_outcome,
        reason=reason,
    )
    await events.emit(
        session,
        "organization.created",
        subject_type=events.ORGANIZATION,
        subject_id=organization.id,
        data={
            "registration": Registration.registered,
            "kind": proposal.kind,
            "source": history.Source.case_outcome,
            "application_id": application.id,
        },
    )


async def _register_filed(
    session: AsyncSession, *, principal: Principal, application: Application, reason: str
) -> None:
    """The filed organization becomes registered: the same row, its id kept."""
    organization = (
        await session.execute(
            select(Organization)
            .where(Organization.id == application.organization_id)
            .with_for_update()
        )
    ).scalar_one()
    if organization.status in TERMINAL_STATUSES:
        _lapse(application, f"the organization is {organization.status}")
        return
    if organization.registration is not Registration.filed:
        _lapse(application, "the organization is registered already")
        return
    if await repository.name_in_use(session, organization.name, other_than=organization.id):
        _lapse(application, f"an organization named {organization.name} is registered")
        return
    kind = OrganizationKind(application.proposal["kind"])
    uscc = application.assigned_uscc
    if uscc is None or await repository.find_by_codes(session, uscc=uscc):
        uscc = await issue_uscc(session, kind=kind, district_code=organization.district_code)
        application.assigned_uscc = uscc
    changes = {
        "registration": (organization.registration, Registration.registered),
        "uscc": (organization.uscc, uscc),
        # A registered organization has no filing number; the history keeps it.
        "filing_number": (organization.filing_number, None),
    }
    if kind is not organization.kind:
        changes["kind"] = (organization.kind, kind)
    organization.registration = Registration.registered
    organization.uscc = uscc
    organization.filing_number = None
    organization.kind = kind
    await session.flush()
    await history.record(
        session,
        organization_id=organization.id,
        principal=principal,
        action=history.Action.registered,
        changes=changes,
        source=history.Source.case_outcome,
        reason=reason,
    )
    await events.organization_updated(
        session, organization.id, changes, source=history.Source.case_outcome
    )


async def issue_uscc(session: AsyncSession, *, kind: OrganizationKind, district_code: str) -> str:
    """The next unused code of the registry's own serial range."""
    authority = authority_divisions(kind, district_code)[0]
    while True:
        serial = (
            await session.execute(text("SELECT nextval('registry.uscc_serial')"))
        ).scalar_one()
        uscc = make_uscc(kind=kind, authority_division=authority, serial=int(serial))
        taken = (
            await repository.find_by_codes(session, uscc=uscc)
            or (
                await session.execute(
                    select(Application.id).where(Application.assigned_uscc == uscc)
                )
            ).first()
        )
        if not taken:
            return uscc
