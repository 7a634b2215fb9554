"""Request and response models of the sync API (webhooks, feed, inbound sources)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.workflow.sync.models import DeliveryStatus, InboundStatus
from shared.dates import Instant


class EndpointCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=8, max_length=2000, examples=["https://sync.ah.gov.cn/sanshe"])
    event_types: list[str] = Field(
        default_factory=list,
        max_length=100,
        description="Event types (`case.decided`) or families (`organization.*`); empty = all",
    )
    description: str = Field(default="", max_length=500)


class EndpointUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, min_length=8, max_length=2000)
    event_types: list[str] | None = Field(default=None, max_length=100)
    description: str | None = Field(default=None, max_length=500)


class EndpointOut(BaseModel):
    id: uuid.UUID
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    disabled_at: datetime | None
    disabled_reason: str | None = Field(description="`gone` (410), `failing` or `manual`")
    failing_since: datetime | None = Field(description="Start of the current run of failures")
    previous_secret_expires_at: datetime | None = Field(
        description="During a rotation: until when the old secret still signs"
    )
    owner_sub: str
    created_at: datetime
    updated_at: datetime
    version: int


class EndpointWithSecret(EndpointOut):
    secret: str = Field(description="`whsec_...`: shown only now; store it to verify signatures")


class SecretRotated(BaseModel):
    secret: str = Field(description="The new `whsec_...` secret, shown only now")
    previous_secret_expires_at: datetime = Field(
        description="Until then every message carries both signatures"
    )


class ProbeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str = Field(default="测试消息 test message", max_length=200)


class Accepted(BaseModel):
    delivery_ids: list[uuid.UUID] = Field(default_factory=list)
    count: int = 0


class RecoverRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: Instant = Field(description="Resend every failed delivery created since then")


class AttemptOut(BaseModel):
    attempted_at: datetime
    status_code: int | None
    latency_ms: int
    response_excerpt: str | None
    error: str | None


class DeliveryOut(BaseModel):
    id: uuid.UUID
    endpoint_id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    status: DeliveryStatus
    attempt_count: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    failed_at: datetime | None
    attempts: list[AttemptOut] = Field(default_factory=list)


class EventTypeOut(BaseModel):
    type: str
    subject: str
    description: str
    payload_schema: dict[str, Any] = Field(description="JSON Schema 2020-12 of the payload")


class Subject(BaseModel):
    type: str
    id: str
    seq: int = Field(description="Per-subject sequence number: ignore what is not above the last")


class FeedEvent(BaseModel):
    id: uuid.UUID
    type: str
    timestamp: datetime
    source: str
    subject: Subject
    data: dict[str, Any]


class FeedPage(BaseModel):
    items: list[FeedEvent]
    next_cursor: str | None = Field(
        description="Pass as `after` for the next page; unchanged when nothing new is there yet"
    )
    has_more: bool = Field(description="True when this page was full: ask again at once")


class InboundSourceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{1,59}$", examples=["anhui-province"])
    description: str = Field(default="", max_length=500)


class InboundSourceOut(BaseModel):
    name: str
    description: str
    enabled: bool
    previous_secret_expires_at: datetime | None
    created_at: datetime


class InboundSourceWithSecret(InboundSourceOut):
    secret: str = Field(description="`whsec_...` the source signs with: shown only now")


class InboundAck(BaseModel):
    status: Literal["accepted", "duplicate"]
    id: uuid.UUID


class InboundEventOut(BaseModel):
    id: uuid.UUID
    source: str
    message_id: str
    type: str
    occurred_at: datetime
    status: InboundStatus
    attempts: int
    error: str | None
    received_at: datetime
    processed_at: datetime | None
