"""Walk a page-numbered list the way a front-end does, checking its `total` as it goes."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from shared.db import database


async def rows_in(table: Any, *where: Any) -> int:
    """The oracle: how many rows the table holds, straight from the database."""
    async with database.transaction() as session:
        query = select(func.count()).select_from(table).where(*where)
        return int((await session.execute(query)).scalar_one())


async def walk(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], **params: Any
) -> tuple[int, list[str]]:
    """Every page of a list, in order: the total each page gave, and the ids seen.

    Each page must repeat the first page's total, and none may be empty before `total`
    items were seen.
    """
    ids: list[str] = []
    total: int | None = None
    page = 0
    while total is None or len(ids) < total:
        page += 1
        response = await client.get(
            path, params={**params, "page_size": 200, "page": page}, headers=headers
        )
        assert response.status_code == 200, response.text
        body = response.json()
        if total is None:
            total = int(body["total"])
            if total == 0:
                break
        assert body["total"] == total, f"page {page} counted {body['total']}, page 1 {total}"
        assert body["items"], f"page {page} is empty though {len(ids)} of {total} were seen"
        ids += [str(item["id"]) for item in body["items"]]
    return total, ids


async def assert_second_page_holds_the_next_rows(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], total: int, **params: Any
) -> None:
    """Pages of two: page 2 holds rows 3 and 4 (or 3 alone) and repeats the total."""
    assert total >= 3, f"{path}: too few rows ({total}) for a second page"
    response = await client.get(path, params={**params, "page_size": 2, "page": 2}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == total, path
    assert len(body["items"]) == min(2, total - 2), path
