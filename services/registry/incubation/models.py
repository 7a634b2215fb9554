"""Incubation (孵化培育) steps."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from services.registry.base import Base
from services.registry.enums import IncubationPhase, IncubationStage
from shared.db import str_enum


class IncubationRecord(Base):
    """One step of an organization's incubation (孵化培育): stage, phase, seed funding."""

    __tablename__ = "incubation_record"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id"), index=True)
    stage: Mapped[IncubationStage] = mapped_column(
        str_enum(IncubationStage, "incubation_record_stage")
    )
    phase: Mapped[IncubationPhase | None] = mapped_column(
        str_enum(IncubationPhase, "incubation_phase")
    )
    seed_funding_fen: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (CheckConstraint("seed_funding_fen >= 0", name="seed_funding_not_negative"),)
