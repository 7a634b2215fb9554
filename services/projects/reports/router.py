"""Read side: spend against budget by fund, department, catalogue slot or street; code lists."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.projects import codes
from services.projects.core.access import visible
from services.projects.core.models import STAGE_LABELS, Project, ProjectStage
from services.projects.evaluation.models import Grade
from services.projects.funds.models import Fund
from services.projects.meetings.models import MEETING_LABELS
from services.projects.payments.models import LedgerEntry
from services.projects.procurement.models import Contract
from shared.app import API_PREFIX
from shared.auth import CurrentPrincipal, Principal, Role, allow
from shared.db import SessionDep
from shared.errors import problem_responses

router = APIRouter(prefix=API_PREFIX, tags=["reports"])


class GroupBy(StrEnum):
    fund = "fund"
    department = "department"
    catalogue_slot = "catalogue_slot"
    street = "street"


class SpendRow(BaseModel):
    key: str
    label: str
    projects: int
    requested_fen: int = Field(description="What the applications asked for")
    contracted_fen: int = Field(description="Contract amounts (allocated from the pools)")
    paid_fen: int = Field(description="What the ledger shows as paid")
    budget_fen: int | None = Field(default=None, description="The fund's total (by fund only)")


class SpendReport(BaseModel):
    group_by: GroupBy
    year: int | None
    rows: list[SpendRow]
    totals: SpendRow


class CodeLabel(BaseModel):
    code: str
    label: str
    group: str | None = None


class CodeLists(BaseModel):
    departments: list[CodeLabel]
    catalogue_items: list[CodeLabel]
    catalogue_slots: list[CodeLabel]
    service_targets: list[CodeLabel]
    central_tasks: list[CodeLabel]
    procurement_methods: list[CodeLabel]
    budget_categories: list[CodeLabel]
    stages: list[CodeLabel]
    meetings: list[CodeLabel]
    grades: list[CodeLabel]


_KEYS = {
    GroupBy.fund: Project.fund_id,
    GroupBy.department: Project.department,
    GroupBy.catalogue_slot: Project.catalogue_item,
    GroupBy.street: Project.street_code,
}
_DROPPED = (ProjectStage.rejected, ProjectStage.withdrawn)


async def spend(
    session: AsyncSession, *, principal: Principal, group_by: GroupBy, year: int | None
) -> SpendReport:
    paid = (
        select(LedgerEntry.project_id, func.sum(LedgerEntry.amount_fen).label("paid"))
        .group_by(LedgerEntry.project_id)
        .subquery()
    )
    key = _KEYS[group_by]
    query = (
        select(
            key,
            func.count(Project.id),
            func.sum(Project.requested_fen),
            func.coalesce(func.sum(Contract.amount_fen), 0),
            func.coalesce(func.sum(paid.c.paid), 0),
        )
        .outerjoin(Contract, Contract.project_id == Project.id)
        .outerjoin(paid, paid.c.project_id == Project.id)
        .where(visible(principal), Project.stage.not_in(_DROPPED))
        .group_by(key)
    )
    if year is not None:
        query = query.where(Project.year == year)
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for raw_key, *figures in (await session.execute(query)).all():
        if group_by is GroupBy.catalogue_slot:
            raw_key = codes.slot_of(raw_key)
        bucket = sums[str(raw_key.value if isinstance(raw_key, StrEnum) else raw_key or "none")]
        for i, value in enumerate(figures):
            bucket[i] += int(value or 0)
    labels, budgets = await _labels(session, group_by, list(sums))
    rows = [
        SpendRow(
            key=k,
            label=labels.get(k, k),
            projects=v[0],
            requested_fen=v[1],
            contracted_fen=v[2],
            paid_fen=v[3],
            budget_fen=budgets.get(k),
        )
        for k, v in sorted(sums.items())
    ]
    totals = SpendRow(
        key="total",
        label="合计",
        projects=sum(r.projects for r in rows),
        requested_fen=sum(r.requested_fen for r in rows),
        contracted_fen=sum(r.contracted_fen for r in rows),
        paid_fen=sum(r.paid_fen for r in rows),
    )
    return SpendReport(group_by=group_by, year=year, rows=rows, totals=totals)


async def _labels(
    session: AsyncSession, group_by: GroupBy, keys: list[str]
) -> tuple[dict[str, str], dict[str, int]]:
    if group_by is GroupBy.department:
        return {d.value: label for d, label in codes.DEPARTMENT_LABELS.items()}, {}
    if group_by is GroupBy.catalogue_slot:
        return {s.value: label for s, label in codes.CATALOGUE_SLOT_LABELS.items()}, {}
    if group_by is GroupBy.fund and keys:
        funds = (await session.execute(select(Fund).where(Fund.id.in_(keys)))).scalars()
        rows = list(funds)
        return (
            {str(f.id): f"{f.year} {f.name}" for f in rows},
            {str(f.id): f.total_fen for f in rows},
        )
    return {}, {}


@router.get(
    "/reports/spend",
    response_model=SpendReport,
    operation_id="getSpendReport",
    responses=problem_responses(401, 403, 422),
    dependencies=[allow(Role.civil_affairs, Role.department_reviewer, Role.auditor, Role.service)],
)
async def get_spend_report(
    session: SessionDep,
    principal: CurrentPrincipal,
    group_by: GroupBy = GroupBy.fund,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> SpendReport:
    """Requested, contracted and paid money grouped by fund, department, 123X slot or street."""
    return await spend(session, principal=principal, group_by=group_by, year=year)


def _pairs(labels: Mapping[Any, str]) -> list[CodeLabel]:
    return [CodeLabel(code=code.value, label=label) for code, label in labels.items()]


@router.get(
    "/project-codes",
    response_model=CodeLists,
    operation_id="getProjectCodes",
    responses=problem_responses(401),
)
async def get_codes(principal: CurrentPrincipal) -> CodeLists:
    """Every code list of the projects API with its Chinese label, for the front-end."""
    return CodeLists(
        departments=_pairs(codes.DEPARTMENT_LABELS),
        catalogue_items=[
            CodeLabel(code=item.value, label=label, group=slot.value)
            for item, (slot, label) in codes.CATALOGUE.items()
        ],
        catalogue_slots=_pairs(codes.CATALOGUE_SLOT_LABELS),
        service_targets=_pairs(codes.SERVICE_TARGET_LABELS),
        central_tasks=_pairs(codes.CENTRAL_TASK_LABELS),
        procurement_methods=_pairs(codes.PROCUREMENT_METHOD_LABELS),
        budget_categories=_pairs(codes.BUDGET_CATEGORY_LABELS),
        stages=_pairs(STAGE_LABELS),
        meetings=_pairs(MEETING_LABELS),
        grades=[
            CodeLabel(code=g.value, label=label)
            for g, label in zip(Grade, ("优秀", "良好", "合格", "不合格"), strict=True)
        ],
    )
