"""The review tasks of a project's cases go to the call's own purchasing department.

A project application, a payment request and a closure each open a workflow case from
the projects outbox. Their joint review must include the department that published the
call (the project's `department`), so that its reviewers find the task in their inbox,
with no filter, and decide it; a reviewer of another department sees nothing of it.
The cases are opened and pre-checked by the real `events.dispatch` (the worker's job).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import select

from services.projects.base import infra as projects_infra
from services.workflow.jobs import dispatch_event
from services.workflow.models import ApprovalCase
from services.workflow.models import infra as workflow_infra
from shared.db import database
from shared.interservice import CASE_REQUESTED_EVENT
from shared.outbox import envelope_of
from tests.projects.driver import API, Driver, Flow


def material(code: str) -> dict[str, str]:
    return {"code": code, "document_url": f"https://files.example.cn/{code}.pdf"}


async def open_case(case_type: str, subject_id: str) -> str:
    """What the worker does: open the case the projects service requested for this
    subject, then pre-check it (materials complete: into joint review). Returns its id."""
    outbox = projects_infra.outbox
    async with database.transaction() as session:
        (requested,) = (
            await session.execute(
                select(outbox).where(
                    outbox.c.event_type == CASE_REQUESTED_EVENT,
                    outbox.c.payload["case_type"].astext == case_type,
                    outbox.c.payload["subject_id"].astext == subject_id,
                )
            )
        ).all()
    await dispatch_event({}, envelope_of(requested, "projects").model_dump(mode="json"))
    async with database.transaction() as session:
        case_id = (
            await session.execute(
                select(ApprovalCase.id).where(
                    ApprovalCase.case_type == case_type, ApprovalCase.subject_id == subject_id
                )
            )
        ).scalar_one()
        submitted = (
            await session.execute(
                select(workflow_infra.outbox).where(
                    workflow_infra.outbox.c.subject_id == str(case_id),
                    workflow_infra.outbox.c.event_type == "case.submitted",
                )
            )
        ).one()
    await dispatch_event({}, envelope_of(submitted, "workflow").model_dump(mode="json"))
    return str(case_id)


async def inbox(workflow: httpx.AsyncClient, reviewer: dict[str, str]) -> list[dict[str, Any]]:
    """The reviewer's whole task inbox, as the front-end lists it (no filter)."""
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        response = await workflow.get(
            f"{API}/tasks", params={"page": page, "page_size": 100}, headers=reviewer
        )
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["items"]
        if page * 100 >= body["total"]:
            return items
        page += 1


async def assert_routed_to(
    workflow: httpx.AsyncClient,
    auth: Callable[..., dict[str, str]],
    case_id: str,
    department: str,
    elsewhere: str,
    *,
    with_: tuple[str, ...],
) -> None:
    """The case is reviewed by `department` with the definition's fixed departments
    (`with_`), not by `elsewhere`; the department's reviewer finds the task and decides it."""
    case = await workflow.get(f"{API}/cases/{case_id}", headers=auth("civil_affairs"))
    assert case.status_code == 200, case.text
    assert case.json()["state"] == "in_joint_review"
    assert sorted(t["department"] for t in case.json()["tasks"]) == sorted((department, *with_))

    reviewer = auth("department_reviewer", department=department)
    mine = [t for t in await inbox(workflow, reviewer) if t["case_id"] == case_id]
    assert [t["department"] for t in mine] == [department]
    outsider = auth("department_reviewer", department=elsewhere)
    assert [t for t in await inbox(workflow, outsider) if t["case_id"] == case_id] == []

    decided = await workflow.post(
        f"{API}/tasks/{mine[0]['id']}/approve",
        json={"command_id": str(uuid.uuid4()), "comment": "同意"},
        headers=reviewer,
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["task_id"] == mine[0]["id"]
    refused = await workflow.post(
        f"{API}/tasks/{mine[0]['id']}/approve",
        json={"command_id": str(uuid.uuid4()), "comment": "越权"},
        headers=outsider,
    )
    assert refused.status_code == 404, refused.text


async def test_a_project_application_is_reviewed_by_the_calls_department(
    driver: Driver, workflow: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    flow = await driver.applied(department="women_federation")
    assert flow.project["department"] == "women_federation"
    case_id = await open_case("project_application", flow.id)
    await assert_routed_to(
        workflow,
        auth,
        case_id,
        "women_federation",
        "education",
        with_=("civil_affairs_projects", "finance"),
    )


async def test_a_payment_request_is_reviewed_by_the_projects_department(
    driver: Driver, workflow: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    flow = await driver.implementing()
    assert flow.project["department"] == "education"
    tranche = (await driver.tranches(flow))[0]
    request = await driver.expect(
        "POST",
        f"{flow.path}/payment-requests",
        201,
        driver.org(flow.org_id),
        json={
            "tranche_id": tranche["id"],
            "materials": [
                material(c) for c in ("payment_application", "milestone_evidence", "invoice")
            ],
        },
    )
    case_id = await open_case("payment_request", request["id"])
    await assert_routed_to(
        workflow, auth, case_id, "education", "women_federation", with_=("finance",)
    )


async def test_a_closure_is_reviewed_by_the_projects_department(
    driver: Driver, workflow: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    flow: Flow = await driver.evaluated()
    for seq in (1, 2, 3):
        await driver.pay(flow, seq)
    await driver.request_closure(
        flow,
        {
            "summary": "项目全部完成。",
            "materials": [
                material(c) for c in ("final_report", "financial_statement", "evaluation_report")
            ],
        },
    )
    case_id = await open_case("project_closure", flow.id)
    await assert_routed_to(
        workflow,
        auth,
        case_id,
        "education",
        "women_federation",
        with_=("civil_affairs_projects", "finance"),
    )


async def test_a_project_case_without_its_department_is_refused_and_changes_nothing(
    workflow: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    subject_id = str(uuid.uuid4())
    body = {
        "command_id": str(uuid.uuid4()),
        "case_type": "project_application",
        "title": "没有部门的申报",
        "applicant_name": "庐阳区社工服务中心",
        "subject_service": "projects",
        "subject_type": "project",
        "subject_id": subject_id,
    }
    missing = await workflow.post(f"{API}/cases", json=body, headers=auth("service"))
    assert missing.status_code == 422, missing.text
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert missing.json()["code"] == "subject_department_required"
    # An organization filing directly cannot pick who reviews its case.
    org_id = str(uuid.uuid4())
    chosen = await workflow.post(
        f"{API}/cases",
        json={
            "command_id": str(uuid.uuid4()),
            "case_type": "project_application",
            "title": "自选审批部门",
            "applicant_name": "庐阳区社工服务中心",
            "subject_department": "women_federation",
        },
        headers=auth("organization", org_id=org_id),
    )
    assert chosen.status_code == 403, chosen.text
    assert chosen.json()["code"] == "scope_forbidden"
    listed = await workflow.get(
        f"{API}/cases", params={"subject_id": subject_id}, headers=auth("civil_affairs")
    )
    assert listed.json()["items"] == []
    mine = await workflow.get(
        f"{API}/cases", params={"applicant_org_id": org_id}, headers=auth("civil_affairs")
    )
    assert mine.json()["items"] == []
