"""The case lifecycle with a real arq worker: pre-check, one supplement, joint review."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from services.workflow.calendar.service import load_calendar
from services.workflow.models import ApprovalCase, CaseCommand
from shared.db import database
from tests.support.processes import ManagedProcess
from tests.workflow.helpers import materials_for, transitions_to

pytestmark = pytest.mark.usefixtures("worker")


async def test_complete_application_reaches_joint_review_with_all_tasks_at_once(
    submit: Callable[..., Any], wait_for_state: Callable[..., Any], worker: ManagedProcess
) -> None:
    case_id = await submit("organization_registration")
    case = await wait_for_state(case_id, "in_joint_review")
    assert {t["department"] for t in case["tasks"]} == {
        "civil_affairs_registration",
        "public_security",
        "market_regulation",
    }
    assert {t["state"] for t in case["tasks"]} == {"open"}
    assert len({t["created_at"] for t in case["tasks"]}) == 1  # created together
    assert [step["to_state"] for step in case["timeline"]] == [
        "submitted",
        "accepted",
        "in_joint_review",
    ]
    assert all(step["definition_version"] == 2 for step in case["timeline"])


async def test_one_time_notice_lists_everything_and_only_one_supplement_round(
    submit: Callable[..., Any],
    wait_for_state: Callable[..., Any],
    workflow: httpx.AsyncClient,
    auth: Callable[..., dict[str, str]],
    org_id: str,
) -> None:
    case_id = await submit(
        "organization_registration", org_id=org_id, leave_out=("articles", "capital_proof")
    )
    case = await wait_for_state(case_id, "supplement_requested")
    # Every missing material in one notice (一次性告知).
    assert {item["code"] for item in case["supplement_notice"]} == {"articles", "capital_proof"}
    assert case["paused_at"] is not None

    applicant = auth("organization", org_id=org_id)
    incomplete = [m for m in materials_for("organization_registration") if m["code"] == "articles"]
    resubmitted = await workflow.post(
        f"/api/v1/cases/{case_id}/resubmissions",
        json={"command_id": str(uuid.uuid4()), "materials": incomplete},
        headers=applicant,
    )
    assert resubmitted.status_code == 200, resubmitted.text
    # Still incomplete after the one round: decided (rejected), never sent back twice.
    case = await wait_for_state(case_id, "rejected")
    assert case["supplement_count"] == 1
    assert await transitions_to(case_id, "supplement_requested") == 1


async def test_second_supplement_request_is_refused_by_machine_and_database(
    submit: Callable[..., Any],
    wait_for_state: Callable[..., Any],
    workflow: httpx.AsyncClient,
    auth: Callable[..., dict[str, str]],
    org_id: str,
) -> None:
    case_id = await submit("organization_registration", org_id=org_id, leave_out=("articles",))
    await wait_for_state(case_id, "supplement_requested")
    await workflow.post(
        f"/api/v1/cases/{case_id}/resubmissions",
        json={
            "command_id": str(uuid.uuid4()),
            "materials": materials_for("organization_registration"),
        },
        headers=auth("organization", org_id=org_id),
    )
    case = await wait_for_state(case_id, "in_joint_review")
    task = next(t for t in case["tasks"] if t["department"] == "public_security")
    second = await workflow.post(
        f"/api/v1/cases/{case_id}/supplement-requests",
        json={
            "command_id": str(uuid.uuid4()),
            "items": [{"code": "articles", "problem": "invalid", "message": "章程缺页"}],
        },
        headers=auth("department_reviewer", department=task["department"]),
    )
    assert second.status_code == 409
    assert second.json()["code"] == "supplement_already_used"
    # The database refuses it too, whatever the code does.
    with pytest.raises((IntegrityError, DBAPIError)):
        async with database.transaction() as session:
            await session.execute(
                update(ApprovalCase)
                .where(ApprovalCase.id == uuid.UUID(case_id))
                .values(supplement_count=2)
            )


async def test_resubmission_restarts_the_clock_from_where_it_paused(
    submit: Callable[..., Any],
    wait_for_state: Callable[..., Any],
    workflow: httpx.AsyncClient,
    auth: Callable[..., dict[str, str]],
    org_id: str,
) -> None:
    case_id = await submit("organization_change", org_id=org_id, leave_out=("council_resolution",))
    before = await wait_for_state(case_id, "supplement_requested")
    # Pretend the applicant took two weeks: any such span holds working days, even at
    # the longest holidays, so the deadline must move.
    async with database.transaction() as session:
        await session.execute(
            text(
                "UPDATE workflow.approval_case SET paused_at = now() - interval '14 days' "
                "WHERE id = :id"
            ),
            {"id": case_id},
        )
    await workflow.post(
        f"/api/v1/cases/{case_id}/resubmissions",
        json={"command_id": str(uuid.uuid4()), "materials": materials_for("organization_change")},
        headers=auth("organization", org_id=org_id),
    )
    after = await wait_for_state(case_id, "in_joint_review")
    assert after["paused_at"] is None
    # Exactly the working days spent paused (after the pause day, up to the resubmission
    # day, holidays and weekends skipped) are added to the committed deadline and reminder.
    async with database.transaction() as session:
        calendar = await load_calendar(session)
        paused_at = (
            await session.execute(
                text(
                    "SELECT min(at) FROM workflow.case_transition "
                    "WHERE case_id = :id AND to_state = 'resubmitted'"
                ),
                {"id": case_id},
            )
        ).scalar_one() - timedelta(days=14)
    resubmitted_at = next(s["at"] for s in after["timeline"] if s["to_state"] == "resubmitted")
    paused_days = calendar.working_days_between(paused_at, datetime.fromisoformat(resubmitted_at))
    assert paused_days >= 5
    for field in ("due_at", "reminder_at"):
        expected = calendar.extend(datetime.fromisoformat(before[field]), paused_days)
        assert datetime.fromisoformat(after[field]) == expected
    # The statutory limit counts calendar days and is not moved.
    assert after["statutory_due_at"] == before["statutory_due_at"]


async def test_duplicate_commands_return_the_first_result_and_change_nothing(
    workflow: httpx.AsyncClient, auth: Callable[..., dict[str, str]], org_id: str
) -> None:
    headers = auth("organization", org_id=org_id)
    body = {
        "command_id": str(uuid.uuid4()),
        "case_type": "annual_inspection",
        "title": "2025年度检查",
        "applicant_name": "测试协会",
        "materials": materials_for("annual_inspection"),
    }
    first = await workflow.post("/api/v1/cases", json=body, headers=headers)
    again = await workflow.post("/api/v1/cases", json=body, headers=headers)
    assert first.status_code == 201 and again.status_code == 201
    assert again.json()["case_id"] == first.json()["case_id"]
    assert again.json()["replayed"] is True
    # Someone else presenting the same command id learns nothing of the first case.
    stranger = await workflow.post(
        "/api/v1/cases", json=body, headers=auth("organization", org_id=str(uuid.uuid4()))
    )
    assert stranger.status_code == 409
    assert stranger.json()["code"] == "command_id_reused"
    assert first.json()["case_id"] not in stranger.text
    withdraw = {"command_id": str(uuid.uuid4()), "reason": "重复提交"}
    url = f"/api/v1/cases/{first.json()['case_id']}/withdrawal"
    once = await workflow.post(url, json=withdraw, headers=headers)
    twice = await workflow.post(url, json=withdraw, headers=headers)
    assert once.json()["state"] == twice.json()["state"] == "withdrawn"
    assert await transitions_to(first.json()["case_id"], "withdrawn") == 1
    reused = await workflow.post(
        url.replace("withdrawal", "resubmissions"),
        json={
            "command_id": withdraw["command_id"],
            "materials": materials_for("annual_inspection"),
        },
        headers=headers,
    )
    assert reused.status_code == 409
    assert reused.json()["code"] == "command_id_reused"


async def test_audit_trail_cannot_be_edited(
    submit: Callable[..., Any], wait_for_state: Callable[..., Any]
) -> None:
    case_id = await submit("annual_inspection")
    await wait_for_state(case_id, "in_joint_review")
    for statement in (
        "UPDATE workflow.case_transition SET reason = 'edited' WHERE case_id = :id",
        "DELETE FROM workflow.case_transition WHERE case_id = :id",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            async with database.transaction() as session:
                await session.execute(text(statement), {"id": case_id})
    assert await transitions_to(case_id, "submitted") == 1


async def test_bad_submissions_are_problems_and_change_nothing(
    workflow: httpx.AsyncClient, auth: Callable[..., dict[str, str]], org_id: str
) -> None:
    command_id = str(uuid.uuid4())
    body = {
        "command_id": command_id,
        "case_type": "organization_registration",
        "title": "成立登记",
        "applicant_name": "测试协会",
        "materials": materials_for("organization_registration"),
    }
    me = auth("organization", org_id=org_id)
    cases = [
        ({**body, "case_type": "no_such_case"}, me, 422, "unknown_case_type"),
        ({**body, "applicant_org_id": str(uuid.uuid4())}, me, 403, "scope_forbidden"),
        ({**body, "subject_service": "registry"}, me, 403, "scope_forbidden"),
        (body, auth("service"), 422, "subject_required"),
        (body, auth("civil_affairs"), 403, None),
        ({**body, "unexpected": 1}, me, 422, None),
        ({**body, "command_id": "not-a-uuid"}, me, 422, None),
    ]
    for payload, headers, status, code in cases:
        response = await workflow.post("/api/v1/cases", json=payload, headers=headers)
        assert response.status_code == status, (payload, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        if code is not None:
            assert response.json()["code"] == code
    async with database.transaction() as session:
        assert await session.get(CaseCommand, uuid.UUID(command_id)) is None
        count = (
            await session.execute(
                select(func.count()).where(ApprovalCase.applicant_org_id == org_id)
            )
        ).scalar_one()
    assert count == 0
    # The same command id is still free for the corrected submission.
    assert (await workflow.post("/api/v1/cases", json=body, headers=me)).status_code == 201


async def test_case_list_filters(
    submit: Callable[..., Any],
    wait_for_state: Callable[..., Any],
    workflow: httpx.AsyncClient,
    auth: Callable[..., dict[str, str]],
    org_id: str,
) -> None:
    reviewing = await submit("project_application", org_id=org_id, subject_department="education")
    sent_back = await submit("annual_inspection", org_id=org_id, leave_out=("financial_audit",))
    await wait_for_state(reviewing, "in_joint_review")
    await wait_for_state(sent_back, "supplement_requested")
    reader = auth("civil_affairs")

    async def ids(**params: str) -> set[str]:
        response = await workflow.get(
            "/api/v1/cases",
            params={"applicant_org_id": org_id, "page_size": "200", **params},
            headers=reader,
        )
        assert response.status_code == 200, response.text
        return {item["id"] for item in response.json()["items"]}

    assert await ids() == {reviewing, sent_back}
    assert await ids(state="in_joint_review") == {reviewing}
    assert await ids(state="supplement_requested") == {sent_back}
    assert await ids(case_type="annual_inspection") == {sent_back}
    assert await ids(department="finance") == {reviewing}
    assert await ids(department="public_security") == set()
    assert await ids(overdue="false") == {reviewing, sent_back}
    bad = await workflow.get("/api/v1/cases", params={"state": "nonsense"}, headers=reader)
    assert bad.status_code == 422
