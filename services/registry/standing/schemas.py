"""Credit-list entries: listing, removal, the entry as shown."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from services.registry.enums import ListReason, ListType
from shared.dates import CalendarDate


class ListEntryCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    list_type: ListType
    reason_code: ListReason
    reason: str = Field(min_length=2, max_length=2000)
    listed_on: CalendarDate | None = Field(
        default=None, description="Default: today (Beijing time)"
    )


class ListEntryRemoval(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=2, max_length=2000)
    removed_on: CalendarDate | None = Field(
        default=None, description="Default: today (Beijing time)"
    )


class ListEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    organization_id: uuid.UUID
    list_type: ListType
    reason_code: ListReason
    reason: str
    listed_on: date
    listed_by: str
    report_year: int | None = Field(
        description="The year whose annual report was missing (annual_report_not_filed)"
    )
    removed_on: date | None
    removal_reason: str | None
    removed_by: str | None
