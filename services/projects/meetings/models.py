"""The three public meetings (三会), each held for a call's batch of projects.

"由市委社工办负责统筹市级部门的政府购买社会服务项目监管流程,举办项目新闻发布会、督导见面会和
评估说明会": the 社工办 holds each meeting once for the projects of a call (a batch), not
once per project. A meeting belongs to its call and covers the projects it names
(`meeting_project`); a project is covered by at most one meeting of each kind, whichever
batch it came in (a project contracted late joins a later meeting of the same call).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, ForeignKeyConstraint, String, Text, UniqueConstraint, func
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
    """One meeting held for a call's batch of projects."""

    __tablename__ = "meeting"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    call_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("call.id"), index=True)
    kind: Mapped[MeetingKind] = mapped_column(str_enum(MeetingKind, "meeting_kind"))
    held_at: Mapped[datetime]
    location: Mapped[str] = mapped_column(String(300))
    attendees: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    minutes: Mapped[str] = mapped_column(Text)
    documents: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(server_default=func.now())

    # The target of `meeting_project`'s (meeting_id, kind) key.
    __table_args__ = (UniqueConstraint("id", "kind"),)


class MeetingProject(Base):
    """A project a meeting covered; the kind is the meeting's (a composite foreign key),
    so that a project has at most one meeting of each kind (a unique constraint)."""

    __tablename__ = "meeting_project"

    meeting_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    project_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("project.id"), primary_key=True, index=True
    )
    kind: Mapped[MeetingKind] = mapped_column(str_enum(MeetingKind, "meeting_kind"))

    __table_args__ = (
        ForeignKeyConstraint(["meeting_id", "kind"], ["meeting.id", "meeting.kind"]),
        UniqueConstraint("project_id", "kind"),
    )
