"""Town/street social-work stations (镇(街道)社会工作站) and the projects of their 123X lists.

One station per town or street (`district_code` + `street_code`, unique), run by a
professional agency (托管运营) and, in Haining, merged with the party-mass service centre
(党群服务中心与社会工作站"二合一"). Each year a station runs its "123X" project list: the
projects attached to it for that year, each in the 123X slot of its call's catalogue item.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from services.projects.base import Base
from services.projects.reference.code_lists import CatalogueSlot
from shared.db import str_enum


class Station(Base):
    """A social-work station (社会工作站) of one town or street."""

    __tablename__ = "station"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # The county-level division (海宁市 330481) and the town/street in it (9 digits, the
    # division's 6 then 3): a station serves exactly one town or street.
    district_code: Mapped[str] = mapped_column(String(6))
    street_code: Mapped[str] = mapped_column(String(9), index=True)
    town_name: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(100))
    # The agency that runs it (社工机构托管运营): an organization of the register, named
    # as the registry named it when it was last set.
    host_org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    host_org_name: Mapped[str] = mapped_column(String(200))
    # Merged with the party-mass service centre (党群服务中心), the seed's "二合一".
    merged_with_party_centre: Mapped[bool] = mapped_column(Boolean)
    staff_count: Mapped[int] = mapped_column(SmallInteger)
    certified_social_workers: Mapped[int] = mapped_column(SmallInteger)
    # Villages/communities (村(社区)) of the town, and how many the station serves
    # ("结对街镇、服务社区、下沉网格"): the service coverage of the station score.
    communities_total: Mapped[int] = mapped_column(SmallInteger)
    communities_served: Mapped[int] = mapped_column(SmallInteger)
    established_year: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version, "eager_defaults": True}  # noqa: RUF012
    __table_args__ = (
        UniqueConstraint("district_code", "street_code"),
        CheckConstraint("left(street_code, 6) = district_code", name="street_in_district"),
        CheckConstraint(
            "staff_count >= 0 AND certified_social_workers BETWEEN 0 AND staff_count",
            name="staff_consistent",
        ),
        CheckConstraint(
            "communities_total >= 0 AND communities_served BETWEEN 0 AND communities_total",
            name="coverage_consistent",
        ),
    )


class StationProject(Base):
    """A project on a station's 123X list for a year (the project's own year).

    A project is on at most one station's list a year (unique); a station has at most one
    core project a year (partial unique index, behind the quota check of
    `stations/service.py`, which holds the station's row lock for the other slots).
    """

    __tablename__ = "station_project"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    station_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("station.id"), index=True)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("project.id"))
    year: Mapped[int] = mapped_column(Integer)
    role: Mapped[CatalogueSlot] = mapped_column(str_enum(CatalogueSlot, "station_role"))
    attached_by: Mapped[str] = mapped_column(String(200))
    attached_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        UniqueConstraint("project_id", "year"),
        Index(
            "uq_station_project_one_core",
            "station_id",
            "year",
            unique=True,
            postgresql_where=text("role = 'core'"),
        ),
    )
