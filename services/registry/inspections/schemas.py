"""Annual inspections: the report an organization submits and the reviewer's conclusion."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.registry.applications.schemas import Material
from services.registry.enums import InspectionResult, InspectionState

Year = Annotated[int, Field(ge=2000, le=2100)]


class InspectionSubmit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    year: Year
    materials: list[Material] = Field(default_factory=list, max_length=50)


class InspectionConclusion(BaseModel):
    """The reviewer's conclusion, with the two key indicators."""

    model_config = ConfigDict(extra="forbid")

    result: Literal["pass", "basic_pass", "fail"]
    party_building_ok: bool = Field(description="Party-building work (党建) in order")
    financial_audit_ok: bool = Field(description="Financial audit (财务审计) in order")
    remarks: str | None = Field(default=None, max_length=5000)


class InspectionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    organization_id: uuid.UUID
    year: int
    state: InspectionState
    result: InspectionResult | None = Field(description="Final once `state` is `concluded`")
    party_building_ok: bool | None
    financial_audit_ok: bool | None
    remarks: str | None
    application_id: uuid.UUID | None
    submitted_at: datetime | None
    concluded_at: datetime | None
