"""Webhook endpoints: register, list, update, enable/disable, rotate, test, deliveries."""

from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi import APIRouter, Response, status

from services.workflow.sync import management
from services.workflow.sync.catalogue import catalogue
from services.workflow.sync.dependencies import NowDep, PolicyDep, QueueDep, SyncSettingsDep
from services.workflow.sync.jobs import kick_after_commit
from services.workflow.sync.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from services.workflow.sync.schemas import (
    Accepted,
    AttemptOut,
    DeliveryOut,
    EndpointCreate,
    EndpointOut,
    EndpointUpdate,
    EndpointWithSecret,
    EventTypeOut,
    ProbeRequest,
    RecoverRequest,
    SecretRotated,
)
from shared.app import API_PREFIX
from shared.auth import CurrentPrincipal, Role, allow
from shared.concurrency import IfMatch, set_etag
from shared.db import SessionDep
from shared.errors import problem_responses
from shared.pagination import Page, PageDep

router = APIRouter(prefix=f"{API_PREFIX}/webhooks", tags=["webhooks"])

# civil_affairs manages all endpoints; a provincial system its own (see management).
MANAGERS = (Role.civil_affairs, Role.provincial_system)
_GATE = allow(*MANAGERS)


def present(endpoint: WebhookEndpoint) -> EndpointOut:
    return EndpointOut.model_validate(endpoint, from_attributes=True)


def present_delivery(delivery: WebhookDelivery, attempts: list[WebhookAttempt]) -> DeliveryOut:
    out = DeliveryOut.model_validate(delivery, from_attributes=True)
    out.attempts = [AttemptOut.model_validate(a, from_attributes=True) for a in attempts]
    return out


@router.post(
    "/endpoints",
    status_code=status.HTTP_201_CREATED,
    response_model=EndpointWithSecret,
    operation_id="createWebhookEndpoint",
    dependencies=[_GATE],
    responses=problem_responses(401, 403, 422),
)
async def create_endpoint(
    body: EndpointCreate,
    session: SessionDep,
    principal: CurrentPrincipal,
    policy: PolicyDep,
    now: NowDep,
    response: Response,
) -> EndpointWithSecret:
    """Register an endpoint; the answer holds its signing secret, shown only this once."""
    endpoint = await management.create(
        session, principal=principal, data=body, policy=policy, now=now
    )
    response.headers["Location"] = f"{API_PREFIX}/webhooks/endpoints/{endpoint.id}"
    set_etag(response, endpoint.version)
    return EndpointWithSecret(**present(endpoint).model_dump(), secret=endpoint.secret)


@router.get(
    "/endpoints",
    response_model=Page[EndpointOut],
    operation_id="listWebhookEndpoints",
    dependencies=[_GATE],
    responses=problem_responses(401, 403),
)
async def list_endpoints(
    session: SessionDep, principal: CurrentPrincipal, page: PageDep
) -> Page[EndpointOut]:
    """Endpoints the caller manages, newest first."""
    rows, total = await management.list_page(session, principal=principal, page=page)
    return Page(
        items=[present(r) for r in rows], page=page.page, page_size=page.page_size, total=total
    )


@router.get(
    "/endpoints/{endpoint_id}",
    response_model=EndpointOut,
    operation_id="getWebhookEndpoint",
    dependencies=[_GATE],
    responses=problem_responses(401, 403, 404),
)
async def get_endpoint(
    endpoint_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal, response: Response
) -> EndpointOut:
    """One endpoint (never its secret), with its ETag."""
    endpoint = await management.get(session, principal=principal, endpoint_id=endpoint_id)
    set_etag(response, endpoint.version)
    return present(endpoint)


@router.patch(
    "/endpoints/{endpoint_id}",
    response_model=EndpointOut,
    operation_id="updateWebhookEndpoint",
    dependencies=[_GATE],
    responses=problem_responses(401, 403, 404, 412, 422, 428),
)
async def update_endpoint(
    endpoint_id: uuid.UUID,
    body: EndpointUpdate,
    session: SessionDep,
    principal: CurrentPrincipal,
    policy: PolicyDep,
    now: NowDep,
    response: Response,
    if_match: IfMatch = None,
) -> EndpointOut:
    """Change an endpoint's URL, event filter or description (If-Match required)."""
    endpoint = await management.get(
        session, principal=principal, endpoint_id=endpoint_id, lock=True
    )
    await management.update_endpoint(
        session, endpoint=endpoint, data=body, if_match=if_match, policy=policy, now=now
    )
    set_etag(response, endpoint.version)
    return present(endpoint)


async def _toggle(
    endpoint_id: uuid.UUID,
    enabled: bool,
    session: SessionDep,
    principal: CurrentPrincipal,
    now: NowDep,
    response: Response,
) -> EndpointOut:
    endpoint = await management.get(
        session, principal=principal, endpoint_id=endpoint_id, lock=True
    )
    await management.set_enabled(session, endpoint=endpoint, enabled=enabled, now=now)
    set_etag(response, endpoint.version)
    return present(endpoint)


@router.post(
    "/endpoints/{endpoint_id}/enable",
    response_model=EndpointOut,
    operation_id="enableWebhookEndpoint",
    dependencies=[_GATE],
    responses=problem_responses(401, 403, 404),
)
async def enable_endpoint(
    endpoint_id: uuid.UUID,
    session: SessionDep,
    principal: CurrentPrincipal,
    now: NowDep,
    response: Response,
) -> EndpointOut:
    """Enable an endpoint again (failed deliveries stay failed: use recover)."""
    return await _toggle(endpoint_id, True, session, principal, now, response)


@router.post(
    "/endpoints/{endpoint_id}/disable",
    response_model=EndpointOut,
    operation_id="disableWebhookEndpoint",
    dependencies=[_GATE],
    responses=problem_responses(401, 403, 404),
)
async def disable_endpoint(
    endpoint_id: uuid.UUID,
    session: SessionDep,
    principal: CurrentPrincipal,
    now: NowDep,
    response: Response,
) -> EndpointOut:
    """Stop sending to an endpoint; its pending deliveries become failed."""
    return await _toggle(endpoint_id, False, session, principal, now, response)


@router.post(
    "/endpoints/{endpoint_id}/rotate-secret",
    response_model=SecretRotated,
    operation_id="rotateWebhookSecret",
    dependencies=[_GATE],
    responses=problem_responses(401, 403, 404),
)
async def rotate_secret(
    endpoint_id: uuid.UUID,
    session: SessionDep,
    principal: CurrentPrincipal,
    settings: SyncSettingsDep,
    now: NowDep,
) -> SecretRotated:
    """New secret; the old one keeps signing alongside it for 24 hours."""
    endpoint = await management.get(
        session, principal=principal, endpoint_id=endpoint_id, lock=True
    )
    overlap = timedelta(hours=settings.secret_overlap_hours)
    fresh = await management.rotate_secret(session, endpoint=endpoint, now=now, overlap=overlap)
    return SecretRotated(secret=fresh, previous_secret_expires_at=now + overlap)


@router.post(
    "/endpoints/{endpoint_id}/test",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    operation_id="sendWebhookTest",
    dependencies=[_GATE],
    responses=problem_responses(401, 403, 404, 409),
)
async def send_test(
    endpoint_id: uuid.UUID,
    session: SessionDep,
    principal: CurrentPrincipal,
    now: NowDep,
    queue: QueueDep,
    body: ProbeRequest | None = None,
) -> Accepted:
    """Send a `webhook.test` event to this endpoint only."""
    endpoint = await management.get(
        session, principal=principal, endpoint_id=endpoint_id, lock=True
    )
    message = (body or ProbeRequest()).message
    delivery_id = await management.send_test(session, endpoint=endpoint, message=message, now=now)
    kick_after_commit(session, queue)
    return Accepted(delivery_ids=[delivery_id], count=1)


@router.get(
    "/endpoints/{endpoint_id}/deliveries",
    response_model=Page[DeliveryOut],
    operation_id="listWebhookDeliveries",
    dependencies=[_GATE],
    responses=problem_responses(401, 403, 404, 422),
)
async def list_deliveries(
    endpoint_id: uuid.UUID,
    session: SessionDep,
    principal: CurrentPrincipal,
    page: PageDep,
    status: DeliveryStatus | None = None,
) -> Page[DeliveryOut]:
    """Deliveries of an endpoint, newest first, each with all its attempts."""
    endpoint = await management.get(session, principal=principal, endpoint_id=endpoint_id)
    rows, total = await management.list_deliveries(
        session, endpoint=endpoint, status=status, page=page
    )
    return Page(
        items=[present_delivery(d, a) for d, a in rows],
        page=page.page,
        page_size=page.page_size,
        total=total,
    )


@router.post(
    "/endpoints/{endpoint_id}/recover",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    operation_id="recoverWebhookDeliveries",
    dependencies=[_GATE],
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def recover(
    endpoint_id: uuid.UUID,
    body: RecoverRequest,
    session: SessionDep,
    principal: CurrentPrincipal,
    now: NowDep,
    queue: QueueDep,
) -> Accepted:
    """Send again every failed delivery of the endpoint created since `since`."""
    endpoint = await management.get(
        session, principal=principal, endpoint_id=endpoint_id, lock=True
    )
    ids = await management.recover(session, endpoint=endpoint, since=body.since, now=now)
    kick_after_commit(session, queue)
    return Accepted(delivery_ids=ids[:1000], count=len(ids))


@router.get(
    "/deliveries/{delivery_id}",
    response_model=DeliveryOut,
    operation_id="getWebhookDelivery",
    dependencies=[_GATE],
    responses=problem_responses(401, 403, 404),
)
async def get_delivery(
    delivery_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> DeliveryOut:
    """One delivery with each attempt's status code, latency and response excerpt."""
    delivery, _, attempts = await management.get_delivery(
        session, principal=principal, delivery_id=delivery_id
    )
    return present_delivery(delivery, attempts)


@router.post(
    "/deliveries/{delivery_id}/resend",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    operation_id="resendWebhookDelivery",
    dependencies=[_GATE],
    responses=problem_responses(401, 403, 404, 409),
)
async def resend(
    delivery_id: uuid.UUID,
    session: SessionDep,
    principal: CurrentPrincipal,
    now: NowDep,
    queue: QueueDep,
) -> Accepted:
    """Send one delivery again now, with a fresh retry schedule."""
    delivery, endpoint, _ = await management.get_delivery(
        session, principal=principal, delivery_id=delivery_id, lock=True
    )
    await management.resend(session, delivery=delivery, endpoint=endpoint, now=now)
    kick_after_commit(session, queue)
    return Accepted(delivery_ids=[delivery.id], count=1)


@router.get(
    "/event-types",
    response_model=list[EventTypeOut],
    operation_id="listWebhookEventTypes",
    responses=problem_responses(401),
)
async def list_event_types(_: CurrentPrincipal) -> list[EventTypeOut]:
    """The event catalogue: every type we send, with the JSON Schema of its payload."""
    return [
        EventTypeOut(
            type=e.name,
            subject=e.subject,
            description=e.description,
            payload_schema=e.payload_schema(),
        )
        for e in catalogue().public()
    ]
