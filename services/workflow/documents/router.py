"""The applicant's documents of a case: list, PDFs, and the registration certificate data.

Whoever may read the case may read its documents: the applicant organization its own
(another organization's case is a 404, as for the case itself), reviewers the cases of
their department, the bureau all.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response

from services.workflow.cases import repository as cases
from services.workflow.cases.models import ApprovalCase
from services.workflow.documents import rendering, repository, service
from services.workflow.documents.schemas import CertificateData, DocumentKind, DocumentOut
from shared.app import API_PREFIX
from shared.auth import CurrentPrincipal, Principal, Role, allow
from shared.db import SessionDep
from shared.errors import NotFound, problem_responses

router = APIRouter(prefix=f"{API_PREFIX}/cases", tags=["documents"])

_READERS = (
    Role.civil_affairs,
    Role.auditor,
    Role.service,
    Role.organization,
    Role.department_reviewer,
)
_PDF: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The document as a PDF (A4, Chinese text embedded and searchable)",
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    }
}


async def _readable_case(
    session: SessionDep, principal: Principal, case_id: uuid.UUID
) -> ApprovalCase:
    cases.require_case_reader(principal)
    case = await cases.get_case(session, principal=principal, case_id=case_id)
    if case is None:
        raise NotFound("No such case", code="case_not_found")
    return case


def _not_issued(kind: DocumentKind) -> NotFound:
    return NotFound(f"The case has no {kind.value} (yet)", code="document_not_issued")


@router.get(
    "/{case_id}/documents",
    response_model=list[DocumentOut],
    operation_id="listCaseDocuments",
    dependencies=[allow(*_READERS)],
    responses=problem_responses(401, 403, 404),
)
async def list_case_documents(
    case_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> list[DocumentOut]:
    """The documents the case has issued so far, with their numbers and dates."""
    case = await _readable_case(session, principal, case_id)
    sent_at = await repository.notice_sent_at(session, case.id)
    out = []
    for kind in service.available(case):
        document = service.build(case, kind, notice_sent_at=sent_at)
        out.append(
            DocumentOut(
                kind=kind,
                title=document.title,
                number=document.number,
                issued_on=document.issued_on,
                url=f"{API_PREFIX}/cases/{case.id}/documents/{kind.value}.pdf",
            )
        )
    return out


@router.get(
    "/{case_id}/documents/{kind}.pdf",
    response_class=Response,
    operation_id="downloadCaseDocument",
    dependencies=[allow(*_READERS)],
    responses={**_PDF, **problem_responses(401, 403, 404)},
)
async def download_case_document(
    case_id: uuid.UUID, kind: DocumentKind, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    """Download one of the case's documents as a PDF."""
    case = await _readable_case(session, principal, case_id)
    if kind not in service.available(case):
        raise _not_issued(kind)
    sent_at = await repository.notice_sent_at(session, case.id)
    document = service.build(case, kind, notice_sent_at=sent_at)
    return Response(
        content=rendering.render(document),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{kind.value}.pdf"'},
    )


@router.get(
    "/{case_id}/registration-certificate",
    response_model=CertificateData,
    operation_id="getRegistrationCertificate",
    dependencies=[allow(*_READERS)],
    responses=problem_responses(401, 403, 404),
)
async def get_registration_certificate(
    case_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> CertificateData:
    """The data of the registration certificate of a granted registration."""
    case = await _readable_case(session, principal, case_id)
    if DocumentKind.registration_certificate not in service.available(case):
        raise _not_issued(DocumentKind.registration_certificate)
    return service.certificate(case)
