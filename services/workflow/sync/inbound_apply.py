"""Applying a stored provincial message: only if newer, through the registry's API.

Each inbound type has a handler that turns its `data` into a `Change` (or None: valid,
but nothing of ours to change). A change names a subject; the newest change applied to
each subject is kept in `inbound_subject`, and a message whose (timestamp, sequence)
is not above it is marked `stale` and not applied — provincial pushes, like ours, can
arrive out of order.

The message row and the subject row stay locked while the registry is called, so two
messages about one organization are applied one after the other, in the right order.
The call carries `Idempotency-Key: inbound:<id>`: if our commit fails after the registry
applied the change, the retry is answered from the registry's record, not applied twice.
An unreachable registry leaves the message `received` with a later `next_attempt_at`
(the sweep re-enqueues it, exponential backoff); a refusal (404, 409, 422) is final
(`failed`, with the registry's error code).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.workflow.sync.config import SyncSettings
from services.workflow.sync.models import InboundEvent, InboundStatus, InboundSubject
from shared.backoff import backoff_delay
from shared.clients import RegistryClient, ServiceCallError, ServiceUnavailable, registry_client
from shared.db import database

logger = logging.getLogger("sanshe.workflow.sync.inbound")

RegistryFactory = Callable[[], RegistryClient]
OrganizationStatus = Literal["active", "abnormal", "revoked", "deregistered"]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def default_registry() -> RegistryClient:
    return registry_client("workflow")


@dataclass(frozen=True, slots=True)
class Change:
    """Set an organization's status in the registry."""

    organization_id: uuid.UUID
    status: str
    reason: str

    @property
    def subject(self) -> tuple[str, str]:
        return "organization_status", str(self.organization_id)


class _Data(BaseModel):
    model_config = ConfigDict(extra="ignore")

    organization_id: uuid.UUID
    reason: str = Field(default="", max_length=500)


class StatusChanged(_Data):
    status: OrganizationStatus


class ListEntry(_Data):
    list: Literal["abnormal", "serious_dishonest"]


def _reason(given: str, default: str) -> str:
    """The province's reason, or ours: the registry wants at least two characters."""
    return given.strip() if len(given.strip()) >= 2 else default


def _status_changed(data: dict[str, Any]) -> Change | None:
    parsed = StatusChanged.model_validate(data)
    return Change(parsed.organization_id, parsed.status, _reason(parsed.reason, "省级平台状态变更"))


def _entry_added(data: dict[str, Any]) -> Change | None:
    parsed = ListEntry.model_validate(data)
    if parsed.list != "abnormal":
        return None  # the serious-dishonest list has no status of ours: recorded only
    return Change(
        parsed.organization_id, "abnormal", _reason(parsed.reason, "省级平台列入活动异常名录")
    )


def _entry_lifted(data: dict[str, Any]) -> Change | None:
    parsed = ListEntry.model_validate(data)
    if parsed.list != "abnormal":
        return None
    return Change(
        parsed.organization_id, "active", _reason(parsed.reason, "省级平台移出活动异常名录")
    )


# Inbound type → handler; `events.yaml` (section `inbound`) documents each contract.
HANDLERS: dict[str, Callable[[dict[str, Any]], Change | None]] = {
    "organization.status_changed": _status_changed,
    "credit_list.entry_added": _entry_added,
    "credit_list.entry_lifted": _entry_lifted,
}


def backoff(attempts: int, settings: SyncSettings) -> timedelta:
    return backoff_delay(
        attempts,
        base=settings.inbound_retry_base_seconds,
        cap=settings.inbound_retry_max_seconds,
    )


async def process(
    inbound_id: uuid.UUID,
    *,
    now: datetime,
    settings: SyncSettings,
    registry_factory: RegistryFactory = default_registry,
) -> str:
    async with database.transaction() as session:
        row = (
            await session.execute(
                select(InboundEvent)
                .where(InboundEvent.id == inbound_id, InboundEvent.status == InboundStatus.received)
                .with_for_update(skip_locked=True)
            )
        ).scalar_one_or_none()
        if row is None:
            return "skipped"  # done already, or being processed by another worker
        handler = HANDLERS.get(row.type)
        if handler is None:
            return _finish(row, InboundStatus.unknown_type, now)
        try:
            change = handler(dict(row.payload.get("data") or {}))
        except ValidationError as exc:
            return _finish(row, InboundStatus.invalid, now, error=_fields(exc))
        if change is None:
            return _finish(row, InboundStatus.recorded, now)

        subject_type, subject_id = change.subject
        await session.execute(
            pg_insert(InboundSubject)
            .values(subject_type=subject_type, subject_id=subject_id)
            .on_conflict_do_nothing()
        )
        held = (
            await session.execute(
                select(InboundSubject)
                .where(
                    InboundSubject.subject_type == subject_type,
                    InboundSubject.subject_id == subject_id,
                )
                .with_for_update()
            )
        ).scalar_one()
        sequence = row.payload.get("sequence")
        incoming = (row.occurred_at, sequence if isinstance(sequence, int) else -1)
        current = (held.occurred_at or _EPOCH, held.sequence if held.sequence is not None else -1)
        if held.occurred_at is not None and incoming <= current:
            return _finish(row, InboundStatus.stale, now)

        client = registry_factory()
        try:
            await client.request(
                "POST",
                f"/api/v1/organizations/{change.organization_id}/status",
                json={"status": change.status, "reason": change.reason},
                idempotency_key=f"inbound:{row.id}",
            )
        except ServiceUnavailable as exc:
            row.attempts += 1
            row.next_attempt_at = now + backoff(row.attempts, settings)
            row.error = f"registry unavailable ({exc.status})"[:200]
            logger.warning(
                "registry unavailable; inbound message will be retried",
                extra={"inbound_id": str(row.id), "attempts": row.attempts},
            )
            return "retry_scheduled"
        except ServiceCallError as exc:
            return _finish(row, InboundStatus.failed, now, error=f"{exc.status} {exc.code}")
        finally:
            await client.aclose()
        held.occurred_at = row.occurred_at
        held.sequence = sequence if isinstance(sequence, int) else None
        held.event_id = row.id
        held.updated_at = now
        return _finish(row, InboundStatus.applied, now)


def _finish(row: InboundEvent, status: InboundStatus, now: datetime, *, error: str = "") -> str:
    row.status = status
    row.processed_at = now
    row.next_attempt_at = None
    row.error = error[:200] or None
    row.attempts += 1
    return status.value


def _fields(exc: ValidationError) -> str:
    return "invalid data: " + ", ".join(
        ".".join(str(part) for part in error["loc"]) for error in exc.errors()
    )
