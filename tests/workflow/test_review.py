"""Joint review: join rules, concurrent decisions, scoping of tasks and cases."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import func, select

from services.workflow.cases.commands import precheck
from services.workflow.models import CaseTransition, infra
from shared.db import database
from tests.workflow.helpers import decide, in_review, tasks


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
    case_id = await in_review(submit, "project_application", subject_department="women_federation")
    t = await tasks(workflow, auth, case_id)
    assert (await decide(workflow, auth, "finance", t["finance"], "reject")).json()[
        "state"
    ] == "in_joint_review"
    assert (
        await decide(workflow, auth, "women_federation", t["women_federation"], "approve")
    ).json()["state"] == "in_joint_review"
    final = await decide(
        workflow, auth, "civil_affairs_projects", t["civil_affairs_projects"], "approve"
    )
    assert final.json()["state"] == "approved"


async def test_two_hundred_concurrent_decisions_on_one_case_produce_exactly_one_outcome(
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
        for i in range(200)
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
    foreign = f"/api/v1/tasks/{t['market_regulation']}"
    for verb, body in (
        ("claim", {"command_id": str(uuid.uuid4())}),
        ("reject", {"command_id": str(uuid.uuid4())}),
        ("comments", {"command_id": str(uuid.uuid4()), "body": "越权"}),
    ):
        response = await workflow.post(f"{foreign}/{verb}", json=body, headers=police)
        assert response.status_code == 404, verb
        assert response.json()["code"] == "task_not_found"
    assert (await workflow.get(f"{foreign}/comments", headers=police)).status_code == 404
    # Other roles have no task commands at all.
    bureau = await workflow.post(
        f"{foreign}/approve", json={"command_id": str(uuid.uuid4())}, headers=auth("civil_affairs")
    )
    assert bureau.status_code == 403
    # None of that touched the task.
    untouched = (await workflow.get(f"/api/v1/cases/{case_id}", headers=police)).json()
    assert {x["state"] for x in untouched["tasks"]} == {"open"}
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


async def test_concurrent_approvals_are_never_lost(
    submit: Callable[..., Any], workflow: httpx.AsyncClient, auth: Callable[..., Any]
) -> None:
    # Every department approves at the same moment, several times over (distinct command
    # ids). Without the case lock each decision could miss the others and the "all" rule
    # would never fire; with it, the last decision approves the case, exactly once.
    for _ in range(3):
        case_id = await in_review(submit, "organization_registration")
        t = await tasks(workflow, auth, case_id)
        responses = await asyncio.gather(
            *(decide(workflow, auth, d, t[d], "approve") for d in sorted(t) for _ in range(4))
        )
        assert sum(r.status_code == 200 for r in responses) == 3  # one per task
        assert {r.status_code for r in responses} <= {200, 409}
        case = (
            await workflow.get(f"/api/v1/cases/{case_id}", headers=auth("civil_affairs"))
        ).json()
        assert case["state"] == "approved"
        assert {task["state"] for task in case["tasks"]} == {"approved"}
        assert [s["to_state"] for s in case["timeline"]].count("approved") == 1


async def test_fifty_concurrent_decisions_end_as_the_join_rule_says(
    submit: Callable[..., Any], workflow: httpx.AsyncClient, auth: Callable[..., Any]
) -> None:
    # Two of three (n_of_m): 50 decisions, mixed, on one case. Whatever order the row lock
    # imposes, the outcome matches the tasks' recorded decisions and is taken once.
    from services.workflow.cases.machine import join_outcome
    from services.workflow.definitions.schemas import JoinKind, JoinRule
    from services.workflow.models import TaskState

    case_id = await in_review(submit, "project_application", subject_department="women_federation")
    t = await tasks(workflow, auth, case_id)
    departments = sorted(t)
    responses = await asyncio.gather(
        *(
            decide(
                workflow,
                auth,
                departments[i % 3],
                t[departments[i % 3]],
                "reject" if i % 2 else "approve",
            )
            for i in range(50)
        )
    )
    assert {r.status_code for r in responses} <= {200, 409}
    decisive = [r.json() for r in responses if r.status_code == 200]
    case = (await workflow.get(f"/api/v1/cases/{case_id}", headers=auth("civil_affairs"))).json()
    assert case["state"] in {"approved", "rejected"}
    decided = [task for task in case["tasks"] if task["state"] in {"approved", "rejected"}]
    assert len(decided) == len(decisive)  # every accepted decision is recorded
    # The tasks cancelled by the outcome were open when the deciding decision came.
    at_decision = [
        TaskState.open if task["state"] == "cancelled" else TaskState(task["state"])
        for task in case["tasks"]
    ]
    assert join_outcome(JoinRule(kind=JoinKind.n_of_m, n=2), at_decision) == case["state"]
    # Exactly one response carries the outcome: the decision that completed the join.
    assert [d["state"] for d in decisive].count(case["state"]) == 1
    steps = [s["to_state"] for s in case["timeline"]]
    assert steps.count("approved") + steps.count("rejected") == 1


async def test_a_department_sends_the_case_back_once_and_review_resumes(
    submit: Callable[..., Any], workflow: httpx.AsyncClient, auth: Callable[..., Any], org_id: str
) -> None:
    from tests.workflow.helpers import materials_for

    case_id = await in_review(submit, "organization_registration", org_id=org_id)
    t = await tasks(workflow, auth, case_id)
    approved = await decide(workflow, auth, "market_regulation", t["market_regulation"], "approve")
    assert approved.status_code == 200
    police = auth("department_reviewer", department="public_security")
    outsider = auth("department_reviewer", department="tax")
    body = {
        "command_id": str(uuid.uuid4()),
        "items": [{"code": "articles", "problem": "invalid", "message": "章程缺页"}],
    }
    url = f"/api/v1/cases/{case_id}/supplement-requests"
    # A department with no task on the case cannot even see it.
    assert (await workflow.post(url, json=body, headers=outsider)).status_code == 404
    # The department that already decided has no open task: it may not send the case back.
    done = auth("department_reviewer", department="market_regulation")
    refused = await workflow.post(url, json={**body, "command_id": str(uuid.uuid4())}, headers=done)
    assert refused.status_code == 403
    assert refused.json()["code"] == "supplement_forbidden"
    sent = await workflow.post(url, json=body, headers=police)
    assert sent.status_code == 200, sent.text
    # Held until every department still reviewing has spoken (one notice, 一次性告知).
    assert sent.json()["state"] == "in_joint_review"
    registration = auth("department_reviewer", department="civil_affairs_registration")
    second = {
        "command_id": str(uuid.uuid4()),
        "items": [{"code": "capital_proof", "problem": "invalid", "message": "验资报告无盖章"}],
    }
    sent = await workflow.post(url, json=second, headers=registration)
    assert sent.status_code == 200, sent.text
    assert sent.json()["state"] == "supplement_requested"
    # While the applicant is away nobody can decide.
    paused = await decide(workflow, auth, "public_security", t["public_security"], "approve")
    assert paused.status_code == 409
    assert paused.json()["code"] == "case_not_in_review"

    resubmitted = await workflow.post(
        f"/api/v1/cases/{case_id}/resubmissions",
        json={
            "command_id": str(uuid.uuid4()),
            "materials": materials_for("organization_registration"),
        },
        headers=auth("organization", org_id=org_id),
    )
    assert resubmitted.status_code == 200, resubmitted.text
    async with database.transaction() as session:
        await precheck(session, case_id=uuid.UUID(case_id))
    case = (await workflow.get(f"/api/v1/cases/{case_id}", headers=auth("civil_affairs"))).json()
    assert case["state"] == "in_joint_review"
    # The earlier approval stands; the other tasks are still open; nothing was duplicated.
    assert {x["department"]: x["state"] for x in case["tasks"]} == {
        "civil_affairs_registration": "open",
        "market_regulation": "approved",
        "public_security": "open",
    }
    again = await workflow.post(url, json={**body, "command_id": str(uuid.uuid4())}, headers=police)
    assert again.status_code == 409
    assert again.json()["code"] == "supplement_already_used"
    for department in ("public_security", "civil_affairs_registration"):
        await decide(workflow, auth, department, t[department], "approve")
    final = (await workflow.get(f"/api/v1/cases/{case_id}", headers=auth("civil_affairs"))).json()
    assert final["state"] == "approved"
    assert [s["to_state"] for s in final["timeline"]] == [
        "submitted",
        "accepted",
        "in_joint_review",
        "supplement_requested",
        "resubmitted",
        "accepted",
        "in_joint_review",
        "approved",
    ]


async def test_withdrawal_cancels_open_tasks_and_a_decided_case_cannot_be_withdrawn(
    submit: Callable[..., Any], workflow: httpx.AsyncClient, auth: Callable[..., Any], org_id: str
) -> None:
    applicant = auth("organization", org_id=org_id)
    case_id = await in_review(submit, "organization_change", org_id=org_id)
    url = f"/api/v1/cases/{case_id}/withdrawal"
    # A reviewer is not the applicant.
    reviewer = auth("department_reviewer", department="civil_affairs_registration")
    not_applicant = await workflow.post(
        url, json={"command_id": str(uuid.uuid4())}, headers=reviewer
    )
    assert not_applicant.status_code == 403
    withdrawn = await workflow.post(
        url, json={"command_id": str(uuid.uuid4()), "reason": "不再办理"}, headers=applicant
    )
    assert withdrawn.json()["state"] == "withdrawn"
    case = (await workflow.get(f"/api/v1/cases/{case_id}", headers=applicant)).json()
    assert {x["state"] for x in case["tasks"]} == {"cancelled"}
    assert case["outcome_reason"] == "不再办理"
    again = await workflow.post(url, json={"command_id": str(uuid.uuid4())}, headers=applicant)
    assert again.status_code == 409
    assert again.json()["code"] == "case_closed"
