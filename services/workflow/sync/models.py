"""Tables of the provincial sync, in the `workflow` schema.

Outbound: `webhook_endpoint` (a subscriber), `sync_event` (the feed: every public
event, in commit-safe order), `webhook_delivery` (one per endpoint × event, unique) and
`webhook_attempt` (each HTTP try). Inbound: `inbound_source` (a provincial sender and
its secrets), `inbound_event` (each message, unique per source and webhook-id) and
`inbound_subject` (the newest change applied per subject).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Identity,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.workflow.base import Base
from shared.db import str_enum
from shared.feeds import XID8


class DeliveryStatus(StrEnum):
    pending = "pending"
    succeeded = "succeeded"
    failed = "failed"  # the schedule ran out, or the endpoint was disabled


class InboundStatus(StrEnum):
    received = "received"  # stored, awaiting (or retrying) processing
    applied = "applied"
    recorded = "recorded"  # valid, but nothing of ours to change (e.g. another list)
    stale = "stale"  # older than what we already applied for the subject
    unknown_type = "unknown_type"  # recorded, nothing to apply
    invalid = "invalid"  # signed, but its data do not match the type's contract
    failed = "failed"  # the registry refused it (e.g. no such organization)


class WebhookEndpoint(Base):
    """A subscriber's URL, its event filter and its signing secrets."""

    __tablename__ = "webhook_endpoint"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    url: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(String(500), server_default="")
    # Exact types or family wildcards (`organization.*`); empty = every public type.
    event_types: Mapped[list[str]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    # Who registered it: a provincial system manages only its own endpoints.
    owner_sub: Mapped[str] = mapped_column(String(200))
    owner_role: Mapped[str] = mapped_column(String(40))
    # Secrets are never logged nor returned except on creation and rotation.
    secret: Mapped[str] = mapped_column(String(120))
    previous_secret: Mapped[str | None] = mapped_column(String(120))
    previous_secret_expires_at: Mapped[datetime | None]
    enabled: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    disabled_at: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(String(40))
    # Start of the current run of failures (None after any success): 5 days → disabled.
    failing_since: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # The ETag; management commands lock the row and bump it (If-Match on PATCH).
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))


class SyncEvent(Base):
    """The event feed, and the source of every outbound payload.

    Readers page by `(txid, position)`, never by `position` alone: positions are taken
    when a row is inserted, not when its transaction commits, so a reader could pass a
    position that a slower transaction fills in later. Only rows of transactions older
    than every running one (`txid < pg_snapshot_xmin(pg_current_snapshot())`) are shown,
    and any transaction still to commit has a larger txid: nothing can appear behind the
    cursor (shared/feeds.py, which the OCDS release feed of projects pages by too).
    """

    __tablename__ = "sync_event"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, Identity(always=True), unique=True)
    # Deferred: only the feed reads it (as text, for the cursor).
    txid: Mapped[str] = mapped_column(
        XID8(), server_default=func.pg_current_xact_id(), deferred=True
    )
    type: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(40))
    subject_type: Mapped[str] = mapped_column(String(60))
    subject_id: Mapped[str] = mapped_column(String(100))
    subject_seq: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[datetime]
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # Set for a test event: delivered to that endpoint only, never shown in the feed.
    endpoint_id: Mapped[uuid.UUID | None]
    recorded_at: Mapped[datetime] = mapped_column(server_default=func.now(), index=True)

    __table_args__ = (Index("ix_sync_event_feed_order", "txid", "position"),)


class WebhookDelivery(Base):
    """One event for one endpoint; its state is what the worker schedules from."""

    __tablename__ = "webhook_delivery"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    endpoint_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_endpoint.id", ondelete="CASCADE")
    )
    event_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("sync_event.id", ondelete="CASCADE"), index=True
    )
    event_type: Mapped[str] = mapped_column(String(100))
    status: Mapped[DeliveryStatus] = mapped_column(str_enum(DeliveryStatus, "delivery_status"))
    # Every try ever made (also the lease token: a claim increments it).
    attempt_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    # Position in the retry schedule; a manual resend starts it again.
    schedule_step: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    next_attempt_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None] = mapped_column(SmallInteger)
    last_error: Mapped[str | None] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    delivered_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id"),
        Index(
            "ix_webhook_delivery_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_webhook_delivery_endpoint", "endpoint_id", "created_at"),
    )


class WebhookAttempt(Base):
    """One HTTP try: what the receiver answered, how fast, and the start of its body."""

    __tablename__ = "webhook_attempt"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    delivery_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_delivery.id", ondelete="CASCADE"), index=True
    )
    attempted_at: Mapped[datetime]
    status_code: Mapped[int | None] = mapped_column(SmallInteger)
    latency_ms: Mapped[int] = mapped_column(Integer)
    response_excerpt: Mapped[str | None] = mapped_column(Text)
    # `timeout`, `connect_error`, `address_refused`, `redirect`, ... (None on 2xx).
    error: Mapped[str | None] = mapped_column(String(60))


class InboundSource(Base):
    """A provincial system allowed to push to us, with its secret(s)."""

    __tablename__ = "inbound_source"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    description: Mapped[str] = mapped_column(String(500), server_default="")
    secret: Mapped[str] = mapped_column(String(120))
    previous_secret: Mapped[str | None] = mapped_column(String(120))
    previous_secret_expires_at: Mapped[datetime | None]
    enabled: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class InboundEvent(Base):
    """A verified message from a provincial system; its id is unique per source."""

    __tablename__ = "inbound_event"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    source: Mapped[str] = mapped_column(ForeignKey("inbound_source.name"))
    message_id: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(100))
    occurred_at: Mapped[datetime]
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[InboundStatus] = mapped_column(str_enum(InboundStatus, "inbound_status"))
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    next_attempt_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(server_default=func.now())
    processed_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("source", "message_id"),
        Index(
            "ix_inbound_event_due",
            "next_attempt_at",
            postgresql_where=text("status = 'received'"),
        ),
    )


class InboundSubject(Base):
    """The newest provincial change applied to a subject: older ones are not applied."""

    __tablename__ = "inbound_subject"

    subject_type: Mapped[str] = mapped_column(String(60), primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    occurred_at: Mapped[datetime | None]
    sequence: Mapped[int | None] = mapped_column(BigInteger)
    event_id: Mapped[uuid.UUID | None]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
