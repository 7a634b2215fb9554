"""What the applicant is told, and when: one message per case change that concerns them.

The message is written in the transaction that changes the case (`notify_applicant`),
and delivered later by the worker (`deliver_due`): a rolled-back change sends nothing,
a committed one is never lost. Texts name the case and the materials, never an ID or
phone number (they are logged and stored in clear).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.workflow.cases.models import ApprovalCase, CaseState
from services.workflow.config import get_workflow_settings
from services.workflow.notifications import repository
from services.workflow.notifications.adapters import Adapter, DeliveryFailed
from services.workflow.notifications.models import (
    ApplicantNotification,
    NotificationChannel,
    NotificationStatus,
)
from shared.backoff import backoff_delay
from shared.clock import shanghai_date
from shared.db import utcnow

logger = logging.getLogger("sanshe.workflow.notifications")

# The case changes an applicant hears about, by the state the case entered.
TOPICS: dict[CaseState, str] = {
    CaseState.supplement_requested: "supplement_requested",
    CaseState.accepted: "accepted",
    CaseState.approved: "approved",
    CaseState.rejected: "rejected",
}


def compose(case: ApprovalCase) -> str:
    """The message for the state the case is in (Chinese, as the applicant reads it)."""
    title = f"您的申请“{case.title}”"
    state = case.state
    if state is CaseState.supplement_requested:
        names = "、".join(str(item.get("code")) for item in case.supplement_notice or [])
        lines = "；".join(str(item.get("message")) for item in case.supplement_notice or [])
        return (
            f"{title}需补正材料（一次性告知，仅此一次）：{lines or names}。"
            "请下载《一次性告知书》，一次补齐后重新提交。"
        )
    if state is CaseState.accepted:
        pending = [m for m in case.pending_materials or [] if not m.get("provided_at")]
        note = ""
        if pending:
            names = "、".join(str(m.get("name")) for m in pending)
            note = f"容缺受理，请在承诺期限内补交：{names}。"
        return f"{title}已受理，进入部门联合审查。{note}可下载《受理通知书》。"
    if state is CaseState.approved:
        return f"{title}已准予（{shanghai_date(case.decided_at or utcnow())}），可下载准予决定书。"
    return f"{title}不予准予，理由见不予决定书。"


def notify_applicant(session: AsyncSession, case: ApprovalCase) -> None:
    """Write the applicant's message for the state the case just entered, if any.

    The in-app message (站内信) goes to the applicant organization; a case filed at the
    window for promoters without an organization yet has no inbox to write to.
    """
    topic = TOPICS.get(case.state)
    if topic is None or case.applicant_org_id is None:
        return
    session.add(
        ApplicantNotification(
            id=uuid.uuid4(),
            case_id=case.id,
            topic=topic,
            channel=NotificationChannel.in_app,
            recipient=case.applicant_org_id,
            body=compose(case),
            status=NotificationStatus.pending,
            attempts=0,
            next_attempt_at=utcnow(),
        )
    )


async def deliver_due(session: AsyncSession, *, adapter: Adapter, now: datetime) -> int:
    """Deliver the due messages through the adapter; a failure is retried with backoff.

    Rows are claimed with SKIP LOCKED, so two workers never send the same message at
    once. A sink that took the message but whose commit then failed gets it again on
    the next sweep: delivery is at least once, and each message carries its id.
    """
    settings = get_workflow_settings()
    due = await repository.claim_due(session, now=now, limit=settings.workflow_notification_batch)
    for notification in due:
        notification.attempts += 1
        try:
            await adapter.send(notification)
        except DeliveryFailed as exc:
            notification.last_error = str(exc)[:300]
            if notification.attempts >= settings.workflow_notification_max_attempts:
                notification.status = NotificationStatus.failed
                notification.next_attempt_at = None
            else:
                notification.next_attempt_at = now + backoff_delay(
                    notification.attempts,
                    base=settings.workflow_notification_backoff_seconds,
                    cap=settings.workflow_notification_backoff_max_seconds,
                )
            logger.warning(
                "notification not delivered",
                extra={"notification_id": str(notification.id), "attempt": notification.attempts},
            )
            continue
        notification.status = NotificationStatus.delivered
        notification.delivered_at = now
        notification.next_attempt_at = None
        notification.last_error = None
    return len(due)
