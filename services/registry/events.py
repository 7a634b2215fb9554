"""The registry's domain events, written to its outbox in the transaction of the change.

Payloads are thin: ids, codes, the names of the changed fields, never personal data or
free text (a consumer that needs more reads the record over the API). Provincial
systems keep their copy in sync by these events and their per-subject sequence.

| event type                       | subject      | data                                        |
|----------------------------------|--------------|---------------------------------------------|
| organization.created             | organization | id, registration, kind, source              |
| organization.updated             | organization | id, changed_fields, source                  |
| organization.status_changed      | organization | id, from, to                                |
| organization.listed / .delisted  | organization | id, entry_id, list_type, reason_code        |
| organization.incubation_recorded | organization | id, record_id, stage, phase                 |
| organization.incubation_phase_changed | organization | id, incubation_id, from (null), to |
| organization.seed_funding_granted | organization | id, grant_id, pool_id, amount_fen          |
| inspection.submitted / .concluded| organization | id, inspection_id, year (result)            |
| inspection.conclusion_recorded   | organization | id, inspection_id, year, result             |
| grade_evaluation.applied / .published | organization | id, evaluation_id, year, state, grade  |
| grade_evaluation.decided         | organization | id, evaluation_id, year, state, grade, outcome |
| application.submitted / .decided | application  | id, kind, organization_id (outcome, state)  |
| spot_check.drawn                 | spot_check   | id, year, level, sample_size                |
| spot_check.finding_recorded      | spot_check   | id, organization_id, finding                |
| workflow.case_requested          | application  | a `shared.interservice.CaseRequest`            |
| workflow.case_withdrawal_requested | application | a `shared.interservice.CaseWithdrawalRequest` |
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.base import infra
from shared.outbox import record_event

ORGANIZATION = "organization"
APPLICATION = "application"
SPOT_CHECK = "spot_check"


async def emit(
    session: AsyncSession,
    event_type: str,
    *,
    subject_type: str,
    subject_id: uuid.UUID,
    data: dict[str, Any] | None = None,
) -> uuid.UUID:
    payload = {"id": str(subject_id), **{k: _plain(v) for k, v in (data or {}).items()}}
    return await record_event(
        session,
        infra.outbox,
        event_type=event_type,
        subject_type=subject_type,
        subject_id=subject_id,
        data=payload,
    )


async def organization_updated(
    session: AsyncSession, organization_id: uuid.UUID, fields: Iterable[str], *, source: str
) -> None:
    await emit(
        session,
        "organization.updated",
        subject_type=ORGANIZATION,
        subject_id=organization_id,
        data={"changed_fields": sorted(fields), "source": source},
    )


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if hasattr(value, "value"):
        return value.value
    return value
