"""Applications the workflow decides, and the receipts of the case outcomes applied."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.registry.base import Base
from services.registry.enums import ApplicationKind, ApplicationState
from shared.cases import outcome_receipts
from shared.db import str_enum


class Application(Base):
    """An application the workflow decides: registration, change, deregistration, inspection.

    `proposal` holds what approval will apply (the new organization's fields, the
    changes, ...); nothing of it touches the register before the approved outcome.
    """

    __tablename__ = "application"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    kind: Mapped[ApplicationKind] = mapped_column(str_enum(ApplicationKind, "application_kind"))
    state: Mapped[ApplicationState] = mapped_column(str_enum(ApplicationState, "application_state"))
    organization_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organization.id"), index=True
    )
    proposal: Mapped[dict[str, Any]] = mapped_column(JSONB)
    materials: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    applicant_name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    # The CaseRequest's command id: the workflow opens one case per command id.
    command_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    case_id: Mapped[uuid.UUID | None]
    assigned_uscc: Mapped[str | None] = mapped_column(String(18), unique=True)
    outcome_reason: Mapped[str | None] = mapped_column(Text)
    submitted_by: Mapped[str] = mapped_column(String(200))
    submitted_at: Mapped[datetime] = mapped_column(server_default=func.now())
    decided_at: Mapped[datetime | None]
    # The applicant asked to withdraw it: the request is on its way to the workflow, and
    # the application stays pending until the `withdrawn` outcome comes back.
    withdrawal_requested_at: Mapped[datetime | None]
    withdrawal_requested_by: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        # One open application of a kind per organization at a time (annual reports are
        # one per year instead, by annual_inspection's own unique constraint).
        Index(
            "uq_application_pending_per_organization",
            "organization_id",
            "kind",
            unique=True,
            postgresql_where=text(
                "state = 'pending' AND organization_id IS NOT NULL AND kind <> 'annual_inspection'"
            ),
        ),
    )


# One row per case outcome applied: a repeat finds it (`shared.cases.claim_outcome`).
CASE_OUTCOME_RECEIPT = outcome_receipts(Base.metadata)
