"""Lists without a filter count every row and page through all of them.

A count built by replacing a query's columns with `count(*)` loses the query's FROM
when no WHERE names a column of the table (no filter, or only a correlated EXISTS such
as `inspection_year`): it counted 1, and page 2 came back empty.
"""

from __future__ import annotations

import random

import httpx
from sqlalchemy import exists, select

from services.registry.applications.models import Application
from services.registry.inspections.models import AnnualInspection
from services.registry.organizations.models import Organization
from services.registry.standing.models import ListEntry
from shared.db import database
from shared.pagination import count_rows
from tests.factories import registered_org
from tests.registry.helpers import ORGS, Auth, created
from tests.support.paging import assert_second_page_holds_the_next_rows, rows_in, walk


async def _inspected(
    registry: httpx.AsyncClient, bureau: dict[str, str], count: int, year: int
) -> None:
    """`count` new organizations, each with an annual inspection filed for `year`."""
    for _ in range(count):
        organization = await created(registry, bureau, registered_org())
        response = await registry.post(
            f"{ORGS}/{organization['id']}/annual-inspections", json={"year": year}, headers=bureau
        )
        assert response.status_code == 201, response.text


async def test_unfiltered_organization_list_counts_the_whole_register(
    registry: httpx.AsyncClient, auth: Auth
) -> None:
    bureau = auth("civil_affairs")
    for _ in range(5):
        await created(registry, bureau, registered_org())
    in_register = await rows_in(Organization)
    assert in_register >= 5

    total, ids = await walk(registry, ORGS, bureau)

    assert total == in_register
    assert len(ids) == len(set(ids)) == in_register
    await assert_second_page_holds_the_next_rows(registry, ORGS, bureau, in_register)


async def test_organizations_inspected_in_a_year_are_all_counted(
    registry: httpx.AsyncClient, auth: Auth
) -> None:
    bureau = auth("civil_affairs")
    year = random.randrange(2000, 2020)
    await _inspected(registry, bureau, 5, year)
    inspected = await rows_in(
        Organization,
        Organization.id.in_(
            select(AnnualInspection.organization_id).where(AnnualInspection.year == year)
        ),
    )
    assert inspected >= 5

    total, ids = await walk(registry, ORGS, bureau, inspection_year=year)

    assert total == inspected
    assert len(set(ids)) == inspected
    await assert_second_page_holds_the_next_rows(
        registry, ORGS, bureau, inspected, inspection_year=year
    )


async def test_unfiltered_inspection_and_application_lists_count_every_row(
    registry: httpx.AsyncClient, auth: Auth
) -> None:
    bureau = auth("civil_affairs")
    year = random.randrange(2000, 2020)
    await _inspected(registry, bureau, 3, year)

    for path, table in (
        ("/api/v1/inspections", AnnualInspection),
        ("/api/v1/applications", Application),
    ):
        in_table = await rows_in(table)
        total, ids = await walk(registry, path, bureau)
        assert (total, len(set(ids))) == (in_table, in_table), path
        await assert_second_page_holds_the_next_rows(registry, path, bureau, in_table)


async def test_unfiltered_credit_list_counts_every_current_entry(
    registry: httpx.AsyncClient, auth: Auth
) -> None:
    bureau = auth("civil_affairs")
    for _ in range(3):
        organization = await created(registry, bureau, registered_org())
        response = await registry.post(
            f"{ORGS}/{organization['id']}/list-entries",
            json={
                "list_type": "abnormal",
                "reason_code": "annual_report_not_filed",
                "reason": "未按规定参加年度检查",
                "listed_on": "2025-06-30",
            },
            headers=bureau,
        )
        assert response.status_code == 201, response.text
    current = await rows_in(ListEntry, ListEntry.removed_on.is_(None))

    total, ids = await walk(registry, f"{ORGS}/list-entries", bureau)

    assert (total, len(set(ids))) == (current, current)
    await assert_second_page_holds_the_next_rows(registry, f"{ORGS}/list-entries", bureau, current)


async def test_count_query_keeps_the_from_of_a_select_with_no_filter() -> None:
    inspected = exists().where(AnnualInspection.organization_id == Organization.id)
    async with database.transaction() as session:
        everyone = await count_rows(session, select(Organization))
        with_a_report = await count_rows(session, select(Organization).where(inspected))
    assert everyone == await rows_in(Organization)
    assert with_a_report == await rows_in(
        Organization, Organization.id.in_(select(AnnualInspection.organization_id))
    )
