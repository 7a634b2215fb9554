"""The applicant answers its supplement notice and withdraws, whoever the applicant is.

A registration is filed at the civil-affairs window for promoters whose organization
does not exist yet: its case has no applicant organization, and the window acts for
them (resubmits, withdraws) with its own civil_affairs token, never a service token.
An organization acts on its own cases only (here a project application, opened from
the projects service's outbox by the real `events.dispatch`). A subject service asks
for its case's withdrawal through its outbox (`workflow.case_withdrawal_requested`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from arq import Retry

from services.projects.base import infra as projects_infra
from services.projects.main import app as projects_app
from services.workflow.jobs import dispatch_event
from services.workflow.models import ApprovalCase, CaseState
from shared.db import database, utcnow
from shared.interservice import CASE_WITHDRAWAL_REQUESTED_EVENT, CaseRequest, CaseWithdrawalRequest
from shared.jobs import EventEnvelope
from tests.factories import application_body, call_body, fund_body
from tests.workflow.helpers import materials_for
from tests.workflow.pump import case_of_subject, deliver_outcome, dispatch_subject, run_case

# The projects app asks a stand-in registry for eligibility (tests/projects/conftest.py).


@pytest.fixture(autouse=True)
def registry_client(stand_in_registry_client: object) -> object:
    """The projects app asks the stand-in registry (tests/support/registry.py)."""
    return stand_in_registry_client


Auth = Callable[..., dict[str, str]]
CASES = "/api/v1/cases"


async def _service_case(
    workflow: httpx.AsyncClient,
    auth: Auth,
    *,
    applicant_org_id: str | None = None,
    leave_out: tuple[str, ...] = ("articles",),
) -> str:
    """A registration case the registry opened for its application (as its outbox would)."""
    response = await workflow.post(
        CASES,
        json={
            "command_id": str(uuid.uuid4()),
            "case_type": "organization_registration",
            "title": "庐阳区助老服务中心 成立登记",
            "applicant_name": "发起人王五",
            "materials": materials_for("organization_registration", leave_out=leave_out),
            "subject_service": "registry",
            "subject_type": "application",
            "subject_id": str(uuid.uuid4()),
            "applicant_org_id": applicant_org_id,
        },
        headers=auth("service", sub="service:registry"),
    )
    assert response.status_code == 201, response.text
    return str(response.json()["case_id"])


async def _case(workflow: httpx.AsyncClient, auth: Auth, case_id: str) -> dict[str, Any]:
    response = await workflow.get(f"{CASES}/{case_id}", headers=auth("civil_affairs"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _sent_back(workflow: httpx.AsyncClient, auth: Auth, **kwargs: Any) -> str:
    """A case the pre-check sent back with its one-time notice."""
    case_id = await _service_case(workflow, auth, **kwargs)
    await run_case(case_id)  # the worker's pre-check of `case.submitted`
    assert (await _case(workflow, auth, case_id))["state"] == "supplement_requested"
    return case_id


async def test_the_window_answers_the_notice_of_a_case_filed_for_promoters(
    workflow: httpx.AsyncClient, auth: Auth
) -> None:
    case_id = await _sent_back(workflow, auth)
    window = auth("civil_affairs", sub="window-clerk-1")
    response = await workflow.post(
        f"{CASES}/{case_id}/resubmissions",
        json={
            "command_id": str(uuid.uuid4()),
            "materials": materials_for("organization_registration"),
        },
        headers=window,
    )
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "resubmitted"
    await run_case(case_id)  # pre-checked again: complete now
    case = await _case(workflow, auth, case_id)
    assert case["state"] == "in_joint_review"
    resubmission = next(s for s in case["timeline"] if s["to_state"] == "resubmitted")
    assert (resubmission["actor"], resubmission["actor_role"]) == (
        "window-clerk-1",
        "civil_affairs",
    )


async def test_the_window_withdraws_a_case_filed_for_promoters(
    workflow: httpx.AsyncClient, auth: Auth
) -> None:
    case_id = await _sent_back(workflow, auth)
    response = await workflow.post(
        f"{CASES}/{case_id}/withdrawal",
        json={"command_id": str(uuid.uuid4()), "reason": "发起人决定暂缓成立"},
        headers=auth("civil_affairs"),
    )
    assert response.status_code == 200, response.text
    case = await _case(workflow, auth, case_id)
    assert (case["state"], case["outcome_reason"]) == ("withdrawn", "发起人决定暂缓成立")
    async with database.transaction() as session:
        stored = await session.get(ApprovalCase, uuid.UUID(case_id))
        assert stored is not None and stored.next_callback_at is not None  # goes back to registry


async def test_only_the_applicant_acts_on_an_existing_organizations_case(
    workflow: httpx.AsyncClient, auth: Auth
) -> None:
    org_id = str(uuid.uuid4())
    case_id = await _sent_back(workflow, auth, applicant_org_id=org_id)
    body = {"command_id": str(uuid.uuid4()), "reason": "x"}
    refusals = {
        "the bureau, for an organization that exists": auth("civil_affairs"),
        "a reviewer": auth("department_reviewer", department="public_security"),
        "another organization": auth("organization", org_id=str(uuid.uuid4())),
        "an auditor": auth("auditor"),
    }
    answers = {
        who: (await workflow.post(f"{CASES}/{case_id}/withdrawal", json=body, headers=headers))
        for who, headers in refusals.items()
    }
    assert {who: r.status_code for who, r in answers.items()} == {
        "the bureau, for an organization that exists": 403,
        "a reviewer": 403,
        "another organization": 404,
        "an auditor": 403,
    }
    assert answers["the bureau, for an organization that exists"].json()["code"] == (
        "not_the_applicant"
    )
    assert (await _case(workflow, auth, case_id))["state"] == "supplement_requested"
    own = await workflow.post(
        f"{CASES}/{case_id}/withdrawal",
        json={"command_id": str(uuid.uuid4())},
        headers=auth("organization", org_id=org_id),
    )
    assert own.status_code == 200 and own.json()["state"] == "withdrawn"


async def test_an_organization_answers_and_withdraws_its_own_project_application(
    projects: httpx.AsyncClient, workflow: httpx.AsyncClient, auth: Auth
) -> None:
    bureau, org_id = auth("civil_affairs"), str(uuid.uuid4())
    applicant = auth("organization", org_id=org_id)
    fund = (await projects.post("/api/v1/funds", json=fund_body(), headers=bureau)).json()
    call = (await projects.post("/api/v1/calls", json=call_body(fund), headers=bureau)).json()
    applied = await projects.post(
        f"/api/v1/calls/{call['id']}/applications", json=application_body(), headers=applicant
    )
    assert applied.status_code == 201, applied.text
    project_id = applied.json()["id"]
    await dispatch_subject(projects_infra.outbox, "projects", project_id)  # the case request
    opened = await case_of_subject(project_id)
    assert opened is not None and opened.applicant_org_id == org_id
    await run_case(opened.id)
    case = await _case(workflow, auth, str(opened.id))
    assert case["state"] == "in_joint_review"

    # A reviewing department finds the budget invalid and sends the case back once.
    task = next(t for t in case["tasks"] if t["department"] == "civil_affairs_projects")
    sent_back = await workflow.post(
        f"{CASES}/{opened.id}/supplement-requests",
        json={
            "command_id": str(uuid.uuid4()),
            "items": [{"code": "budget", "problem": "invalid", "message": "预算表缺少明细"}],
        },
        headers=auth("department_reviewer", department=task["department"]),
    )
    assert sent_back.status_code == 200, sent_back.text
    # The other departments ask for the same: one notice once all have spoken, one item.
    for other in case["tasks"]:
        if other["department"] != task["department"]:
            also = await workflow.post(
                f"{CASES}/{opened.id}/supplement-requests",
                json={
                    "command_id": str(uuid.uuid4()),
                    "items": [
                        {"code": "budget", "problem": "invalid", "message": "预算表缺少明细"}
                    ],
                },
                headers=auth("department_reviewer", department=other["department"]),
            )
            assert also.status_code == 200, also.text
    notice = await workflow.get(f"{CASES}/{opened.id}", headers=applicant)
    assert notice.status_code == 200 and notice.json()["supplement_notice"][0]["code"] == "budget"

    stranger = auth("organization", org_id=str(uuid.uuid4()))
    budget = [{"code": "budget", "document_url": "https://files.example.cn/b2.pdf"}]
    for headers, expected in ((stranger, 404), (applicant, 200)):
        answer = await workflow.post(
            f"{CASES}/{opened.id}/resubmissions",
            json={"command_id": str(uuid.uuid4()), "materials": budget},
            headers=headers,
        )
        assert answer.status_code == expected, answer.text
    await run_case(opened.id)
    assert (await _case(workflow, auth, str(opened.id)))["state"] == "in_joint_review"

    withdrawn = await workflow.post(
        f"{CASES}/{opened.id}/withdrawal",
        json={"command_id": str(uuid.uuid4()), "reason": "机构调整计划"},
        headers=applicant,
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn"
    assert await deliver_outcome(opened.id, projects_app) == "delivered"
    project = await projects.get(f"/api/v1/projects/{project_id}", headers=applicant)
    assert project.json()["stage"] == "withdrawn"


def _withdrawal_event(source: str, request: CaseWithdrawalRequest) -> dict[str, Any]:
    return EventEnvelope(
        id=uuid.uuid4(),
        type=CASE_WITHDRAWAL_REQUESTED_EVENT,
        source=source,
        subject_type=request.subject_type,
        subject_id=request.subject_id,
        subject_seq=1,
        occurred_at=utcnow(),
        data=request.model_dump(mode="json"),
    ).model_dump(mode="json")


def _withdrawal_of(opened: CaseRequest, reason: str) -> CaseWithdrawalRequest:
    """The registry's request to withdraw the case it opened with `opened`."""
    return CaseWithdrawalRequest(
        command_id=uuid.uuid4(),
        case_command_id=opened.command_id,
        subject_service="registry",
        subject_type=opened.subject_type,
        subject_id=opened.subject_id,
        reason=reason,
    )


async def _opened_for(workflow: httpx.AsyncClient, auth: Auth) -> tuple[str, CaseRequest]:
    request = CaseRequest(
        command_id=uuid.uuid4(),
        case_id=uuid.uuid4(),
        case_type="organization_change",
        subject_service="registry",
        subject_type="application",
        subject_id=str(uuid.uuid4()),
        applicant_org_id=str(uuid.uuid4()),
        applicant_name="庐阳区测试协会",
        title="变更登记",
        materials=materials_for("organization_change"),
    )
    opened = EventEnvelope(
        id=uuid.uuid4(),
        type="workflow.case_requested",
        source="registry",
        subject_type="application",
        subject_id=request.subject_id,
        subject_seq=1,
        occurred_at=utcnow(),
        data=request.model_dump(mode="json"),
    )
    assert await dispatch_event({}, opened.model_dump(mode="json")) == "applied"
    return str(request.case_id), request


async def test_a_case_opens_under_the_id_its_service_named(
    workflow: httpx.AsyncClient, auth: Auth
) -> None:
    case_id, request = await _opened_for(workflow, auth)
    case = await _case(workflow, auth, case_id)
    assert (case["subject_id"], case["state"]) == (request.subject_id, "submitted")
    # Only a service names a case id; an organization filing for itself cannot.
    named = await workflow.post(
        CASES,
        json={
            "command_id": str(uuid.uuid4()),
            "case_id": str(uuid.uuid4()),
            "case_type": "organization_change",
            "title": "变更",
            "applicant_name": "某协会",
        },
        headers=auth("organization", org_id=str(uuid.uuid4())),
    )
    assert (named.status_code, named.json()["code"]) == (403, "scope_forbidden")


async def test_a_subject_service_withdraws_its_case_through_its_outbox(
    workflow: httpx.AsyncClient, auth: Auth
) -> None:
    case_id, opened = await _opened_for(workflow, auth)
    request = _withdrawal_of(opened, "申请人撤回")
    # Another service cannot withdraw the registry's case: the event changes nothing.
    assert await dispatch_event({}, _withdrawal_event("projects", request)) == "applied"
    assert (await _case(workflow, auth, case_id))["state"] == "submitted"

    event = _withdrawal_event("registry", request)
    assert await dispatch_event({}, event) == "applied"
    assert await dispatch_event({}, event) == "duplicate"
    case = await _case(workflow, auth, case_id)
    assert (case["state"], case["outcome_reason"]) == ("withdrawn", "申请人撤回")
    assert case["timeline"][-1]["actor"] == "service:registry"
    # The same request under a new event id (a replayed outbox) is the same command.
    assert await dispatch_event({}, _withdrawal_event("registry", request)) == "applied"
    assert [s["to_state"] for s in (await _case(workflow, auth, case_id))["timeline"]] == [
        "submitted",
        "withdrawn",
    ]


async def test_a_withdrawal_that_overtakes_its_case_request_waits_for_it() -> None:
    request = CaseWithdrawalRequest(
        command_id=uuid.uuid4(),
        case_command_id=uuid.uuid4(),  # its case request not handled yet
        subject_service="registry",
        subject_type="application",
        subject_id=str(uuid.uuid4()),
        reason=None,
    )
    with pytest.raises(Retry):
        await dispatch_event({"job_try": 1}, _withdrawal_event("registry", request))


async def test_a_withdrawal_of_a_decided_case_leaves_its_outcome(
    workflow: httpx.AsyncClient, auth: Auth
) -> None:
    case_id, opened = await _opened_for(workflow, auth)
    by_the_applicant = await workflow.post(
        f"{CASES}/{case_id}/withdrawal",
        json={"command_id": str(uuid.uuid4())},
        headers=auth("organization", org_id=opened.applicant_org_id),
    )
    assert by_the_applicant.status_code == 200
    request = _withdrawal_of(opened, "迟到的撤回")
    assert await dispatch_event({}, _withdrawal_event("registry", request)) == "applied"
    case = await _case(workflow, auth, case_id)
    assert (case["state"], case["outcome_reason"]) == (CaseState.withdrawn, None)
    assert [s["to_state"] for s in case["timeline"]] == ["submitted", "withdrawn"]
