"""Request and response models of social-work stations, their 123X lists and scores."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.projects.core.models import ProjectStage
from services.projects.evaluation.models import EvaluationStatus, Grade
from services.projects.reference.code_lists import CatalogueItem, CatalogueSlot
from services.projects.stations.station_score import StationIndicator

# A town has at most a few hundred villages/communities and a station a few dozen staff;
# the ceilings only keep nonsense (and int2 overflows) out.
MAX_PEOPLE = 10_000


class _StationFields(BaseModel):
    """What may be set at creation and changed later (not the town: that is the station)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _consistent(self) -> _StationFields:
        check_consistent(
            staff=getattr(self, "staff_count", None),
            certified=getattr(self, "certified_social_workers", None),
            total=getattr(self, "communities_total", None),
            served=getattr(self, "communities_served", None),
        )
        return self


def check_consistent(
    *, staff: int | None, certified: int | None, total: int | None, served: int | None
) -> None:
    if staff is not None and certified is not None and certified > staff:
        raise ValueError("certified_social_workers cannot exceed staff_count")
    if total is not None and served is not None and served > total:
        raise ValueError("communities_served cannot exceed communities_total")


class StationCreate(_StationFields):
    district_code: str = Field(
        pattern=r"^[0-9]{6}$",
        description="County-level division (海宁市 330481)",
        examples=["330481"],
    )
    street_code: str = Field(
        pattern=r"^[0-9]{9}$",
        description="The town or street served: the district code then 3 digits",
        examples=["330481001"],
    )
    town_name: str = Field(min_length=1, max_length=50, examples=["硖石街道"])
    name: str = Field(min_length=1, max_length=100, examples=["硖石街道社会工作站"])
    host_org_id: uuid.UUID = Field(description="The agency running it (an organization id)")
    merged_with_party_centre: bool = Field(
        description="Merged with the party-mass service centre (党群服务中心“二合一”)"
    )
    staff_count: int = Field(ge=0, le=MAX_PEOPLE, examples=[6])
    certified_social_workers: int = Field(
        ge=0, le=MAX_PEOPLE, description="Staff holding a social-work certificate", examples=[3]
    )
    communities_total: int = Field(
        ge=0, le=MAX_PEOPLE, description="Villages and communities of the town", examples=[12]
    )
    communities_served: int = Field(
        ge=0, le=MAX_PEOPLE, description="Of which the station serves", examples=[10]
    )
    established_year: int = Field(ge=2000, le=2100, examples=[2021])

    @model_validator(mode="after")
    def _street_in_district(self) -> StationCreate:
        if not self.street_code.startswith(self.district_code):
            raise ValueError("street_code must begin with district_code")
        return self


class StationUpdate(_StationFields):
    town_name: str | None = Field(default=None, min_length=1, max_length=50)
    name: str | None = Field(default=None, min_length=1, max_length=100)
    host_org_id: uuid.UUID | None = None
    merged_with_party_centre: bool | None = None
    staff_count: int | None = Field(default=None, ge=0, le=MAX_PEOPLE)
    certified_social_workers: int | None = Field(default=None, ge=0, le=MAX_PEOPLE)
    communities_total: int | None = Field(default=None, ge=0, le=MAX_PEOPLE)
    communities_served: int | None = Field(default=None, ge=0, le=MAX_PEOPLE)
    established_year: int | None = Field(default=None, ge=2000, le=2100)


class StationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    district_code: str
    street_code: str
    town_name: str
    name: str
    host_org_id: uuid.UUID
    host_org_name: str = Field(description="As the registry names the organization")
    merged_with_party_centre: bool
    staff_count: int
    certified_social_workers: int
    communities_total: int
    communities_served: int
    established_year: int
    created_at: datetime
    updated_at: datetime
    version: int


class StationProjectCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    project_id: uuid.UUID = Field(
        description="The project put on the station's list for the project's year, in the "
        "123X slot of its call's catalogue item"
    )


class StationProjectOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    station_id: uuid.UUID
    project_id: uuid.UUID
    year: int
    role: CatalogueSlot = Field(description="Its 123X slot (1 core, 2 brand, 3 basic, X special)")
    catalogue_item: CatalogueItem
    title: str
    org_name: str
    stage: ProjectStage
    attached_by: str
    attached_at: datetime


class SlotScoreOut(BaseModel):
    role: CatalogueSlot
    weight: Decimal = Field(description="Share of the project part (decimal string)")
    listed: int = Field(description="Projects on the year's list in this slot")
    evaluated: int = Field(description="Of which have a concluded SPPE evaluation")
    mean: Decimal | None = Field(description="Mean SPPE composite of the evaluated ones")


class IndicatorScoreOut(BaseModel):
    indicator: StationIndicator
    points: Decimal
    max_points: Decimal


class ProjectScoreOut(BaseModel):
    project_id: uuid.UUID
    title: str
    role: CatalogueSlot
    evaluation_status: EvaluationStatus | None = Field(description="None: not yet evaluated")
    composite: Decimal | None = Field(description="SPPE composite once concluded")
    grade: Grade | None


class StationScoreOut(BaseModel):
    station_id: uuid.UUID
    year: int
    composite: Decimal | None = Field(
        description="综合评价分值: project part + station part (null until a project of the "
        "year has a concluded evaluation)",
        examples=["88.75"],
    )
    complete: bool = Field(description="Every project on the year's list is evaluated")
    project_part: Decimal | None = Field(description="Out of 70")
    station_part: Decimal = Field(description="Out of 30")
    slots: list[SlotScoreOut]
    indicators: list[IndicatorScoreOut]
    projects: list[ProjectScoreOut]
