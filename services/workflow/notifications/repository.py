"""Every query of the applicant's notifications."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.workflow.notifications.models import (
    ApplicantNotification,
    NotificationChannel,
    NotificationStatus,
)
from shared.pagination import PageParams, paginate


async def claim_due(
    session: AsyncSession, *, now: datetime, limit: int
) -> Sequence[ApplicantNotification]:
    query = (
        select(ApplicantNotification)
        .where(
            ApplicantNotification.status == NotificationStatus.pending,
            ApplicantNotification.next_attempt_at <= now,
        )
        .order_by(ApplicantNotification.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (await session.execute(query)).scalars().all()


async def inbox(
    session: AsyncSession, *, recipient: str, page: PageParams
) -> tuple[Sequence[ApplicantNotification], int]:
    """The recipient's in-app messages (站内信), newest first."""
    query = select(ApplicantNotification).where(
        ApplicantNotification.recipient == recipient,
        ApplicantNotification.channel == NotificationChannel.in_app,
    )
    return await paginate(
        session,
        query,
        page,
        order_by=(ApplicantNotification.created_at.desc(), ApplicantNotification.id),
    )
