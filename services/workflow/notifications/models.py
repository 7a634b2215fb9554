"""The applicant's notification outbox: one row per message, written with the change.

A row is written in the transaction that moves the case (supplement requested, accepted,
decided), so a message is never lost nor sent for a change that rolled back; the worker
delivers it afterwards through the configured adapter and records the outcome here.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from services.workflow.base import Base
from shared.db import str_enum


class NotificationChannel(StrEnum):
    in_app = "in_app"  # 站内信: read in the applicant's inbox, GET /notifications
    sms = "sms"  # 短信


class NotificationStatus(StrEnum):
    pending = "pending"
    delivered = "delivered"
    failed = "failed"  # gave up after the last attempt


class ApplicantNotification(Base):
    __tablename__ = "applicant_notification"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("approval_case.id"), index=True)
    # What happened to the case, e.g. `supplement_requested` (one message per change).
    topic: Mapped[str] = mapped_column(String(40))
    channel: Mapped[NotificationChannel] = mapped_column(
        str_enum(NotificationChannel, "notification_channel")
    )
    # The applicant organization's id (in-app). Never an ID or phone number in clear.
    recipient: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[NotificationStatus] = mapped_column(
        str_enum(NotificationStatus, "notification_status")
    )
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    next_attempt_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        Index("ix_applicant_notification_recipient", "recipient", "created_at"),
        Index(
            "ix_applicant_notification_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
    )
