"""Page-numbered lists (`page`, `page_size`, `total`) for the front-end."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")

MAX_PAGE_SIZE = 200


class Page(BaseModel, Generic[T]):
    items: list[T]
    page: int = Field(ge=1)
    page_size: int = Field(ge=1, le=MAX_PAGE_SIZE)
    total: int = Field(ge=0, description="Number of items matching the filters")


@dataclass(frozen=True, slots=True)
class PageParams:
    page: int
    page_size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


def _page_params(
    page: Annotated[int, Query(ge=1, le=1_000_000, description="1-based page number")] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
) -> PageParams:
    return PageParams(page=page, page_size=page_size)


PageDep = Annotated[PageParams, Depends(_page_params)]


def count_query(query: Select[Any]) -> Select[int]:
    """`SELECT count(*)` of the rows `query` returns, whatever its shape.

    The query is counted as a subquery, so its FROM, joins, DISTINCT and GROUP BY all
    count. Replacing its columns with `count(*)` instead (`with_only_columns`) drops
    the FROM when no WHERE clause names a column of the table (no filter, or only a
    correlated EXISTS): the count is then of one row. PostgreSQL pulls a plain subquery
    up into the outer query, so the plan is that of the query itself (an index-only
    scan where one serves).
    """
    return select(func.count()).select_from(query.order_by(None).subquery())


async def count_rows(session: AsyncSession, query: Select[Any]) -> int:
    """The `total` of a page: how many rows `query` returns, unpaged."""
    total: int = (await session.execute(count_query(query))).scalar_one()
    return total


async def paginate(
    session: AsyncSession,
    query: Select[Any],
    page: PageParams,
    *,
    order_by: Sequence[Any] = (),
    scalars: bool = True,
) -> tuple[list[Any], int]:
    """One page of `query` and the total over all its rows: `(items, total)`.

    `order_by` must end in a unique column, so pages neither repeat nor skip rows. The
    total is `count_rows` (a subquery), which stays right for an unfiltered query.
    `scalars=False` returns rows (for queries of several columns) instead of objects.
    """
    total = await count_rows(session, query)
    paged = query.order_by(*order_by).offset(page.offset).limit(page.page_size)
    result = await session.execute(paged)
    items: list[Any] = list(result.scalars().all()) if scalars else list(result.all())
    return items, total


def to_page(
    items: Sequence[Any], total: int, page: PageParams, convert: Callable[[Any], T]
) -> Page[T]:
    """A `Page` response of converted items (e.g. `Schema.model_validate`)."""
    return Page[T](
        items=[convert(item) for item in items],
        page=page.page,
        page_size=page.page_size,
        total=total,
    )
