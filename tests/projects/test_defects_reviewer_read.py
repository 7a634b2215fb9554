"""A department reviewer reads the project it reviews, scoped to its tasks.

The bureau's project office (`civil_affairs_projects`) reviews every project
application and closure, though no project is its department's: the workflow, asked
over HTTP (the in-process app, wired in tests/conftest.py), says whether its
department holds a task on a case of the project. A reviewer without such a task, of
any department, finds nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx

from services.projects.base import infra as projects_infra
from services.projects.main import app as projects_app
from shared.clients import WorkflowClient
from shared.settings import get_settings
from tests.projects.driver import Driver, Flow
from tests.workflow.pump import case_of_subject, dispatch_subject, run_case

Auth = Callable[..., dict[str, str]]
PROJECT_OFFICE = "civil_affairs_projects"


async def _in_review(driver: Driver) -> Flow:
    """A project application whose case the workflow opened and sent to joint review."""
    flow = await driver.applied()
    await dispatch_subject(projects_infra.outbox, "projects", flow.id)
    case = await case_of_subject(flow.id)
    assert case is not None
    await run_case(case.id)
    return flow


async def _tasks_of(workflow: httpx.AsyncClient, auth: Auth, project_id: str) -> set[str]:
    listed = await workflow.get(
        "/api/v1/cases", params={"subject_id": project_id}, headers=auth("civil_affairs")
    )
    (case,) = listed.json()["items"]
    detail: dict[str, Any] = (
        await workflow.get(f"/api/v1/cases/{case['id']}", headers=auth("civil_affairs"))
    ).json()
    return {t["department"] for t in detail["tasks"]}


async def test_the_project_office_reads_the_application_it_reviews(
    driver: Driver, workflow: httpx.AsyncClient, auth: Auth
) -> None:
    flow = await _in_review(driver)
    assert PROJECT_OFFICE in await _tasks_of(workflow, auth, flow.id)
    reviewer = auth("department_reviewer", department=PROJECT_OFFICE)
    project = await driver.client.get(flow.path, headers=reviewer)
    assert project.status_code == 200, project.text
    assert (project.json()["title"], project.json()["requested_fen"]) == (
        flow.project["title"],
        flow.project["requested_fen"],
    )
    assert [line["seq"] for line in project.json()["budget_lines"]] == [1, 2, 3]
    timeline = await driver.client.get(f"{flow.path}/timeline", headers=reviewer)
    assert timeline.status_code == 200
    assert timeline.json()[0]["action"] == "application_submitted"


async def test_a_reviewer_without_a_task_on_it_finds_nothing(
    driver: Driver, workflow: httpx.AsyncClient, auth: Auth
) -> None:
    flow = await _in_review(driver)
    not_yet_reviewed = await driver.applied()  # its case not opened: no task anywhere
    for department in ("tax", "sports"):
        stranger = auth("department_reviewer", department=department)
        for path in (flow.path, f"{flow.path}/timeline"):
            response = await driver.client.get(path, headers=stranger)
            assert (response.status_code, response.json()["code"]) == (404, "project_not_found")
            assert flow.project["title"] not in response.text
    office = auth("department_reviewer", department=PROJECT_OFFICE)
    unreviewed = await driver.client.get(not_yet_reviewed.path, headers=office)
    assert unreviewed.status_code == 404
    listed = await driver.client.get("/api/v1/projects", headers=office)
    assert flow.id not in {p["id"] for p in listed.json()["items"]}  # one by one, not listed


async def test_the_workflow_unreachable_is_a_503_only_where_it_must_answer(
    driver: Driver, auth: Auth
) -> None:
    flow = await _in_review(driver)
    settings = get_settings().model_copy(
        update={"http_retries": 0, "http_backoff_seconds": 0.01, "http_timeout_seconds": 1.0}
    )
    unreachable = WorkflowClient("http://127.0.0.1:9", caller="projects", settings=settings)
    wired, projects_app.state.workflow_client = projects_app.state.workflow_client, unreachable
    try:
        office = await driver.client.get(
            flow.path, headers=auth("department_reviewer", department=PROJECT_OFFICE)
        )
        assert (office.status_code, office.json()["code"]) == (503, "workflow_unavailable")
        assert flow.project["title"] not in office.text
        # The purchasing department and the finance bureau see the project by their own right.
        purchaser = flow.call["department"]
        for department in (purchaser, "finance"):
            own = await driver.client.get(
                flow.path, headers=auth("department_reviewer", department=department)
            )
            assert own.status_code == 200, own.text
    finally:
        projects_app.state.workflow_client = wired
        await unreachable.aclose()


async def test_an_unknown_project_stays_a_404_for_reviewers(driver: Driver, auth: Auth) -> None:
    response = await driver.client.get(
        f"/api/v1/projects/{uuid.uuid4()}",
        headers=auth("department_reviewer", department=PROJECT_OFFICE),
    )
    assert (response.status_code, response.json()["code"]) == (404, "project_not_found")
