"""Spot checks (抽查): recorded draws and their drawn organizations."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Numeric,
    SmallInteger,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from services.registry.base import Base
from services.registry.enums import Registration, SpotCheckFinding, SpotCheckLevel
from shared.db import str_enum


class SpotCheck(Base):
    """A drawn sample of organizations for a year: seed and percentage kept to redraw it."""

    __tablename__ = "spot_check"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    year: Mapped[int] = mapped_column(SmallInteger, index=True)
    level: Mapped[SpotCheckLevel] = mapped_column(str_enum(SpotCheckLevel, "spot_check_level"))
    percentage: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    seed: Mapped[int] = mapped_column(BigInteger)
    algorithm: Mapped[str] = mapped_column(String(40))
    registration: Mapped[Registration | None] = mapped_column(
        str_enum(Registration, "spot_check_registration")
    )
    district_code: Mapped[str | None] = mapped_column(String(6))
    population_size: Mapped[int]
    sample_size: Mapped[int]
    drawn_by: Mapped[str] = mapped_column(String(200))
    drawn_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        CheckConstraint("percentage > 0 AND percentage <= 100", name="percentage_range"),
        CheckConstraint("seed >= 0", name="seed_not_negative"),
    )


class SpotCheckItem(Base):
    __tablename__ = "spot_check_item"

    spot_check_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("spot_check.id"), primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organization.id"), primary_key=True, index=True
    )
    stratum: Mapped[str] = mapped_column(String(12))
    rank: Mapped[int]
    finding: Mapped[SpotCheckFinding] = mapped_column(
        str_enum(SpotCheckFinding, "spot_check_finding")
    )
    remarks: Mapped[str | None] = mapped_column(Text)
    checked_by: Mapped[str | None] = mapped_column(String(200))
    checked_at: Mapped[datetime | None]
