"""Annual inspections (年检)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.registry.base import Base
from services.registry.enums import InspectionResult, InspectionState
from shared.db import str_enum


class AnnualInspection(Base):
    """年检: one report per organization and year, concluded by a reviewer.

    The reviewer's conclusion (result, indicators, remarks) may be recorded while the
    workflow case is open; the inspection is concluded once the case is approved and
    the conclusion recorded, in whichever order they come.
    """

    __tablename__ = "annual_inspection"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id"), index=True)
    year: Mapped[int] = mapped_column(SmallInteger)
    state: Mapped[InspectionState] = mapped_column(str_enum(InspectionState, "inspection_state"))
    result: Mapped[InspectionResult | None] = mapped_column(str_enum(InspectionResult, "result"))
    party_building_ok: Mapped[bool | None]
    financial_audit_ok: Mapped[bool | None]
    remarks: Mapped[str | None] = mapped_column(Text)
    application_id: Mapped[uuid.UUID | None]
    submitted_at: Mapped[datetime | None]
    conclusion_recorded_by: Mapped[str | None] = mapped_column(String(200))
    concluded_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("organization_id", "year"),
        # "Organizations whose result in year Y was R": drive the search from here.
        Index("ix_annual_inspection_year_result", "year", "result"),
    )
