"""The 社创大赛 competitions and their entries: the intake of incubation."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from services.registry.base import Base
from services.registry.enums import CompetitionAward
from shared.db import str_enum


class Competition(Base):
    __tablename__ = "competition"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    year: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (UniqueConstraint("year", "name", name="uq_competition_year_name"),)


class Entry(Base):
    """An entry: an organization of the register, or a grassroots group not filed yet
    (草根社会组织), named until it is filed."""

    __tablename__ = "competition_entry"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    competition_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("competition.id"), index=True)
    organization_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organization.id"), index=True
    )
    group_name: Mapped[str | None] = mapped_column(String(200))
    project_title: Mapped[str] = mapped_column(String(200))
    score: Mapped[int | None] = mapped_column(Integer)
    award: Mapped[CompetitionAward | None] = mapped_column(
        str_enum(CompetitionAward, "competition_award")
    )
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        CheckConstraint(
            "organization_id IS NOT NULL OR group_name IS NOT NULL", name="names_the_entrant"
        ),
        CheckConstraint("score IS NULL OR (score >= 0 AND score <= 100)", name="score_in_range"),
        UniqueConstraint(
            "competition_id", "organization_id", name="uq_competition_entry_organization"
        ),
    )
