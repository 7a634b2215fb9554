"""Incubation (孵化培育) steps: what is recorded and how it is shown."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from services.registry.enums import IncubationPhase, IncubationStage


class IncubationStep(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stage: IncubationStage
    phase: IncubationPhase | None = None
    seed_funding_fen: int = Field(default=0, ge=0, le=10**13, description="Integer fen")
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
