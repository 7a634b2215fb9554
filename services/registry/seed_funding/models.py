"""The incubation pool of seed funding (种子基金) and its ledger of grants."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from services.registry.base import Base


class SeedPool(Base):
    """A year's incubation pool; `balance_fen` is what the ledger has not granted yet."""

    __tablename__ = "seed_pool"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    balance_fen: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        # The last line of defence against an overdraft: the grant's row lock is the first.
        CheckConstraint("balance_fen >= 0 AND balance_fen <= amount_fen", name="balance_in_pool"),
    )


class SeedGrant(Base):
    """One line of the pool's ledger: a grant to an incubated organization."""

    __tablename__ = "seed_grant"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    pool_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("seed_pool.id"), index=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    purpose: Mapped[str] = mapped_column(Text)
    granted_on: Mapped[date] = mapped_column(Date)
    balance_after_fen: Mapped[int] = mapped_column(BigInteger)
    granted_by: Mapped[str] = mapped_column(String(200))
    granted_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("balance_after_fen >= 0", name="balance_after_not_negative"),
    )
