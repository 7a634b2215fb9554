"""Deliverable milestones (the proposal's 交付节点) can be met: reported, confirmed, exported.

The organization reports a deliverable achieved, with the date and its evidence; the
purchasing side that supervises the project (the bureau or the purchasing department)
confirms it met, or sends it back. OCDS then shows the milestone `met` with its date.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from services.projects.base import infra
from shared.db import database
from tests.projects.driver import Driver, Flow

EVIDENCE = [{"title": "需求评估报告", "url": "https://files.example.cn/needs.pdf"}]


def _report_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "achieved_on": "2026-03-28",
        "description": "完成辖区困境儿童需求评估,形成评估报告。",
        "evidence": EVIDENCE,
    }
    body.update(overrides)
    return body


async def _milestones(driver: Driver, flow: Flow, headers: dict[str, str]) -> list[dict[str, Any]]:
    project = await driver.expect("GET", flow.path, 200, headers)
    milestones: list[dict[str, Any]] = project["milestones"]
    return milestones


def _purchaser(driver: Driver, flow: Flow) -> dict[str, str]:
    return driver.auth("department_reviewer", department=flow.call["department"])


async def _report(driver: Driver, flow: Flow, milestone: dict[str, Any], **body: Any) -> Any:
    return await driver.client.post(
        f"{flow.path}/milestones/{milestone['id']}/report",
        headers=driver.org(flow.org_id),
        json=_report_body(**body),
    )


async def _confirm(
    driver: Driver,
    flow: Flow,
    milestone: dict[str, Any],
    etag: str,
    *,
    accepted: bool = True,
    headers: dict[str, str] | None = None,
) -> Any:
    return await driver.client.post(
        f"{flow.path}/milestones/{milestone['id']}/confirmation",
        headers={**(headers or _purchaser(driver, flow)), "If-Match": etag},
        json={"accepted": accepted, "note": "材料齐全,确认达成" if accepted else "缺少签到表"},
    )


async def test_the_organization_reports_and_the_purchaser_confirms_a_milestone_met(
    driver: Driver,
) -> None:
    flow = await driver.implementing()
    first, second = await _milestones(driver, flow, driver.org(flow.org_id))
    assert (first["status"], first["met_at"], second["status"]) == ("scheduled", None, "scheduled")

    # Another organization, or another department's reviewer, cannot see the project.
    stranger = await driver.client.post(
        f"{flow.path}/milestones/{first['id']}/report",
        headers=driver.org(str(uuid.uuid4())),
        json=_report_body(),
    )
    assert (stranger.status_code, stranger.json()["code"]) == (404, "project_not_found")

    reported = await _report(driver, flow, first)
    assert reported.status_code == 200, reported.text
    body = reported.json()
    assert (body["status"], body["achieved_on"], body["evidence"]) == (
        "reported",
        "2026-03-28",
        EVIDENCE,
    )
    again = await _report(driver, flow, first)
    assert (again.status_code, again.json()["code"]) == (409, "milestone_not_scheduled")

    # The organization does not confirm its own report; a stranger department cannot.
    own = await _confirm(
        driver, flow, first, reported.headers["ETag"], headers=driver.org(flow.org_id)
    )
    assert own.status_code == 403
    other = await _confirm(
        driver,
        flow,
        first,
        reported.headers["ETag"],
        headers=driver.auth("department_reviewer", department="health"),
    )
    assert (other.status_code, other.json()["code"]) == (404, "project_not_found")
    stale = await _confirm(driver, flow, first, '"99"')
    assert stale.status_code == 412

    confirmed = await _confirm(driver, flow, first, reported.headers["ETag"])
    assert confirmed.status_code == 200, confirmed.text
    met = confirmed.json()
    assert (met["status"], met["achieved_on"]) == ("met", "2026-03-28")
    assert met["met_at"] is not None and met["review_note"] == "材料齐全,确认达成"
    twice = await _confirm(driver, flow, first, confirmed.headers["ETag"])
    assert (twice.status_code, twice.json()["code"]) == (409, "milestone_not_reported")

    # Everyone who reads the project sees it met; the other one is still scheduled.
    first_now, second_now = await _milestones(driver, flow, driver.auth("auditor"))
    assert (first_now["status"], second_now["status"]) == ("met", "scheduled")

    # Audited on the timeline, announced in the outbox.
    timeline = await driver.expect("GET", f"{flow.path}/timeline", 200, driver.bureau)
    actions = [(e["action"], e["actor_role"]) for e in timeline if "milestone" in e["action"]]
    assert actions == [
        ("milestone_reported", "organization"),
        ("milestone_met", "department_reviewer"),
    ]
    async with database.transaction() as session:
        events = (
            await session.execute(
                select(infra.outbox.c.event_type).where(
                    infra.outbox.c.subject_id == flow.id,
                    infra.outbox.c.event_type.like("milestone.%"),
                )
            )
        ).scalars()
        assert sorted(events) == ["milestone.met", "milestone.reported"]


async def test_a_report_sent_back_is_reported_again_then_met(driver: Driver) -> None:
    flow = await driver.implementing()
    first, _ = await _milestones(driver, flow, driver.bureau)
    reported = await _report(driver, flow, first)
    sent_back = await _confirm(
        driver, flow, first, reported.headers["ETag"], accepted=False, headers=driver.bureau
    )
    assert sent_back.status_code == 200, sent_back.text
    assert (sent_back.json()["status"], sent_back.json()["review_note"]) == (
        "scheduled",
        "缺少签到表",
    )
    evidence = [*EVIDENCE, {"title": "签到表", "url": "https://files.example.cn/sign.pdf"}]
    again = await _report(driver, flow, first, evidence=evidence)
    assert again.status_code == 200, again.text
    confirmed = await _confirm(driver, flow, first, again.headers["ETag"], headers=driver.bureau)
    assert (confirmed.json()["status"], confirmed.json()["evidence"]) == ("met", evidence)


async def test_bad_reports_are_refused_and_change_nothing(driver: Driver) -> None:
    flow = await driver.implementing()
    first, _ = await _milestones(driver, flow, driver.bureau)
    cases = [
        ({"achieved_on": "2099-01-01"}, 422, "achieved_in_future"),
        ({"achieved_on": "2025-12-31"}, 422, "achieved_before_contract"),
        ({"evidence": []}, 422, "validation_error"),
        ({"evidence": EVIDENCE * 51}, 422, "validation_error"),
        ({"description": "x" * 20_001}, 422, "validation_error"),
        ({"evidence": [{"title": "报告", "url": "javascript:alert(1)"}]}, 422, "validation_error"),
    ]
    for overrides, status, code in cases:
        response = await _report(driver, flow, first, **overrides)
        assert (response.status_code, response.json()["code"]) == (status, code), overrides
        assert response.headers["content-type"].startswith("application/problem+json")
    unknown = await _report(driver, flow, {"id": str(uuid.uuid4())})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "milestone_not_found")
    unchanged, _ = await _milestones(driver, flow, driver.bureau)
    assert unchanged == first

    # Before initiation (立项) there is nothing delivered to report.
    contracted = await driver.contracted()
    early, _ = await _milestones(driver, contracted, driver.bureau)
    response = await _report(driver, contracted, early)
    assert (response.status_code, response.json()["code"]) == (409, "wrong_stage")


async def test_ocds_shows_a_confirmed_deliverable_met_after_closure(driver: Driver) -> None:
    flow = await driver.evaluated()
    first, _ = await _milestones(driver, flow, driver.bureau)
    reported = await _report(driver, flow, first)
    await _confirm(driver, flow, first, reported.headers["ETag"])
    for seq in (1, 2, 3):
        await driver.pay(flow, seq)
    await driver.request_closure(flow)
    assert (await driver.outcome("project_closure", "project", flow.id)).status_code == 200

    package = await driver.expect("GET", f"{flow.path}/ocds", 200, driver.auth("provincial_system"))
    (contract,) = package["releases"][-1]["contracts"]
    delivery = {
        m["id"]: m for m in contract["implementation"]["milestones"] if m["type"] == "delivery"
    }
    # Met on the day achieved (a Shanghai calendar day); the other one, never reported,
    # was not met: the project is closed.
    assert (delivery["deliverable-1"]["status"], delivery["deliverable-1"]["dateMet"]) == (
        "met",
        "2026-03-28T00:00:00+08:00",
    )
    assert delivery["deliverable-2"]["status"] == "notMet"
    assert "dateMet" not in delivery["deliverable-2"]
