"""Annual inspections: the report an organization submits and the reviewer's conclusion."""

from __future__ import annotations

import uuid
from datetime import date, datetime
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


class DeadlineSweepRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    year: Year = Field(
        description="The report year whose deadline (31 May of the next year) passed"
    )


class DeadlineSweepOut(BaseModel):
    """What one sweep did; a second sweep of the same year reports zeros."""

    year: int
    deadline: date = Field(description="The last day to file the year's report (Beijing time)")
    marked_absent: int = Field(description="Organizations concluded 未参检 for the year")
    listed_abnormal: int = Field(description="New entries on the abnormal-activity list")
    listed_serious: int = Field(
        description="New entries on the serious illegal & dishonest list (two years 未参检)"
    )


class PublishedAnnualReport(BaseModel):
    """年报公示: one organization's concluded annual inspection, as published."""

    model_config = ConfigDict(from_attributes=True)

    organization_name: str
    uscc: str = Field(description="Unified Social Credit Code (统一社会信用代码)")
    year: int
    result: InspectionResult
    published_on: date = Field(description="The day the result was concluded (Beijing time)")
