"""A year's special fund (专项资金), its pools, and what is allocated from them."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from services.projects.base import Base
from shared.db import str_enum


class PoolPurpose(StrEnum):
    """What a pool pays for. Haining's fund: "500万元主要用于购买专业社工服务,500万元用于
    社会组织培育发展奖补" — purchased social work, and awards and subsidies for cultivating
    organizations (培育发展奖补, wider than incubation 孵化: registered-capital subsidies,
    brand awards…). `incubation_reward`, its former code, is still read as it."""

    social_work_purchase = "social_work_purchase"  # 购买专业社工服务
    cultivation_reward = "cultivation_reward"  # 社会组织培育发展奖补
    community_governance = "community_governance"  # 社区治理
    other = "other"


# The cultivation pool's code before it said what the source says; accepted on input.
DEPRECATED_PURPOSES = {"incubation_reward": PoolPurpose.cultivation_reward}


class Fund(Base):
    """A year's special fund (专项资金), split into pools."""

    __tablename__ = "fund"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    year: Mapped[int] = mapped_column(SmallInteger)
    name: Mapped[str] = mapped_column(String(200))
    total_fen: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __mapper_args__ = {"version_id_col": version, "eager_defaults": True}  # noqa: RUF012
    __table_args__ = (
        UniqueConstraint("year", "name"),
        CheckConstraint("total_fen > 0", name="total_positive"),
    )


class FundPool(Base):
    """A sub-pool of a fund; `allocated_fen` can never exceed `amount_fen` (a CHECK)."""

    __tablename__ = "fund_pool"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    fund_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("fund.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[PoolPurpose] = mapped_column(str_enum(PoolPurpose, "purpose"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    allocated_fen: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (
        UniqueConstraint("fund_id", "name"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("allocated_fen >= 0 AND allocated_fen <= amount_fen", name="within_pool"),
    )


class AllocationKind(StrEnum):
    contract = "contract"  # a signed contract's amount (合同金额)
    amendment = "amendment"  # a contract amendment's difference (+ or -)
    release = "release"  # what a closed project did not spend, given back (-)
    grant = "grant"  # a direct grant, e.g. a cultivation award (培育发展奖补)


class Allocation(Base):
    """One movement of a pool's `allocated_fen`; their sum per pool equals it."""

    __tablename__ = "allocation"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    fund_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("fund.id"), index=True)
    pool_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("fund_pool.id"), index=True)
    kind: Mapped[AllocationKind] = mapped_column(str_enum(AllocationKind, "allocation_kind"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    project_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("project.id"), index=True)
    org_id: Mapped[uuid.UUID | None]
    note: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (CheckConstraint("amount_fen <> 0", name="amount_nonzero"),)
