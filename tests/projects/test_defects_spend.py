"""The spend report reconciles with the fund pools' own balances, whatever moved the money.

A pool's `allocated_fen` moves with contracts and amendments (+), closures giving back
what a project did not spend (-) and direct grants such as incubation rewards (+). The
report shows each of them, so that `contracted - released + granted = allocated` row by
row, and the pool rows equal the pools. The projects here are the only ones of year 2043
in the test database, so the report filtered on that year holds exactly their figures.
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.projects.driver import API, Driver, Flow

YEAR = 2043
FIGURES = (
    "requested_fen",
    "contracted_fen",
    "paid_fen",
    "withheld_fen",
    "released_fen",
    "granted_fen",
    "allocated_fen",
)


async def _report(driver: Driver, group_by: str, headers: dict[str, str] | None = None) -> Any:
    return await driver.expect(
        "GET", f"{API}/reports/spend?group_by={group_by}&year={YEAR}", 200, headers or driver.bureau
    )


async def _assert_reconciles(driver: Driver, *funds: dict[str, Any]) -> dict[str, Any]:
    """Each pool row equals its pool, each fund row its pools; returns the pool rows."""
    by_pool = await _report(driver, "pool")
    by_fund = await _report(driver, "fund")
    pool_rows = {r["key"]: r for r in by_pool["rows"]}
    fund_rows = {r["key"]: r for r in by_fund["rows"]}
    for row in [*by_pool["rows"], *by_fund["rows"], by_pool["totals"], by_fund["totals"]]:
        assert all(isinstance(row[f], int) for f in FIGURES), row
        assert (
            row["contracted_fen"] - row["released_fen"] + row["granted_fen"]
            == (row["allocated_fen"])
        ), row
    for fund in funds:
        current = await driver.expect("GET", f"{API}/funds/{fund['id']}", 200, driver.bureau)
        for pool in current["pools"]:
            row = pool_rows[pool["id"]]
            assert (row["allocated_fen"], row["budget_fen"], row["available_fen"]) == (
                pool["allocated_fen"],
                pool["amount_fen"],
                pool["amount_fen"] - pool["allocated_fen"],
            ), row
        fund_row = fund_rows[fund["id"]]
        assert fund_row["budget_fen"] == current["total_fen"]
        assert fund_row["allocated_fen"] == sum(p["allocated_fen"] for p in current["pools"])
    # Every pool of the year is a row, so the totals are the pools' totals.
    assert by_pool["totals"]["allocated_fen"] == by_fund["totals"]["allocated_fen"]
    assert by_pool["totals"]["allocated_fen"] == sum(r["allocated_fen"] for r in by_pool["rows"])
    return pool_rows


async def _close(driver: Driver, flow: Flow) -> None:
    await driver.request_closure(flow)
    response = await driver.outcome("project_closure", "project", flow.id)
    assert response.status_code == 200, response.text


async def test_the_report_reconciles_with_the_pools_after_a_release_and_a_grant(
    driver: Driver,
) -> None:
    driver.fund_defaults = {"year": YEAR}
    # A failed evaluation: tranches 1 and 2 paid (30 % + 40 % of 19,000,000), the final
    # 30 % withheld, and given back to the pool at closure.
    failed = await driver.evaluated(fraction=0.5)
    await driver.pay(failed, 1)
    await driver.pay(failed, 2)
    purchase, incubation = failed.fund["pools"][0]["id"], failed.fund["pools"][1]["id"]
    assert failed.call["pool_id"] == purchase
    other = await driver.implementing()  # another fund of the year, a contract still open

    rows = await _assert_reconciles(driver, failed.fund, other.fund)
    assert (rows[purchase]["withheld_fen"], rows[purchase]["released_fen"]) == (5_700_000, 0)

    await _close(driver, failed)
    rows = await _assert_reconciles(driver, failed.fund, other.fund)
    assert {f: rows[purchase][f] for f in FIGURES} == {
        "requested_fen": 20_000_000,
        "contracted_fen": 19_000_000,
        "paid_fen": 13_300_000,
        "withheld_fen": 5_700_000,
        "released_fen": 5_700_000,
        "granted_fen": 0,
        "allocated_fen": 13_300_000,
    }

    # A cultivation award (培育发展奖补) to an organization: a grant of no project.
    await driver.expect(
        "POST",
        f"{API}/funds/{failed.fund['id']}/allocations",
        201,
        driver.bureau,
        json={"pool_id": incubation, "amount_fen": 1_234_567, "org_id": str(uuid.uuid4())},
    )
    rows = await _assert_reconciles(driver, failed.fund, other.fund)
    assert (rows[incubation]["projects"], rows[incubation]["granted_fen"]) == (0, 1_234_567)
    assert rows[incubation]["allocated_fen"] == 1_234_567

    # Grouped by department the grants are a row of their own, and the totals still are
    # what the pools of the year hold.
    by_department = await _report(driver, "department")
    departments = {r["key"]: r for r in by_department["rows"]}
    assert departments["grants"]["granted_fen"] == 1_234_567
    assert departments["education"]["released_fen"] == 5_700_000
    assert by_department["totals"]["allocated_fen"] == 13_300_000 + 19_000_000 + 1_234_567
    assert by_department["totals"]["contracted_fen"] == 19_000_000 + 19_000_000

    # A purchasing department sees its own projects' money only, and no grants.
    education = await _report(
        driver, "department", driver.auth("department_reviewer", department="education")
    )
    assert [r["key"] for r in education["rows"]] == ["education"]
    assert education["totals"]["granted_fen"] == 0
    # The auditor reads the same report as the bureau.
    audited = await _report(driver, "pool", driver.auth("auditor"))
    assert audited == await _report(driver, "pool")


async def test_a_spend_report_grouping_that_does_not_exist_is_a_clear_422(driver: Driver) -> None:
    response = await driver.client.get(
        f"{API}/reports/spend?group_by=pools_of_mars&year={YEAR}", headers=driver.bureau
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
