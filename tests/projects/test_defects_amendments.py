"""An approved amendment of the contract period moves the progress-report schedule with it.

Reports are scheduled at initiation from the contract period. An extension must add the
reports of the new months (and re-centre an unsubmitted mid-term report); a shortening
drops the unsubmitted reports past the new end. Submitted reports are history: kept as
they are, whatever the new period.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import select

from services.projects.supervision.models import ProgressReport
from services.projects.supervision.schedule import schedule
from shared.db import database
from tests.projects.driver import API, Driver, Flow

START = date(2026, 1, 10)


async def _amend_end(driver: Driver, flow: Flow, new_end_on: str, *, approve: bool = True) -> None:
    """The purchasing department proposes a new end date; the bureau decides."""
    purchaser = driver.auth("department_reviewer", department=flow.call["department"])
    amendment = await driver.expect(
        "POST",
        f"{flow.path}/contract/amendments",
        201,
        purchaser,
        json={"rationale": "服务期调整", "new_end_on": new_end_on},
    )
    contract = await driver.client.get(f"{flow.path}/contract", headers=driver.bureau)
    decision = "approve" if approve else "reject"
    await driver.expect(
        "POST",
        f"{flow.path}/contract/amendments/{amendment['id']}/{decision}",
        200,
        {**driver.bureau, "If-Match": contract.headers["ETag"]},
        json={"note": "同意" if approve else "不同意"},
    )


async def _reports(driver: Driver, flow: Flow) -> list[dict[str, Any]]:
    """The schedule as the organization sees it."""
    reports: list[dict[str, Any]] = await driver.expect(
        "GET", f"{flow.path}/progress-reports", 200, driver.org(flow.org_id)
    )
    return reports


def _plan(start_on: date, end_on: date) -> set[tuple[str, int, str, str, str]]:
    return {
        (r.kind.value, r.seq, str(r.period_start_on), str(r.period_end_on), str(r.due_on))
        for r in schedule(start_on, end_on)
    }


def _shape(reports: list[dict[str, Any]]) -> set[tuple[str, int, str, str, str]]:
    return {
        (r["kind"], r["seq"], r["period_start_on"], r["period_end_on"], r["due_on"])
        for r in reports
    }


async def _submit(driver: Driver, flow: Flow, report: dict[str, Any], content: str) -> None:
    await driver.expect(
        "POST",
        f"{flow.path}/progress-reports/{report['id']}/submission",
        200,
        driver.org(flow.org_id),
        json={"content": content},
    )


def _monthly(reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted((r for r in reports if r["kind"] == "monthly"), key=lambda r: r["seq"])


async def _submitted_then_amended(
    driver: Driver, *, month: int, content: str, new_end: str
) -> tuple[Flow, list[dict[str, Any]], dict[str, Any], list[dict[str, Any]]]:
    """A project implementing from START to the end of 2026 whose organization submits the
    monthly report of `month`, then whose contract's end is amended to `new_end`: the
    flow, its reports before, the submitted report, its reports after."""
    flow = await driver.implementing(start_on=str(START), end_on="2026-12-31")
    before = await _reports(driver, flow)
    submitted = next(r for r in before if r["kind"] == "monthly" and r["seq"] == month)
    await _submit(driver, flow, submitted, content)

    await _amend_end(driver, flow, new_end)

    return flow, before, submitted, await _reports(driver, flow)


async def test_an_approved_extension_schedules_reports_to_the_new_end(driver: Driver) -> None:
    flow, before, january, after = await _submitted_then_amended(
        driver, month=1, content="一月份服务月报", new_end="2027-03-31"
    )
    monthly = _monthly(after)
    assert len(monthly) == 15  # January 2026 .. March 2027
    assert (monthly[-1]["period_start_on"], monthly[-1]["period_end_on"]) == (
        "2027-03-01",
        "2027-03-31",
    )
    assert monthly[-1]["due_on"] == "2027-04-10"
    (mid,) = [r for r in after if r["kind"] == "mid_term"]
    # The mid-term report covers the first half of the new period: 2026-01-10 + 222 days.
    assert (mid["period_end_on"], mid["due_on"]) == ("2026-08-20", "2026-09-04")
    assert _shape(after) == _plan(START, date(2027, 3, 31))
    # The submitted January report is the same report, untouched.
    kept = next(r for r in after if r["id"] == january["id"])
    assert (kept["content"], kept["submitted_at"] is not None) == ("一月份服务月报", True)
    # The reports of the old period keep their identity (reminders stamped on them stay).
    assert {r["id"] for r in before} <= {r["id"] for r in after}

    # The timeline says what the amendment did to the schedule.
    timeline = await driver.expect("GET", f"{flow.path}/timeline", 200, driver.bureau)
    (entry,) = [e for e in timeline if e["action"] == "reports_rescheduled"]
    assert (entry["details"]["added"], entry["details"]["dropped"]) == (3, 0)


async def test_an_approved_shortening_drops_unsubmitted_reports_past_the_new_end(
    driver: Driver,
) -> None:
    _, _, november, after = await _submitted_then_amended(
        driver, month=11, content="提前提交的十一月月报", new_end="2026-09-30"
    )
    monthly = _monthly(after)
    # January .. September, plus the November report already submitted (kept as history).
    assert [r["seq"] for r in monthly] == [1, 2, 3, 4, 5, 6, 7, 8, 9, 11]
    assert monthly[8]["period_end_on"] == "2026-09-30"
    assert next(r for r in monthly if r["seq"] == 11)["id"] == november["id"]
    unsubmitted = [r for r in after if r["submitted_at"] is None]
    assert _shape(unsubmitted) == _plan(START, date(2026, 9, 30))
    assert all(r["period_start_on"] <= "2026-09-30" for r in unsubmitted)


async def test_a_moved_due_date_is_flagged_again(driver: Driver) -> None:
    # A period in the past: the sweep has flagged every report overdue, the mid-term too.
    flow = await driver.implementing(
        start_on="2020-01-01", end_on="2020-03-31", signed_on="2019-12-20"
    )
    await driver.expect("POST", f"{API}/internal/progress-report-sweeps", 200, driver.service)

    await _amend_end(driver, flow, "2030-12-31")  # the mid-term now falls in mid-2025

    async def mid_term() -> ProgressReport:
        async with database.transaction() as session:
            return (
                await session.execute(
                    select(ProgressReport).where(
                        ProgressReport.project_id == uuid.UUID(flow.id),
                        ProgressReport.kind == "mid_term",
                    )
                )
            ).scalar_one()

    moved = await mid_term()
    assert moved.due_on == date(2025, 7, 16)
    # Its due date moved: the overdue notice about the old date no longer stands...
    assert moved.overdue_notified_at is None
    # ...and the next sweep notices the new one.
    await driver.expect("POST", f"{API}/internal/progress-report-sweeps", 200, driver.service)
    assert (await mid_term()).overdue_notified_at is not None


async def test_a_rejected_amendment_leaves_the_schedule_alone(driver: Driver) -> None:
    flow = await driver.implementing(start_on=str(START), end_on="2026-12-31")
    before = await _reports(driver, flow)
    await _amend_end(driver, flow, "2027-06-30", approve=False)
    assert await _reports(driver, flow) == before
