"""Stored case definitions: one row per version of a case type."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.workflow.base import Base


class CaseDefinition(Base):
    """One version of a case type's definition; immutable once stored.

    A running case keeps the definition version it started with, so a definition is
    changed by adding a version, never by editing one.
    """

    __tablename__ = "case_definition"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    case_type: Mapped[str] = mapped_column(String(60))
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any]] = mapped_column(JSONB)
    content_sha256: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (UniqueConstraint("case_type", "version"),)
