"""How a subject service (registry, projects) asks the workflow for a case and takes its outcome.

Asking: `request_case` writes the `CaseRequest` as an internal outbox command in the
caller's transaction, so the case is requested if and only if the subject's change
commits; the worker opens it (once: the command id is unique). `request_withdrawal`
does the same for the applicant's withdrawal.

Receiving: the workflow POSTs a `CaseOutcome` until it gets a 2xx, so the same outcome
may arrive many times. `claim_outcome` claims the case id in the service's
`case_outcome_receipt` table in the transaction that applies the outcome: the first
delivery applies it; a repeat finds the receipt and changes nothing (`applied: false`);
a contradicting repeat (another outcome, or another subject, for the same case) is a
409 `outcome_conflict`.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Column, MetaData, String, Table, func, select
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import TimestampTZ
from shared.errors import Conflict
from shared.interservice import (
    CASE_REQUESTED_EVENT,
    CASE_WITHDRAWAL_REQUESTED_EVENT,
    CaseOutcome,
    CaseRequest,
    CaseWithdrawalRequest,
)
from shared.outbox import record_event


def outcome_receipts(metadata: MetaData) -> Table:
    """One row per case outcome a service applied (its schema's `case_outcome_receipt`)."""
    return Table(
        "case_outcome_receipt",
        metadata,
        Column("case_id", UUID(as_uuid=True), primary_key=True),
        Column("case_type", String(60), nullable=False),
        Column("subject_type", String(60), nullable=False),
        Column("subject_id", String(100), nullable=False),
        Column("outcome", String(20), nullable=False),
        Column("received_at", TimestampTZ(), nullable=False, server_default=func.now()),
    )


async def request_case(
    session: AsyncSession,
    outbox: Table,
    request: CaseRequest,
    *,
    subject_type: str,
    subject_id: str | uuid.UUID,
) -> uuid.UUID:
    """Ask the workflow for a case, in the caller's transaction; returns the event id.

    `subject_type`/`subject_id` name the outbox subject the command is filed under (the
    entity whose row the caller holds locked), which may be wider than the case's own
    subject: a payment request's case is filed under its project.
    """
    return await record_event(
        session,
        outbox,
        event_type=CASE_REQUESTED_EVENT,
        subject_type=subject_type,
        subject_id=subject_id,
        data=request.model_dump(mode="json"),
    )


async def request_withdrawal(
    session: AsyncSession,
    outbox: Table,
    request: CaseWithdrawalRequest,
    *,
    subject_type: str,
    subject_id: str | uuid.UUID,
) -> uuid.UUID:
    """Ask the workflow to withdraw a case, in the caller's transaction."""
    return await record_event(
        session,
        outbox,
        event_type=CASE_WITHDRAWAL_REQUESTED_EVENT,
        subject_type=subject_type,
        subject_id=subject_id,
        data=request.model_dump(mode="json"),
    )


async def claim_outcome(session: AsyncSession, receipts: Table, outcome: CaseOutcome) -> bool:
    """True for the first delivery of this outcome (apply it now), False for a repeat.

    A concurrent first delivery holds the row until it commits; the insert waits for it
    and then sees the receipt. A repeat that contradicts the receipt raises 409.
    """
    claimed = await session.execute(
        pg_insert(receipts)
        .values(
            case_id=outcome.case_id,
            case_type=outcome.case_type,
            subject_type=outcome.subject_type,
            subject_id=outcome.subject_id,
            outcome=outcome.outcome,
        )
        .on_conflict_do_nothing()
        .returning(receipts.c.case_id)
    )
    if claimed.first() is not None:
        return True
    stored = (
        await session.execute(select(receipts).where(receipts.c.case_id == outcome.case_id))
    ).one()
    if stored.outcome != outcome.outcome or stored.subject_id != outcome.subject_id:
        raise Conflict(
            f"Case {outcome.case_id} was already applied as {stored.outcome}",
            code="outcome_conflict",
        )
    return False
