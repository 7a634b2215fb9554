"""A case through the real processes: submitted over HTTP, pre-checked by the worker,
reviewed jointly, and its outcome delivered back to the subject service over HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx

from tests.e2e.conftest import System, poll_sync
from tests.workflow.conftest import materials_for


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


def test_logs_never_carry_tokens_or_id_numbers(
    system: System, http: Callable[[str], httpx.Client], auth: Callable[..., dict[str, str]]
) -> None:
    from tests.factories import VALID_ID_NUMBER, registered_org

    headers = auth("civil_affairs")
    token = headers["Authorization"].removeprefix("Bearer ")
    registry = http("registry")
    created = registry.post("/api/v1/organizations", json=registered_org(), headers=headers)
    assert created.status_code == 201, created.text
    # A rejected request echoing the ID number must not leak it either.
    bad = registered_org(legal_rep_id_number=VALID_ID_NUMBER[:-1] + "9")
    assert registry.post("/api/v1/organizations", json=bad, headers=headers).status_code == 422
    http("workflow").get("/api/v1/cases", headers=headers)
    logs = "".join(p.output() for p in system.processes.values())
    assert "request" in logs  # the access log is there to search
    assert VALID_ID_NUMBER not in logs
    assert VALID_ID_NUMBER[:-1] + "9" not in logs
    assert token not in logs
