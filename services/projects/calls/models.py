"""Calls for applications (申报通知) published by a purchasing department."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import ARRAY
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
from shared.interservice import AdmissionCriteria


class CallStatus(StrEnum):
    open = "open"
    closed = "closed"


class Call(Base):
    __tablename__ = "call"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    year: Mapped[int] = mapped_column(Integer)
    department: Mapped[Department] = mapped_column(str_enum(Department, "department"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    fund_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("fund.id"), index=True)
    pool_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("fund_pool.id"))
    catalogue_item: Mapped[CatalogueItem] = mapped_column(str_enum(CatalogueItem, "catalogue_item"))
    service_targets: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    central_task: Mapped[CentralTask | None] = mapped_column(str_enum(CentralTask, "central_task"))
    # The name of an `other` central task (the source's list ends in 等), with it only.
    central_task_other: Mapped[str | None] = mapped_column(String(CENTRAL_TASK_OTHER_MAX))
    budget_ceiling_fen: Mapped[int] = mapped_column(BigInteger)
    # The last day applications are accepted; `deadline_at` is the midnight that ends it
    # in Asia/Shanghai, stored as an instant.
    deadline_on: Mapped[date] = mapped_column(Date)
    deadline_at: Mapped[datetime]
    status: Mapped[CallStatus] = mapped_column(str_enum(CallStatus, "call_status"))
    # Whom the call admits (`shared.interservice.AdmissionCriteria`, judged by the registry):
    # fixed once published, so that every applicant is judged by the same rules.
    admitted_registrations: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    min_evaluation_grade: Mapped[str | None] = mapped_column(String(2))
    admitted_inspection_results: Mapped[list[str] | None] = mapped_column(ARRAY(String(32)))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version, "eager_defaults": True}  # noqa: RUF012
    __table_args__ = (
        CheckConstraint("budget_ceiling_fen > 0", name="ceiling_positive"),
        CheckConstraint("cardinality(admitted_registrations) >= 1", name="admits_someone"),
        CheckConstraint(CENTRAL_TASK_OTHER_NAMED, name="central_task_other_named"),
    )

    def admission(self) -> AdmissionCriteria:
        return AdmissionCriteria.model_validate(
            {
                "registrations": self.admitted_registrations,
                "min_grade": self.min_evaluation_grade,
                "inspection_results": self.admitted_inspection_results,
            }
        )
