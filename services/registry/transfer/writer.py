"""Write an import with COPY, batch by batch, in the request's transaction.

New organizations are copied straight into `organization`; changed ones into a
temporary table, batch by batch, and applied at the end with one `UPDATE ... FROM`
(per batch, the statement cost a scan of the register each time). Their history rows and outbox
events (`organization.created` / `organization.updated`, with the changed field names)
are copied too, so a batch of 5,000 rows costs a handful of statements instead of
5,000 round trips. All of it commits or rolls back with the request.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.base import SCHEMA, infra
from services.registry.enums import OrganizationStatus
from services.registry.organizations.history import Action, Source, history_rows
from services.registry.transfer.columns import IMPORTED
from services.registry.transfer.connection import asyncpg_connection
from services.registry.transfer.importer import Batch
from shared.auth import Principal
from shared.clock import utcnow
from shared.request_context import current_request_id

_FIELDS = [column.code for column in IMPORTED]
_RECORDS_PER_TURN = 2_000
# Built from this module's own column codes, never from input.
_CREATE_STAGING = (
    "CREATE TEMP TABLE import_update ON COMMIT DROP AS "  # noqa: S608
    f"SELECT id, {', '.join(_FIELDS)} FROM {SCHEMA}.organization WITH NO DATA"
)
_APPLY_STAGING = (
    f"UPDATE {SCHEMA}.organization o SET {', '.join(f'{f} = u.{f}' for f in _FIELDS)}, "  # noqa: S608
    "version = o.version + 1, updated_at = now() FROM import_update u WHERE o.id = u.id"
)
_HISTORY_COLUMNS = [
    "organization_id",
    "actor_sub",
    "actor_role",
    "action",
    "field",
    "before",
    "after",
    "reason",
    "source",
    "request_id",
]
_OUTBOX_COLUMNS = [
    "id",
    "event_type",
    "subject_type",
    "subject_id",
    "subject_seq",
    "payload",
    "request_id",
    "occurred_at",
]


def _db(value: Any) -> Any:
    """A Python value as asyncpg's COPY wants it (enums as their codes)."""
    return getattr(value, "value", value)


def _json(value: Any) -> str | None:
    # SQLAlchemy's asyncpg codec for jsonb takes JSON text.
    return None if value is None else json.dumps(value, ensure_ascii=False)


async def _taking_turns(records: Iterable[tuple[Any, ...]]) -> AsyncIterator[tuple[Any, ...]]:
    """The records, with a turn of the event loop between batches.

    asyncpg waits only when the socket is full: building and encoding 100,000 rows in
    one go would hold the event loop, and every other request, for seconds.
    """
    for count, record in enumerate(records, start=1):
        yield record
        if count % _RECORDS_PER_TURN == 0:
            await asyncio.sleep(0)


async def _copy(
    session: AsyncSession, table: str, columns: Sequence[str], records: Iterable[tuple[Any, ...]]
) -> None:
    driver = await asyncpg_connection(session)
    schema = None if table.startswith("pg_temp.") else SCHEMA
    await driver.copy_records_to_table(
        table.removeprefix("pg_temp."),
        schema_name=schema,
        columns=list(columns),
        records=_taking_turns(records),
    )


class Writer:
    """Writes the batches of one import (`write` is an `importer.Apply`), then `finish`."""

    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        self._session = session
        self._principal = principal
        self._staging = False

    async def write(self, batch: Batch) -> None:
        session = self._session
        if batch.creates:
            columns = ["id", *_FIELDS, "status", "version"]
            await _copy(
                session,
                "organization",
                columns,
                (
                    (row["id"], *(_db(row[f]) for f in _FIELDS), OrganizationStatus.active.value, 1)
                    for row in batch.creates
                ),
            )
        if batch.updates:
            if not self._staging:
                await session.execute(text(_CREATE_STAGING))
                self._staging = True
            await _copy(
                session,
                "pg_temp.import_update",
                ["id", *_FIELDS],
                ((u.organization_id, *(_db(u.values[f]) for f in _FIELDS)) for u in batch.updates),
            )
        await _copy(session, "change_record", _HISTORY_COLUMNS, _history(self._principal, batch))
        await _write_events(session, batch)

    async def finish(self) -> None:
        if self._staging:
            await self._session.execute(text(_APPLY_STAGING))


def _history(principal: Principal, plan: Batch) -> Iterable[tuple[Any, ...]]:
    changes = [(created["id"], Action.created, None) for created in plan.creates] + [
        (update.organization_id, Action.updated, update.changed) for update in plan.updates
    ]
    for organization_id, action, changed in changes:
        rows = history_rows(
            organization_id=organization_id,
            principal=principal,
            action=action,
            source=Source.import_file,
            changes=changed,
        )
        for row in rows:
            yield tuple(
                _json(row[c]) if c in ("before", "after") else row[c] for c in _HISTORY_COLUMNS
            )


async def _write_events(session: AsyncSession, plan: Batch) -> None:
    outbox = infra.outbox
    # Updated organizations continue their event sequence; new ones start at 1.
    subjects = [str(update.organization_id) for update in plan.updates]
    last_seq: dict[str, int] = {}
    for start in range(0, len(subjects), 5_000):
        rows = await session.execute(
            select(outbox.c.subject_id, func.max(outbox.c.subject_seq))
            .where(
                outbox.c.subject_type == "organization",
                outbox.c.subject_id.in_(subjects[start : start + 5_000]),
            )
            .group_by(outbox.c.subject_id)
        )
        last_seq.update({key: value for key, value in rows.all()})
    now = utcnow()
    request_id = current_request_id()

    def event(event_type: str, subject: str, seq: int, payload: dict[str, Any]) -> tuple[Any, ...]:
        return (
            uuid.uuid4(),
            event_type,
            "organization",
            subject,
            seq,
            _json(payload),
            request_id,
            now,
        )

    def events() -> Iterable[tuple[Any, ...]]:
        for created in plan.creates:
            subject = str(created["id"])
            payload = {
                "id": subject,
                "registration": created["registration"].value,
                "kind": created["kind"].value,
                "source": Source.import_file,
            }
            yield event("organization.created", subject, 1, payload)
        for update in plan.updates:
            subject = str(update.organization_id)
            payload = {
                "id": subject,
                "changed_fields": sorted(update.changed),
                "source": Source.import_file,
            }
            yield event("organization.updated", subject, last_seq.get(subject, 0) + 1, payload)

    await _copy(session, "outbox_event", _OUTBOX_COLUMNS, events())
