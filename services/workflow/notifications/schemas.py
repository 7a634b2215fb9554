"""The applicant's messages as the API shows them."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from services.workflow.notifications.models import NotificationChannel, NotificationStatus


class NotificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID
    topic: str = Field(examples=["supplement_requested"])
    channel: NotificationChannel
    text: str = Field(validation_alias="body")
    status: NotificationStatus
    created_at: datetime
    delivered_at: datetime | None
