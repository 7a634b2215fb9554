"""The three public meetings (三会), one record each per project."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.projects.base import Base
from shared.db import str_enum


class MeetingKind(StrEnum):
    press_conference = "press_conference"  # 项目新闻发布会: opens implementation (立项)
    supervision_meeting = "supervision_meeting"  # 督导见面会: mid-term supervision
    evaluation_briefing = "evaluation_briefing"  # 评估说明会: explains the evaluation


MEETING_LABELS: dict[MeetingKind, str] = {
    MeetingKind.press_conference: "项目新闻发布会",
    MeetingKind.supervision_meeting: "督导见面会",
    MeetingKind.evaluation_briefing: "评估说明会",
}


class Meeting(Base):
    __tablename__ = "meeting"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("project.id"), index=True)
    kind: Mapped[MeetingKind] = mapped_column(str_enum(MeetingKind, "meeting_kind"))
    held_at: Mapped[datetime]
    location: Mapped[str] = mapped_column(String(300))
    attendees: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    minutes: Mapped[str] = mapped_column(Text)
    documents: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (UniqueConstraint("project_id", "kind"),)
