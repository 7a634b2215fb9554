"""Procurement (统一采购): bids, the scored award, the contract, its versions and tranches."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.projects.base import Base
from services.projects.reference.code_lists import ProcurementMethod
from shared.db import str_enum


class ProcurementStatus(StrEnum):
    open = "open"
    awarded = "awarded"
    # Cancelled before a contract (废标 / 终止): the project goes back to `approved` and
    # may procure again; the cancelled procurement and its bids are kept.
    cancelled = "cancelled"


class Procurement(Base):
    """A project has at most one live (not cancelled) procurement (a partial unique index)."""

    __tablename__ = "procurement"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("project.id"), index=True)
    method: Mapped[ProcurementMethod] = mapped_column(
        str_enum(ProcurementMethod, "procurement_method")
    )
    # Weight of the price score in the total (低价优先法: price score = lowest / own × weight).
    price_weight_pct: Mapped[int] = mapped_column(SmallInteger)
    budget_fen: Mapped[int] = mapped_column(BigInteger)
    notice_url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[ProcurementStatus] = mapped_column(
        str_enum(ProcurementStatus, "procurement_status")
    )
    opened_at: Mapped[datetime] = mapped_column(server_default=func.now())
    opened_by: Mapped[str] = mapped_column(String(200))
    awarded_bid_id: Mapped[uuid.UUID | None]
    awarded_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    cancelled_by: Mapped[str | None] = mapped_column(String(200))
    cancellation_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("price_weight_pct BETWEEN 0 AND 100", name="weight_range"),
        CheckConstraint("budget_fen > 0", name="budget_positive"),
        CheckConstraint(
            "(status = 'cancelled') = (cancelled_at IS NOT NULL)"
            " AND (cancelled_at IS NULL) = (cancellation_reason IS NULL)",
            name="cancellation_complete",
        ),
        Index(
            "uq_procurement_live_project_id",
            "project_id",
            unique=True,
            postgresql_where=text("cancelled_at IS NULL"),
        ),
    )


class Bid(Base):
    __tablename__ = "bid"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    procurement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("procurement.id"), index=True)
    bidder_org_id: Mapped[uuid.UUID]
    bidder_name: Mapped[str] = mapped_column(String(200))
    price_fen: Mapped[int] = mapped_column(BigInteger)
    technical_score: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    price_score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    total_score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    rank: Mapped[int | None] = mapped_column(SmallInteger)
    submitted_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # A disqualified bid (e.g. its bidder found ineligible) is never scored nor awarded.
    disqualified_at: Mapped[datetime | None]
    disqualified_by: Mapped[str | None] = mapped_column(String(200))
    disqualification_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("procurement_id", "bidder_org_id"),
        CheckConstraint("price_fen > 0", name="price_positive"),
        CheckConstraint("technical_score BETWEEN 0 AND 100", name="technical_range"),
        CheckConstraint(
            "(disqualified_at IS NULL) = (disqualification_reason IS NULL)"
            " AND (disqualified_at IS NULL) = (disqualified_by IS NULL)",
            name="disqualification_complete",
        ),
    )

    @property
    def qualified(self) -> bool:
        return self.disqualified_at is None


class ContractStatus(StrEnum):
    active = "active"
    closed = "closed"


class Contract(Base):
    """`paid_fen` can never exceed `amount_fen` (a CHECK, raised by conditional UPDATEs)."""

    __tablename__ = "contract"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("project.id"), unique=True)
    procurement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("procurement.id"))
    supplier_org_id: Mapped[uuid.UUID]
    number: Mapped[str] = mapped_column(String(60), unique=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    start_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date] = mapped_column(Date)
    signed_on: Mapped[date] = mapped_column(Date)
    current_version: Mapped[int] = mapped_column(SmallInteger, default=1)
    status: Mapped[ContractStatus] = mapped_column(str_enum(ContractStatus, "contract_status"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version, "eager_defaults": True}  # noqa: RUF012
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("paid_fen >= 0 AND paid_fen <= amount_fen", name="paid_within_amount"),
        CheckConstraint("end_on > start_on", name="period_valid"),
    )


class ContractVersion(Base):
    """Every version of a contract's terms, the original being version 1; never changed."""

    __tablename__ = "contract_version"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    contract_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contract.id"), index=True)
    number: Mapped[int] = mapped_column(SmallInteger)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    start_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date] = mapped_column(Date)
    schedule: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    rationale: Mapped[str | None] = mapped_column(Text)
    amendment_id: Mapped[uuid.UUID | None]
    approved_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (UniqueConstraint("contract_id", "number"),)


class AmendmentStatus(StrEnum):
    proposed = "proposed"
    approved = "approved"
    rejected = "rejected"


class ContractAmendment(Base):
    __tablename__ = "contract_amendment"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    contract_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contract.id"), index=True)
    status: Mapped[AmendmentStatus] = mapped_column(str_enum(AmendmentStatus, "amendment_status"))
    rationale: Mapped[str] = mapped_column(Text)
    new_amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    new_end_on: Mapped[date | None] = mapped_column(Date)
    proposed_by: Mapped[str] = mapped_column(String(200))
    proposed_at: Mapped[datetime] = mapped_column(server_default=func.now())
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)
    resulting_version: Mapped[int | None] = mapped_column(SmallInteger)


class TrancheTrigger(StrEnum):
    """The lifecycle milestone that makes a tranche payable."""

    contract_signed = "contract_signed"  # 签约
    initiation = "initiation"  # 立项 (press conference held)
    mid_term_supervision = "mid_term_supervision"  # 中期督导 (supervision meeting held)
    evaluation_passed = "evaluation_passed"  # 评估合格 (concluded, grade not fail)


class Tranche(Base):
    """A percentage of the contract, payable once its milestone is met."""

    __tablename__ = "tranche"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    contract_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contract.id"), index=True)
    seq: Mapped[int] = mapped_column(SmallInteger)
    percent: Mapped[int] = mapped_column(SmallInteger)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    trigger: Mapped[TrancheTrigger] = mapped_column(str_enum(TrancheTrigger, "tranche_trigger"))
    description: Mapped[str | None] = mapped_column(String(300))
    milestone_met_at: Mapped[datetime | None]
    paid_at: Mapped[datetime | None]
    # A failed evaluation forfeits the final tranche: it is withheld, never paid.
    withheld_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("contract_id", "seq"),
        CheckConstraint("percent BETWEEN 1 AND 100", name="percent_range"),
        CheckConstraint("amount_fen >= 0", name="amount_nonnegative"),
        CheckConstraint("paid_at IS NULL OR withheld_at IS NULL", name="paid_or_withheld"),
    )
