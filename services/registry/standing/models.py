"""The credit lists: abnormal activity, serious illegal & dishonest."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from services.registry.base import Base
from services.registry.enums import ListReason, ListType
from shared.db import str_enum


class ListEntry(Base):
    """An entry on the abnormal-activity list or the serious illegal & dishonest list."""

    __tablename__ = "list_entry"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organization.id"), index=True)
    list_type: Mapped[ListType] = mapped_column(str_enum(ListType, "list_type"))
    reason_code: Mapped[ListReason] = mapped_column(str_enum(ListReason, "reason_code"))
    reason: Mapped[str] = mapped_column(Text)
    listed_on: Mapped[date] = mapped_column(Date)
    listed_by: Mapped[str] = mapped_column(String(200))
    # The report year whose annual report was missing (`annual_report_not_filed`, set by
    # the deadline sweep): a late report of that year may take the entry off the list.
    report_year: Mapped[int | None] = mapped_column(SmallInteger)
    removed_on: Mapped[date | None] = mapped_column(Date)
    removal_reason: Mapped[str | None] = mapped_column(Text)
    removed_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (
        CheckConstraint("removed_on IS NULL OR removed_on >= listed_on", name="removal_ordered"),
        Index(
            "uq_list_entry_open_reason",
            "organization_id",
            "list_type",
            "reason_code",
            unique=True,
            postgresql_where=text("removed_on IS NULL"),
        ),
        Index("ix_list_entry_list_type_listed_on", "list_type", "listed_on"),
    )
