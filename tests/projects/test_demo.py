"""The projects demo: the seed's money, a season in every stage, loaded once.

The demo goes into a database of its own; the projects API is then asked about it over
HTTP by the people who read money (the bureau, the finance bureau, an auditor), with no
filter, as a dashboard would.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from sqlalchemy import func, select

from services.projects import demo_data as demo
from services.projects.base import infra
from services.projects.core.models import Project, ProjectStage
from services.projects.demo import load_if_empty
from shared.db import Database
from shared.interservice import CASE_REQUESTED_EVENT
from tests.support.apps import answering_from

API = "/api/v1"
Auth = Callable[..., dict[str, str]]


@pytest.fixture
async def demo_database(
    database_url: str, fresh_database: Callable[[str], AsyncIterator[str]]
) -> AsyncIterator[Database]:
    async for url in fresh_database("pdemo"):
        db = Database(url)
        yield db
        await db.dispose()


async def test_loads_once_with_every_stage(demo_database: Database) -> None:
    assert await load_if_empty(db=demo_database) is True
    assert await load_if_empty(db=demo_database) is False
    async with demo_database.transaction() as session:
        stages = Counter((await session.execute(select(Project.stage))).scalars().all())
        departments = set((await session.execute(select(Project.department))).scalars())
        pending_cases = (
            await session.execute(
                select(func.count())
                .select_from(infra.outbox)
                .where(infra.outbox.c.event_type == CASE_REQUESTED_EVENT)
            )
        ).scalar_one()
        other_events = (
            await session.execute(
                select(func.count())
                .select_from(infra.outbox)
                .where(infra.outbox.c.event_type != CASE_REQUESTED_EVENT)
            )
        ).scalar_one()
    assert set(stages) == set(ProjectStage), stages
    assert len(departments) == 15
    # Only what awaits the workflow is sent to it: open applications and closures.
    assert pending_cases == stages[ProjectStage.applied] + stages[ProjectStage.closing]
    assert other_events == 0


async def test_the_bureau_and_finance_see_the_seed_figures(
    demo_database: Database, projects: httpx.AsyncClient, auth: Auth
) -> None:
    await load_if_empty(db=demo_database)
    readers = {
        "bureau": auth("civil_affairs"),
        "finance": auth("department_reviewer", department="finance"),
        "auditor": auth("auditor"),
    }
    with answering_from(projects, demo_database):
        for who, headers in readers.items():
            listed = await projects.get(f"{API}/funds", headers=headers)
            assert listed.status_code == 200, (who, listed.text)
            funds = {f["name"]: f for f in listed.json()["items"]}
            assert listed.json()["total"] == 2
            haining = funds[demo.HAINING_FUND_NAME]
            assert haining["total_fen"] == 1_000_000_000  # 1000万元
            assert {p["purpose"]: p["amount_fen"] for p in haining["pools"]} == {
                "social_work_purchase": 500_000_000,  # 500万元 购买专业社工服务
                "cultivation_reward": 500_000_000,  # 500万元 培育发展奖补
            }
            luyang = funds[demo.LUYANG_FUND_NAME]
            assert luyang["total_fen"] == 150_000_000  # 150万元 社区治理
            assert [p["purpose"] for p in luyang["pools"]] == ["community_governance"]

            by_fund = await projects.get(f"{API}/reports/spend", headers=headers)
            assert by_fund.status_code == 200, (who, by_fund.text)
            rows = {r["label"].split(" ", 1)[1]: r for r in by_fund.json()["rows"]}
            assert rows[demo.HAINING_FUND_NAME]["budget_fen"] == 1_000_000_000
            assert rows[demo.LUYANG_FUND_NAME]["budget_fen"] == 150_000_000
            by_pool = await projects.get(
                f"{API}/reports/spend", params={"group_by": "pool"}, headers=headers
            )
            pools = {r["label"].split(" · ")[1]: r for r in by_pool.json()["rows"]}
            for pool in (*haining["pools"], *luyang["pools"]):
                row = pools[pool["name"]]
                # The report reconciles with each pool's own balance, never over it.
                assert row["budget_fen"] == pool["amount_fen"]
                assert row["allocated_fen"] == pool["allocated_fen"] <= pool["amount_fen"]
                assert row["paid_fen"] <= row["contracted_fen"]
            cultivation = pools["社会组织培育发展奖补"]
            assert cultivation["granted_fen"] == 76_000_000
            assert pools["专业社工服务购买"]["contracted_fen"] > 0
            assert by_fund.json()["totals"]["budget_fen"] == 1_150_000_000

            by_department = await projects.get(
                f"{API}/reports/spend", params={"group_by": "department"}, headers=headers
            )
            assert len([r for r in by_department.json()["rows"] if r["projects"]]) == 15


async def test_an_organization_cannot_read_the_funds_and_bad_years_are_refused(
    demo_database: Database, projects: httpx.AsyncClient, auth: Auth
) -> None:
    await load_if_empty(db=demo_database)
    with answering_from(projects, demo_database):
        org = auth("organization", org_id=str(demo.agency(demo.HAINING_AGENCIES[0], "x").id))
        refused = await projects.get(f"{API}/funds", headers=org)
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith("application/problem+json")
        # The lone surrogate \ud800 as a query cannot be UTF-8: its bytes, percent-encoded.
        for year in ("9999", "-1", "%ED%A0%80", "2026.5"):
            bad = await projects.get(
                f"{API}/reports/spend?year={year}", headers=auth("civil_affairs")
            )
            assert bad.status_code == 422, (year, bad.text)
