"""The incubation pool (种子基金) and its ledger: what is asked and how it is shown."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from services.registry.inspections.schemas import Year
from shared.dates import CalendarDate

# At most 100 billion yuan, in fen: far above any district's pool, far below BIGINT.
MAX_FEN = 10**13


class SeedPoolCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    year: Year
    amount_fen: int = Field(ge=1, le=MAX_FEN, description="Integer fen", examples=[50_000_000])


class SeedPoolOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    year: int
    amount_fen: int
    balance_fen: int = Field(description="What is left to grant, integer fen")
    created_by: str
    created_at: datetime


class SeedGrantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organization_id: uuid.UUID
    amount_fen: int = Field(ge=1, le=MAX_FEN, description="Integer fen", examples=[500_000])
    purpose: str = Field(min_length=1, max_length=500, examples=["链接落地社区的启动资金"])
    granted_on: CalendarDate


class SeedGrantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    pool_id: uuid.UUID
    organization_id: uuid.UUID
    amount_fen: int
    purpose: str
    granted_on: date
    balance_after_fen: int = Field(description="The pool's balance after this grant")
    granted_by: str
    granted_at: datetime
