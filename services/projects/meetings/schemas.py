"""Request and response models of the three meetings (三会)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from services.projects.meetings.models import MeetingKind
from shared.dates import Instant


class Attendee(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    organization: str | None = Field(default=None, max_length=200)
    role: str | None = Field(default=None, max_length=100, examples=["主持人"])


class Document(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    url: str = Field(min_length=1, max_length=500)


class MeetingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: MeetingKind
    held_at: Instant
    location: str = Field(min_length=1, max_length=300)
    attendees: list[Attendee] = Field(min_length=1, max_length=500)
    minutes: str = Field(min_length=1, max_length=50_000)
    documents: list[Document] = Field(
        default_factory=list, max_length=50, description="Published documents (公开材料)"
    )


class MeetingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    project_id: uuid.UUID
    kind: MeetingKind
    held_at: datetime
    location: str
    attendees: list[Attendee]
    minutes: str
    documents: list[Document]
    recorded_by: str
    recorded_at: datetime
