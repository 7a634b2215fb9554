"""Receiving provincial pushes: verify on the raw body, store once, answer fast.

The receiver authenticates by signature only (no bearer token: a provincial system
holds a per-source `whsec_` secret, not one of our JWTs). In order:

1. the body is read raw, at most `WEBHOOK_INBOUND_MAX_BODY_BYTES`;
2. the source must exist and be enabled, the timestamp within
   `WEBHOOK_INBOUND_TOLERANCE_SECONDS` of our clock (a captured message cannot be
   replayed later), and one of the source's secrets (two during a rotation) must verify
   the signature over the *raw bytes* — nothing is parsed before that. Any failure is
   the same 401 with no detail, so a prober learns nothing about which check failed;
3. only then is the JSON parsed: `{"type": str, "timestamp"?: RFC 3339, "sequence"?: int,
   "data": {...}}` (malformed → 400: the sender is authenticated and should know);
4. the message is stored under UNIQUE (source, webhook-id): a redelivery finds it and is
   acknowledged (200) without doing anything again; a new one is answered 202 and
   processed by the `inbound.process` job after the commit (`inbound_apply`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.workflow.sync.config import SyncSettings
from services.workflow.sync.models import InboundEvent, InboundSource, InboundStatus
from services.workflow.sync.signing import SigningKeys, VerificationFailed, verify
from shared.dates import Instant

# The job runs right after the commit; the sweep only steps in if that trigger is lost.
_SWEEP_GRACE = timedelta(seconds=5)


class Envelope(BaseModel):
    """What we read of a provincial message before storing it."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(min_length=1, max_length=100)
    timestamp: Instant | None = None
    sequence: int | None = Field(default=None, ge=0, lt=2**63)
    data: dict[str, Any] = Field(default_factory=dict)


class MalformedMessage(Exception):
    """Signed correctly, but not a message we can read."""


@dataclass(frozen=True, slots=True)
class Received:
    inbound_id: uuid.UUID
    duplicate: bool
    attempts: int = 0


def keys_of(source: InboundSource) -> SigningKeys:
    return SigningKeys(
        current=source.secret,
        previous=source.previous_secret,
        previous_expires_at=source.previous_secret_expires_at,
    )


async def receive(
    session: AsyncSession,
    *,
    source_name: str,
    body: bytes,
    headers: Mapping[str, str],
    now: datetime,
    settings: SyncSettings,
) -> Received:
    """Verify and store one message; raises `VerificationFailed` or `MalformedMessage`."""
    source = (
        await session.execute(
            select(InboundSource).where(
                InboundSource.name == source_name, InboundSource.enabled.is_(True)
            )
        )
    ).scalar_one_or_none()
    if source is None:
        raise VerificationFailed
    message_id, sent_at = verify(
        body,
        headers,
        keys=keys_of(source).active(now),
        now=now,
        tolerance=timedelta(seconds=settings.inbound_tolerance_seconds),
    )
    try:
        envelope = Envelope.model_validate(json.loads(body))
    except (ValueError, ValidationError):
        raise MalformedMessage from None
    inserted = (
        await session.execute(
            pg_insert(InboundEvent)
            .values(
                id=uuid.uuid4(),
                source=source.name,
                message_id=message_id,
                type=envelope.type,
                occurred_at=envelope.timestamp or sent_at,
                payload=envelope.model_dump(mode="json"),
                status=InboundStatus.received,
                next_attempt_at=now + _SWEEP_GRACE,
            )
            .on_conflict_do_nothing(index_elements=[InboundEvent.source, InboundEvent.message_id])
            .returning(InboundEvent.id)
        )
    ).scalar_one_or_none()
    if inserted is not None:
        return Received(inserted, duplicate=False)
    existing = (
        await session.execute(
            select(InboundEvent.id).where(
                InboundEvent.source == source.name, InboundEvent.message_id == message_id
            )
        )
    ).scalar_one()
    return Received(existing, duplicate=True)
