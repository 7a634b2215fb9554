"""Annual inspections: one report a year, decided as a workflow case, concluded by a reviewer."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
from sqlalchemy import select

from services.registry.applications.models import Application
from shared.db import database
from shared.interservice import CaseRequest
from tests.factories import registered_org
from tests.registry.helpers import (
    ORGS,
    Auth,
    created,
    enter_legacy_grade,
    events_of,
    outcome_body,
    post_outcome,
)

LAST_YEAR = date.today().year - 1
PASSING = {"result": "pass", "party_building_ok": True, "financial_audit_ok": True}
FAILING = {
    "result": "fail",
    "party_building_ok": False,
    "financial_audit_ok": True,
    "remarks": "未开展党建工作",
}


async def submit(
    registry: httpx.AsyncClient, auth: Auth, org: dict[str, Any], year: int = LAST_YEAR
) -> httpx.Response:
    return await registry.post(
        f"{ORGS}/{org['id']}/annual-inspections",
        json={"year": year, "materials": [{"code": "annual_report"}]},
        headers=auth("organization", org_id=org["id"]),
    )


async def conclude(
    registry: httpx.AsyncClient, auth: Auth, org: dict[str, Any], body: dict[str, Any]
) -> httpx.Response:
    return await registry.put(
        f"{ORGS}/{org['id']}/annual-inspections/{LAST_YEAR}/conclusion",
        json=body,
        headers=auth("civil_affairs", sub="reviewer-li"),
    )


async def application_of(inspection: dict[str, Any]) -> dict[str, Any]:
    async with database.transaction() as session:
        case_id = await session.scalar(
            select(Application.case_id).where(Application.id == inspection["application_id"])
        )
    return {"id": inspection["application_id"], "kind": "annual_inspection", "case_id": case_id}


async def eligibility(registry: httpx.AsyncClient, auth: Auth, org: dict[str, Any]) -> Any:
    response = await registry.get(f"{ORGS}/{org['id']}/eligibility", headers=auth("service"))
    assert response.status_code == 200
    return response.json()


class TestSubmission:
    async def test_a_report_opens_a_case_and_is_one_per_year(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org = await created(registry, auth("civil_affairs"), registered_org())
        response = await submit(registry, auth, org)
        assert response.status_code == 201, response.text
        inspection = response.json()
        assert inspection["state"] == "submitted" and inspection["result"] is None
        request = CaseRequest.model_validate(
            (await events_of(inspection["application_id"]))[0].payload
        )
        assert request.case_type == "annual_inspection"
        assert request.applicant_org_id == org["id"]
        again = await submit(registry, auth, org)
        assert again.status_code == 409 and again.json()["code"] == "inspection_exists"
        assert (await submit(registry, auth, org, LAST_YEAR - 1)).status_code == 201

    async def test_a_year_is_reported_after_it_ends(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org = await created(registry, auth("civil_affairs"), registered_org())
        response = await submit(registry, auth, org, date.today().year)
        assert response.status_code == 422 and response.json()["code"] == "year_not_ended"

    async def test_a_returned_report_may_be_submitted_again(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org = await created(registry, auth("civil_affairs"), registered_org())
        first = (await submit(registry, auth, org)).json()
        await post_outcome(registry, auth, outcome_body(await application_of(first), "rejected"))
        listed = await registry.get(
            f"{ORGS}/{org['id']}/annual-inspections", headers=auth("auditor")
        )
        assert [i["state"] for i in listed.json()] == ["returned"]
        second = await submit(registry, auth, org)
        assert second.status_code == 201
        assert second.json()["id"] == first["id"]
        assert second.json()["application_id"] != first["application_id"]


class TestConclusion:
    async def test_conclusion_recorded_before_approval_concludes_at_approval(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org = await created(registry, auth("civil_affairs"), registered_org())
        inspection = (await submit(registry, auth, org)).json()
        recorded = await conclude(registry, auth, org, PASSING)
        assert recorded.status_code == 200
        assert recorded.json()["state"] == "submitted"
        pending = await events_of(org["id"])
        assert "inspection.concluded" not in [e.event_type for e in pending]
        # Recorded but not in force yet: still an event, so the province sees the change.
        assert [
            (e.payload["inspection_id"], e.payload["year"], e.payload["result"])
            for e in pending
            if e.event_type == "inspection.conclusion_recorded"
        ] == [(inspection["id"], LAST_YEAR, "pass")]
        await post_outcome(registry, auth, outcome_body(await application_of(inspection)))
        done = (
            await registry.get(f"{ORGS}/{org['id']}/annual-inspections", headers=auth("auditor"))
        ).json()[0]
        assert (done["state"], done["result"]) == ("concluded", "pass")
        assert (done["party_building_ok"], done["financial_audit_ok"]) == (True, True)
        concluded = [
            e for e in await events_of(org["id"]) if e.event_type == "inspection.concluded"
        ]
        assert [e.payload["result"] for e in concluded] == ["pass"]

    async def test_a_failed_inspection_downgrades_the_grade_and_bars_projects(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org = await created(registry, auth("civil_affairs"), registered_org())
        await enter_legacy_grade(org["id"], "4A", "2024-01-01")
        assert (await eligibility(registry, auth, org))["eligible"] is True
        inspection = (await submit(registry, auth, org)).json()
        # The case is approved first; the conclusion recorded afterwards concludes it.
        await post_outcome(registry, auth, outcome_body(await application_of(inspection)))
        reviewed = await registry.get(
            f"{ORGS}/{org['id']}/annual-inspections", headers=auth("auditor")
        )
        assert reviewed.json()[0]["state"] == "reviewed"
        response = await conclude(registry, auth, org, FAILING)
        assert response.status_code == 200 and response.json()["state"] == "concluded"
        after = (await registry.get(f"{ORGS}/{org['id']}", headers=auth("auditor"))).json()
        assert after["evaluation_grade"] == "3A"
        result = await eligibility(registry, auth, org)
        assert result["eligible"] is False
        assert result["reasons"] == ["last_inspection_failed"]
        assert (result["last_inspection_year"], result["last_inspection_result"]) == (
            LAST_YEAR,
            "fail",
        )
        history = (
            await registry.get(f"{ORGS}/{org['id']}/history", headers=auth("auditor"))
        ).json()["items"]
        downgrade = next(e for e in history if e["action"] == "grade_downgraded")
        assert (downgrade["before"], downgrade["after"], downgrade["actor_sub"]) == (
            "4A",
            "3A",
            "reviewer-li",
        )
        again = await conclude(registry, auth, org, PASSING)
        assert again.status_code == 409 and again.json()["code"] == "inspection_concluded"

    async def test_only_the_bureau_concludes(self, registry: httpx.AsyncClient, auth: Auth) -> None:
        org = await created(registry, auth("civil_affairs"), registered_org())
        await submit(registry, auth, org)
        response = await registry.put(
            f"{ORGS}/{org['id']}/annual-inspections/{LAST_YEAR}/conclusion",
            json=PASSING,
            headers=auth("organization", org_id=org["id"]),
        )
        assert response.status_code == 403

    async def test_the_reviewers_queue_lists_reports_awaiting_a_conclusion(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org = await created(registry, auth("civil_affairs"), registered_org())
        year = LAST_YEAR - 5
        inspection = (await submit(registry, auth, org, year)).json()
        queue = await registry.get(
            "/api/v1/inspections",
            params={"year": year, "state": "submitted", "page_size": 200},
            headers=auth("civil_affairs"),
        )
        assert inspection["id"] in {item["id"] for item in queue.json()["items"]}
