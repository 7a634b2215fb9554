"""Endpoints of procurement, the contract and its amendments."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from services.projects.access import MANAGERS, PROCESS_READERS
from services.projects.core.registry import RegistryDep, eligible_organization
from services.projects.procurement import contracts, service
from services.projects.procurement.schemas import (
    AmendmentCreate,
    AmendmentDecision,
    AmendmentOut,
    BidCreate,
    Cancellation,
    ContractCreate,
    ContractOut,
    Disqualification,
    ProcurementCreate,
    ProcurementOut,
)
from shared.app import API_PREFIX
from shared.auth import CurrentPrincipal, Role, allow
from shared.concurrency import IfMatch, set_etag
from shared.db import SessionDep
from shared.errors import problem_responses
from shared.interservice import AdmissionCriteria, OrganizationSummary

router = APIRouter(prefix=f"{API_PREFIX}/projects/{{project_id}}", tags=["procurement"])
_MANAGERS = allow(*MANAGERS)
_READERS = allow(*PROCESS_READERS)


@router.post(
    "/procurement",
    status_code=status.HTTP_201_CREATED,
    response_model=ProcurementOut,
    operation_id="openProcurement",
    responses=problem_responses(401, 403, 404, 409, 422),
    dependencies=[_MANAGERS],
)
async def open_procurement(
    project_id: uuid.UUID, body: ProcurementCreate, session: SessionDep, principal: CurrentPrincipal
) -> ProcurementOut:
    """Open the procurement of an approved project (统一采购), choosing its method."""
    procurement = await service.open_procurement(
        session, principal=principal, project_id=project_id, data=body
    )
    return await service.present(session, procurement)


@router.get(
    "/procurement",
    response_model=ProcurementOut,
    operation_id="getProcurement",
    responses=problem_responses(401, 403, 404),
    dependencies=[_READERS],
)
async def get_procurement(
    project_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> ProcurementOut:
    """The procurement with its bids, ranked once awarded."""
    procurement = await service.get(session, principal=principal, project_id=project_id)
    return await service.present(session, procurement)


@router.post(
    "/procurement/bids",
    status_code=status.HTTP_201_CREATED,
    response_model=ProcurementOut,
    operation_id="recordBid",
    responses=problem_responses(401, 403, 404, 409, 422, 503),
    dependencies=[_MANAGERS],
)
async def record_bid(
    project_id: uuid.UUID,
    body: BidCreate,
    session: SessionDep,
    principal: CurrentPrincipal,
    registry: RegistryDep,
) -> ProcurementOut:
    """Record a bid with its price and the panel's technical score.

    The bidder must be an organization of the register that the call admits (422
    `organization_unknown` / `organization_ineligible`); its name is the registry's.
    """

    async def check(org_id: uuid.UUID, criteria: AdmissionCriteria) -> OrganizationSummary:
        return await eligible_organization(
            registry, org_id, field="body.bidder_org_id", criteria=criteria
        )

    procurement = await service.add_bid(
        session, principal=principal, project_id=project_id, data=body, check_eligible=check
    )
    return await service.present(session, procurement)


@router.post(
    "/procurement/award",
    response_model=ProcurementOut,
    operation_id="awardProcurement",
    responses=problem_responses(401, 403, 404, 409, 422, 503),
    dependencies=[_MANAGERS],
)
async def award_procurement(
    project_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal, registry: RegistryDep
) -> ProcurementOut:
    """Score the qualified bids and award to the best, whose bidder must still be eligible
    (if not, disqualify its bid: the next-ranked is then awarded)."""

    async def check(org_id: uuid.UUID, criteria: AdmissionCriteria) -> OrganizationSummary:
        return await eligible_organization(registry, org_id, field="winner", criteria=criteria)

    procurement = await service.award(
        session, principal=principal, project_id=project_id, check_eligible=check
    )
    return await service.present(session, procurement)


@router.post(
    "/procurement/disqualifications",
    response_model=ProcurementOut,
    operation_id="disqualifyBid",
    responses=problem_responses(401, 403, 404, 409, 422),
    dependencies=[_MANAGERS],
)
async def disqualify_bid(
    project_id: uuid.UUID, body: Disqualification, session: SessionDep, principal: CurrentPrincipal
) -> ProcurementOut:
    """Disqualify a bid, with the reason (audited); it is never awarded, and if it had won
    the award is revoked, so that the next-ranked qualified bid can be awarded."""
    procurement = await service.disqualify(
        session, principal=principal, project_id=project_id, data=body
    )
    return await service.present(session, procurement)


@router.post(
    "/procurement/cancellation",
    response_model=ProcurementOut,
    operation_id="cancelProcurement",
    responses=problem_responses(401, 403, 404, 409, 422),
    dependencies=[_MANAGERS],
)
async def cancel_procurement(
    project_id: uuid.UUID, body: Cancellation, session: SessionDep, principal: CurrentPrincipal
) -> ProcurementOut:
    """Cancel the procurement before a contract (废标), with the reason: the project is
    `approved` again and may open a new procurement; this one stays on record."""
    procurement = await service.cancel(
        session, principal=principal, project_id=project_id, data=body
    )
    return await service.present(session, procurement)


@router.post(
    "/contract",
    status_code=status.HTTP_201_CREATED,
    response_model=ContractOut,
    operation_id="signContract",
    responses=problem_responses(401, 403, 404, 409, 422),
    dependencies=[_MANAGERS],
)
async def sign_contract(
    project_id: uuid.UUID,
    body: ContractCreate,
    session: SessionDep,
    principal: CurrentPrincipal,
    response: Response,
) -> ContractOut:
    """Sign the contract at the awarded price; allocates it from the pool (409 if it cannot)."""
    contract = await contracts.sign(session, principal=principal, project_id=project_id, data=body)
    set_etag(response, contract.version)
    return await contracts.present(session, contract)


@router.get(
    "/contract",
    response_model=ContractOut,
    operation_id="getContract",
    responses=problem_responses(401, 403, 404),
    dependencies=[_READERS],
)
async def get_contract(
    project_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal, response: Response
) -> ContractOut:
    """The contract: tranches, every version and every amendment."""
    contract = await contracts.get(session, principal=principal, project_id=project_id)
    set_etag(response, contract.version)
    return await contracts.present(session, contract)


@router.post(
    "/contract/amendments",
    status_code=status.HTTP_201_CREATED,
    response_model=AmendmentOut,
    operation_id="proposeAmendment",
    responses=problem_responses(401, 403, 404, 409, 422),
    dependencies=[_MANAGERS],
)
async def propose_amendment(
    project_id: uuid.UUID, body: AmendmentCreate, session: SessionDep, principal: CurrentPrincipal
) -> AmendmentOut:
    """Propose a change of amount or period, with its rationale."""
    amendment = await contracts.propose_amendment(
        session, principal=principal, project_id=project_id, data=body
    )
    return AmendmentOut.model_validate(amendment)


async def _decide(
    approve: bool,
    project_id: uuid.UUID,
    amendment_id: uuid.UUID,
    body: AmendmentDecision,
    session: SessionDep,
    principal: CurrentPrincipal,
    response: Response,
    if_match: str | None,
) -> ContractOut:
    contract = await contracts.decide_amendment(
        session,
        principal=principal,
        project_id=project_id,
        amendment_id=amendment_id,
        approve=approve,
        note=body.note,
        if_match=if_match,
    )
    set_etag(response, contract.version)
    return await contracts.present(session, contract)


@router.post(
    "/contract/amendments/{amendment_id}/approve",
    response_model=ContractOut,
    operation_id="approveAmendment",
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
    dependencies=[allow(Role.civil_affairs)],
)
async def approve_amendment(
    project_id: uuid.UUID,
    amendment_id: uuid.UUID,
    body: AmendmentDecision,
    session: SessionDep,
    principal: CurrentPrincipal,
    response: Response,
    if_match: IfMatch = None,
) -> ContractOut:
    """Approve an amendment: a new contract version (needs `If-Match` of the contract)."""
    return await _decide(
        True, project_id, amendment_id, body, session, principal, response, if_match
    )


@router.post(
    "/contract/amendments/{amendment_id}/reject",
    response_model=ContractOut,
    operation_id="rejectAmendment",
    responses=problem_responses(401, 403, 404, 409, 412, 428),
    dependencies=[allow(Role.civil_affairs)],
)
async def reject_amendment(
    project_id: uuid.UUID,
    amendment_id: uuid.UUID,
    body: AmendmentDecision,
    session: SessionDep,
    principal: CurrentPrincipal,
    response: Response,
    if_match: IfMatch = None,
) -> ContractOut:
    """Reject an amendment; the contract stays as it is (needs `If-Match` of the contract)."""
    return await _decide(
        False, project_id, amendment_id, body, session, principal, response, if_match
    )
