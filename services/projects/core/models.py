"""The project (one purchased-service project from application to closure) and its timeline."""

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
    Integer,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.projects.base import Base
from services.projects.reference.code_lists import (
    CENTRAL_TASK_OTHER_MAX,
    CENTRAL_TASK_OTHER_NAMED,
    CatalogueItem,
    CentralTask,
    Department,
)
from shared.db import str_enum


class ProjectStage(StrEnum):
    """Where a project is in the "five unified" lifecycle (五统一)."""

    applied = "applied"  # 统一申报: the application case is open in the workflow
    approved = "approved"  # application approved, procurement not begun
    rejected = "rejected"
    withdrawn = "withdrawn"
    procuring = "procuring"  # 统一采购: bids being received and scored
    contracted = "contracted"  # contract signed, money allocated from the pool
    implementing = "implementing"  # 立项 done (press conference): 统一支付 + 统一督导
    evaluating = "evaluating"  # 统一评估: SPPE scoring
    evaluated = "evaluated"  # evaluation concluded with a grade
    closing = "closing"  # the closure case is open in the workflow
    closed = "closed"  # 结项


STAGE_LABELS: dict[ProjectStage, str] = {
    ProjectStage.applied: "申报中",
    ProjectStage.approved: "申报通过",
    ProjectStage.rejected: "申报未通过",
    ProjectStage.withdrawn: "已撤回",
    ProjectStage.procuring: "采购中",
    ProjectStage.contracted: "已签约",
    ProjectStage.implementing: "实施中(已立项)",
    ProjectStage.evaluating: "评估中",
    ProjectStage.evaluated: "已评估",
    ProjectStage.closing: "结项审核中",
    ProjectStage.closed: "已结项",
}


class Project(Base):
    """A purchased-service project; created by an organization's application to a call."""

    __tablename__ = "project"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    call_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("call.id"), index=True)
    # Copied from the call so that scoping and reports need no join.
    department: Mapped[Department] = mapped_column(str_enum(Department, "department"), index=True)
    fund_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("fund.id"), index=True)
    pool_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("fund_pool.id"))
    catalogue_item: Mapped[CatalogueItem] = mapped_column(str_enum(CatalogueItem, "catalogue_item"))
    year: Mapped[int] = mapped_column(Integer)
    # The applicant, and the supplier that won the procurement (usually the same).
    org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    org_name: Mapped[str] = mapped_column(String(200))
    supplier_org_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    supplier_name: Mapped[str | None] = mapped_column(String(200))
    street_code: Mapped[str | None] = mapped_column(String(12), index=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    proposal_url: Mapped[str | None] = mapped_column(String(500))
    service_targets: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    central_task: Mapped[CentralTask | None] = mapped_column(str_enum(CentralTask, "central_task"))
    # The name of an `other` central task (the source's list ends in 等), with it only.
    central_task_other: Mapped[str | None] = mapped_column(String(CENTRAL_TASK_OTHER_MAX))
    requested_fen: Mapped[int] = mapped_column(BigInteger)
    stage: Mapped[ProjectStage] = mapped_column(str_enum(ProjectStage, "stage"), index=True)
    # The workflow cases this project asked for (command id sent, case id learnt back).
    application_command_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    application_case_id: Mapped[uuid.UUID | None]
    closure_command_id: Mapped[uuid.UUID | None] = mapped_column(unique=True)
    closure_case_id: Mapped[uuid.UUID | None]
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version, "eager_defaults": True}  # noqa: RUF012
    __table_args__ = (
        CheckConstraint("requested_fen > 0", name="requested_positive"),
        CheckConstraint(CENTRAL_TASK_OTHER_NAMED, name="central_task_other_named"),
    )


class TimelineEntry(Base):
    """Append-only (a trigger refuses UPDATE and DELETE): who changed what, when."""

    __tablename__ = "timeline_entry"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("project.id"), index=True)
    at: Mapped[datetime] = mapped_column(server_default=func.now())
    actor_sub: Mapped[str] = mapped_column(String(200))
    actor_role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(60))
    from_stage: Mapped[str | None] = mapped_column(String(32))
    to_stage: Mapped[str | None] = mapped_column(String(32))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
