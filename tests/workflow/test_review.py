"""Joint review: join rules, concurrent decisions, scoping of tasks and cases."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import func, select

from services.workflow.commands import precheck
from services.workflow.models import CaseTransition, infra
from shared.db import database


async def in_review(submit: Callable[..., Any], case_type: str, **kwargs: Any) -> str:
    """A case in joint review, pre-checked right here (no worker needed)."""
    case_id: str = await submit(case_type, **kwargs)
    async with database.transaction() as session:
        await precheck(session, case_id=uuid.UUID(case_id))
    return case_id


async def tasks(
    workflow: httpx.AsyncClient, auth: Callable[..., Any], case_id: str
) -> dict[str, str]:
    case = (await workflow.get(f"/api/v1/cases/{case_id}", headers=auth("civil_affairs"))).json()
    return {t["department"]: t["id"] for t in case["tasks"]}


async def decide(
    workflow: httpx.AsyncClient,
    auth: Callable[..., Any],
    department: str,
    task_id: str,
    verdict: str,
) -> httpx.Response:
    return await workflow.post(
        f"/api/v1/tasks/{task_id}/{verdict}",
        json={"command_id": str(uuid.uuid4()), "comment": f"{department} {verdict}"},
        headers=auth("department_reviewer", department=department, sub=f"reviewer-{department}"),
    )


async def test_all_rule_needs_every_department(
    submit: Callable[..., Any], workflow: httpx.AsyncClient, auth: Callable[..., Any]
) -> None:
    case_id = await in_review(submit, "organization_registration")
    by_department = await tasks(workflow, auth, case_id)
    states = []
    for department, task_id in by_department.items():
        states.append(
            (await decide(workflow, auth, department, task_id, "approve")).json()["state"]
        )
    assert states == ["in_joint_review", "in_joint_review", "approved"]


async def test_all_rule_first_rejection_rejects_and_cancels_the_rest(
    submit: Callable[..., Any], workflow: httpx.AsyncClient, auth: Callable[..., Any]
) -> None:
    case_id = await in_review(submit, "organization_registration")
    by_department = await tasks(workflow, auth, case_id)
    rejected = await decide(
        workflow, auth, "public_security", by_department["public_security"], "reject"
    )
    assert rejected.json()["state"] == "rejected"
    case = (await workflow.get(f"/api/v1/cases/{case_id}", headers=auth("civil_affairs"))).json()
    assert {t["department"]: t["state"] for t in case["tasks"]} == {
        "civil_affairs_registration": "cancelled",
        "market_regulation": "cancelled",
        "public_security": "rejected",
    }
    assert case["outcome_reason"] == "public_security reject"
    late = await decide(
        workflow, auth, "market_regulation", by_department["market_regulation"], "approve"
    )
    assert late.status_code == 409


async def test_two_of_three_rule(
    submit: Callable[..., Any], workflow: httpx.AsyncClient, auth: Callable[..., Any]
) -> None:
    case_id = await in_review(submit, "project_application")
    t = await tasks(workflow, auth, case_id)
    assert (await decide(workflow, auth, "finance", t["finance"], "reject")).json()[
        "state"
    ] == "in_joint_review"
    assert (
        await decide(workflow, auth, "purchasing_department", t["purchasing_department"], "approve")
    ).json()["state"] == "in_joint_review"
    final = await decide(
        workflow, auth, "civil_affairs_projects", t["civil_affairs_projects"], "approve"
    )
    assert final.json()["state"] == "approved"


async def test_fifty_concurrent_decisions_produce_exactly_one_outcome(
    submit: Callable[..., Any], workflow: httpx.AsyncClient, auth: Callable[..., Any]
) -> None:
    case_id = await in_review(submit, "organization_registration")
    t = await tasks(workflow, auth, case_id)
    departments = sorted(t)
    requests = [
        decide(
            workflow,
            auth,
            departments[i % 3],
            t[departments[i % 3]],
            "approve" if i % 7 else "reject",
        )
        for i in range(50)
    ]
    responses = await asyncio.gather(*requests)
    assert {r.status_code for r in responses} <= {200, 409}
    assert sum(r.status_code == 200 for r in responses) <= 3  # at most one decision per task
    async with database.transaction() as session:
        outcomes = (
            await session.execute(
                select(func.count()).where(
                    CaseTransition.case_id == uuid.UUID(case_id),
                    CaseTransition.to_state.in_(["approved", "rejected"]),
                )
            )
        ).scalar_one()
        decided_events = (
            await session.execute(
                select(func.count()).where(
                    infra.outbox.c.subject_id == case_id,
                    infra.outbox.c.event_type == "case.decided",
                )
            )
        ).scalar_one()
    assert outcomes == 1
    assert decided_events == 1


async def test_a_department_sees_and_acts_only_on_its_own_tasks(
    submit: Callable[..., Any], workflow: httpx.AsyncClient, auth: Callable[..., Any]
) -> None:
    case_id = await in_review(submit, "organization_registration")
    t = await tasks(workflow, auth, case_id)
    police = auth("department_reviewer", department="public_security")
    other = await workflow.post(
        f"/api/v1/tasks/{t['market_regulation']}/approve",
        json={"command_id": str(uuid.uuid4())},
        headers=police,
    )
    assert other.status_code == 404
    assert other.json()["code"] == "task_not_found"
    inbox = (await workflow.get("/api/v1/tasks", params={"page_size": 200}, headers=police)).json()
    assert {item["department"] for item in inbox["items"]} == {"public_security"}
    assert t["public_security"] in {item["id"] for item in inbox["items"]}
    outsider = auth("department_reviewer", department="tax")
    assert (await workflow.get(f"/api/v1/cases/{case_id}", headers=outsider)).status_code == 404
    assert (await workflow.get(f"/api/v1/cases/{case_id}", headers=police)).status_code == 200
    organization = auth("organization", org_id=str(uuid.uuid4()))
    assert (await workflow.get("/api/v1/tasks", headers=organization)).status_code == 403
    assert (await workflow.get(f"/api/v1/cases/{case_id}", headers=organization)).status_code == 404


async def test_claims_are_exclusive_and_comments_are_kept(
    submit: Callable[..., Any], workflow: httpx.AsyncClient, auth: Callable[..., Any]
) -> None:
    case_id = await in_review(submit, "organization_change")
    task_id = (await tasks(workflow, auth, case_id))["civil_affairs_registration"]
    alice = auth("department_reviewer", department="civil_affairs_registration", sub="alice")
    bob = auth("department_reviewer", department="civil_affairs_registration", sub="bob")
    claimed = await workflow.post(
        f"/api/v1/tasks/{task_id}/claim", json={"command_id": str(uuid.uuid4())}, headers=alice
    )
    assert claimed.status_code == 200
    taken = await workflow.post(
        f"/api/v1/tasks/{task_id}/approve", json={"command_id": str(uuid.uuid4())}, headers=bob
    )
    assert taken.status_code == 409
    assert taken.json()["code"] == "task_claimed_by_other"
    await workflow.post(
        f"/api/v1/tasks/{task_id}/comments",
        json={"command_id": str(uuid.uuid4()), "body": "材料齐全"},
        headers=bob,
    )
    comments = (await workflow.get(f"/api/v1/tasks/{task_id}/comments", headers=alice)).json()
    assert [(c["author"], c["body"]) for c in comments] == [("bob", "材料齐全")]


async def test_organizations_see_only_their_own_cases(
    submit: Callable[..., Any], workflow: httpx.AsyncClient, auth: Callable[..., Any], org_id: str
) -> None:
    mine = await submit("annual_inspection", org_id=org_id)
    theirs = await submit("annual_inspection")
    me = auth("organization", org_id=org_id)
    listed = (await workflow.get("/api/v1/cases", params={"page_size": 200}, headers=me)).json()
    assert [item["id"] for item in listed["items"]] == [mine]
    assert (await workflow.get(f"/api/v1/cases/{theirs}", headers=me)).status_code == 404
    withdraw = await workflow.post(
        f"/api/v1/cases/{theirs}/withdrawal", json={"command_id": str(uuid.uuid4())}, headers=me
    )
    assert withdraw.status_code == 404
    assert (await workflow.get("/api/v1/cases", headers=auth("evaluator"))).status_code == 403
