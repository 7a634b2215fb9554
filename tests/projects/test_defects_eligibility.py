"""Item 7: a call states which organizations it admits, and the real registry judges them.

A filed organization (备案, no USCC) used to pass `/eligibility` and apply to any call.
Here the projects app asks the real registry app (in-process, over HTTP through an ASGI
transport) instead of the stand-in, and every actor uses its own token: the organization
asks the registry about itself and applies for itself.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any, get_args

import httpx
import pytest
from sqlalchemy import func, select

from services.projects.calls.models import Call
from services.projects.core.models import Project
from services.registry.enums import EvaluationGrade, InspectionResult, Registration
from shared.db import database
from shared.interservice import AdmittedInspectionResult, GradeCode, RegistrationCode
from tests.factories import application_body, call_body, filed_org, registered_org
from tests.projects.driver import API, Driver
from tests.registry.helpers import (
    ORGS,
    Auth,
    created,
    enter_legacy_grade,
    outcome_body,
    post_outcome,
)

LAST_YEAR = date.today().year - 1


@pytest.fixture
def registry_client(real_registry_client: object) -> object:
    """The real registry answers the projects app here (overrides the stand-in's)."""
    return real_registry_client


async def projects_of(org_id: str) -> int:
    async with database.transaction() as session:
        count = await session.scalar(
            select(func.count()).where(Project.org_id == uuid.UUID(org_id))
        )
    return int(count or 0)


async def apply(driver: Driver, call: dict[str, Any], org_id: str) -> httpx.Response:
    return await driver.client.post(
        f"{API}/calls/{call['id']}/applications",
        json=application_body(),
        headers=driver.org(org_id),
    )


async def own_eligibility(
    registry: httpx.AsyncClient, auth: Auth, org_id: str, **criteria: Any
) -> dict[str, Any]:
    response = await registry.get(
        f"{ORGS}/{org_id}/eligibility",
        params=criteria,
        headers=auth("organization", org_id=org_id),
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def reason_codes(response: httpx.Response) -> list[str]:
    return [error["code"] for error in response.json()["errors"]]


class TestFiledOrganization:
    async def test_a_filed_organization_is_not_eligible_by_default(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        filed = await created(registry, auth("civil_affairs"), filed_org())
        result = await own_eligibility(registry, auth, filed["id"])
        assert result["eligible"] is False
        assert result["reasons"] == ["registration_not_admitted"]
        assert result["registration"] == "filed"

    async def test_a_filed_organization_cannot_apply_to_a_call_for_registered_ones(
        self, registry: httpx.AsyncClient, auth: Auth, driver: Driver
    ) -> None:
        filed = await created(registry, auth("civil_affairs"), filed_org())
        call = await driver.new_call(await driver.new_fund())
        response = await apply(driver, call, filed["id"])
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "organization_ineligible"
        assert reason_codes(response) == ["registration_not_admitted"]
        assert "备案" in response.json()["errors"][0]["message"]
        assert await projects_of(filed["id"]) == 0
        assert call["admitted_registrations"] == ["registered"]  # the default

    async def test_a_call_may_admit_filed_organizations(
        self, registry: httpx.AsyncClient, auth: Auth, driver: Driver
    ) -> None:
        filed = await created(registry, auth("civil_affairs"), filed_org())
        call = await driver.new_call(
            await driver.new_fund(), admitted_registrations=["registered", "filed"]
        )
        assert call["admitted_registrations"] == ["registered", "filed"]
        response = await apply(driver, call, filed["id"])
        assert response.status_code == 201, response.text
        assert response.json()["org_id"] == filed["id"]

    async def test_a_registered_organization_applies_to_the_default_call(
        self, registry: httpx.AsyncClient, auth: Auth, driver: Driver
    ) -> None:
        org = await created(registry, auth("civil_affairs"), registered_org())
        assert (await own_eligibility(registry, auth, org["id"]))["eligible"] is True
        call = await driver.new_call(await driver.new_fund())
        response = await apply(driver, call, org["id"])
        assert response.status_code == 201, response.text


class TestGradeAndInspection:
    async def test_a_call_with_a_minimum_grade_refuses_a_lower_or_missing_grade(
        self, registry: httpx.AsyncClient, auth: Auth, driver: Driver
    ) -> None:
        bureau = auth("civil_affairs")
        ungraded, low, expired, high = [
            await created(registry, bureau, registered_org()) for _ in range(4)
        ]
        # Grades held from the old register (no endpoint sets one: evaluations do).
        await enter_legacy_grade(low["id"], "2A", "2024-01-01", "2099-12-31")
        await enter_legacy_grade(
            expired["id"], "5A", "2020-01-01", date.today() - timedelta(days=1)
        )
        await enter_legacy_grade(high["id"], "4A", "2024-01-01", "2099-12-31")
        call = await driver.new_call(await driver.new_fund(), min_evaluation_grade="3A")
        assert call["min_evaluation_grade"] == "3A"
        for org, reason in ((ungraded, "grade_missing"), (expired, "grade_missing")):
            response = await apply(driver, call, org["id"])
            assert (response.status_code, reason_codes(response)) == (422, [reason])
        refused = await apply(driver, call, low["id"])
        assert (refused.status_code, reason_codes(refused)) == (422, ["grade_below_minimum"])
        assert "3A" in refused.json()["errors"][0]["message"]
        assert (await apply(driver, call, high["id"])).status_code == 201
        # The registry answers the organization the same for the same criteria.
        mine = await own_eligibility(registry, auth, low["id"], min_grade="3A")
        assert (mine["eligible"], mine["reasons"], mine["evaluation_grade"]) == (
            False,
            ["grade_below_minimum"],
            "2A",
        )

    async def test_a_call_admitting_only_passed_inspections(
        self, registry: httpx.AsyncClient, auth: Auth, driver: Driver
    ) -> None:
        bureau = auth("civil_affairs")
        never = await created(registry, bureau, registered_org())
        basic = await created(registry, bureau, registered_org())
        inspection = await registry.post(
            f"{ORGS}/{basic['id']}/annual-inspections",
            json={"year": LAST_YEAR, "materials": [{"code": "annual_report"}]},
            headers=auth("organization", org_id=basic["id"]),
        )
        assert inspection.status_code == 201, inspection.text
        concluded = await registry.put(
            f"{ORGS}/{basic['id']}/annual-inspections/{LAST_YEAR}/conclusion",
            json={"result": "basic_pass", "party_building_ok": True, "financial_audit_ok": True},
            headers=bureau,
        )
        assert concluded.status_code == 200, concluded.text
        application_id = inspection.json()["application_id"]
        case_id = (
            await registry.get(f"{API}/applications/{application_id}", headers=bureau)
        ).json()["case_id"]  # the case the registry requested, when it names it
        decision = outcome_body(
            {"id": application_id, "kind": "annual_inspection"},
            case_id=uuid.UUID(case_id) if case_id else None,
        )
        assert (await post_outcome(registry, auth, decision)).status_code == 200
        call = await driver.new_call(await driver.new_fund(), admitted_inspection_results=["pass"])
        missing = await apply(driver, call, never["id"])
        assert (missing.status_code, reason_codes(missing)) == (422, ["inspection_missing"])
        refused = await apply(driver, call, basic["id"])
        assert (refused.status_code, reason_codes(refused)) == (
            422,
            ["inspection_result_not_admitted"],
        )
        lenient = await driver.new_call(
            await driver.new_fund(), admitted_inspection_results=["pass", "basic_pass"]
        )
        assert (await apply(driver, lenient, basic["id"])).status_code == 201


class TestCriteriaValidation:
    def test_the_contract_speaks_the_registry_codes(self) -> None:
        assert set(get_args(RegistrationCode)) == {r.value for r in Registration}
        assert set(get_args(GradeCode)) == {g.value for g in EvaluationGrade}
        admitted = {r.value for r in InspectionResult} - {InspectionResult.fail.value}
        assert set(get_args(AdmittedInspectionResult)) == admitted

    @pytest.mark.parametrize(
        "criteria",
        [
            {"admitted_registrations": []},
            {"admitted_registrations": ["registered", "registered"]},
            {"admitted_registrations": ["licensed"]},
            {"min_evaluation_grade": "6A"},
            {"admitted_inspection_results": ["fail"]},
            {"admitted_inspection_results": []},
        ],
    )
    async def test_impossible_criteria_are_refused_and_nothing_is_published(
        self, driver: Driver, criteria: dict[str, Any]
    ) -> None:
        body = call_body(await driver.new_fund(), **criteria)
        response = await driver.client.post(f"{API}/calls", json=body, headers=driver.bureau)
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "validation_error"
        async with database.transaction() as session:
            published = await session.scalar(
                select(func.count()).where(Call.title == body["title"])
            )
        assert published == 0

    async def test_the_registry_refuses_a_failing_result_as_a_criterion(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org = await created(registry, auth("civil_affairs"), registered_org())
        response = await registry.get(
            f"{ORGS}/{org['id']}/eligibility",
            params={"inspection_results": "fail"},
            headers=auth("organization", org_id=org["id"]),
        )
        assert response.status_code == 422
        assert response.json()["code"] == "validation_error"
