"""Applications and their workflow case, seen from the registry: the case id, the
applicant's withdrawal, and the reviewers' read access.

The workflow runs in-process: the registry's outbox events go through the real
`events.dispatch` (tests/workflow/pump.py), outcomes come back through the worker's
own callback function, and the registry asks the in-process workflow app which
department reviews what (wired in tests/conftest.py).
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from services.registry.base import infra as registry_infra
from services.registry.main import app as registry_app
from shared.clients import WorkflowClient
from shared.interservice import CASE_WITHDRAWAL_REQUESTED_EVENT
from shared.settings import get_settings
from tests.factories import registered_org
from tests.registry.helpers import (
    ORGS,
    Auth,
    created,
    event_types,
    events_of,
    outcome_body,
    post_outcome,
)
from tests.support.polling import poll
from tests.workflow.helpers import materials_for
from tests.workflow.pump import deliver_outcome, dispatch_subject, run_case

APPLICATIONS = "/api/v1/applications"
CASES = "/api/v1/cases"
DEPARTMENTS = {"civil_affairs_registration", "public_security", "market_regulation"}


async def _file_registration(
    registry: httpx.AsyncClient, auth: Auth, *, leave_out: tuple[str, ...] = ()
) -> dict[str, Any]:
    proposal = registered_org()
    for key in ("registration", "uscc"):
        proposal.pop(key)
    response = await registry.post(
        f"{APPLICATIONS}/registrations",
        json={
            "organization": proposal,
            "applicant_name": "发起人王五",
            "materials": materials_for("organization_registration", leave_out=leave_out),
        },
        headers=auth("civil_affairs", sub="window-clerk-1"),
    )
    assert response.status_code == 201, response.text
    application: dict[str, Any] = response.json()
    return application


async def _workflow_case(
    workflow: httpx.AsyncClient, auth: Auth, application_id: str
) -> dict[str, Any] | None:
    listed = await workflow.get(
        CASES, params={"subject_id": application_id}, headers=auth("civil_affairs")
    )
    items: list[dict[str, Any]] = listed.json()["items"]
    if not items:
        return None
    case: dict[str, Any] = (
        await workflow.get(f"{CASES}/{items[0]['id']}", headers=auth("civil_affairs"))
    ).json()
    return case


async def _opened(
    registry: httpx.AsyncClient, workflow: httpx.AsyncClient, auth: Auth, **kwargs: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A registration whose case the workflow opened and pre-checked: (application, case)."""
    application = await _file_registration(registry, auth, **kwargs)
    await dispatch_subject(registry_infra.outbox, "registry", application["id"])
    case = await _workflow_case(workflow, auth, application["id"])
    assert case is not None
    await run_case(case["id"])
    case = await _workflow_case(workflow, auth, application["id"])
    assert case is not None
    return application, case


async def _application(registry: httpx.AsyncClient, auth: Auth, application_id: str) -> Any:
    response = await registry.get(f"{APPLICATIONS}/{application_id}", headers=auth("civil_affairs"))
    assert response.status_code == 200, response.text
    return response.json()


class TestCaseId:
    async def test_a_pending_application_shows_its_case(
        self, registry: httpx.AsyncClient, workflow: httpx.AsyncClient, auth: Auth
    ) -> None:
        application = await _file_registration(registry, auth)
        await dispatch_subject(registry_infra.outbox, "registry", application["id"])
        case = await _workflow_case(workflow, auth, application["id"])
        assert case is not None

        async def named() -> Any:
            shown = await _application(registry, auth, application["id"])
            return shown if shown["case_id"] is not None else None

        shown = await poll(named, within=5)
        assert (shown["state"], shown["case_id"]) == ("pending", case["id"])
        listed = await registry.get(
            APPLICATIONS, params={"state": "pending"}, headers=auth("auditor")
        )
        mine = [a for a in listed.json()["items"] if a["id"] == application["id"]]
        assert [a["case_id"] for a in mine] == [case["id"]]

    async def test_an_outcome_of_another_case_is_refused(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        application = await _file_registration(registry, auth)
        stray = outcome_body(application, case_id=uuid.uuid4())
        response = await post_outcome(registry, auth, stray)
        assert (response.status_code, response.json()["code"]) == (409, "case_mismatch")
        assert (await _application(registry, auth, application["id"]))["state"] == "pending"
        own = await post_outcome(registry, auth, outcome_body(application, "rejected"))
        assert own.status_code == 200 and own.json()["state"] == "rejected"


class TestWithdrawal:
    async def test_the_window_withdraws_a_registration_and_both_sides_end_withdrawn(
        self, registry: httpx.AsyncClient, workflow: httpx.AsyncClient, auth: Auth
    ) -> None:
        application, case = await _opened(registry, workflow, auth, leave_out=("articles",))
        assert case["state"] == "supplement_requested"
        url = f"{APPLICATIONS}/{application['id']}/withdrawal"
        window = auth("civil_affairs", sub="window-clerk-2")  # another clerk on duty
        response = await registry.post(url, json={"reason": "发起人决定暂缓成立"}, headers=window)
        assert response.status_code == 202, response.text
        requested = response.json()
        assert requested["state"] == "pending" and requested["withdrawal_requested_at"]
        again = await registry.post(url, json={"reason": "再次撤回"}, headers=window)
        assert again.status_code == 202
        assert again.json()["withdrawal_requested_at"] == requested["withdrawal_requested_at"]
        assert (await event_types(application["id"])).count(CASE_WITHDRAWAL_REQUESTED_EVENT) == 1

        await dispatch_subject(registry_infra.outbox, "registry", application["id"])
        withdrawn = await _workflow_case(workflow, auth, application["id"])
        assert withdrawn is not None
        assert (withdrawn["state"], withdrawn["outcome_reason"]) == (
            "withdrawn",
            "发起人决定暂缓成立",
        )
        assert await deliver_outcome(uuid.UUID(case["id"]), registry_app) == "delivered"
        ended = await _application(registry, auth, application["id"])
        assert (ended["state"], ended["case_id"], ended["outcome_reason"]) == (
            "withdrawn",
            case["id"],
            "发起人决定暂缓成立",
        )
        decided = [
            e for e in await events_of(application["id"]) if e.event_type == "application.decided"
        ]
        assert [e.payload["outcome"] for e in decided] == ["withdrawn"]
        late = await registry.post(url, json={}, headers=window)
        assert (late.status_code, late.json()["code"]) == (409, "application_decided")

    async def test_only_the_applicant_withdraws(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        org = await created(registry, auth("civil_affairs"), registered_org())
        own = auth("organization", org_id=org["id"])
        change = await registry.post(
            f"{ORGS}/{org['id']}/change-applications",
            json={"changes": {"address": "长江中路2号"}},
            headers=own,
        )
        assert change.status_code == 201, change.text
        url = f"{APPLICATIONS}/{change.json()['id']}/withdrawal"
        refusals = {
            "another organization": (auth("organization", org_id=str(uuid.uuid4())), 404),
            "the bureau, for an organization's own application": (auth("civil_affairs"), 403),
            "a reviewer": (auth("department_reviewer", department="public_security"), 403),
            "an auditor": (auth("auditor"), 403),
            "a street office": (auth("street_office", street_code="340103001"), 403),
        }
        for who, (headers, status) in refusals.items():
            answer = await registry.post(url, json={"reason": "x"}, headers=headers)
            assert answer.status_code == status, f"{who}: {answer.text}"
            assert answer.headers["content-type"] == "application/problem+json"
        hostile = await registry.post(url, json={"reason": "撤" * 1001}, headers=own)
        assert hostile.status_code == 422
        assert CASE_WITHDRAWAL_REQUESTED_EVENT not in await event_types(change.json()["id"])
        accepted = await registry.post(url, json={"reason": "不再变更"}, headers=own)
        assert accepted.status_code == 202, accepted.text
        assert (await event_types(change.json()["id"])).count(CASE_WITHDRAWAL_REQUESTED_EVENT) == 1


class TestReviewerReads:
    async def test_a_reviewing_department_reads_what_it_decides(
        self, registry: httpx.AsyncClient, workflow: httpx.AsyncClient, auth: Auth
    ) -> None:
        application, case = await _opened(registry, workflow, auth)
        assert case["state"] == "in_joint_review"
        assert {t["department"] for t in case["tasks"]} == DEPARTMENTS
        url = f"{APPLICATIONS}/{application['id']}"
        for department in DEPARTMENTS:
            response = await registry.get(
                url, headers=auth("department_reviewer", department=department)
            )
            assert response.status_code == 200, response.text
            read = response.json()
            assert read["proposal"]["name"] == application["proposal"]["name"]
            assert read["materials"] == application["materials"]
            assert read["case_id"] == case["id"]
            assert "*" in read["proposal"]["legal_rep_id_number"]  # masked, as for auditors

        no_task = await registry.get(url, headers=auth("department_reviewer", department="tax"))
        assert (no_task.status_code, no_task.json()["code"]) == (404, "application_not_found")
        assert application["proposal"]["name"] not in no_task.text
        listed = await registry.get(
            APPLICATIONS, headers=auth("department_reviewer", department="public_security")
        )
        assert listed.status_code == 403

    async def test_no_task_yet_no_read(
        self, registry: httpx.AsyncClient, workflow: httpx.AsyncClient, auth: Auth
    ) -> None:
        application, case = await _opened(registry, workflow, auth, leave_out=("articles",))
        assert case["state"] == "supplement_requested" and case["tasks"] == []
        response = await registry.get(
            f"{APPLICATIONS}/{application['id']}",
            headers=auth("department_reviewer", department="public_security"),
        )
        assert response.status_code == 404
        unknown = await registry.get(
            f"{APPLICATIONS}/{uuid.uuid4()}",
            headers=auth("department_reviewer", department="public_security"),
        )
        assert unknown.status_code == 404

    async def test_the_workflow_unreachable_is_a_503_for_reviewers_only(
        self, registry: httpx.AsyncClient, workflow: httpx.AsyncClient, auth: Auth
    ) -> None:
        application, _ = await _opened(registry, workflow, auth)
        settings = get_settings().model_copy(
            update={"http_retries": 0, "http_backoff_seconds": 0.01, "http_timeout_seconds": 1.0}
        )
        unreachable = WorkflowClient("http://127.0.0.1:9", caller="registry", settings=settings)
        wired, registry_app.state.workflow_client = registry_app.state.workflow_client, unreachable
        try:
            url = f"{APPLICATIONS}/{application['id']}"
            response = await registry.get(
                url, headers=auth("department_reviewer", department="public_security")
            )
            assert response.status_code == 503, response.text
            assert response.json()["code"] == "workflow_unavailable"
            assert application["proposal"]["name"] not in response.text
            assert (await registry.get(url, headers=auth("civil_affairs"))).status_code == 200
        finally:
            registry_app.state.workflow_client = wired
            await unreachable.aclose()
