"""Incubation (孵化培育): steps, the incubation, its phases and mentoring sessions."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from services.registry.enums import IncubationPhase, IncubationStage
from shared.dates import CalendarDate


class IncubationStep(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stage: IncubationStage = Field(
        description="The 5F stage; `serve` (服) is the service given throughout, not a step"
    )
    phase: IncubationPhase | None = Field(
        default=None,
        deprecated=True,
        description="Deprecated: the phase is the incubation's own "
        "(`POST /incubation/organizations/{id}/phase`), recorded here as a note only",
    )
    seed_funding_fen: int = Field(
        default=0,
        ge=0,
        le=10**13,
        deprecated=True,
        description="Integer fen. Deprecated: seed funding is granted from the year's "
        "incubation pool, with its ledger (`POST /incubation/seed-pools/{id}/grants`)",
    )
    note: str | None = Field(default=None, max_length=2000)


class IncubationRecordOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    organization_id: uuid.UUID
    stage: IncubationStage
    phase: IncubationPhase | None
    seed_funding_fen: int
    note: str | None
    recorded_by: str
    recorded_at: datetime


class IncubationOut(BaseModel):
    """An organization's incubation: where it stands and how it got there."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    organization_id: uuid.UUID
    entry_id: uuid.UUID | None = Field(description="The competition entry it was admitted by")
    admitted_on: date
    phase: IncubationPhase
    phase_since: date
    next_phase: IncubationPhase | None = Field(
        description="The only phase it may enter next (none after 末期)"
    )
    admitted_by: str


class PhaseAdvance(BaseModel):
    """Enter the next phase (早期→中期→后期→末期), never skipping one or going back."""

    model_config = ConfigDict(extra="forbid")

    phase: IncubationPhase
    entered_on: CalendarDate = Field(description="The day (Asia/Shanghai) it entered the phase")


class PhaseChangeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_phase: IncubationPhase | None
    to_phase: IncubationPhase
    entered_on: date
    recorded_by: str
    recorded_at: datetime


class MentoringSessionCreate(BaseModel):
    """A session of the 社创俱乐部: a mature organization's mentor with the incubated one."""

    model_config = ConfigDict(extra="forbid")

    mentor_name: str = Field(min_length=1, max_length=100)
    held_on: CalendarDate
    topic: str = Field(min_length=1, max_length=200)
    minutes: int = Field(ge=1, le=1440, description="How long it lasted")


class MentoringSessionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    incubation_id: uuid.UUID
    mentor_name: str
    held_on: date
    topic: str
    minutes: int
    recorded_by: str
    recorded_at: datetime
