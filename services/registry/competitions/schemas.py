"""Competitions (社创大赛) and entries: what is asked and how it is shown."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.registry.enums import CompetitionAward
from services.registry.inspections.schemas import Year
from shared.dates import CalendarDate


class CompetitionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    year: Year
    name: str = Field(min_length=1, max_length=200, examples=["第七届庐阳区社创大赛"])


class CompetitionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    year: int
    name: str
    created_by: str
    created_at: datetime


class EntryCreate(BaseModel):
    """An organization of the register, or a grassroots group that is not filed yet."""

    model_config = ConfigDict(extra="forbid")

    organization_id: uuid.UUID | None = None
    group_name: str | None = Field(
        default=None, min_length=1, max_length=200, description="A group not filed yet"
    )
    project_title: str = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def one_entrant(self) -> Self:
        if (self.organization_id is None) == (self.group_name is None):
            raise ValueError("name either organization_id or group_name")
        return self


class EntryResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    score: int = Field(ge=0, le=100, description="Points out of 100")
    award: CompetitionAward | None = Field(description="None: no award")


class EntryAdmission(BaseModel):
    model_config = ConfigDict(extra="forbid")

    admitted_on: CalendarDate
    organization_id: uuid.UUID | None = Field(
        default=None,
        description="For a group's entry: the organization it has been filed as since",
    )


class EntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    competition_id: uuid.UUID
    organization_id: uuid.UUID | None
    group_name: str | None
    project_title: str
    score: int | None
    award: CompetitionAward | None
    created_by: str
    created_at: datetime
