"""Payment (统一支付): requests per tranche, execution attempts, and the ledger."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Identity,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from services.projects.base import Base
from shared.db import str_enum


class PaymentStatus(StrEnum):
    requested = "requested"  # the payment_request case is open in the workflow
    approved = "approved"  # approved, waiting for (or retrying) the transfer
    paid = "paid"  # final: a trigger refuses any change to the row
    rejected = "rejected"
    withdrawn = "withdrawn"


class PaymentRequest(Base):
    __tablename__ = "payment_request"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("project.id"), index=True)
    contract_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contract.id"))
    tranche_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tranche.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[PaymentStatus] = mapped_column(str_enum(PaymentStatus, "payment_status"))
    command_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    case_id: Mapped[uuid.UUID | None]
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[datetime] = mapped_column(server_default=func.now())
    decided_at: Mapped[datetime | None]
    paid_at: Mapped[datetime | None]
    failed_attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version, "eager_defaults": True}  # noqa: RUF012
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        # A tranche has at most one live request (requested, approved or paid).
        Index(
            "uq_payment_request_active_tranche",
            "tranche_id",
            unique=True,
            postgresql_where=text("status IN ('requested', 'approved', 'paid')"),
        ),
    )


class AttemptResult(StrEnum):
    succeeded = "succeeded"
    failed = "failed"


class PaymentAttempt(Base):
    """One transfer attempt reported by the treasury (国库集中支付); failures can be retried."""

    __tablename__ = "payment_attempt"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    payment_request_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("payment_request.id"), index=True
    )
    attempt_no: Mapped[int] = mapped_column(SmallInteger)
    result: Mapped[AttemptResult] = mapped_column(str_enum(AttemptResult, "attempt_result"))
    bank_reference: Mapped[str | None] = mapped_column(String(100))
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    executed_by: Mapped[str] = mapped_column(String(200))
    executed_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        UniqueConstraint("payment_request_id", "attempt_no"),
        Index(
            "uq_payment_attempt_one_success",
            "payment_request_id",
            unique=True,
            postgresql_where=text("result = 'succeeded'"),
        ),
    )


class LedgerEntry(Base):
    """What was paid: one row per tranche, ever (unique), append-only (a trigger)."""

    __tablename__ = "ledger_entry"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("project.id"), index=True)
    contract_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contract.id"))
    tranche_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tranche.id"), unique=True)
    payment_request_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("payment_request.id"), unique=True
    )
    fund_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("fund.id"), index=True)
    pool_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("fund_pool.id"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    bank_reference: Mapped[str | None] = mapped_column(String(100))
    paid_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_positive"),)
