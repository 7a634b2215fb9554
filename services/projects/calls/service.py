"""Rules of calls: a purchasing department publishes calls of its own department only."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from services.projects.access import is_finance
from services.projects.base import infra
from services.projects.calls.models import Call, CallStatus
from services.projects.calls.schemas import CallCreate, CallOut, CallUpdate
from services.projects.core.models import Project
from services.projects.funds.models import Fund, FundPool
from services.projects.reference.code_lists import Department, slot_of
from shared.auth import Principal, Role
from shared.clock import end_of_day, shanghai_today
from shared.concurrency import require_version
from shared.db import database, utcnow
from shared.errors import Conflict, FieldError, Forbidden, NotFound, Unprocessable
from shared.interservice import AdmissionCriteria
from shared.outbox import record_event
from shared.pagination import Page, PageParams, paginate, to_page


def present(call: Call) -> CallOut:
    return CallOut.model_validate(
        {
            **{c.key: getattr(call, c.key) for c in Call.__table__.columns},
            "catalogue_slot": slot_of(call.catalogue_item),
            "accepting": accepting(call),
        }
    )


def accepting(call: Call) -> bool:
    return call.status is CallStatus.open and utcnow() < call.deadline_at


def _visible(principal: Principal) -> ColumnElement[bool]:
    # Organizations see every call (they need them to apply); a purchasing department
    # sees its own; the bureau, finance, auditors and services see all.
    if principal.role is Role.department_reviewer and not is_finance(principal):
        return Call.department == principal.department
    return true()


def _require_publisher(principal: Principal, department: Department) -> None:
    if principal.role is Role.civil_affairs:
        return
    if principal.role is Role.department_reviewer and principal.department == department:
        return
    raise Forbidden(
        "Calls are published by the bureau or by the purchasing department itself",
        code="department_scope",
    )


async def create(session: AsyncSession, *, principal: Principal, data: CallCreate) -> Call:
    _require_publisher(principal, data.department)
    fund = await session.get(Fund, data.fund_id)
    pool = await session.get(FundPool, data.pool_id)
    errors = []
    if fund is None:
        errors.append(FieldError(field="body.fund_id", message="no such fund", code="not_found"))
    elif fund.year != data.year:
        errors.append(
            FieldError(field="body.year", message="the fund is of another year", code="year")
        )
    if pool is None or pool.fund_id != data.fund_id:
        errors.append(
            FieldError(field="body.pool_id", message="no such pool in the fund", code="not_found")
        )
    elif data.budget_ceiling_fen > pool.amount_fen:
        errors.append(
            FieldError(
                field="body.budget_ceiling_fen",
                message="the ceiling exceeds the whole pool",
                code="ceiling_exceeds_pool",
            )
        )
    if data.deadline_on < shanghai_today():
        errors.append(
            FieldError(field="body.deadline_on", message="the deadline has passed", code="past")
        )
    if errors:
        raise Unprocessable("The call is inconsistent", code="invalid_call", errors=errors)
    call = Call(
        id=uuid.uuid4(),
        **data.model_dump(exclude={"service_targets"}),
        service_targets=[t.value for t in data.service_targets],
        deadline_at=end_of_day(data.deadline_on),
        status=CallStatus.open,
        created_by=principal.sub,
    )
    session.add(call)
    await session.flush()
    await _event(session, call, "call.published")
    return call


async def _event(session: AsyncSession, call: Call, event_type: str) -> None:
    await record_event(
        session,
        infra.outbox,
        event_type=event_type,
        subject_type="call",
        subject_id=call.id,
        data={"call_id": str(call.id), "department": call.department.value},
    )


async def get(
    session: AsyncSession, *, principal: Principal, call_id: uuid.UUID, lock: bool = False
) -> Call:
    query = select(Call).where(Call.id == call_id, _visible(principal))
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    call = (await session.execute(query)).scalar_one_or_none()
    if call is None:
        raise NotFound("No such call", code="call_not_found")
    return call


async def admission_of(*, principal: Principal, call_id: uuid.UUID) -> AdmissionCriteria:
    """Whom the call admits, read in a short transaction of its own: the registry is asked
    next, and no connection or lock is held meanwhile (the criteria never change)."""
    async with database.transaction() as session:
        return (await get(session, principal=principal, call_id=call_id)).admission()


async def list_page(
    session: AsyncSession,
    *,
    principal: Principal,
    page: PageParams,
    department: Department | None,
    year: int | None,
    accepting_only: bool,
) -> Page[CallOut]:
    query = select(Call).where(_visible(principal))
    if department is not None:
        query = query.where(Call.department == department)
    if year is not None:
        query = query.where(Call.year == year)
    if accepting_only:
        query = query.where(Call.status == CallStatus.open, Call.deadline_at > utcnow())
    rows, total = await paginate(session, query, page, order_by=(Call.deadline_on.desc(), Call.id))
    return to_page(rows, total, page, present)


async def update(
    session: AsyncSession,
    *,
    principal: Principal,
    call_id: uuid.UUID,
    if_match: str | None,
    data: CallUpdate,
) -> Call:
    call = await get(session, principal=principal, call_id=call_id, lock=True)
    _require_publisher(principal, call.department)
    require_version(if_match, call.version)
    changes = data.model_dump(exclude_unset=True)
    if "budget_ceiling_fen" in changes:
        applied = await session.execute(
            select(Project.id).where(Project.call_id == call.id).limit(1)
        )
        if applied.first() is not None:
            raise Conflict(
                "The ceiling cannot change once organizations have applied",
                code="call_has_applications",
            )
    for name, value in changes.items():
        if value is not None:
            setattr(call, name, value)
    if data.deadline_on is not None:
        call.deadline_at = end_of_day(data.deadline_on)
    await session.flush()
    await _event(session, call, "call.updated")
    return call


async def close(session: AsyncSession, *, principal: Principal, call_id: uuid.UUID) -> Call:
    call = await get(session, principal=principal, call_id=call_id, lock=True)
    _require_publisher(principal, call.department)
    if call.status is CallStatus.closed:
        raise Conflict("The call is already closed", code="call_closed")
    call.status = CallStatus.closed
    await session.flush()
    await _event(session, call, "call.closed")
    return call
