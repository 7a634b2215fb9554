"""The projects service's lists, with no filter, count every row and page through them."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from services.projects.calls.models import Call
from services.projects.core.models import Project
from services.projects.funds.models import Fund
from tests.projects.driver import API, Driver
from tests.support.paging import assert_second_page_holds_the_next_rows, rows_in, walk


async def test_unfiltered_project_fund_and_call_lists_count_every_row(
    projects: httpx.AsyncClient, auth: Callable[..., dict[str, str]], driver: Driver
) -> None:
    for _ in range(3):
        await driver.applied()
    bureau = auth("civil_affairs")
    for path, table in (
        (f"{API}/projects", Project),
        (f"{API}/funds", Fund),
        (f"{API}/calls", Call),
    ):
        in_table = await rows_in(table)
        total, ids = await walk(projects, path, bureau)
        assert (total, len(set(ids))) == (in_table, in_table), path
        await assert_second_page_holds_the_next_rows(projects, path, bureau, in_table)
