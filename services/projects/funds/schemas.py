"""Request and response models of funds and allocations."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.projects.funds.models import DEPRECATED_PURPOSES, AllocationKind, PoolPurpose

MAX_FEN = 10**15


class PoolIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, examples=["专业社工服务购买"])
    purpose: PoolPurpose = Field(
        description="`incubation_reward` (deprecated) is taken as `cultivation_reward`"
    )
    amount_fen: int = Field(gt=0, le=MAX_FEN, description="Integer fen", examples=[500_000_000])

    @field_validator("purpose", mode="before")
    @classmethod
    def _current_code(cls, value: Any) -> Any:
        return DEPRECATED_PURPOSES.get(value, value) if isinstance(value, str) else value


class FundCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    year: int = Field(ge=2000, le=2100, examples=[2026])
    name: str = Field(min_length=1, max_length=200, examples=["社会组织发展专项资金"])
    total_fen: int = Field(gt=0, le=MAX_FEN, description="Integer fen", examples=[1_000_000_000])
    description: str | None = Field(default=None, max_length=2000)
    pools: list[PoolIn] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def _pools_fit(self) -> FundCreate:
        if sum(pool.amount_fen for pool in self.pools) > self.total_fen:
            raise ValueError("the pools add up to more than the fund's total")
        if len({pool.name for pool in self.pools}) != len(self.pools):
            raise ValueError("pool names must be unique within a fund")
        return self


class PoolOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    purpose: PoolPurpose
    amount_fen: int
    allocated_fen: int


class FundOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    year: int
    name: str
    total_fen: int
    description: str | None
    version: int
    created_at: datetime
    pools: list[PoolOut]


class GrantCreate(BaseModel):
    """A direct grant from a pool, e.g. a cultivation award (培育发展奖补) to an organization."""

    model_config = ConfigDict(extra="forbid")

    pool_id: uuid.UUID
    amount_fen: int = Field(gt=0, le=MAX_FEN, description="Integer fen")
    org_id: uuid.UUID | None = None
    note: str | None = Field(default=None, max_length=500)


class AllocationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    fund_id: uuid.UUID
    pool_id: uuid.UUID
    kind: AllocationKind
    amount_fen: int = Field(description="Positive to allocate, negative to give back")
    project_id: uuid.UUID | None
    org_id: uuid.UUID | None
    note: str | None
    created_by: str
    created_at: datetime
