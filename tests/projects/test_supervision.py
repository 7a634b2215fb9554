"""Supervision: the report schedule, late flags, reminders once, rectification rounds."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import date

import httpx
from sqlalchemy import select

from services.projects.base import infra
from services.projects.supervision.models import ProgressReport, ReportKind
from services.projects.supervision.reminders import sweep_forever
from services.projects.supervision.schedule import schedule
from shared.db import database
from tests.projects.driver import API, Driver
from tests.support.polling import poll


def test_monthly_reports_are_due_on_the_tenth_and_mid_term_after_the_midpoint() -> None:
    planned = schedule(date(2026, 1, 10), date(2026, 12, 31))
    monthly = [r for r in planned if r.kind is ReportKind.monthly]
    assert len(monthly) == 12
    assert (monthly[0].period_start_on, monthly[0].period_end_on, monthly[0].due_on) == (
        date(2026, 1, 10),
        date(2026, 1, 31),
        date(2026, 2, 10),
    )
    assert monthly[-1].due_on == date(2027, 1, 10)
    (mid,) = [r for r in planned if r.kind is ReportKind.mid_term]
    assert (mid.period_end_on, mid.due_on) == (date(2026, 7, 6), date(2026, 7, 21))


class TestReports:
    async def test_reports_are_scheduled_at_initiation_and_late_ones_flagged(
        self, driver: Driver
    ) -> None:
        # A contract period in the past: every report is already overdue.
        flow = await driver.implementing(
            start_on="2020-01-01", end_on="2020-03-31", signed_on="2019-12-20"
        )
        reports = await driver.expect("GET", f"{flow.path}/progress-reports", 200, driver.bureau)
        assert [(r["kind"], r["due_on"]) for r in reports] == [
            ("monthly", "2020-02-10"),
            ("mid_term", "2020-03-01"),
            ("monthly", "2020-03-10"),
            ("monthly", "2020-04-10"),
        ]
        assert all(r["overdue"] for r in reports)
        submitted = await driver.expect(
            "POST",
            f"{flow.path}/progress-reports/{reports[0]['id']}/submission",
            200,
            driver.org(flow.org_id),
            json={"content": "一月份服务月报"},
        )
        assert (submitted["submitted_late"], submitted["overdue"]) == (True, False)
        again = await driver.client.post(
            f"{flow.path}/progress-reports/{reports[0]['id']}/submission",
            headers=driver.org(flow.org_id),
            json={"content": "重复"},
        )
        assert again.json()["code"] == "report_submitted"

    async def test_the_sweep_notifies_each_overdue_report_once(self, driver: Driver) -> None:
        flow = await driver.implementing(
            start_on="2020-01-01", end_on="2020-02-29", signed_on="2019-12-20"
        )
        sweep = f"{API}/internal/progress-report-sweeps"
        first = await driver.expect("POST", sweep, 200, driver.service)
        await driver.expect("POST", sweep, 200, driver.service)
        assert first["overdue"] >= 3
        outbox = infra.outbox
        async with database.transaction() as session:
            notices = (
                await session.execute(
                    select(outbox.c.subject_id).where(
                        outbox.c.event_type == "progress_report.overdue",
                        outbox.c.payload["project_id"].astext == flow.id,
                    )
                )
            ).all()
        assert len(notices) == 3 and len({n.subject_id for n in notices}) == 3


class TestRectification:
    async def test_finding_response_rejection_and_resolution(self, driver: Driver) -> None:
        flow = await driver.implementing()
        visit = await driver.expect(
            "POST",
            f"{flow.path}/supervision-visits",
            201,
            driver.bureau,
            json={
                "visited_on": "2026-04-01",
                "supervisor": "第三方督导",
                "summary": "总体良好",
                "findings": [
                    {"finding": "个案记录不完整", "severity": "minor", "deadline_on": "2026-04-30"}
                ],
            },
        )
        item = visit["rectifications"][0]
        base = f"{flow.path}/rectifications/{item['id']}"
        org = driver.org(flow.org_id)
        missing = await driver.client.post(
            f"{base}/response", headers=org, json={"response": "已补"}
        )
        assert (missing.status_code, missing.json()["code"]) == (428, "if_match_required")
        stale = await driver.client.post(
            f"{base}/response", headers={**org, "If-Match": '"99"'}, json={"response": "已补"}
        )
        assert stale.status_code == 412
        responded = await driver.client.post(
            f"{base}/response",
            headers={**org, "If-Match": f'"{item["version"]}"'},
            json={"response": "已补全个案记录"},
        )
        assert responded.json()["status"] == "responded"
        etag = responded.headers["ETag"]
        sent_back = await driver.expect(
            "POST",
            f"{base}/resolution",
            200,
            {**driver.bureau, "If-Match": etag},
            json={"accepted": False, "resolution": "仍缺两份记录"},
        )
        assert (sent_back["status"], sent_back["rounds"]) == ("open", 1)
        responded = await driver.client.post(
            f"{base}/response",
            headers={**org, "If-Match": f'"{sent_back["version"]}"'},
            json={"response": "全部补齐"},
        )
        resolved = await driver.expect(
            "POST",
            f"{base}/resolution",
            200,
            {**driver.bureau, "If-Match": responded.headers["ETag"]},
            json={"accepted": True, "resolution": "整改到位"},
        )
        assert (resolved["status"], resolved["rounds"]) == ("resolved", 2)
        visits = await driver.expect("GET", f"{flow.path}/supervision-visits", 200, org)
        assert visits[0]["rectifications"][0]["status"] == "resolved"


class TestScheduledSweep:
    async def test_the_running_service_sweeps_on_its_own(self, projects: httpx.AsyncClient) -> None:
        names = {task.get_name() for task in asyncio.all_tasks()}
        assert "projects-sweep_forever" in names

    async def test_the_sweep_loop_flags_overdue_reports_without_being_asked(
        self, driver: Driver
    ) -> None:
        flow = await driver.implementing(
            start_on="2020-01-01", end_on="2020-02-29", signed_on="2019-12-20"
        )

        async def notified() -> bool:
            async with database.transaction() as session:
                stamps = (
                    await session.execute(
                        select(ProgressReport.overdue_notified_at).where(
                            ProgressReport.project_id == uuid.UUID(flow.id)
                        )
                    )
                ).scalars()
                return all(s is not None for s in stamps)

        assert not await notified()
        loop = asyncio.create_task(sweep_forever(interval=0.05))
        try:
            await poll(notified, within=10)
        finally:
            loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loop
