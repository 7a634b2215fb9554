"""The workflow's case list, with no filter, counts every case and pages through them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from services.workflow.models import ApprovalCase
from tests.support.paging import assert_second_page_holds_the_next_rows, rows_in, walk

CASES = "/api/v1/cases"


async def test_unfiltered_case_list_counts_every_case(
    workflow: httpx.AsyncClient, auth: Callable[..., dict[str, str]], submit: Callable[..., Any]
) -> None:
    for _ in range(3):
        await submit()
    bureau = auth("civil_affairs")
    in_table = await rows_in(ApprovalCase)

    total, ids = await walk(workflow, CASES, bureau)

    assert (total, len(set(ids))) == (in_table, in_table)
    await assert_second_page_holds_the_next_rows(workflow, CASES, bureau, in_table)
