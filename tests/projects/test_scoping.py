"""Who sees what: scoping on real resources. Who may call each operation is `RULES` in
tests/projects/rules.py, checked for every operation × every role by
tests/security/test_authorization_matrix.py."""

from __future__ import annotations

import re

import httpx

from tests.projects.driver import API, Driver


async def test_every_operation_is_documented_for_generated_clients(
    projects: httpx.AsyncClient,
) -> None:
    spec = (await projects.get("/openapi.json")).json()
    for item in spec["paths"].values():
        for operation in item.values():
            assert operation["summary"] and re.fullmatch(
                r"[a-z][A-Za-z]+", operation["operationId"]
            )
            assert "200" in operation["responses"] or "201" in operation["responses"]


class TestScoping:
    async def test_an_organization_sees_only_its_own_projects(self, driver: Driver) -> None:
        mine = await driver.applied()
        theirs = await driver.applied()
        me = driver.org(mine.org_id)
        listed = await driver.expect("GET", f"{API}/projects?page_size=200", 200, me)
        assert {p["id"] for p in listed["items"]} == {mine.id}
        for suffix in ("", "/timeline", "/ocds", "/meetings"):
            response = await driver.client.get(f"{theirs.path}{suffix}", headers=me)
            assert (response.status_code, response.json()["code"]) == (404, "project_not_found")
        await driver.expect("GET", f"{mine.path}/ocds", 200, me)

    async def test_a_purchasing_department_sees_its_own_calls_and_projects(
        self, driver: Driver
    ) -> None:
        education = await driver.applied(department="education")
        health = await driver.applied(department="health")
        reviewer = driver.auth("department_reviewer", department="health")
        listed = await driver.expect("GET", f"{API}/projects?page_size=200", 200, reviewer)
        assert {p["department"] for p in listed["items"]} == {"health"}
        assert health.id in {p["id"] for p in listed["items"]}
        assert (await driver.client.get(education.path, headers=reviewer)).status_code == 404
        other_call = await driver.client.get(
            f"{API}/calls/{education.call['id']}", headers=reviewer
        )
        assert other_call.status_code == 404
        calls = await driver.expect("GET", f"{API}/calls?page_size=200", 200, reviewer)
        assert {c["department"] for c in calls["items"]} == {"health"}
        foreign = await driver.client.post(
            f"{API}/calls",
            headers=reviewer,
            json={
                **{
                    k: education.call[k]
                    for k in (
                        "year",
                        "title",
                        "description",
                        "fund_id",
                        "pool_id",
                        "catalogue_item",
                        "service_targets",
                        "budget_ceiling_fen",
                        "deadline_on",
                    )
                },
                "department": "education",
            },
        )
        assert (foreign.status_code, foreign.json()["code"]) == (403, "department_scope")
        report = await driver.expect(
            "GET", f"{API}/reports/spend?group_by=department", 200, reviewer
        )
        assert [row["key"] for row in report["rows"]] == ["health"]

    async def test_an_evaluator_sees_only_assigned_projects(self, driver: Driver) -> None:
        flow = await driver.evaluating()
        other = await driver.applied()
        evaluator = driver.evaluator(flow.evaluators[0])
        listed = await driver.expect("GET", f"{API}/projects", 200, evaluator)
        assert [p["id"] for p in listed["items"]] == [flow.id]
        assert (await driver.client.get(other.path, headers=evaluator)).status_code == 404

    async def test_auditors_and_finance_read_everything(self, driver: Driver) -> None:
        flow = await driver.applied(department="justice")
        for headers in (
            driver.auth("auditor"),
            driver.auth("department_reviewer", department="finance"),
        ):
            await driver.expect("GET", flow.path, 200, headers)
            await driver.expect("GET", f"{flow.path}/timeline", 200, headers)
        refused = await driver.client.post(
            f"{flow.path}/procurement",
            headers=driver.auth("auditor"),
            json={"method": "open_tender", "price_weight_pct": 20},
        )
        assert refused.status_code == 403

    async def test_a_street_office_sees_projects_serving_its_street(self, driver: Driver) -> None:
        flow = await driver.applied()
        street = driver.auth("street_office", street_code="340103001")
        await driver.expect("GET", flow.path, 200, street)
        elsewhere = driver.auth("street_office", street_code="340103002")
        assert (await driver.client.get(flow.path, headers=elsewhere)).status_code == 404
