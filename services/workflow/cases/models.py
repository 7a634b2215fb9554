"""Cases and their parts: review tasks, comments, the audit trail, applied commands.

A case keeps the definition version it started with (a foreign key to
`services.workflow.definitions.models.CaseDefinition`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Identity,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.workflow.base import Base
from services.workflow.definitions.models import CaseDefinition
from shared.db import str_enum


class CaseState(StrEnum):
    submitted = "submitted"
    supplement_requested = "supplement_requested"
    resubmitted = "resubmitted"
    accepted = "accepted"  # 受理
    in_joint_review = "in_joint_review"  # 部门联办
    approved = "approved"
    rejected = "rejected"
    withdrawn = "withdrawn"


class TaskState(StrEnum):
    open = "open"
    claimed = "claimed"
    approved = "approved"
    rejected = "rejected"
    cancelled = "cancelled"  # the case was decided or withdrawn before this task was


class ApprovalCase(Base):
    """A case (办件): one application moving through the "run at most once" machine."""

    __tablename__ = "approval_case"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    case_type: Mapped[str] = mapped_column(String(60))
    definition_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(CaseDefinition.id))
    definition_version: Mapped[int] = mapped_column(Integer)
    state: Mapped[CaseState] = mapped_column(str_enum(CaseState, "state"), index=True)
    # Where the outcome goes back to (None for cases filed directly by an organization).
    subject_service: Mapped[str | None] = mapped_column(String(20))
    subject_type: Mapped[str | None] = mapped_column(String(60))
    subject_id: Mapped[str | None] = mapped_column(String(100))
    # The department the subject belongs to (a project's purchasing department), named by
    # the requesting service; it reviews the case if the definition says so.
    subject_department: Mapped[str | None] = mapped_column(String(60))
    callback_path: Mapped[str | None] = mapped_column(String(200))
    applicant_org_id: Mapped[str | None] = mapped_column(String(100), index=True)
    applicant_name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    materials: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    # The one-time notice (一次性告知): everything missing or invalid, listed at once.
    supplement_notice: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    # At most one supplement round, enforced here as well as in the machine.
    supplement_count: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    # 容缺受理: minor materials the applicant committed to supply after acceptance
    # ([{code, name, provided_at}]); supplying them is not a return trip (no supplement
    # round). `pending_due_at` is set at acceptance and cleared once all are supplied.
    pending_materials: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    pending_due_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    outcome_reason: Mapped[str | None] = mapped_column(Text)
    # Deadlines (working days, Asia/Shanghai), shifted when the clock is paused.
    statutory_due_at: Mapped[datetime]
    due_at: Mapped[datetime]
    reminder_at: Mapped[datetime]
    paused_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
    # Delivery of the outcome to the subject service.
    callback_attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    next_callback_at: Mapped[datetime | None]
    callback_delivered_at: Mapped[datetime | None]
    callback_last_error: Mapped[str | None] = mapped_column(String(300))
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))

    __table_args__ = (
        CheckConstraint("supplement_count BETWEEN 0 AND 1", name="at_most_one_supplement"),
        Index(
            "ix_approval_case_timers",
            "reminder_at",
            "due_at",
            postgresql_where=text(
                "state IN ('submitted', 'resubmitted', 'accepted', 'in_joint_review')"
            ),
        ),
        Index(
            "ix_approval_case_pending_callback",
            "next_callback_at",
            postgresql_where=text("callback_delivered_at IS NULL AND next_callback_at IS NOT NULL"),
        ),
        Index("ix_approval_case_subject", "subject_service", "subject_type", "subject_id"),
        Index(
            "ix_approval_case_pending_due",
            "pending_due_at",
            postgresql_where=text("pending_due_at IS NOT NULL"),
        ),
    )


class ReviewTask(Base):
    """One department's part of the joint review; all tasks of a case are created at once."""

    __tablename__ = "review_task"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("approval_case.id"), index=True)
    department: Mapped[str] = mapped_column(String(60), index=True)
    state: Mapped[TaskState] = mapped_column(str_enum(TaskState, "task_state"))
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None]
    decision_comment: Mapped[str | None] = mapped_column(Text)
    # This department's supplement request, held until every reviewing department has
    # spoken: the applicant then gets all of them in one notice (一次性告知).
    supplement_items: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (UniqueConstraint("case_id", "department"),)


class TaskComment(Base):
    __tablename__ = "task_comment"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    task_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("review_task.id"), index=True)
    author: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class CaseTransition(Base):
    """The audit trail: append-only (a trigger refuses UPDATE and DELETE)."""

    __tablename__ = "case_transition"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("approval_case.id"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200))
    actor_role: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    definition_version: Mapped[int] = mapped_column(Integer)
    command_id: Mapped[uuid.UUID | None]
    at: Mapped[datetime] = mapped_column(server_default=func.now())


class CaseCommand(Base):
    """Every command applied, by its id: a repeat returns the stored result, changes nothing."""

    __tablename__ = "case_command"

    command_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("approval_case.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    # `Principal.identity` of the caller who applied it: only that caller gets it again.
    actor: Mapped[str] = mapped_column(String(200))
    result: Mapped[dict[str, Any]] = mapped_column(JSONB)
    applied_at: Mapped[datetime] = mapped_column(server_default=func.now())
