"""Applications: eligibility over HTTP, the workflow case in the outbox, outcomes applied once."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from devtools.processes import free_port
from services.projects.base import infra
from services.projects.core.models import Project
from services.projects.main import app as projects_app
from shared.db import database
from shared.interservice import CASE_REQUESTED_EVENT, CaseRequest
from tests.factories import application_body
from tests.projects.driver import API, Driver
from tests.support.registry import StandInRegistry, fast_client


async def projects_of(org_id: str) -> int:
    async with database.transaction() as session:
        return int(
            await session.scalar(select(func.count()).where(Project.org_id == uuid.UUID(org_id)))
            or 0
        )


async def apply(driver: Driver, call: dict[str, object], org_id: str, **body: object):  # type: ignore[no-untyped-def]
    return await driver.client.post(
        f"{API}/calls/{call['id']}/applications",
        json=application_body(**body),
        headers=driver.org(org_id),
    )


class TestEligibility:
    async def test_an_abnormal_organization_is_refused_and_nothing_is_created(
        self, driver: Driver, stand_in_registry: StandInRegistry, org_id: str
    ) -> None:
        stand_in_registry.make_abnormal(org_id)
        call = await driver.new_call(await driver.new_fund())
        response = await apply(driver, call, org_id)
        assert (response.status_code, response.json()["code"]) == (422, "organization_ineligible")
        assert response.json()["errors"][0]["code"] == "status_abnormal"
        assert f"eligibility:{org_id}" in stand_in_registry.calls
        assert await projects_of(org_id) == 0

    async def test_an_unknown_organization_is_refused(
        self, driver: Driver, stand_in_registry: StandInRegistry, org_id: str
    ) -> None:
        stand_in_registry.overrides[org_id] = {"missing": True}
        call = await driver.new_call(await driver.new_fund())
        response = await apply(driver, call, org_id)
        assert (response.status_code, response.json()["code"]) == (422, "organization_unknown")

    async def test_registry_unreachable_is_a_503_and_nothing_is_created(
        self, driver: Driver, org_id: str
    ) -> None:
        call = await driver.new_call(await driver.new_fund())
        down = fast_client(f"http://127.0.0.1:{free_port()}")  # nothing listens there
        projects_app.state.registry_client = down
        try:
            response = await apply(driver, call, org_id)
        finally:
            await down.aclose()
        assert (response.status_code, response.json()["code"]) == (503, "registry_unavailable")
        assert response.headers["content-type"] == "application/problem+json"
        assert await projects_of(org_id) == 0

    async def test_award_to_an_ineligible_winner_is_refused(
        self, driver: Driver, stand_in_registry: StandInRegistry
    ) -> None:
        flow = await driver.approved()
        await driver.expect(
            "POST",
            f"{flow.path}/procurement",
            201,
            driver.bureau,
            json={"method": "single_source", "price_weight_pct": 0},
        )
        await driver.expect(
            "POST",
            f"{flow.path}/procurement/bids",
            201,
            driver.bureau,
            json={"bidder_org_id": flow.org_id, "price_fen": 10_000_000, "technical_score": "80"},
        )
        stand_in_registry.make_abnormal(flow.org_id)
        response = await driver.client.post(f"{flow.path}/procurement/award", headers=driver.bureau)
        assert (response.status_code, response.json()["code"]) == (422, "organization_ineligible")
        procurement = await driver.expect("GET", f"{flow.path}/procurement", 200, driver.bureau)
        assert procurement["status"] == "open"


class TestApplication:
    async def test_the_application_and_its_case_request_commit_together(
        self, driver: Driver, org_id: str
    ) -> None:
        flow = await driver.applied(org_id)
        assert flow.project["stage"] == "applied"
        assert flow.project["requested_fen"] == 20_000_000
        assert [line["seq"] for line in flow.project["budget_lines"]] == [1, 2, 3]
        outbox = infra.outbox
        async with database.transaction() as session:
            row = (
                await session.execute(
                    select(outbox).where(
                        outbox.c.subject_id == flow.id, outbox.c.event_type == CASE_REQUESTED_EVENT
                    )
                )
            ).one()
        request = CaseRequest.model_validate(row.payload)
        assert (request.case_type, request.subject_type, request.subject_id) == (
            "project_application",
            "project",
            flow.id,
        )
        assert request.applicant_org_id == org_id and request.applicant_name.startswith("庐阳区")

    async def test_the_budget_must_fit_the_ceiling_and_targets_the_call(
        self, driver: Driver, org_id: str
    ) -> None:
        call = await driver.new_call(await driver.new_fund(), budget_ceiling_fen=10_000_000)
        response = await apply(driver, call, org_id, service_targets=["elderly"])
        assert (response.status_code, response.json()["code"]) == (422, "invalid_application")
        assert {e["code"] for e in response.json()["errors"]} == {
            "over_ceiling",
            "target_not_in_call",
        }

    async def test_one_live_application_per_call(self, driver: Driver, org_id: str) -> None:
        flow = await driver.applied(org_id)
        again = await apply(driver, flow.call, org_id)
        assert (again.status_code, again.json()["code"]) == (409, "already_applied")

    async def test_a_closed_call_takes_no_applications(self, driver: Driver, org_id: str) -> None:
        call = await driver.new_call(await driver.new_fund())
        await driver.expect("POST", f"{API}/calls/{call['id']}/close", 200, driver.bureau)
        response = await apply(driver, call, org_id)
        assert (response.status_code, response.json()["code"]) == (409, "call_closed")

    async def test_only_organizations_apply(self, driver: Driver) -> None:
        call = await driver.new_call(await driver.new_fund())
        response = await driver.client.post(
            f"{API}/calls/{call['id']}/applications", json=application_body(), headers=driver.bureau
        )
        assert response.status_code == 403


class TestOutcomes:
    async def test_the_same_outcome_twice_is_applied_once(self, driver: Driver) -> None:
        flow = await driver.applied()
        case_id = str(uuid.uuid4())
        first = await driver.outcome("project_application", "project", flow.id, case_id=case_id)
        second = await driver.outcome("project_application", "project", flow.id, case_id=case_id)
        assert (first.status_code, first.json()["applied"], first.json()["state"]) == (
            200,
            True,
            "approved",
        )
        assert (second.status_code, second.json()["applied"]) == (200, False)
        timeline = await driver.expect("GET", f"{flow.path}/timeline", 200, driver.bureau)
        assert [t["action"] for t in timeline].count("application_approved") == 1
        contradicting = await driver.outcome(
            "project_application", "project", flow.id, "rejected", case_id=case_id
        )
        assert (contradicting.status_code, contradicting.json()["code"]) == (
            409,
            "outcome_conflict",
        )

    async def test_an_idempotency_key_replays_the_first_answer(self, driver: Driver) -> None:
        flow = await driver.applied()
        body = {
            "case_id": str(uuid.uuid4()),
            "case_type": "project_application",
            "subject_type": "project",
            "subject_id": flow.id,
            "outcome": "approved",
            "decided_at": "2026-01-01T00:00:00Z",
            "definition_version": 1,
        }
        headers = {**driver.service, "Idempotency-Key": f"{body['case_id']}:approved"}
        first = await driver.client.post(
            f"{API}/internal/case-outcomes", json=body, headers=headers
        )
        second = await driver.client.post(
            f"{API}/internal/case-outcomes", json=body, headers=headers
        )
        assert first.status_code == second.status_code == 200
        assert second.headers.get("idempotent-replayed") == "true"
        assert second.json() == first.json()

    async def test_only_the_service_role_posts_outcomes(self, driver: Driver) -> None:
        flow = await driver.applied()
        response = await driver.client.post(
            f"{API}/internal/case-outcomes",
            headers=driver.bureau,
            json={
                "case_id": str(uuid.uuid4()),
                "case_type": "project_application",
                "subject_type": "project",
                "subject_id": flow.id,
                "outcome": "approved",
                "decided_at": "2026-01-01T00:00:00Z",
                "definition_version": 1,
            },
        )
        assert response.status_code == 403

    async def test_a_late_outcome_for_a_decided_application_is_a_conflict(
        self, driver: Driver
    ) -> None:
        flow = await driver.approved()
        late = await driver.outcome("project_application", "project", flow.id, "rejected")
        assert (late.status_code, late.json()["code"]) == (409, "wrong_stage")
        unknown = await driver.outcome("project_application", "project", str(uuid.uuid4()))
        assert unknown.status_code == 404
        foreign = await driver.outcome("organization_registration", "project", flow.id)
        assert (foreign.status_code, foreign.json()["code"]) == (422, "unknown_case_type")
