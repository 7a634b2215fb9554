"""The unfiltered register, as the bureau pages through it on the running registry.

With no filter the count lost its FROM: `total` was 1 and page 2 came back empty, so
the front-end showed one page of a register of hundreds.
"""

from __future__ import annotations

import asyncpg

from shared.db import plain_dsn
from tests.e2e.steps import API, Auth, Http, new_organization, ok
from tests.support.system import System

DEFAULT_PAGE_SIZE = 20
ROWS = 2 * DEFAULT_PAGE_SIZE + 5  # three pages, the last one partly filled


async def registered_rows(database_url: str) -> int:
    connection = await asyncpg.connect(plain_dsn(database_url))
    try:
        count: int = await connection.fetchval("SELECT count(*) FROM registry.organization")
    finally:
        await connection.close()
    return count


async def test_the_unfiltered_register_counts_every_row_and_pages_through_them(
    system: System, system_database: str, http: Http, auth: Auth
) -> None:
    for _ in range(ROWS):
        new_organization(http, auth)
    in_register = await registered_rows(system_database)
    assert in_register >= ROWS
    registry, bureau = http("registry"), auth("civil_affairs")

    pages = []
    while sum(len(page["items"]) for page in pages) < in_register:
        page = ok(
            registry.get(f"{API}/organizations", params={"page": len(pages) + 1}, headers=bureau)
        )
        assert page["total"] == in_register, f"page {len(pages) + 1} of {in_register} rows"
        assert page["items"], f"page {len(pages) + 1} is empty"
        pages.append(page)

    assert len(pages) >= 3
    assert len(pages[1]["items"]) == DEFAULT_PAGE_SIZE
    ids = [item["id"] for page in pages for item in page["items"]]
    assert len(ids) == len(set(ids)) == in_register
