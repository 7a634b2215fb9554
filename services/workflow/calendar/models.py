"""The working-day calendar's exceptions, loaded from the holiday files."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from services.workflow.base import Base


class CalendarDay(Base):
    """An exception to the Monday–Friday week: a public holiday, or a make-up working day (调休)."""

    __tablename__ = "calendar_day"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_working_day: Mapped[bool]
    name: Mapped[str] = mapped_column(String(60))
