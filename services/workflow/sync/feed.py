"""The event feed: every public event appended once, read back in commit-safe order.

`append` runs inside `events.dispatch`, in the transaction that claims the event in the
workflow inbox, so each event is appended (and fanned out to its endpoints) exactly
once. `read_page` serves `GET /api/v1/events`; see `models.SyncEvent` for why the cursor
is `(txid, position)` and why rows of still-running transactions' era are held back.
A long transaction anywhere in the cluster therefore delays the feed (never loses an
event): with `DB_STATEMENT_TIMEOUT_MS` bounding statements, that delay stays short.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Text, and_, cast, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.workflow.sync import payloads
from services.workflow.sync.catalogue import catalogue, wanted
from services.workflow.sync.config import MAX_PAYLOAD_BYTES
from services.workflow.sync.models import (
    DeliveryStatus,
    InboundEvent,
    InboundStatus,
    SyncEvent,
    WebhookDelivery,
    WebhookEndpoint,
)
from shared import feeds
from shared.feeds import FeedCursor
from shared.jobs import EventEnvelope

logger = logging.getLogger("sanshe.workflow.sync.feed")

_PURGE_BATCH = 5000


def _fitted(envelope: EventEnvelope) -> dict[str, Any]:
    """The event's data, cut down if the payload would reach 20 KB."""
    data = envelope.data
    for candidate in (data, payloads.thin(data)):
        probe = {"id": str(envelope.id), "type": envelope.type, "data": candidate}
        if payloads.size_of(probe) + 512 < MAX_PAYLOAD_BYTES:
            return candidate
    ids = {k: v for k, v in data.items() if (k == "id" or k.endswith("_id")) and isinstance(v, str)}
    return {**{k: v[:100] for k, v in ids.items()}, "truncated": True}


async def append(
    session: AsyncSession,
    envelope: EventEnvelope,
    *,
    now: datetime,
    only_endpoint: uuid.UUID | None = None,
) -> bool:
    """Add the event to the feed and create its deliveries; False if not for outside
    (or appended before). See `append_and_fan_out`."""
    created = await append_and_fan_out(session, envelope, now=now, only_endpoint=only_endpoint)
    return created is not None


async def append_and_fan_out(
    session: AsyncSession,
    envelope: EventEnvelope,
    *,
    now: datetime,
    only_endpoint: uuid.UUID | None = None,
) -> int | None:
    """Add the event to the feed and create its deliveries: how many deliveries were
    created, or None if the event is not for outside or was appended before.

    Internal command events (catalogue `internal: true`) are neither fed nor sent; the
    outbox gives them no `seq` either, so what a subscriber sees of a subject is numbered
    1, 2, 3… without a gap. A type missing from the catalogue is still sent (to endpoints
    without a filter or with a matching family), with a warning so that the catalogue
    gets completed.
    """
    known = catalogue()
    if known.is_internal(envelope.type):
        return None
    if envelope.subject_seq is None:
        # The outbox left it unnumbered as internal (shared.interservice.INTERNAL_EVENT_TYPES):
        # never sent, but the catalogue should say so too.
        logger.warning(
            "unnumbered event not internal in the catalogue", extra={"type": envelope.type}
        )
        return None
    if envelope.type not in known.outbound:
        logger.warning("event type missing from the catalogue", extra={"type": envelope.type})
    # One round trip for the insert and the endpoints it may go to (this runs in every
    # `events.dispatch` job): a row per enabled endpoint, or one with no endpoint when
    # none is enabled, and no row at all when the event was appended before (its
    # deliveries exist already). The endpoints are read in the statement's snapshot,
    # as the separate query did.
    inserted = (
        pg_insert(SyncEvent)
        .values(
            id=envelope.id,
            type=envelope.type,
            source=envelope.source,
            subject_type=envelope.subject_type,
            subject_id=envelope.subject_id,
            subject_seq=envelope.subject_seq,
            occurred_at=envelope.occurred_at,
            data=_fitted(envelope),
            endpoint_id=only_endpoint,
        )
        .on_conflict_do_nothing(index_elements=[SyncEvent.id])
        .returning(SyncEvent.id)
        .cte("inserted")
    )
    endpoint_wanted: ColumnElement[bool] = WebhookEndpoint.enabled.is_(True)
    if only_endpoint is not None:
        endpoint_wanted = and_(endpoint_wanted, WebhookEndpoint.id == only_endpoint)
    rows = (
        await session.execute(
            select(inserted.c.id, WebhookEndpoint.id, WebhookEndpoint.event_types).select_from(
                inserted.outerjoin(WebhookEndpoint, endpoint_wanted)
            )
        )
    ).all()
    if not rows:
        return None
    endpoints = [(endpoint_id, filters) for _, endpoint_id, filters in rows if endpoint_id]
    return await _fan_out(session, envelope, endpoints, now=now, only_endpoint=only_endpoint)


async def _fan_out(
    session: AsyncSession,
    envelope: EventEnvelope,
    endpoints: Sequence[tuple[uuid.UUID, Any]],
    *,
    now: datetime,
    only_endpoint: uuid.UUID | None,
) -> int:
    rows = [
        {
            "id": uuid.uuid4(),
            "endpoint_id": endpoint_id,
            "event_id": envelope.id,
            "event_type": envelope.type,
            "status": DeliveryStatus.pending,
            "next_attempt_at": now,
            "created_at": now,
        }
        for endpoint_id, filters in endpoints
        if only_endpoint is not None or wanted(list(filters or ()), envelope.type)
    ]
    if rows:
        await session.execute(
            pg_insert(WebhookDelivery)
            .values(rows)
            .on_conflict_do_nothing(
                index_elements=[WebhookDelivery.endpoint_id, WebhookDelivery.event_id]
            )
        )
    return len(rows)


async def read_page(
    session: AsyncSession, *, after: FeedCursor | None, limit: int
) -> tuple[Sequence[SyncEvent], FeedCursor | None]:
    """Up to `limit` events after the cursor, and the cursor of the last one returned."""
    query = (
        select(SyncEvent, cast(SyncEvent.txid, Text))
        .where(feeds.settled(SyncEvent.txid), SyncEvent.endpoint_id.is_(None))
        .order_by(SyncEvent.txid, SyncEvent.position)
        .limit(limit)
    )
    if after is not None:
        query = query.where(feeds.after(SyncEvent.txid, SyncEvent.position, after))
    rows = (await session.execute(query)).all()
    if not rows:
        return [], after
    last_event, last_txid = rows[-1]
    return [event for event, _ in rows], FeedCursor(int(last_txid), last_event.position)


async def purge(session: AsyncSession, *, now: datetime, retention: timedelta) -> int:
    """Forget events (with their deliveries and attempts) older than the retention."""
    horizon = now - retention
    oldest = (
        select(SyncEvent.id)
        .where(SyncEvent.recorded_at < horizon)
        .limit(_PURGE_BATCH)
        .scalar_subquery()
    )
    events = await session.execute(delete(SyncEvent).where(SyncEvent.id.in_(oldest)))
    inbound = await session.execute(
        delete(InboundEvent).where(
            and_(
                InboundEvent.received_at < horizon,
                InboundEvent.status != InboundStatus.received,
            )
        )
    )
    return int(getattr(events, "rowcount", 0) or 0) + int(getattr(inbound, "rowcount", 0) or 0)
