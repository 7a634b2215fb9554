"""Spend against budget by fund, department, 123X catalogue slot and street.

The projects here are the only ones of year 2041 in the test database, so the report
filtered on that year holds exactly their figures.
"""

from __future__ import annotations

from typing import Any

from tests.projects.driver import API, Driver

YEAR = 2041


async def report(driver: Driver, group_by: str, headers: dict[str, str] | None = None) -> Any:
    return await driver.expect(
        "GET",
        f"{API}/reports/spend?group_by={group_by}&year={YEAR}",
        200,
        headers or driver.bureau,
    )


async def test_spend_is_requested_contracted_and_paid_per_grouping(driver: Driver) -> None:
    driver.fund_defaults = {"year": YEAR}
    paid = await driver.implementing()  # education, basic slot: 19,000,000 contracted
    await driver.pay(paid, 1)  # 30 % paid
    applied = await driver.applied(department="health", catalogue_item="brand_community")
    rejected = await driver.applied()
    await driver.outcome("project_application", "project", rejected.id, "rejected")

    def row(key: str, projects: int, requested: int, contracted: int, paid: int) -> dict[str, Any]:
        return {
            "key": key,
            "projects": projects,
            "requested_fen": requested,
            "contracted_fen": contracted,
            "paid_fen": paid,
        }

    def figures(body: dict[str, Any]) -> list[dict[str, Any]]:
        return [{k: r[k] for k in row("", 0, 0, 0, 0)} for r in body["rows"]]

    education = row("education", 1, 20_000_000, 19_000_000, 5_700_000)
    health = row("health", 1, 20_000_000, 0, 0)
    by_department = await report(driver, "department")
    assert figures(by_department) == [education, health]
    assert by_department["totals"] | {"key": "total"} == {
        "key": "total",
        "label": "合计",
        "projects": 2,
        "requested_fen": 40_000_000,
        "contracted_fen": 19_000_000,
        "paid_fen": 5_700_000,
        "withheld_fen": 0,
        "released_fen": 0,
        "granted_fen": 0,
        "allocated_fen": 19_000_000,
        "budget_fen": None,
        "available_fen": None,
    }
    by_slot = await report(driver, "catalogue_slot")
    assert figures(by_slot) == [
        row("basic", 1, 20_000_000, 19_000_000, 5_700_000),
        row("brand", 1, 20_000_000, 0, 0),
    ]
    by_street = await report(driver, "street")
    assert figures(by_street) == [row("340103001", 2, 40_000_000, 19_000_000, 5_700_000)]
    by_fund = await report(driver, "fund")
    funds = {r["key"]: r for r in by_fund["rows"]}
    assert funds[paid.fund["id"]]["budget_fen"] == paid.fund["total_fen"]
    assert funds[paid.fund["id"]]["paid_fen"] == 5_700_000
    assert funds[applied.fund["id"]]["contracted_fen"] == 0
    # A rejected application spends nothing: its fund is a row of the year, all zeros.
    unspent = funds[rejected.fund["id"]]
    assert (unspent["projects"], unspent["requested_fen"], unspent["allocated_fen"]) == (0, 0, 0)

    # A purchasing department's report covers its own projects only.
    health_view = await report(
        driver, "department", driver.auth("department_reviewer", department="health")
    )
    assert figures(health_view) == [health]
