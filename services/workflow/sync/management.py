"""Rules of endpoint management: who sees which endpoint, URL checks, secrets, resends.

civil_affairs manages every endpoint; a provincial system manages the endpoints it
registered itself (someone else's answers 404, as if it did not exist). Functions flush,
never commit: the request's transaction commits once, before the response.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.workflow.sync import feed
from services.workflow.sync.catalogue import catalogue
from services.workflow.sync.delivery import disable_endpoint, keys_of
from services.workflow.sync.models import (
    DeliveryStatus,
    SyncEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from services.workflow.sync.schemas import EndpointCreate, EndpointUpdate
from services.workflow.sync.signing import new_secret, rotated
from services.workflow.sync.ssrf import AddressPolicy, DestinationRefused, check_destination
from shared.auth import Principal, Role
from shared.concurrency import require_version
from shared.errors import Conflict, FieldError, NotFound, Unprocessable
from shared.jobs import EventEnvelope
from shared.pagination import PageParams, paginate

TEST_EVENT = "webhook.test"


def _visible(principal: Principal) -> ColumnElement[bool]:
    if principal.role is Role.civil_affairs:
        return true()
    return WebhookEndpoint.owner_sub == principal.sub


async def _check_url(url: str, policy: AddressPolicy) -> None:
    try:
        await check_destination(url, policy)
    except DestinationRefused as exc:
        raise Unprocessable(
            exc.message,
            code=exc.code,
            errors=[FieldError(field="body.url", message=exc.message, code=exc.code)],
        ) from None


def _check_filters(filters: Sequence[str]) -> list[str]:
    unknown = catalogue().unknown_filters(list(filters))
    if unknown:
        raise Unprocessable(
            "Some event types match nothing in the catalogue",
            code="unknown_event_types",
            errors=[
                FieldError(field="body.event_types", message=f"unknown: {p}", code="unknown")
                for p in unknown
            ],
        )
    return sorted(set(filters))


async def create(
    session: AsyncSession,
    *,
    principal: Principal,
    data: EndpointCreate,
    policy: AddressPolicy,
    now: datetime,
) -> WebhookEndpoint:
    await _check_url(data.url, policy)
    endpoint = WebhookEndpoint(
        id=uuid.uuid4(),
        url=data.url,
        description=data.description,
        event_types=_check_filters(data.event_types),
        owner_sub=principal.sub,
        owner_role=principal.role.value,
        secret=new_secret(),
        enabled=True,
        created_at=now,
        updated_at=now,
        version=1,
    )
    session.add(endpoint)
    await session.flush()
    return endpoint


async def list_page(
    session: AsyncSession, *, principal: Principal, page: PageParams
) -> tuple[Sequence[WebhookEndpoint], int]:
    query = select(WebhookEndpoint).where(_visible(principal))
    return await paginate(
        session, query, page, order_by=(WebhookEndpoint.created_at.desc(), WebhookEndpoint.id)
    )


async def get(
    session: AsyncSession, *, principal: Principal, endpoint_id: uuid.UUID, lock: bool = False
) -> WebhookEndpoint:
    query = select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id, _visible(principal))
    if lock:
        query = query.with_for_update()
    endpoint = (await session.execute(query)).scalar_one_or_none()
    if endpoint is None:
        raise NotFound("No such webhook endpoint", code="endpoint_not_found")
    return endpoint


async def update_endpoint(
    session: AsyncSession,
    *,
    endpoint: WebhookEndpoint,
    data: EndpointUpdate,
    if_match: str | None,
    policy: AddressPolicy,
    now: datetime,
) -> WebhookEndpoint:
    require_version(if_match, endpoint.version)
    if data.url is not None and data.url != endpoint.url:
        await _check_url(data.url, policy)
        endpoint.url = data.url
    if data.event_types is not None:
        endpoint.event_types = _check_filters(data.event_types)
    if data.description is not None:
        endpoint.description = data.description
    endpoint.updated_at = now
    endpoint.version += 1
    await session.flush()
    return endpoint


async def set_enabled(
    session: AsyncSession, *, endpoint: WebhookEndpoint, enabled: bool, now: datetime
) -> WebhookEndpoint:
    if enabled and not endpoint.enabled:
        endpoint.enabled = True
        endpoint.disabled_at = None
        endpoint.disabled_reason = None
        endpoint.failing_since = None
        endpoint.updated_at = now
        endpoint.version += 1
    elif not enabled and endpoint.enabled:
        await disable_endpoint(session, endpoint, reason="manual", now=now)
    await session.flush()
    return endpoint


async def rotate_secret(
    session: AsyncSession, *, endpoint: WebhookEndpoint, now: datetime, overlap: timedelta
) -> str:
    keys, fresh = rotated(keys_of(endpoint), now=now, overlap=overlap)
    endpoint.secret = keys.current
    endpoint.previous_secret = keys.previous
    endpoint.previous_secret_expires_at = keys.previous_expires_at
    endpoint.updated_at = now
    endpoint.version += 1
    await session.flush()
    return fresh


def _require_enabled(endpoint: WebhookEndpoint) -> None:
    if not endpoint.enabled:
        raise Conflict("The endpoint is disabled; enable it first", code="endpoint_disabled")


async def send_test(
    session: AsyncSession, *, endpoint: WebhookEndpoint, message: str, now: datetime
) -> uuid.UUID:
    """A `webhook.test` event for this endpoint only (not in the feed)."""
    _require_enabled(endpoint)
    seq = (
        await session.execute(
            select(func.coalesce(func.max(SyncEvent.subject_seq), 0) + 1).where(
                SyncEvent.subject_type == "webhook_test",
                SyncEvent.subject_id == str(endpoint.id),
            )
        )
    ).scalar_one()
    envelope = EventEnvelope(
        id=uuid.uuid4(),
        type=TEST_EVENT,
        source="workflow",
        subject_type="webhook_test",
        subject_id=str(endpoint.id),
        subject_seq=seq,
        occurred_at=now,
        data={"endpoint_id": str(endpoint.id), "message": message},
    )
    await feed.append(session, envelope, now=now, only_endpoint=endpoint.id)
    delivery_id = (
        await session.execute(
            select(WebhookDelivery.id).where(
                WebhookDelivery.endpoint_id == endpoint.id,
                WebhookDelivery.event_id == envelope.id,
            )
        )
    ).scalar_one()
    return delivery_id


async def list_deliveries(
    session: AsyncSession,
    *,
    endpoint: WebhookEndpoint,
    status: DeliveryStatus | None,
    page: PageParams,
) -> tuple[list[tuple[WebhookDelivery, list[WebhookAttempt]]], int]:
    where = [WebhookDelivery.endpoint_id == endpoint.id]
    if status is not None:
        where.append(WebhookDelivery.status == status)
    deliveries, total = await paginate(
        session,
        select(WebhookDelivery).where(*where),
        page,
        order_by=(WebhookDelivery.created_at.desc(), WebhookDelivery.id),
    )
    attempts = await _attempts_of(session, [d.id for d in deliveries])
    return [(d, attempts.get(d.id, [])) for d in deliveries], total


async def _attempts_of(
    session: AsyncSession, delivery_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[WebhookAttempt]]:
    result: dict[uuid.UUID, list[WebhookAttempt]] = {}
    if not delivery_ids:
        return result
    rows = await session.execute(
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id.in_(delivery_ids))
        .order_by(WebhookAttempt.id)
    )
    for attempt in rows.scalars():
        result.setdefault(attempt.delivery_id, []).append(attempt)
    return result


async def get_delivery(
    session: AsyncSession, *, principal: Principal, delivery_id: uuid.UUID, lock: bool = False
) -> tuple[WebhookDelivery, WebhookEndpoint, list[WebhookAttempt]]:
    query = (
        select(WebhookDelivery, WebhookEndpoint)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(WebhookDelivery.id == delivery_id, _visible(principal))
    )
    if lock:
        query = query.with_for_update(of=WebhookDelivery)
    row = (await session.execute(query)).first()
    if row is None:
        raise NotFound("No such delivery", code="delivery_not_found")
    delivery, endpoint = row
    attempts = await _attempts_of(session, [delivery.id])
    return delivery, endpoint, attempts.get(delivery.id, [])


async def resend(
    session: AsyncSession, *, delivery: WebhookDelivery, endpoint: WebhookEndpoint, now: datetime
) -> None:
    """Send one delivery again now, with a fresh retry schedule (whatever its state)."""
    _require_enabled(endpoint)
    delivery.status = DeliveryStatus.pending
    delivery.schedule_step = 0
    delivery.next_attempt_at = now
    delivery.failed_at = None
    # Bumping the token voids the write-back of a try that may be in flight right now.
    delivery.attempt_count += 1
    await session.flush()


async def recover(
    session: AsyncSession, *, endpoint: WebhookEndpoint, since: datetime, now: datetime
) -> list[uuid.UUID]:
    """Resend every failed delivery of the endpoint created since `since`."""
    _require_enabled(endpoint)
    result = await session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.endpoint_id == endpoint.id,
            WebhookDelivery.status == DeliveryStatus.failed,
            WebhookDelivery.created_at >= since,
        )
        .values(
            status=DeliveryStatus.pending,
            schedule_step=0,
            next_attempt_at=now,
            failed_at=None,
            attempt_count=WebhookDelivery.attempt_count + 1,
        )
        .returning(WebhookDelivery.id)
        .execution_options(synchronize_session=False)
    )
    return list(result.scalars())
