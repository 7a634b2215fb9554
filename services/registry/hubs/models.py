"""Incubation hubs (一园多中心) and the organizations resident in them."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from services.registry.base import Base
from services.registry.enums import HubLevel
from shared.db import str_enum


class Hub(Base):
    """The district's park (区级孵化园, one per district) or a street's service centre
    (街道社会组织服务中心, one per street), with the places it offers."""

    __tablename__ = "incubation_hub"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[HubLevel] = mapped_column(str_enum(HubLevel, "hub_level"))
    district_code: Mapped[str] = mapped_column(String(6))
    street_code: Mapped[str | None] = mapped_column(String(12))
    capacity: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        CheckConstraint("capacity > 0", name="capacity_positive"),
        CheckConstraint(
            "(level = 'district_park' AND street_code IS NULL)"
            " OR (level = 'street_centre' AND street_code IS NOT NULL)",
            name="street_of_a_centre_only",
        ),
        Index(
            "uq_incubation_hub_park_per_district",
            "district_code",
            unique=True,
            postgresql_where=text("level = 'district_park'"),
        ),
        Index(
            "uq_incubation_hub_centre_per_street",
            "street_code",
            unique=True,
            postgresql_where=text("level = 'street_centre'"),
        ),
    )


class Residency(Base):
    """An organization resident in a hub (入驻) from one day, until the day it left."""

    __tablename__ = "hub_residency"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    hub_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("incubation_hub.id"), index=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id"), index=True)
    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        CheckConstraint("ended_on IS NULL OR ended_on >= started_on", name="ends_after_start"),
        # One active residency per organization, whatever hub.
        Index(
            "uq_hub_residency_active_per_organization",
            "organization_id",
            unique=True,
            postgresql_where=text("ended_on IS NULL"),
        ),
    )
