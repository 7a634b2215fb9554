"""Incubation (孵化培育): the 5F steps, the incubation itself, its phases and mentoring."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Identity,
    Integer,
    String,
    Text,
    func,
)
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


class Incubation(Base):
    """An organization's incubation (孵化培育), one per organization, admitted once.

    Keyed by the organization, not by its registration: a filed group that registers
    later keeps the same organization row, so it keeps its incubation too.
    """

    __tablename__ = "incubation"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id"), unique=True)
    # The competition entry it was admitted through (社创大赛); none for the records
    # migrated from the older incubation steps.
    entry_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("competition_entry.id"), unique=True
    )
    admitted_on: Mapped[date] = mapped_column(Date)
    phase: Mapped[IncubationPhase] = mapped_column(str_enum(IncubationPhase, "phase"))
    phase_since: Mapped[date] = mapped_column(Date)
    admitted_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (CheckConstraint("phase_since >= admitted_on", name="phase_after_admission"),)


class PhaseChange(Base):
    """One phase an incubation entered and when (append-only, the first at admission)."""

    __tablename__ = "incubation_phase_change"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    incubation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("incubation.id"), index=True)
    from_phase: Mapped[IncubationPhase | None] = mapped_column(
        str_enum(IncubationPhase, "from_phase")
    )
    to_phase: Mapped[IncubationPhase] = mapped_column(str_enum(IncubationPhase, "to_phase"))
    entered_on: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(server_default=func.now())


class MentoringSession(Base):
    """A mentoring session of the 社创俱乐部 for an incubated organization."""

    __tablename__ = "mentoring_session"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    incubation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("incubation.id"), index=True)
    mentor_name: Mapped[str] = mapped_column(String(100))
    held_on: Mapped[date] = mapped_column(Date)
    topic: Mapped[str] = mapped_column(String(200))
    minutes: Mapped[int] = mapped_column(Integer)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (CheckConstraint("minutes > 0 AND minutes <= 1440", name="minutes_in_a_day"),)
