"""Registration, change and deregistration through the workflow: the registry's side.

The workflow's side is stood in for: the tests read the `workflow.case_requested`
event from the outbox and post the `CaseOutcome` the workflow would post back.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from services.registry.enums import OrganizationKind
from services.registry.organizations.models import Organization
from services.registry.organizations.uscc import uscc_errors
from shared.db import database
from shared.interservice import CASE_REQUESTED_EVENT, CaseRequest
from tests.factories import LUYANG, filed_org, registered_org, uscc
from tests.registry.helpers import (
    ORGS,
    Auth,
    created,
    event_types,
    events_of,
    outcome_body,
    post_outcome,
    problem_codes,
)

APPLICATIONS = "/api/v1/applications"
MATERIALS = [
    {"code": code, "document_url": f"https://files.example.cn/{code}.pdf"}
    for code in ("application_form", "articles", "capital_proof", "premises_proof")
]


def proposal(**overrides: Any) -> dict[str, Any]:
    body = registered_org(**overrides)
    for key in ("registration", "uscc"):
        body.pop(key)
    return body


async def apply_for_registration(
    registry: httpx.AsyncClient, auth: Auth, **overrides: Any
) -> dict[str, Any]:
    response = await registry.post(
        f"{APPLICATIONS}/registrations",
        json={
            "organization": proposal(**overrides),
            "applicant_name": "发起人王五",
            "materials": MATERIALS,
        },
        headers=auth("civil_affairs"),
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def organizations_named(name: str) -> int:
    async with database.transaction() as session:
        query = select(func.count()).select_from(Organization).where(Organization.name == name)
        return (await session.execute(query)).scalar_one()


class TestRegistration:
    async def test_the_application_requests_a_case_in_its_transaction(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        application = await apply_for_registration(registry, auth)
        assert application["state"] == "pending"
        assert application["organization_id"] is None
        events = await events_of(application["id"])
        assert [e.event_type for e in events] == [CASE_REQUESTED_EVENT, "application.submitted"]
        request = CaseRequest.model_validate(events[0].payload)
        assert request.case_type == "organization_registration"
        assert request.subject_service == "registry"
        assert (request.subject_type, request.subject_id) == ("application", application["id"])
        assert str(request.command_id) == application["command_id"]
        assert request.callback_path == "/api/v1/internal/case-outcomes"
        assert [m.code for m in request.materials] == [m["code"] for m in MATERIALS]
        assert await organizations_named(application["proposal"]["name"]) == 0

    async def test_approval_makes_the_organization_active_with_an_issued_uscc(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        application = await apply_for_registration(registry, auth)
        response = await post_outcome(registry, auth, outcome_body(application))
        assert response.status_code == 200, response.text
        receipt = response.json()
        assert receipt["applied"] is True and receipt["state"] == "approved"
        org = (
            await registry.get(
                f"{ORGS}/{receipt['organization_id']}", headers=auth("civil_affairs")
            )
        ).json()
        assert org["status"] == "active" and org["registration"] == "registered"
        assert org["name"] == application["proposal"]["name"]
        issued = org["uscc"]
        assert (
            uscc_errors(
                issued, kind=OrganizationKind.service_institution, authority_division=LUYANG
            )
            == []
        )
        assert issued[8:10] == "MJ" and int(issued[10:16]) >= 950_000
        assert await event_types(org["id"]) == ["organization.created"]
        history = (
            await registry.get(f"{ORGS}/{org['id']}/history", headers=auth("civil_affairs"))
        ).json()
        assert [(e["action"], e["source"]) for e in history["items"]] == [
            ("created", "case_outcome")
        ]

    async def test_approval_issues_the_code_the_reviewer_assigned(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        application = await apply_for_registration(registry, auth)
        url = f"{APPLICATIONS}/{application['id']}/uscc"
        wrong_kind = await registry.put(
            url, json={"uscc": uscc(OrganizationKind.association)}, headers=auth("civil_affairs")
        )
        assert wrong_kind.status_code == 422
        assert problem_codes(wrong_kind) == {"uscc_kind_mismatch"}
        code = uscc()
        assigned = await registry.put(url, json={"uscc": code}, headers=auth("civil_affairs"))
        assert assigned.status_code == 200 and assigned.json()["assigned_uscc"] == code
        receipt = (await post_outcome(registry, auth, outcome_body(application))).json()
        org = await registry.get(
            f"{ORGS}/{receipt['organization_id']}", headers=auth("civil_affairs")
        )
        assert org.json()["uscc"] == code

    async def test_rejection_leaves_nothing_half_done(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        application = await apply_for_registration(registry, auth)
        response = await post_outcome(registry, auth, outcome_body(application, "rejected"))
        assert response.status_code == 200
        assert response.json()["state"] == "rejected"
        assert response.json()["organization_id"] is None
        assert await organizations_named(application["proposal"]["name"]) == 0
        stored = (
            await registry.get(f"{APPLICATIONS}/{application['id']}", headers=auth("auditor"))
        ).json()
        assert stored["state"] == "rejected" and stored["outcome_reason"] == "材料不符合要求"
        # The ID number of the proposal is masked for the auditor.
        assert stored["proposal"]["legal_rep_id_number"] == "110105**********2X"

    async def test_the_same_outcome_twice_is_applied_once(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        application = await apply_for_registration(registry, auth)
        body = outcome_body(application)
        first = await post_outcome(registry, auth, body)
        second = await post_outcome(registry, auth, body)
        assert first.status_code == second.status_code == 200
        assert (first.json()["applied"], second.json()["applied"]) == (True, False)
        assert first.json()["organization_id"] == second.json()["organization_id"]
        assert await organizations_named(application["proposal"]["name"]) == 1

    async def test_a_contradicting_outcome_is_refused(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        application = await apply_for_registration(registry, auth)
        body = outcome_body(application, "rejected")
        assert (await post_outcome(registry, auth, body)).status_code == 200
        approved = await post_outcome(registry, auth, {**body, "outcome": "approved"})
        assert approved.status_code == 409
        assert approved.json()["code"] == "application_already_decided"
        assert await organizations_named(application["proposal"]["name"]) == 0

    async def test_the_name_of_a_pending_registration_is_taken(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        application = await apply_for_registration(registry, auth)
        again = await registry.post(
            f"{APPLICATIONS}/registrations",
            json={
                "organization": proposal(name=application["proposal"]["name"]),
                "applicant_name": "另一位发起人",
            },
            headers=auth("civil_affairs"),
        )
        assert again.status_code == 409 and again.json()["code"] == "name_taken"
        direct = await registry.post(
            ORGS,
            json=registered_org(name=application["proposal"]["name"]),
            headers=auth("civil_affairs"),
        )
        assert direct.status_code == 409 and direct.json()["code"] == "name_taken"
        assert await organizations_named(application["proposal"]["name"]) == 0

    async def test_an_approval_whose_name_was_taken_meanwhile_lapses(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        application = await apply_for_registration(registry, auth)
        name = application["proposal"]["name"]
        # A filed organization of that name appears while the case runs.
        await created(registry, auth("civil_affairs"), filed_org(name=name))
        response = await post_outcome(registry, auth, outcome_body(application))
        assert response.status_code == 200
        receipt = response.json()
        assert (receipt["state"], receipt["organization_id"]) == ("lapsed", None)
        assert await organizations_named(name) == 1
        stored = (
            await registry.get(f"{APPLICATIONS}/{application['id']}", headers=auth("auditor"))
        ).json()
        assert stored["outcome_reason"].startswith("approved, not applicable")


class TestOutcomeEndpoint:
    async def test_unknown_subject_is_404(self, registry: httpx.AsyncClient, auth: Auth) -> None:
        body = outcome_body({"id": str(uuid.uuid4()), "kind": "registration"})
        for subject in (body, {**body, "subject_type": "project"}, {**body, "subject_id": "x"}):
            response = await post_outcome(registry, auth, subject)
            assert response.status_code == 404
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["code"] == "case_subject_not_found"

    async def test_case_type_must_match_the_application(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        application = await apply_for_registration(registry, auth)
        body = outcome_body(application, case_type="organization_change")
        response = await post_outcome(registry, auth, body)
        assert response.status_code == 422 and response.json()["code"] == "case_type_mismatch"

    @pytest.mark.parametrize("role", ["civil_affairs", "organization", "provincial_system"])
    async def test_only_services_post_outcomes(
        self, registry: httpx.AsyncClient, auth: Auth, role: str
    ) -> None:
        application = await apply_for_registration(registry, auth)
        response = await registry.post(
            "/api/v1/internal/case-outcomes",
            json=outcome_body(application),
            headers=auth(role, org_id=str(uuid.uuid4())),
        )
        assert response.status_code == 403
        assert await organizations_named(application["proposal"]["name"]) == 0


class TestChangeAndDeregistration:
    async def test_an_approved_change_applies_the_proposed_fields(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org = await created(registry, auth("civil_affairs"), registered_org())
        user = auth("organization", org_id=org["id"])
        response = await registry.post(
            f"{ORGS}/{org['id']}/change-applications",
            json={"changes": {"address": "长江中路99号", "business_scope": "助老、助残"}},
            headers=user,
        )
        assert response.status_code == 201, response.text
        application = response.json()
        pending = await registry.post(
            f"{ORGS}/{org['id']}/change-applications",
            json={"changes": {"address": "别处"}},
            headers=user,
        )
        assert pending.status_code == 409 and pending.json()["code"] == "application_pending"
        unchanged = await registry.get(f"{ORGS}/{org['id']}", headers=user)
        assert unchanged.json()["address"] is None
        await post_outcome(registry, auth, outcome_body(application))
        changed = (await registry.get(f"{ORGS}/{org['id']}", headers=user)).json()
        assert (changed["address"], changed["business_scope"]) == ("长江中路99号", "助老、助残")
        events = await events_of(org["id"])
        assert events[-1].payload["changed_fields"] == ["address", "business_scope"]
        assert events[-1].payload["source"] == "case_outcome"

    async def test_a_change_of_nothing_is_refused(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org = await created(registry, auth("civil_affairs"), registered_org())
        response = await registry.post(
            f"{ORGS}/{org['id']}/change-applications",
            json={"changes": {"name": org["name"]}},
            headers=auth("organization", org_id=org["id"]),
        )
        assert response.status_code == 422 and response.json()["code"] == "no_changes"

    async def test_approved_deregistration_is_final(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org = await created(registry, auth("civil_affairs"), registered_org())
        user = auth("organization", org_id=org["id"])
        application = (
            await registry.post(
                f"{ORGS}/{org['id']}/deregistration-applications",
                json={"reason": "完成宗旨，自行解散"},
                headers=user,
            )
        ).json()
        await post_outcome(registry, auth, outcome_body(application))
        closed = (await registry.get(f"{ORGS}/{org['id']}", headers=user)).json()
        assert closed["status"] == "deregistered"
        reopen = await registry.post(
            f"{ORGS}/{org['id']}/status",
            json={"status": "active", "reason": "误操作"},
            headers=auth("civil_affairs"),
        )
        assert reopen.status_code == 409 and reopen.json()["code"] == "organization_closed"

    async def test_an_approval_for_a_closed_organization_lapses(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org = await created(registry, auth("civil_affairs"), registered_org())
        application = (
            await registry.post(
                f"{ORGS}/{org['id']}/change-applications",
                json={"changes": {"address": "新址"}},
                headers=auth("organization", org_id=org["id"]),
            )
        ).json()
        await registry.post(
            f"{ORGS}/{org['id']}/status",
            json={"status": "revoked", "reason": "违法违规"},
            headers=auth("civil_affairs"),
        )
        response = await post_outcome(registry, auth, outcome_body(application))
        assert response.status_code == 200 and response.json()["state"] == "lapsed"
        org_now = (await registry.get(f"{ORGS}/{org['id']}", headers=auth("civil_affairs"))).json()
        assert org_now["address"] is None

    async def test_an_organization_applies_only_for_itself(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org = await created(registry, auth("civil_affairs"), registered_org())
        other = auth("organization", org_id=str(uuid.uuid4()))
        response = await registry.post(
            f"{ORGS}/{org['id']}/deregistration-applications",
            json={"reason": "解散"},
            headers=other,
        )
        assert response.status_code == 404
        listed = (await registry.get(APPLICATIONS, headers=other)).json()
        assert listed["total"] == 0
