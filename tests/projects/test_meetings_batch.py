"""The three meetings (三会) belong to a call's batch of projects, held by the 社工办.

"由市委社工办负责统筹……举办项目新闻发布会、督导见面会和评估说明会": one meeting for the
projects of a call, not one per project. Driven over HTTP as the bureau, the purchasing
department and the organizations would.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx

from tests.factories import application_body, contract_body, meeting_body
from tests.projects.driver import API, Driver, Flow


async def another_project(driver: Driver, flow: Flow, *, contract: bool = True) -> Flow:
    """A second project in the same call, by another organization, approved (and, unless
    told not to, procured and contracted)."""
    other = Flow(org_id=str(uuid.uuid4()), fund=flow.fund, call=flow.call)
    other.project = await driver.expect(
        "POST",
        f"{API}/calls/{flow.call['id']}/applications",
        201,
        driver.org(other.org_id),
        json=application_body(),
    )
    assert (await driver.outcome("project_application", "project", other.id)).status_code == 200
    if not contract:
        return other
    await driver.open_procurement(other)
    for bidder, price, technical in (
        (other.org_id, 18_000_000, "85"),
        (str(uuid.uuid4()), 17_500_000, "70"),
    ):
        await driver.expect(
            "POST",
            f"{other.path}/procurement/bids",
            201,
            driver.bureau,
            json={"bidder_org_id": bidder, "price_fen": price, "technical_score": technical},
        )
    await driver.expect("POST", f"{other.path}/procurement/award", 200, driver.bureau)
    other.contract = await driver.expect(
        "POST", f"{other.path}/contract", 201, driver.bureau, json=contract_body()
    )
    return other


def hold(driver: Driver, flow: Flow, headers: dict[str, str], body: Any) -> Any:
    return driver.client.post(f"{API}/calls/{flow.call['id']}/meetings", headers=headers, json=body)


async def call_meetings(driver: Driver, flow: Flow) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await driver.expect(
        "GET", f"{API}/calls/{flow.call['id']}/meetings", 200, driver.bureau
    )
    return found


async def test_one_press_conference_covers_the_calls_contracted_projects(driver: Driver) -> None:
    first = await driver.contracted()
    second = await another_project(driver, first)
    waiting = await another_project(driver, first, contract=False)  # approved only

    response = await hold(driver, first, driver.bureau, meeting_body("press_conference"))
    assert response.status_code == 201, response.text
    meeting = response.json()
    assert meeting["call_id"] == first.call["id"]
    assert sorted(meeting["project_ids"]) == sorted([first.id, second.id])
    assert meeting["project_id"] is None

    # Both may now be initiated (立项); the approved one is not covered.
    for flow in (first, second):
        project = await driver.expect("POST", f"{flow.path}/initiation", 200, driver.bureau)
        assert project["stage"] == "implementing"
        # Each organization reads the one meeting among its project's.
        seen = await driver.expect("GET", f"{flow.path}/meetings", 200, driver.org(flow.org_id))
        assert [m["id"] for m in seen] == [meeting["id"]]
        assert seen[0]["project_id"] == flow.id
    assert await driver.expect("GET", f"{waiting.path}/meetings", 200, driver.bureau) == []
    # The call's meetings, as its organizations and the purchasing department read them.
    for reader in (
        driver.org(waiting.org_id),
        driver.auth("department_reviewer", department="education"),
    ):
        listed = await driver.expect("GET", f"{API}/calls/{first.call['id']}/meetings", 200, reader)
        assert [m["id"] for m in listed] == [meeting["id"]]
    timeline = await driver.expect("GET", f"{second.path}/timeline", 200, driver.bureau)
    recorded = [e for e in timeline if e["action"] == "meeting_recorded"]
    assert recorded[0]["details"]["meeting_id"] == meeting["id"]


async def test_a_project_contracted_later_joins_a_later_meeting_of_its_call(
    driver: Driver,
) -> None:
    first = await driver.contracted()
    held = await hold(driver, first, driver.bureau, meeting_body("press_conference"))
    assert held.json()["project_ids"] == [first.id]
    late = await another_project(driver, first)
    again = await hold(driver, first, driver.bureau, meeting_body("press_conference"))
    assert again.status_code == 201, again.text
    assert again.json()["project_ids"] == [late.id]
    assert len(await call_meetings(driver, first)) == 2
    # Nothing left to cover: a third is refused and records nothing.
    third = await hold(driver, first, driver.bureau, meeting_body("press_conference"))
    assert (third.status_code, third.json()["code"]) == (409, "meeting_without_projects")
    assert third.headers["content-type"] == "application/problem+json"
    assert len(await call_meetings(driver, first)) == 2


async def test_only_the_shegongban_holds_a_calls_meeting(driver: Driver) -> None:
    flow = await driver.contracted()
    for role, claims in (
        ("department_reviewer", {"department": "education"}),  # the purchaser itself
        ("organization", {"org_id": flow.org_id}),
        ("evaluator", {}),
    ):
        response = await hold(
            driver, flow, driver.auth(role, **claims), meeting_body("press_conference")
        )
        assert response.status_code == 403, (role, response.text)
    assert await call_meetings(driver, flow) == []
    unknown = await driver.client.post(
        f"{API}/calls/{uuid.uuid4()}/meetings",
        headers=driver.bureau,
        json=meeting_body("press_conference"),
    )
    assert (unknown.status_code, unknown.json()["code"]) == (404, "call_not_found")


async def test_named_projects_must_all_be_the_calls_and_ready(driver: Driver) -> None:
    first = await driver.contracted()
    approved = await another_project(driver, first, contract=False)
    elsewhere = await driver.contracted()  # a project of another call

    foreign = await hold(
        driver,
        first,
        driver.bureau,
        meeting_body("press_conference", project_ids=[first.id, elsewhere.id, str(uuid.uuid4())]),
    )
    assert (foreign.status_code, foreign.json()["code"]) == (422, "invalid_meeting")
    assert [e["field"] for e in foreign.json()["errors"]] == [
        "body.project_ids[1]",
        "body.project_ids[2]",
    ]

    not_ready = await hold(
        driver,
        first,
        driver.bureau,
        meeting_body("press_conference", project_ids=[first.id, approved.id]),
    )
    assert (not_ready.status_code, not_ready.json()["code"]) == (409, "meeting_projects_not_ready")
    assert [(e["field"], e["code"]) for e in not_ready.json()["errors"]] == [
        ("body.project_ids[1]", "wrong_stage")
    ]
    # Nothing was recorded: the contracted project still needs its press conference.
    assert await call_meetings(driver, first) == []
    assert await call_meetings(driver, elsewhere) == []
    refused = await driver.client.post(f"{first.path}/initiation", headers=driver.bureau)
    assert (refused.status_code, refused.json()["code"]) == (409, "meeting_missing")


async def test_a_supervision_meeting_skips_projects_without_their_mid_term_report(
    driver: Driver,
) -> None:
    first = await driver.implementing()
    second = await another_project(driver, first)
    await driver.expect("POST", f"{second.path}/initiation", 409, driver.bureau)  # no meeting yet
    await driver.meeting(second, "press_conference")
    await driver.expect("POST", f"{second.path}/initiation", 200, driver.bureau)
    await driver.submit_mid_term(first)

    named = await hold(
        driver,
        first,
        driver.bureau,
        meeting_body("supervision_meeting", project_ids=[second.id]),
    )
    assert (named.status_code, named.json()["errors"][0]["code"]) == (
        409,
        "mid_term_report_missing",
    )
    held = await hold(driver, first, driver.bureau, meeting_body("supervision_meeting"))
    assert held.status_code == 201, held.text
    assert held.json()["project_ids"] == [first.id]
    # The mid-term tranche became payable for the covered project only.
    assert [t["milestone_met_at"] is not None for t in await driver.tranches(first)] == [
        True,
        True,
        False,
    ]
    assert [t["milestone_met_at"] is not None for t in await driver.tranches(second)] == [
        True,
        False,
        False,
    ]


async def test_hostile_meeting_bodies_are_refused_and_change_nothing(driver: Driver) -> None:
    flow = await driver.contracted()
    bodies: list[dict[str, Any]] = [
        meeting_body("press_conference", held_at="9999-12-31T09:00:00+08:00"),
        meeting_body("press_conference", project_ids=[flow.id, flow.id]),
        meeting_body("press_conference", project_ids=[]),
        meeting_body("press_conference", project_ids=[str(uuid.uuid4()) for _ in range(501)]),
        meeting_body("press_conference", project_ids=["not-a-uuid"]),
        meeting_body("press_conference", location="x" * 301),
        meeting_body("closing_party"),
    ]
    for body in bodies:
        response = await hold(driver, flow, driver.bureau, body)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    surrogate = await driver.client.post(
        f"{API}/calls/{flow.call['id']}/meetings",
        content=json.dumps(meeting_body("press_conference", location="会议室\ud800")).encode(),
        headers={**driver.bureau, "Content-Type": "application/json"},
    )
    assert surrogate.status_code == 422, surrogate.text
    assert [e["field"] for e in surrogate.json()["errors"]] == ["body.location"]
    assert await call_meetings(driver, flow) == []


async def test_the_deprecated_per_project_path_records_a_meeting_of_the_call(
    driver: Driver, projects: httpx.AsyncClient
) -> None:
    flow = await driver.contracted()
    recorded = await driver.expect(
        "POST", f"{flow.path}/meetings", 201, driver.bureau, json=meeting_body("press_conference")
    )
    assert recorded["project_id"] == flow.id and recorded["project_ids"] == [flow.id]
    assert [m["id"] for m in await call_meetings(driver, flow)] == [recorded["id"]]
    spec = (await projects.get("/openapi.json")).json()
    assert spec["paths"]["/api/v1/projects/{project_id}/meetings"]["post"]["deprecated"] is True
