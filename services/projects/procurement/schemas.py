"""Request and response models of procurement, contracts and amendments."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from services.projects.funds.schemas import MAX_FEN
from services.projects.procurement.models import (
    AmendmentStatus,
    ContractStatus,
    ProcurementStatus,
    TrancheTrigger,
)
from services.projects.reference.code_lists import ProcurementMethod
from shared.dates import CalendarDate

TRIGGER_ORDER = list(TrancheTrigger)


class ProcurementCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: ProcurementMethod
    price_weight_pct: int = Field(
        ge=0,
        le=100,
        description="Price share of the total score: 10–30 for services (财政部令第87号 "
        "第五十五条); 0 for single source",
        examples=[20],
    )
    notice_url: str | None = Field(default=None, max_length=500)


class BidCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bidder_org_id: uuid.UUID = Field(
        description="An eligible organization of the register; its name is the registry's"
    )
    price_fen: int = Field(gt=0, le=MAX_FEN)
    technical_score: Decimal = Field(
        ge=0, le=100, max_digits=5, decimal_places=2, description="Panel's technical score /100"
    )


# Why a bid is disqualified or a procurement cancelled: kept in the audit trail.
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class Disqualification(BaseModel):
    """Disqualify a bid (e.g. its bidder found ineligible): it is never scored nor awarded;
    disqualifying the awarded bid revokes the award."""

    model_config = ConfigDict(extra="forbid")

    bid_id: uuid.UUID
    reason: Reason


class Cancellation(BaseModel):
    """Cancel the procurement (废标 / 终止) before a contract: the project procures again."""

    model_config = ConfigDict(extra="forbid")

    reason: Reason


class BidOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    bidder_org_id: uuid.UUID
    bidder_name: str = Field(description="As the registry names the organization")
    price_fen: int
    technical_score: Decimal
    price_score: Decimal | None
    total_score: Decimal | None
    rank: int | None = Field(description="Among the qualified bids, once scored")
    submitted_at: datetime
    qualified: bool
    disqualified_at: datetime | None
    disqualification_reason: str | None


class ProcurementOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    project_id: uuid.UUID
    method: ProcurementMethod
    price_weight_pct: int
    budget_fen: int
    notice_url: str | None
    status: ProcurementStatus
    opened_at: datetime
    awarded_bid_id: uuid.UUID | None
    awarded_at: datetime | None
    cancelled_at: datetime | None
    cancellation_reason: str | None
    min_bids: int = Field(description="Fewest qualified bids the method needs for an award")
    bids: list[BidOut]


class TrancheIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    percent: int = Field(ge=1, le=100, examples=[30])
    trigger: TrancheTrigger
    description: str | None = Field(default=None, max_length=300)


class ContractCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: str = Field(min_length=1, max_length=60, examples=["HN-GM-2026-017"])
    signed_on: CalendarDate
    start_on: CalendarDate
    end_on: CalendarDate
    schedule: list[TrancheIn] = Field(min_length=1, max_length=12)

    @model_validator(mode="after")
    def _consistent(self) -> ContractCreate:
        if self.end_on <= self.start_on:
            raise ValueError("the period must end after it starts")
        if sum(t.percent for t in self.schedule) != 100:
            raise ValueError("the tranches' percentages must add up to 100")
        order = [TRIGGER_ORDER.index(t.trigger) for t in self.schedule]
        if order != sorted(order):
            raise ValueError("tranches must follow the lifecycle order of their milestones")
        return self


class TrancheOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    seq: int
    percent: int
    amount_fen: int
    trigger: TrancheTrigger
    description: str | None
    final: bool = Field(description="The last tranche: withheld if the evaluation fails")
    milestone_met_at: datetime | None
    paid_at: datetime | None
    withheld_at: datetime | None


class ContractVersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    amount_fen: int
    start_on: date
    end_on: date
    schedule: list[dict[str, Any]]
    rationale: str | None
    amendment_id: uuid.UUID | None
    approved_by: str
    created_at: datetime


class AmendmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rationale: str = Field(min_length=1, max_length=5000)
    new_amount_fen: int | None = Field(default=None, gt=0, le=MAX_FEN)
    new_end_on: CalendarDate | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> AmendmentCreate:
        if self.new_amount_fen is None and self.new_end_on is None:
            raise ValueError("an amendment changes the amount, the end date or both")
        return self


class AmendmentDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=2000)


class AmendmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    status: AmendmentStatus
    rationale: str
    new_amount_fen: int | None
    new_end_on: date | None
    proposed_by: str
    proposed_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    resulting_version: int | None


class ContractOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    project_id: uuid.UUID
    number: str
    supplier_org_id: uuid.UUID
    amount_fen: int
    paid_fen: int
    start_on: date
    end_on: date
    signed_on: date
    current_version: int
    status: ContractStatus
    version: int
    tranches: list[TrancheOut]
    versions: list[ContractVersionOut]
    amendments: list[AmendmentOut]
