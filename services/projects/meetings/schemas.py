"""Request and response models of the three meetings (三会), held for a call's batch."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

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


MAX_BATCH = 500


class BatchMeetingCreate(MeetingCreate):
    """A meeting the 社工办 holds for projects of one call."""

    project_ids: list[uuid.UUID] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_BATCH,
        description="The call's projects the meeting covers; by default every project of "
        "the call that is ready for it (at its stage, not yet covered by a meeting of this "
        "kind and, for a supervision meeting, with its mid-term report submitted)",
    )

    @field_validator("project_ids")
    @classmethod
    def _distinct(cls, ids: list[uuid.UUID] | None) -> list[uuid.UUID] | None:
        if ids is not None and len(set(ids)) != len(ids):
            raise ValueError("project ids must be distinct")
        return ids


class MeetingOut(BaseModel):
    id: uuid.UUID
    call_id: uuid.UUID = Field(description="The call whose batch of projects it was held for")
    project_ids: list[uuid.UUID] = Field(description="The projects it covered")
    project_id: uuid.UUID | None = Field(
        default=None,
        deprecated=True,
        description="Deprecated (meetings belong to a call): the project this record was "
        "read or recorded for on the per-project endpoints, else null; read `project_ids`",
    )
    kind: MeetingKind
    held_at: datetime
    location: str
    attendees: list[Attendee]
    minutes: str
    documents: list[Document]
    recorded_by: str
    recorded_at: datetime
