"""A case through the real processes: submitted over HTTP, pre-checked by the worker,
reviewed jointly, and its outcome delivered back to the subject service over HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx

from tests.e2e.steps import apply_for_change
from tests.support.polling import poll_sync
from tests.support.receiver import Receiver
from tests.support.system import System
from tests.workflow.helpers import materials_for


def test_case_reaches_joint_review_and_logs_carry_no_secrets(
    system: System, http: Callable[[str], httpx.Client], auth: Callable[..., dict[str, str]]
) -> None:
    org_id = str(uuid.uuid4())
    workflow = http("workflow")
    created = workflow.post(
        "/api/v1/cases",
        json={
            "command_id": str(uuid.uuid4()),
            "case_type": "organization_change",
            "title": "变更登记",
            "applicant_name": "庐阳区测试协会",
            "materials": materials_for("organization_change"),
        },
        headers={**auth("organization", org_id=org_id), "X-Request-ID": "e2e-trace-1"},
    )
    assert created.status_code == 201, created.text
    case_id = created.json()["case_id"]

    def in_review() -> dict[str, Any] | None:
        case = workflow.get(f"/api/v1/cases/{case_id}", headers=auth("civil_affairs")).json()
        return case if case["state"] == "in_joint_review" else None

    case = poll_sync(in_review)
    assert [t["department"] for t in case["tasks"]] == ["civil_affairs_registration"]
    logs = "".join(p.output() for p in system.processes.values())
    assert "e2e-trace-1" in logs  # the request id follows the work
    assert "Bearer ey" not in logs


def test_logs_never_carry_tokens_secrets_or_id_numbers(
    system: System, http: Callable[[str], httpx.Client], auth: Callable[..., dict[str, str]]
) -> None:
    from tests.factories import VALID_ID_NUMBER, registered_org

    headers = auth("civil_affairs")
    token = headers["Authorization"].removeprefix("Bearer ")
    registry, workflow = http("registry"), http("workflow")
    created = registry.post("/api/v1/organizations", json=registered_org(), headers=headers)
    assert created.status_code == 201, created.text
    # A rejected request echoing the ID number must not leak it either.
    bad = registered_org(legal_rep_id_number=VALID_ID_NUMBER[:-1] + "9")
    assert registry.post("/api/v1/organizations", json=bad, headers=headers).status_code == 422
    workflow.get("/api/v1/cases", headers=headers)

    # Webhook secrets: issued, rotated, used by the worker to sign; an inbound source's.
    receiver = Receiver().start()
    try:
        endpoint = workflow.post(
            "/api/v1/webhooks/endpoints",
            json={"url": f"{receiver.url}/hook", "event_types": ["organization.*"]},
            headers=headers,
        ).json()
        base = f"/api/v1/webhooks/endpoints/{endpoint['id']}"
        rotated = workflow.post(f"{base}/rotate-secret", headers=headers).json()
        assert workflow.post(f"{base}/test", headers=headers).status_code == 202
        poll_sync(lambda: receiver.json_bodies("/hook"))
        signed = receiver.requests[0].headers["webhook-signature"]
    finally:
        receiver.stop()
    workflow.post(f"{base}/disable", headers=headers)
    source = workflow.post(
        "/api/v1/inbound/sources",
        json={"name": f"log-check-{uuid.uuid4().hex[:6]}"},
        headers=headers,
    ).json()

    logs = "".join(p.output() for p in system.processes.values())
    assert "request" in logs  # the access log is there to search
    assert VALID_ID_NUMBER not in logs
    assert VALID_ID_NUMBER[:-1] + "9" not in logs
    assert token not in logs
    secrets = [endpoint["secret"], rotated["secret"], source["secret"]]
    # Each secret whole and its key material alone (what follows "whsec_").
    for secret in secrets + [s.removeprefix("whsec_") for s in secrets]:
        assert secret not in logs
    for signature in signed.split():
        assert signature.split(",", 1)[1] not in logs


def test_a_registry_application_is_decided_and_its_outcome_delivered_back(
    system: System, http: Callable[[str], httpx.Client], auth: Callable[..., dict[str, str]]
) -> None:
    from tests.factories import registered_org

    registry, workflow = http("registry"), http("workflow")
    org = registry.post(
        "/api/v1/organizations", json=registered_org(), headers=auth("civil_affairs")
    )
    assert org.status_code == 201, org.text
    org_id = org.json()["id"]
    applicant = auth("organization", org_id=org_id)
    application_id = apply_for_change(registry, org_id, applicant)["id"]

    # registry outbox → arq → worker opens the case → pre-check → joint review.
    def case_in_review() -> dict[str, Any] | None:
        listed = workflow.get(
            "/api/v1/cases", params={"subject_id": application_id}, headers=auth("civil_affairs")
        ).json()
        items = [c for c in listed["items"] if c["state"] == "in_joint_review"]
        return items[0] if items else None

    case = poll_sync(case_in_review, within=60)
    assert case["subject_service"] == "registry" and case["applicant_org_id"] == org_id
    detail = workflow.get(f"/api/v1/cases/{case['id']}", headers=applicant).json()
    (task,) = detail["tasks"]
    decided = workflow.post(
        f"/api/v1/tasks/{task['id']}/approve",
        json={"command_id": str(uuid.uuid4()), "comment": "同意变更"},
        headers=auth("department_reviewer", department=task["department"]),
    )
    assert decided.status_code == 200 and decided.json()["state"] == "approved"

    # The worker's sweep delivers the outcome to the registry over HTTP, which applies it.
    def application_decided() -> dict[str, Any] | None:
        body = registry.get(f"/api/v1/applications/{application_id}", headers=applicant).json()
        return body if body["state"] == "approved" else None

    poll_sync(application_decided, within=60)
    assert (
        registry.get(f"/api/v1/organizations/{org_id}", headers=applicant).json()["address"]
        == "庐阳区长江中路99号"
    )
    delivered = workflow.get(f"/api/v1/cases/{case['id']}", headers=applicant).json()
    assert delivered["callback_delivered_at"] is not None
    # Only one case was ever opened for the application.
    listed = workflow.get(
        "/api/v1/cases", params={"subject_id": application_id}, headers=auth("civil_affairs")
    ).json()
    assert listed["total"] == 1
