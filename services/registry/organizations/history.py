"""The history of each organization: who changed which field when, from what to what.

Written by the service layer in the transaction of the change, never by clients, and
append-only in the database (a trigger refuses UPDATE, DELETE and TRUNCATE). Values
are stored as JSON; resident ID numbers are stored as they were and masked when read
by a role that may not see them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.access import may_see_id_numbers
from services.registry.organizations.id_numbers import mask_id_number
from services.registry.organizations.models import ChangeRecord
from services.registry.organizations.schemas import ChangeRecordOut
from shared.auth import Principal
from shared.pagination import PageParams, paginate
from shared.request_context import current_request_id

# Fields whose values are personal ID numbers.
ID_NUMBER_FIELDS = frozenset({"legal_rep_id_number"})


class Action:
    created = "created"
    updated = "updated"
    status_changed = "status_changed"
    listed = "listed"
    delisted = "delisted"
    grade_downgraded = "grade_downgraded"
    incubation_changed = "incubation_changed"
    # A filed organization registered (备案转登记): the same record, now with a USCC.
    registered = "registered"


class Source:
    api = "api"
    import_file = "import"
    case_outcome = "case_outcome"
    inspection = "inspection"


def jsonable(value: Any) -> Any:
    """A value as it is kept in the history (JSON)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    return value


def history_rows(
    *,
    organization_id: uuid.UUID,
    principal: Principal,
    action: str,
    source: str,
    changes: Mapping[str, tuple[Any, Any]] | None = None,
    reason: str | None = None,
) -> list[dict[str, Any]]:
    """The rows recording one change: one per field, or one without a field."""
    common = {
        "organization_id": organization_id,
        "actor_sub": principal.sub,
        "actor_role": principal.role.value,
        "action": action,
        "reason": reason,
        "source": source,
        "request_id": current_request_id(),
    }
    if not changes:
        return [{**common, "field": None, "before": None, "after": None}]
    return [
        {**common, "field": field, "before": jsonable(before), "after": jsonable(after)}
        for field, (before, after) in sorted(changes.items())
    ]


async def record(
    session: AsyncSession,
    *,
    organization_id: uuid.UUID,
    principal: Principal,
    action: str,
    source: str = Source.api,
    changes: Mapping[str, tuple[Any, Any]] | None = None,
    reason: str | None = None,
) -> None:
    rows = history_rows(
        organization_id=organization_id,
        principal=principal,
        action=action,
        source=source,
        changes=changes,
        reason=reason,
    )
    await session.execute(insert(ChangeRecord), rows)


async def page_of(
    session: AsyncSession, *, organization_id: uuid.UUID, page: PageParams
) -> tuple[Sequence[ChangeRecord], int]:
    query = select(ChangeRecord).where(ChangeRecord.organization_id == organization_id)
    return await paginate(session, query, page, order_by=(ChangeRecord.id,))


def present(row: ChangeRecord, principal: Principal) -> ChangeRecordOut:
    out = ChangeRecordOut.model_validate(row, from_attributes=True)
    if row.field in ID_NUMBER_FIELDS and not may_see_id_numbers(principal):
        out.before = mask_id_number(out.before)
        out.after = mask_id_number(out.after)
    return out
