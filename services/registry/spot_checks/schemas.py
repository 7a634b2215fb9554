"""Spot checks (抽查): what to draw, the recorded draw, its items and their findings."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from services.registry.enums import Registration, SpotCheckFinding, SpotCheckLevel
from services.registry.inspections.schemas import Year

Percentage = Annotated[
    Decimal,
    Field(gt=0, le=100, max_digits=5, decimal_places=2, examples=[3]),
    PlainSerializer(float, return_type=float, when_used="json"),
]


class SpotCheckDraw(BaseModel):
    """What to sample; the seed is drawn at random when not given, and always recorded."""

    model_config = ConfigDict(extra="forbid")

    year: Year
    level: SpotCheckLevel = SpotCheckLevel.county
    percentage: Percentage | None = Field(
        default=None, description="Default and minimum: 3 (county), 4 (city), 5 (province)"
    )
    seed: int | None = Field(default=None, ge=0, lt=2**63)
    registration: Registration | None = Field(default=None, description="Limit the population")
    district_code: str | None = Field(default=None, pattern=r"^\d{6}$")


class SpotCheckItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    organization_id: uuid.UUID
    stratum: str = Field(description="The street the organization was drawn from ('' for none)")
    rank: int = Field(description="Order of the draw within the stratum, from 1")
    finding: SpotCheckFinding
    remarks: str | None = None
    checked_by: str | None = None
    checked_at: datetime | None = None


class SpotCheckOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    year: int
    level: SpotCheckLevel
    percentage: Percentage
    seed: int
    algorithm: str
    registration: Registration | None
    district_code: str | None
    population_size: int
    sample_size: int
    drawn_by: str
    drawn_at: datetime


class SpotCheckPreview(BaseModel):
    """A sample computed without being recorded (the same seed always gives it again)."""

    seed: int
    percentage: Percentage
    algorithm: str
    population_size: int
    sample_size: int
    items: list[SpotCheckItemOut]


class FindingRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    finding: Literal["compliant", "rectification_required", "serious_violation"]
    remarks: str | None = Field(default=None, max_length=5000)
