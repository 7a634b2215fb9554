"""Request and response models of payments (统一支付)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.projects.payments.models import AttemptResult, PaymentStatus
from shared.interservice import MaterialRef


class PaymentRequestCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tranche_id: uuid.UUID
    materials: list[MaterialRef] = Field(
        default_factory=list, max_length=50, description="Codes of the payment_request case"
    )


class PaymentExecution(BaseModel):
    """The treasury's answer to one transfer attempt (国库集中支付)."""

    model_config = ConfigDict(extra="forbid")

    result: AttemptResult
    bank_reference: str | None = Field(default=None, max_length=100)
    failure_reason: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _explained(self) -> PaymentExecution:
        if self.result is AttemptResult.succeeded and not self.bank_reference:
            raise ValueError("a successful transfer has a bank reference")
        if self.result is AttemptResult.failed and not self.failure_reason:
            raise ValueError("a failed transfer has a reason")
        return self


class AttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    attempt_no: int
    result: AttemptResult
    bank_reference: str | None
    failure_reason: str | None
    executed_by: str
    executed_at: datetime


class PaymentRequestOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    project_id: uuid.UUID
    tranche_id: uuid.UUID
    amount_fen: int
    status: PaymentStatus
    case_id: uuid.UUID | None
    requested_by: str
    requested_at: datetime
    decided_at: datetime | None
    paid_at: datetime | None
    failed_attempts: int
    version: int
    attempts: list[AttemptOut]


class LedgerEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    project_id: uuid.UUID
    contract_id: uuid.UUID
    tranche_id: uuid.UUID
    payment_request_id: uuid.UUID
    fund_id: uuid.UUID
    pool_id: uuid.UUID
    amount_fen: int
    bank_reference: str | None
    paid_at: datetime


class LedgerOut(BaseModel):
    contract_amount_fen: int
    paid_fen: int
    remaining_fen: int
    withheld_fen: int
    entries: list[LedgerEntryOut]
