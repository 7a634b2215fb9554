"""Read side: the spend report (rules in `spend.py`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.projects.access import MONEY_READERS
from services.projects.reports.spend import GroupBy, SpendReport, spend
from shared.app import API_PREFIX
from shared.auth import CurrentPrincipal, allow
from shared.db import SessionDep
from shared.errors import problem_responses

router = APIRouter(prefix=API_PREFIX, tags=["reports"])


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
