"""Published OCDS releases (append-only) and the registry identity of the parties."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.projects.base import Base
from shared.feeds import XID8


class OcdsRelease(Base):
    """One OCDS release exactly as published; a trigger refuses UPDATE, DELETE, TRUNCATE.

    `number` counts a project's releases (1, 2, …); `position` and `txid` order the
    bulk feed commit-safely (shared/feeds.py).
    """

    __tablename__ = "ocds_release"

    position: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    txid: Mapped[str] = mapped_column(
        XID8(), server_default=func.pg_current_xact_id(), deferred=True
    )
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("project.id"))
    number: Mapped[int] = mapped_column(Integer)
    release_id: Mapped[str] = mapped_column(String(100), unique=True)
    date: Mapped[datetime] = mapped_column(index=True)
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(40)))
    body: Mapped[dict[str, Any]] = mapped_column(JSONB)

    __table_args__ = (
        UniqueConstraint("project_id", "number"),
        Index("ix_ocds_release_feed_order", "txid", "position"),
    )


class OcdsParty(Base):
    """An organization as the registry last described it when it took part in a project.

    Projects keeps no copy of the register; this is only what the OCDS parties need (the
    USCC as their `CN-USCC` identifier), recorded when projects asks the registry about
    an applicant or a bidder. A filed organization (备案) has no USCC.
    """

    __tablename__ = "ocds_party"

    org_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    legal_name: Mapped[str] = mapped_column(String(200))
    uscc: Mapped[str | None] = mapped_column(String(18))
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
