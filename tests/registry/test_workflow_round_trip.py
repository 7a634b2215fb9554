"""The registration round trip with the real workflow: nothing stood in.

The services run as uvicorn processes and the workflow worker as an arq process, on a
freshly migrated database and a Redis of their own (the `tests/e2e` system fixtures).
A registration application goes from the registry's outbox over the queue to the
workflow, which opens the case, pre-checks it and creates the departments' tasks;
reviewers decide them; the workflow posts the outcome back to the registry over HTTP,
which applies it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from services.registry.enums import OrganizationKind
from services.registry.organizations.uscc import uscc_errors
from tests.factories import LUYANG, registered_org
from tests.support.polling import poll
from tests.support.system import System
from tests.workflow.helpers import materials_for

Auth = Callable[..., dict[str, str]]


@pytest.fixture
async def http(system: System) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    clients = {
        name: httpx.AsyncClient(base_url=system.url(name), timeout=30)
        for name in ("registry", "workflow")
    }
    yield clients
    for client in clients.values():
        await client.aclose()


async def _apply(registry: httpx.AsyncClient, auth: Auth) -> dict[str, Any]:
    proposal = registered_org()
    for key in ("registration", "uscc"):
        proposal.pop(key)
    response = await registry.post(
        "/api/v1/applications/registrations",
        json={
            "organization": proposal,
            "applicant_name": "发起人王五",
            "materials": materials_for("organization_registration"),
        },
        headers=auth("civil_affairs"),
    )
    assert response.status_code == 201, response.text
    application: dict[str, Any] = response.json()
    return application


async def _case_in_review(
    workflow: httpx.AsyncClient, auth: Auth, application_id: str, system: System
) -> dict[str, Any]:
    headers = auth("civil_affairs")

    async def in_review() -> dict[str, Any] | None:
        listed = await workflow.get(
            "/api/v1/cases", params={"subject_id": application_id}, headers=headers
        )
        items = listed.json()["items"]
        if not items or items[0]["state"] != "in_joint_review":
            return None
        case: dict[str, Any] = (
            await workflow.get(f"/api/v1/cases/{items[0]['id']}", headers=headers)
        ).json()
        return case

    try:
        result: dict[str, Any] = await poll(in_review, within=60)
    except pytest.fail.Exception:
        print(system.output())
        raise
    return result


async def _decide(
    workflow: httpx.AsyncClient, auth: Auth, task: dict[str, Any], verdict: str
) -> None:
    department = task["department"]
    response = await workflow.post(
        f"/api/v1/tasks/{task['id']}/{verdict}",
        json={"command_id": str(uuid.uuid4()), "comment": f"{department} {verdict}"},
        headers=auth("department_reviewer", department=department, sub=f"reviewer-{department}"),
    )
    assert response.status_code == 200, response.text


async def _decided(
    registry: httpx.AsyncClient, auth: Auth, application_id: str, system: System
) -> dict[str, Any]:
    async def decided() -> dict[str, Any] | None:
        response = await registry.get(
            f"/api/v1/applications/{application_id}", headers=auth("civil_affairs")
        )
        body: dict[str, Any] = response.json()
        return body if body["state"] != "pending" else None

    try:
        result: dict[str, Any] = await poll(decided, within=60)
    except pytest.fail.Exception:
        print(system.output())
        raise
    return result


async def test_an_approved_registration_comes_back_as_an_active_organization(
    system: System, http: dict[str, httpx.AsyncClient], auth: Auth
) -> None:
    registry, workflow = http["registry"], http["workflow"]
    application = await _apply(registry, auth)
    case = await _case_in_review(workflow, auth, application["id"], system)
    assert case["case_type"] == "organization_registration"
    assert {t["department"] for t in case["tasks"]} == {
        "civil_affairs_registration",
        "public_security",
        "market_regulation",
    }
    for task in case["tasks"]:
        await _decide(workflow, auth, task, "approve")

    decided = await _decided(registry, auth, application["id"], system)
    assert decided["state"] == "approved" and decided["case_id"] == case["id"]
    org = (
        await registry.get(
            f"/api/v1/organizations/{decided['organization_id']}", headers=auth("civil_affairs")
        )
    ).json()
    assert (org["status"], org["registration"]) == ("active", "registered")
    assert org["name"] == application["proposal"]["name"]
    assert org["uscc"] == decided["assigned_uscc"]
    assert (
        uscc_errors(
            org["uscc"], kind=OrganizationKind.service_institution, authority_division=LUYANG
        )
        == []
    )


async def test_a_rejected_registration_leaves_no_organization(
    system: System, http: dict[str, httpx.AsyncClient], auth: Auth
) -> None:
    registry, workflow = http["registry"], http["workflow"]
    application = await _apply(registry, auth)
    case = await _case_in_review(workflow, auth, application["id"], system)
    public_security = next(t for t in case["tasks"] if t["department"] == "public_security")
    await _decide(workflow, auth, public_security, "reject")

    decided = await _decided(registry, auth, application["id"], system)
    assert decided["state"] == "rejected" and decided["organization_id"] is None
    assert decided["assigned_uscc"] is None
    found = await registry.get(
        "/api/v1/organizations",
        params={"name": application["proposal"]["name"]},
        headers=auth("civil_affairs"),
    )
    assert found.json()["total"] == 0
