"""Rules of the register: creating, reading, changing organizations, with history and events.

Functions flush, never commit: the request's transaction commits once, after the
endpoint returns, together with the history rows and outbox events written here.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import events
from services.registry.access import (
    may_see_id_numbers,
    require_editor,
    require_street_scope,
)
from services.registry.enums import (
    LABELS,
    TERMINAL_STATUSES,
    Category,
    EvaluationGrade,
    IncubationStage,
    OrganizationKind,
    OrganizationStatus,
    Registration,
)
from services.registry.organizations import history, repository
from services.registry.organizations.id_numbers import mask_id_number
from services.registry.organizations.models import Organization
from services.registry.organizations.schemas import (
    REQUIRED_FIELDS,
    CountBy,
    OrganizationCreate,
    OrganizationOut,
    OrganizationStats,
    OrganizationUpdate,
    SortKey,
)
from services.registry.organizations.validation import issues_touching, organization_issues
from services.registry.reference import repository as reference_repository
from shared.auth import Principal, Role
from shared.clock import shanghai_today
from shared.concurrency import require_version
from shared.errors import Conflict, FieldError, Forbidden, NotFound, Unprocessable
from shared.pagination import PageParams
from shared.reads import ReadPool


def present(organization: Organization | dict[str, Any], principal: Principal) -> OrganizationOut:
    out = OrganizationOut.model_validate(organization)
    if not may_see_id_numbers(principal):
        out.legal_rep_id_number = mask_id_number(out.legal_rep_id_number)
    return out


def not_found() -> NotFound:
    return NotFound("No such organization", code="organization_not_found")


def refuse_if_closed(organization: Organization) -> None:
    if organization.status in TERMINAL_STATUSES:
        raise Conflict(
            "A revoked or deregistered organization cannot change", code="organization_closed"
        )


async def create(
    session: AsyncSession, *, principal: Principal, data: OrganizationCreate
) -> Organization:
    require_editor(principal)
    require_street_scope(principal, registration=data.registration, street=data.street_code)
    if issues := organization_issues(data.model_dump(), today=shanghai_today()):
        raise Unprocessable(
            "The organization's codes or fields are invalid",
            code="invalid_codes",
            errors=[issue.field_error() for issue in issues],
        )
    if await repository.find_by_codes(session, uscc=data.uscc, filing_number=data.filing_number):
        raise Conflict(
            "An organization with this USCC or filing number exists", code="organization_exists"
        )
    if data.registration is Registration.registered and (
        await repository.name_in_use(session, data.name)
        or await repository.name_applied_for(session, data.name)
    ):
        raise Conflict(
            "An organization of this name is registered or applied for", code="name_taken"
        )
    organization = Organization(
        id=uuid.uuid4(), status=OrganizationStatus.active, **data.model_dump()
    )
    session.add(organization)
    await session.flush()
    await history.record(
        session, organization_id=organization.id, principal=principal, action=history.Action.created
    )
    await events.emit(
        session,
        "organization.created",
        subject_type=events.ORGANIZATION,
        subject_id=organization.id,
        data={"registration": data.registration, "kind": data.kind, "source": "api"},
    )
    return organization


async def get(
    session: AsyncSession,
    *,
    principal: Principal,
    organization_id: uuid.UUID,
    for_update: bool = False,
) -> Organization:
    organization = await repository.get_visible(
        session, principal=principal, organization_id=organization_id, for_update=for_update
    )
    if organization is None:
        raise not_found()
    return organization


async def read(
    reads: ReadPool, *, principal: Principal, organization_id: uuid.UUID
) -> dict[str, Any]:
    """`get` without a session: one statement, for requests that change nothing."""
    row = await repository.read_visible(reads, principal=principal, organization_id=organization_id)
    if row is None:
        raise not_found()
    return row


def _field_error(field: str, code: str, message: str) -> FieldError:
    return FieldError(field=f"body.{field}", message=message, code=code)


async def apply_changes(
    session: AsyncSession,
    *,
    principal: Principal,
    organization: Organization,
    changes: dict[str, Any],
    source: str,
    reason: str | None = None,
) -> dict[str, tuple[Any, Any]]:
    """Validate and apply field changes with their history and event; returns what changed.

    Shared by PATCH and approved change applications.
    """
    refuse_if_closed(organization)
    errors = [
        _field_error(field, "field_required", "This field cannot be cleared")
        for field, value in changes.items()
        if value is None and field in REQUIRED_FIELDS
    ]
    changed = {
        field: (getattr(organization, field), value)
        for field, value in changes.items()
        if getattr(organization, field) != value
    }
    merged = {
        column.key: getattr(organization, column.key) for column in Organization.__table__.columns
    }
    merged.update({field: after for field, (_, after) in changed.items()})
    issues = issues_touching(organization_issues(merged, today=shanghai_today()), changed)
    errors += [issue.field_error() for issue in issues]
    if errors:
        raise Unprocessable("Invalid field values", code="invalid_fields", errors=errors)
    if not changed:
        return changed
    if (
        "name" in changed
        and organization.registration is Registration.registered
        and await repository.name_in_use(session, changes["name"], other_than=organization.id)
    ):
        raise Conflict("An organization of this name is registered", code="name_taken")
    for field, (_, after) in changed.items():
        setattr(organization, field, after)
    await session.flush()
    await history.record(
        session,
        organization_id=organization.id,
        principal=principal,
        action=history.Action.updated,
        source=source,
        changes=changed,
        reason=reason,
    )
    await events.organization_updated(session, organization.id, changed, source=source)
    return changed


async def update(
    session: AsyncSession,
    *,
    principal: Principal,
    organization_id: uuid.UUID,
    if_match: str | None,
    data: OrganizationUpdate,
) -> Organization:
    organization = await get(
        session, principal=principal, organization_id=organization_id, for_update=True
    )
    require_editor(principal, organization)
    require_version(if_match, organization.version)
    changes = data.model_dump(exclude_unset=True)
    if (
        principal.role is Role.street_office
        and "street_code" in changes
        and changes["street_code"] != organization.street_code
    ):
        raise Forbidden("A street office cannot move an organization", code="scope_forbidden")
    await apply_changes(
        session, principal=principal, organization=organization, changes=changes, source="api"
    )
    return organization


async def search(
    session: AsyncSession,
    *,
    principal: Principal,
    filters: repository.OrganizationFilters,
    sort: SortKey,
    page: PageParams,
) -> tuple[Sequence[Organization | dict[str, Any]], int]:
    return await repository.search(
        session, principal=principal, filters=filters, sort=sort, page=page
    )


# The enum whose labels label each group of the stats (streets are named by the regions).
_STAT_ENUMS: dict[str, type[StrEnum]] = {
    "by_registration": Registration,
    "by_kind": OrganizationKind,
    "by_category": Category,
    "by_status": OrganizationStatus,
    "by_evaluation_grade": EvaluationGrade,
    "by_incubation_stage": IncubationStage,
}


async def stats(session: AsyncSession, *, principal: Principal) -> OrganizationStats:
    counts = await repository.grouped_counts(session, principal=principal)
    streets = {key for key, _ in counts.get("by_street", ()) if key is not None}
    labels = {name: LABELS.get(enum, {}) for name, enum in _STAT_ENUMS.items()}
    labels["by_street"] = await reference_repository.region_names(session, streets)
    groups = {
        name: [
            CountBy(key=key, count=count, label=None if key is None else labels[name].get(key))
            for key, count in items
        ]
        for name, items in counts.items()
    }
    closed, above_district = await repository.outside_counts(session, principal=principal)
    return OrganizationStats(
        total=sum(item.count for item in groups["by_registration"]),
        **groups,
        closed=[
            CountBy(key=key, count=count, label=labels["by_status"].get(key))
            for key, count in sorted(closed.items())
        ],
        registered_above_district=above_district,
    )
