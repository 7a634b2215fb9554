"""An organization's standing: its status and its entries on the two credit lists.

Status and lists move together, so that they never disagree:
- an open entry on the abnormal-activity list (活动异常名录) makes an active
  organization `abnormal`; removing its last open entry makes it `active` again, and
  setting an abnormal organization `active` removes its open entries;
- setting an organization `abnormal` lists it (reason `other` unless given);
- revocation (撤销登记) is final and lists the organization on the serious illegal &
  dishonest list (《社会组织信用信息管理办法》 art. 14: 被撤销登记的);
- deregistration (注销) is final.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import events
from services.registry.enums import (
    LIST_REASONS,
    ListReason,
    ListType,
    OrganizationStatus,
)
from services.registry.organizations import history
from services.registry.organizations.models import Organization
from services.registry.organizations.service import refuse_if_closed
from services.registry.standing.models import ListEntry
from shared.auth import Principal
from shared.clock import shanghai_today
from shared.errors import Conflict, FieldError, NotFound, Unprocessable


async def change_status(
    session: AsyncSession,
    *,
    principal: Principal,
    organization: Organization,
    to: OrganizationStatus,
    reason: str,
    reason_code: ListReason | None = None,
    source: str = history.Source.api,
) -> bool:
    """Move the organization to `to`; False when it already is there (nothing recorded)."""
    if organization.status is to:
        return False
    refuse_if_closed(organization)
    before = organization.status
    if to is OrganizationStatus.abnormal:
        if not await open_entries(session, organization.id, ListType.abnormal):
            await _insert_entry(
                session,
                principal=principal,
                organization=organization,
                list_type=ListType.abnormal,
                reason_code=reason_code or ListReason.other,
                reason=reason,
                listed_on=shanghai_today(),
            )
    elif to is OrganizationStatus.active:
        for entry in await open_entries(session, organization.id, ListType.abnormal):
            await _close_entry(
                session,
                principal=principal,
                entry=entry,
                reason=reason,
                removed_on=shanghai_today(),
            )
    elif to is OrganizationStatus.revoked and not any(
        e.reason_code is ListReason.registration_revoked
        for e in await open_entries(session, organization.id, ListType.serious_illegal)
    ):
        await _insert_entry(
            session,
            principal=principal,
            organization=organization,
            list_type=ListType.serious_illegal,
            reason_code=ListReason.registration_revoked,
            reason=reason,
            listed_on=shanghai_today(),
        )
    organization.status = to
    await session.flush()
    await history.record(
        session,
        organization_id=organization.id,
        principal=principal,
        action=history.Action.status_changed,
        source=source,
        changes={"status": (before, to)},
        reason=reason,
    )
    await events.emit(
        session,
        "organization.status_changed",
        subject_type=events.ORGANIZATION,
        subject_id=organization.id,
        data={"from": before, "to": to, "source": source},
    )
    return True


async def open_entries(
    session: AsyncSession, organization_id: uuid.UUID, list_type: ListType | None = None
) -> Sequence[ListEntry]:
    query = select(ListEntry).where(
        ListEntry.organization_id == organization_id, ListEntry.removed_on.is_(None)
    )
    if list_type is not None:
        query = query.where(ListEntry.list_type == list_type)
    return (await session.execute(query.order_by(ListEntry.listed_on))).scalars().all()


async def add_entry(
    session: AsyncSession,
    *,
    principal: Principal,
    organization: Organization,
    list_type: ListType,
    reason_code: ListReason,
    reason: str,
    listed_on: date | None,
    report_year: int | None = None,
) -> ListEntry:
    listed_on = listed_on or shanghai_today()
    errors = []
    if reason_code not in LIST_REASONS[list_type]:
        errors.append(
            FieldError(
                field="body.reason_code",
                message=f"{reason_code} is not a reason for the {list_type} list",
                code="reason_not_for_list",
            )
        )
    if listed_on > shanghai_today():
        errors.append(
            FieldError(field="body.listed_on", message="Cannot be ahead", code="date_in_future")
        )
    if errors:
        raise Unprocessable("Invalid list entry", code="invalid_list_entry", errors=errors)
    # Credit lists outlive the organization (a revoked one may still be put on the
    # serious list), but the abnormal list is about activity: open organizations only.
    if list_type is ListType.abnormal:
        refuse_if_closed(organization)
    if any(
        e.reason_code is reason_code
        for e in await open_entries(session, organization.id, list_type)
    ):
        raise Conflict("Already listed for this reason", code="already_listed")
    entry = await _insert_entry(
        session,
        principal=principal,
        organization=organization,
        list_type=list_type,
        reason_code=reason_code,
        reason=reason,
        listed_on=listed_on,
        report_year=report_year,
    )
    if list_type is ListType.abnormal and organization.status is OrganizationStatus.active:
        await change_status(
            session,
            principal=principal,
            organization=organization,
            to=OrganizationStatus.abnormal,
            reason=reason,
        )
    return entry


async def remove_entry(
    session: AsyncSession,
    *,
    principal: Principal,
    organization: Organization,
    entry_id: uuid.UUID,
    reason: str,
    removed_on: date | None,
) -> ListEntry:
    entry = (
        await session.execute(
            select(ListEntry)
            .where(ListEntry.id == entry_id, ListEntry.organization_id == organization.id)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if entry is None:
        raise NotFound("No such list entry", code="list_entry_not_found")
    if entry.removed_on is not None:
        raise Conflict("This entry was removed already", code="list_entry_removed")
    removed_on = removed_on or shanghai_today()
    if removed_on < entry.listed_on or removed_on > shanghai_today():
        raise Unprocessable(
            "The removal date must lie between the listing date and today",
            code="invalid_removal_date",
            errors=[
                FieldError(
                    field="body.removed_on", message="Out of range", code="date_out_of_range"
                )
            ],
        )
    await _close_entry(
        session, principal=principal, entry=entry, reason=reason, removed_on=removed_on
    )
    if (
        entry.list_type is ListType.abnormal
        and organization.status is OrganizationStatus.abnormal
        and not await open_entries(session, organization.id, ListType.abnormal)
    ):
        await change_status(
            session,
            principal=principal,
            organization=organization,
            to=OrganizationStatus.active,
            reason=reason,
        )
    return entry


async def _insert_entry(
    session: AsyncSession,
    *,
    principal: Principal,
    organization: Organization,
    list_type: ListType,
    reason_code: ListReason,
    reason: str,
    listed_on: date,
    report_year: int | None = None,
) -> ListEntry:
    entry = ListEntry(
        id=uuid.uuid4(),
        organization_id=organization.id,
        list_type=list_type,
        reason_code=reason_code,
        reason=reason,
        listed_on=listed_on,
        listed_by=principal.sub,
        report_year=report_year,
    )
    session.add(entry)
    await session.flush()
    await history.record(
        session,
        organization_id=organization.id,
        principal=principal,
        action=history.Action.listed,
        changes={list_type.value: (None, reason_code)},
        reason=reason,
    )
    await events.emit(
        session,
        "organization.listed",
        subject_type=events.ORGANIZATION,
        subject_id=organization.id,
        data={"entry_id": entry.id, "list_type": list_type, "reason_code": reason_code},
    )
    return entry


async def _close_entry(
    session: AsyncSession, *, principal: Principal, entry: ListEntry, reason: str, removed_on: date
) -> None:
    entry.removed_on = removed_on
    entry.removal_reason = reason
    entry.removed_by = principal.sub
    await session.flush()
    await history.record(
        session,
        organization_id=entry.organization_id,
        principal=principal,
        action=history.Action.delisted,
        changes={entry.list_type.value: (entry.reason_code, None)},
        reason=reason,
    )
    await events.emit(
        session,
        "organization.delisted",
        subject_type=events.ORGANIZATION,
        subject_id=entry.organization_id,
        data={"entry_id": entry.id, "list_type": entry.list_type, "reason_code": entry.reason_code},
    )
