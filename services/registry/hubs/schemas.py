"""Hubs (一园多中心) and residencies: what is asked and how it is shown."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from services.registry.enums import HubLevel
from services.registry.organizations.schemas import DIVISION, STREET
from shared.dates import CalendarDate


class HubCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, examples=["庐阳区社会组织创新园"])
    level: HubLevel
    district_code: str = Field(pattern=DIVISION, examples=["340103"])
    street_code: str | None = Field(
        default=None, pattern=STREET, description="A street centre's street; none for the park"
    )
    capacity: int = Field(ge=1, le=10_000, description="How many organizations it can house")


class HubOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    level: HubLevel
    district_code: str
    street_code: str | None
    capacity: int
    residents: int = Field(description="Organizations resident now")
    created_by: str
    created_at: datetime


class ResidencyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organization_id: uuid.UUID
    started_on: CalendarDate = Field(description="The day it moved in (Asia/Shanghai)")


class ResidencyEnd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ended_on: CalendarDate = Field(description="The day it left (Asia/Shanghai)")


class ResidencyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    hub_id: uuid.UUID
    organization_id: uuid.UUID
    started_on: date
    ended_on: date | None = Field(description="None while it is resident")
    created_by: str
    created_at: datetime
