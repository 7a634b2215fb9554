"""The reads documents need beyond the case itself."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.workflow.cases.models import CaseState, CaseTransition


async def notice_sent_at(session: AsyncSession, case_id: uuid.UUID) -> datetime | None:
    """When the one-time notice went out (the case's move to supplement_requested)."""
    query = select(func.max(CaseTransition.at)).where(
        CaseTransition.case_id == case_id,
        CaseTransition.to_state == CaseState.supplement_requested.value,
    )
    return (await session.execute(query)).scalar_one_or_none()
