"""Reference tables: the administrative regions."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from services.registry.base import Base


class Region(Base):
    """Administrative divisions: district → street/township → community."""

    __tablename__ = "region"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    level: Mapped[str] = mapped_column(String(10))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"))
    # Resident population (常住人口) and the year it counts, for per-capita figures such
    # as social workers per 10,000 residents (people/stats.py); unknown: NULL.
    population: Mapped[int | None] = mapped_column(Integer)
    population_year: Mapped[int | None] = mapped_column(SmallInteger)

    __table_args__ = (
        CheckConstraint("level IN ('district', 'street', 'community')", name="level"),
        CheckConstraint("population IS NULL OR population >= 0", name="population_not_negative"),
        CheckConstraint(
            "(population IS NULL) = (population_year IS NULL)", name="population_has_year"
        ),
    )
