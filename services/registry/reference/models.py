"""Reference tables: the administrative regions."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from services.registry.base import Base


class Region(Base):
    """Administrative divisions: district → street/township → community."""

    __tablename__ = "region"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    level: Mapped[str] = mapped_column(String(10))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"))

    __table_args__ = (
        CheckConstraint("level IN ('district', 'street', 'community')", name="level"),
    )
