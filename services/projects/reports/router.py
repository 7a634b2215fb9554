"""Read side: the spend report (rules in `spend.py`) and the code lists."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from services.projects import codes
from services.projects.access import MONEY_READERS
from services.projects.core.models import STAGE_LABELS
from services.projects.evaluation.models import Grade
from services.projects.meetings.models import MEETING_LABELS
from services.projects.reports.spend import GroupBy, SpendReport, spend
from shared.app import API_PREFIX
from shared.auth import CurrentPrincipal, allow
from shared.db import SessionDep
from shared.errors import problem_responses

router = APIRouter(prefix=API_PREFIX, tags=["reports"])


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


@router.get(
    "/reports/spend",
    response_model=SpendReport,
    operation_id="getSpendReport",
    responses=problem_responses(401, 403, 422),
    dependencies=[allow(*MONEY_READERS)],
)
async def get_spend_report(
    session: SessionDep,
    principal: CurrentPrincipal,
    group_by: GroupBy = GroupBy.fund,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> SpendReport:
    """Money grouped by fund, pool, department, 123X slot or street, in integer fen.

    Requested, contracted, paid, withheld, released at closure and granted (incubation
    rewards and other direct grants); `allocated_fen` = contracted - released + granted,
    which for the pool rows is the pool's own `allocated_fen`.
    """
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
