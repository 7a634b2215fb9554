"""Inbound: the signed receiver for provincial pushes, and the management of its sources.

`POST /api/v1/inbound/webhooks/{source}` takes no bearer token: it is authenticated by
its Standard Webhooks signature alone (see `sync.inbound`). Everything else here is for
civil-affairs staff (and auditors, read-only) with a token as usual.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status

from services.workflow.sync import inbound, repository
from services.workflow.sync.catalogue import catalogue
from services.workflow.sync.dependencies import NowDep, QueueDep, SyncSettingsDep
from services.workflow.sync.jobs import enqueue_inbound
from services.workflow.sync.models import InboundSource, InboundStatus
from services.workflow.sync.schemas import (
    EventTypeOut,
    InboundAck,
    InboundEventOut,
    InboundSourceCreate,
    InboundSourceOut,
    InboundSourceWithSecret,
    SecretRotated,
)
from services.workflow.sync.signing import VerificationFailed, new_secret, rotated
from shared.app import API_PREFIX
from shared.auth import CurrentPrincipal, Role, allow
from shared.db import SessionDep, database
from shared.errors import Conflict, NotFound, PayloadTooLarge, ProblemError, problem_responses
from shared.pagination import Page, PageDep, to_page

logger = logging.getLogger("sanshe.workflow.sync.inbound")

router = APIRouter(prefix=f"{API_PREFIX}/inbound", tags=["inbound"])

_ADMIN = allow(Role.civil_affairs)
_READERS = allow(Role.civil_affairs, Role.auditor)
SourceName = Annotated[str, Path(max_length=60)]


class SignatureRejected(ProblemError):
    """401 with nothing to learn from: not which header, key or check failed."""

    status = 401
    default_code = "signature_invalid"
    title = "Unauthorized"

    def __init__(self) -> None:
        super().__init__(None, headers={"WWW-Authenticate": 'Webhook-Signature realm="inbound"'})


class MessageMalformed(ProblemError):
    status = 400
    default_code = "message_malformed"
    title = "Bad request"


async def _raw_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"Messages are limited to {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"Messages are limited to {limit} bytes")
    return bytes(body)


@router.post(
    "/webhooks/{source}",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=InboundAck,
    operation_id="receiveInboundWebhook",
    responses={
        200: {"model": InboundAck, "description": "Already received: acknowledged, ignored"},
        **problem_responses(400, 401, 413),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
            "description": "A Standard Webhooks message: `webhook-id`, `webhook-timestamp` "
            "and `webhook-signature` headers; body `{type, timestamp, sequence?, data}`",
        }
    },
)
async def receive(
    source: SourceName,
    request: Request,
    response: Response,
    settings: SyncSettingsDep,
    now: NowDep,
    queue: QueueDep,
) -> InboundAck:
    """Receive a signed provincial message (signature only, no bearer token)."""
    body = await _raw_body(request, settings.inbound_max_body_bytes)
    try:
        async with database.transaction() as session:
            received = await inbound.receive(
                session,
                source_name=source,
                body=body,
                headers=dict(request.headers),
                now=now,
                settings=settings,
            )
    except VerificationFailed:
        logger.info("inbound message refused", extra={"source": source[:60]})
        raise SignatureRejected() from None
    except inbound.MalformedMessage:
        raise MessageMalformed("The message is not `{type, timestamp, data}` JSON") from None
    if received.duplicate:
        response.status_code = status.HTTP_200_OK
        return InboundAck(status="duplicate", id=received.inbound_id)
    if queue is not None:
        try:
            await enqueue_inbound(queue, received.inbound_id, 0)
        except Exception:
            logger.warning("could not enqueue inbound processing; the sweep will", exc_info=True)
    return InboundAck(status="accepted", id=received.inbound_id)


def _present_source(source: InboundSource) -> InboundSourceOut:
    return InboundSourceOut.model_validate(source, from_attributes=True)


@router.post(
    "/sources",
    status_code=status.HTTP_201_CREATED,
    response_model=InboundSourceWithSecret,
    operation_id="createInboundSource",
    dependencies=[_ADMIN],
    responses=problem_responses(401, 403, 409, 422),
)
async def create_source(
    body: InboundSourceCreate, session: SessionDep, now: NowDep
) -> InboundSourceWithSecret:
    """Register a provincial sender; the answer holds its secret, shown only this once."""
    if await repository.get_source(session, body.name) is not None:
        raise Conflict("A source with this name exists", code="source_exists")
    source = InboundSource(
        name=body.name,
        description=body.description,
        secret=new_secret(),
        enabled=True,
        created_at=now,
    )
    session.add(source)
    await session.flush()
    return InboundSourceWithSecret(**_present_source(source).model_dump(), secret=source.secret)


@router.get(
    "/sources",
    response_model=list[InboundSourceOut],
    operation_id="listInboundSources",
    dependencies=[_READERS],
    responses=problem_responses(401, 403),
)
async def list_sources(session: SessionDep) -> list[InboundSourceOut]:
    """Every provincial sender (never their secrets)."""
    return [_present_source(s) for s in await repository.list_sources(session)]


@router.post(
    "/sources/{source}/rotate-secret",
    response_model=SecretRotated,
    operation_id="rotateInboundSecret",
    dependencies=[_ADMIN],
    responses=problem_responses(401, 403, 404),
)
async def rotate_source_secret(
    source: SourceName, session: SessionDep, settings: SyncSettingsDep, now: NowDep
) -> SecretRotated:
    """New secret for a sender; messages signed with the old one verify for 24 hours more."""
    found = await repository.get_source(session, source, for_update=True)
    if found is None:
        raise NotFound("No such source", code="source_not_found")
    overlap = timedelta(hours=settings.secret_overlap_hours)
    keys, fresh = rotated(inbound.keys_of(found), now=now, overlap=overlap)
    found.secret = keys.current
    found.previous_secret = keys.previous
    found.previous_secret_expires_at = keys.previous_expires_at
    await session.flush()
    return SecretRotated(secret=fresh, previous_secret_expires_at=now + overlap)


@router.get(
    "/events",
    response_model=Page[InboundEventOut],
    operation_id="listInboundEvents",
    dependencies=[_READERS],
    responses=problem_responses(401, 403, 422),
)
async def list_inbound_events(
    session: SessionDep, page: PageDep, status: InboundStatus | None = None
) -> Page[InboundEventOut]:
    """Messages received from provincial systems and what became of each, newest first."""
    rows, total = await repository.list_inbound_events(session, status=status, page=page)
    return to_page(
        rows, total, page, lambda row: InboundEventOut.model_validate(row, from_attributes=True)
    )


@router.get(
    "/event-types",
    response_model=list[EventTypeOut],
    operation_id="listInboundEventTypes",
    responses=problem_responses(401),
)
async def list_inbound_event_types(_: CurrentPrincipal) -> list[EventTypeOut]:
    """The provincial message types we apply, with the JSON Schema of their `data`."""
    return [
        EventTypeOut(
            type=e.name,
            subject=e.subject,
            description=e.description,
            payload_schema=e.data_schema(),
        )
        for e in catalogue().inbound.values()
    ]
