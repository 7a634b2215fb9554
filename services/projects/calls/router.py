"""Endpoints of calls for applications (申报通知)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from services.projects.access import CALL_READERS, MANAGERS
from services.projects.calls import service
from services.projects.calls.schemas import CallCreate, CallOut, CallUpdate
from services.projects.reference.code_lists import Department
from shared.app import API_PREFIX
from shared.auth import CurrentPrincipal, allow
from shared.concurrency import IfMatch, set_etag
from shared.db import SessionDep
from shared.errors import problem_responses
from shared.pagination import Page, PageDep

router = APIRouter(prefix=f"{API_PREFIX}/calls", tags=["calls"])
_PUBLISHERS = allow(*MANAGERS)
_READERS = allow(*CALL_READERS)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CallOut,
    operation_id="createCall",
    responses=problem_responses(401, 403, 422),
    dependencies=[_PUBLISHERS],
)
async def create_call(
    body: CallCreate, session: SessionDep, principal: CurrentPrincipal, response: Response
) -> CallOut:
    """Publish a call for applications of a purchasing department."""
    call = await service.create(session, principal=principal, data=body)
    set_etag(response, call.version)
    response.headers["Location"] = f"{API_PREFIX}/calls/{call.id}"
    return service.present(call)


@router.get(
    "",
    response_model=Page[CallOut],
    operation_id="listCalls",
    responses=problem_responses(401, 403, 422),
    dependencies=[_READERS],
)
async def list_calls(
    session: SessionDep,
    principal: CurrentPrincipal,
    page: PageDep,
    department: Department | None = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    accepting: Annotated[bool, Query(description="Only calls still taking applications")] = False,
) -> Page[CallOut]:
    """Calls, latest deadline first; a purchasing department sees its own."""
    return await service.list_page(
        session,
        principal=principal,
        page=page,
        department=department,
        year=year,
        accepting_only=accepting,
    )


@router.get(
    "/{call_id}",
    response_model=CallOut,
    operation_id="getCall",
    responses=problem_responses(401, 403, 404),
    dependencies=[_READERS],
)
async def get_call(
    call_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal, response: Response
) -> CallOut:
    """One call, with its ETag."""
    call = await service.get(session, principal=principal, call_id=call_id)
    set_etag(response, call.version)
    return service.present(call)


@router.patch(
    "/{call_id}",
    response_model=CallOut,
    operation_id="updateCall",
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
    dependencies=[_PUBLISHERS],
)
async def update_call(
    call_id: uuid.UUID,
    body: CallUpdate,
    session: SessionDep,
    principal: CurrentPrincipal,
    response: Response,
    if_match: IfMatch = None,
) -> CallOut:
    """Change a call's text, deadline or ceiling; needs `If-Match`."""
    call = await service.update(
        session, principal=principal, call_id=call_id, if_match=if_match, data=body
    )
    set_etag(response, call.version)
    return service.present(call)


@router.post(
    "/{call_id}/close",
    response_model=CallOut,
    operation_id="closeCall",
    responses=problem_responses(401, 403, 404, 409),
    dependencies=[_PUBLISHERS],
)
async def close_call(
    call_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal, response: Response
) -> CallOut:
    """Stop taking applications before the deadline."""
    call = await service.close(session, principal=principal, call_id=call_id)
    set_etag(response, call.version)
    return service.present(call)
