"""Reference data: every code list of the projects API with its Chinese label."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from services.projects.core.models import STAGE_LABELS
from services.projects.meetings.models import MEETING_LABELS
from services.projects.reference import code_lists
from services.projects.reference.labels import GRADE_LABELS
from shared.app import API_PREFIX
from shared.auth import CurrentPrincipal
from shared.errors import problem_responses

# Tagged "reports" as it was when the reports router served it: a generated client keeps
# its method where it was.
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


def _pairs(labels: Mapping[Any, str]) -> list[CodeLabel]:
    return [CodeLabel(code=code.value, label=label) for code, label in labels.items()]


@router.get(
    "/project-codes",
    response_model=CodeLists,
    operation_id="getProjectCodes",
    responses=problem_responses(401),
    deprecated=True,
)
async def get_codes(principal: CurrentPrincipal) -> CodeLists:
    """Every code list of the projects API with its Chinese label, for the front-end.

    Deprecated: `GET /api/v1/projects/vocabulary` answers every labelled code in the
    shape all three services share (`shared.vocabulary`).
    """
    return CodeLists(
        departments=_pairs(code_lists.DEPARTMENT_LABELS),
        catalogue_items=[
            CodeLabel(code=item.value, label=label, group=slot.value)
            for item, (slot, label) in code_lists.CATALOGUE.items()
        ],
        catalogue_slots=_pairs(code_lists.CATALOGUE_SLOT_LABELS),
        service_targets=_pairs(code_lists.SERVICE_TARGET_LABELS),
        central_tasks=_pairs(code_lists.CENTRAL_TASK_LABELS),
        procurement_methods=_pairs(code_lists.PROCUREMENT_METHOD_LABELS),
        budget_categories=_pairs(code_lists.BUDGET_CATEGORY_LABELS),
        stages=_pairs(STAGE_LABELS),
        meetings=_pairs(MEETING_LABELS),
        grades=_pairs(GRADE_LABELS),
    )
