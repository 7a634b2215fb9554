"""Faults across the real processes: a worker killed again and again, Redis lost, the
registry away for a while."""

from __future__ import annotations

import signal
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.e2e.steps import API, apply_for_change, case_in, ok
from tests.factories import application_body, call_body, fund_body, registered_org
from tests.support.polling import poll_sync
from tests.support.system import System
from tests.workflow.helpers import materials_for

CASES = 200


def _submit_many(
    http: Callable[[str], httpx.Client], auth: Callable[..., dict[str, str]], count: int
) -> list[str]:
    def one(_: int) -> str:
        with httpx.Client(base_url=http("workflow").base_url, timeout=30) as client:
            response = client.post(
                "/api/v1/cases",
                json={
                    "command_id": str(uuid.uuid4()),
                    "case_type": "organization_change",
                    "title": "批量变更",
                    "applicant_name": "测试协会",
                    "materials": materials_for("organization_change"),
                },
                headers=auth("organization", org_id=str(uuid.uuid4())),
            )
        assert response.status_code == 201, response.text
        return str(response.json()["case_id"])

    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(one, range(count)))


def _state_counts(
    http: Callable[[str], httpx.Client], auth: Callable[..., dict[str, str]], ids: set[str]
) -> dict[str, int]:
    workflow = http("workflow")
    counts: dict[str, int] = {}
    page = 1
    while True:
        body = workflow.get(
            "/api/v1/cases", params={"page": page, "page_size": 200}, headers=auth("civil_affairs")
        ).json()
        for item in body["items"]:
            if item["id"] in ids:
                counts[item["state"]] = counts.get(item["state"], 0) + 1
        if page * 200 >= body["total"]:
            return counts
        page += 1


def _transition_counts(
    http: Callable[[str], httpx.Client], auth: Callable[..., dict[str, str]], ids: list[str]
) -> set[tuple[str, ...]]:
    workflow = http("workflow")
    shapes = set()
    for case_id in ids:
        timeline = workflow.get(f"/api/v1/cases/{case_id}", headers=auth("civil_affairs")).json()[
            "timeline"
        ]
        shapes.add(tuple(step["to_state"] for step in timeline))
    return shapes


def test_worker_killed_repeatedly_while_cases_move(
    system: System, http: Callable[[str], httpx.Client], auth: Callable[..., dict[str, str]]
) -> None:
    stop = threading.Event()
    kills = 0

    def keep_killing() -> None:
        # SIGKILL the worker every 0.7 s and start a fresh one, while cases flow.
        nonlocal kills
        while not stop.wait(0.7):
            system.processes["worker"].kill(signal.SIGKILL)
            kills += 1
            system.start("worker")

    killer = threading.Thread(target=keep_killing)
    killer.start()
    try:
        ids = _submit_many(http, auth, CASES)
    finally:
        stop.set()
        killer.join()
    assert kills >= 3, "the worker was not killed while the cases moved"
    if not system.processes["worker"].alive:
        system.start("worker")
    poll_sync(
        lambda: _state_counts(http, auth, set(ids)) == {"in_joint_review": CASES},
        within=120,
        every=0.5,
    )
    # No transition applied twice: every trail has exactly this shape.
    assert _transition_counts(http, auth, ids) == {("submitted", "accepted", "in_joint_review")}


def _change_application(
    http: Callable[[str], httpx.Client], auth: Callable[..., dict[str, str]]
) -> tuple[str, dict[str, str]]:
    """A new organization applying to change its address: (application id, its token)."""
    registry = http("registry")
    org = ok(
        registry.post(f"{API}/organizations", json=registered_org(), headers=auth("civil_affairs")),
        201,
    )
    applicant = auth("organization", org_id=org["id"])
    change = apply_for_change(registry, org["id"], applicant)
    return str(change["id"]), applicant


def test_redis_restarted_empty_mid_run_loses_nothing(
    system: System, http: Callable[[str], httpx.Client], auth: Callable[..., dict[str, str]]
) -> None:
    registry, workflow = http("registry"), http("workflow")
    decided, decided_by = _change_application(http, auth)
    case = case_in(workflow, auth, "organization_change", decided, "in_joint_review")
    system.stop("worker")  # work piles up as outbox events, queued jobs and due callbacks
    (task,) = case["tasks"]
    approved = workflow.post(
        f"{API}/tasks/{task['id']}/approve",
        json={"command_id": str(uuid.uuid4()), "comment": "同意"},
        headers=auth("department_reviewer", department=task["department"]),
    )
    assert ok(approved)["state"] == "approved"  # its callback is now due, in Postgres
    pending, _ = _change_application(http, auth)  # a registry outbox event to relay
    ids = _submit_many(http, auth, 50)  # workflow outbox events
    system.restart_redis_empty()  # ... and the queue forgets all of them
    system.start("worker")
    poll_sync(
        lambda: _state_counts(http, auth, set(ids)) == {"in_joint_review": 50},
        within=120,
        every=0.5,
    )
    assert _transition_counts(http, auth, ids) == {("submitted", "accepted", "in_joint_review")}
    case_in(workflow, auth, "organization_change", pending, "in_joint_review")

    def applied() -> bool:
        body = ok(registry.get(f"{API}/applications/{decided}", headers=decided_by))
        return bool(body["state"] == "approved")

    poll_sync(applied, within=60)
    for name in ("registry", "projects", "workflow"):
        assert http(name).get("/readyz").status_code == 200


def _logged(system: System, process: str, since: int, *fragments: str) -> bool:
    """Whether a line the process logged after offset `since` holds every fragment."""
    lines = system.processes[process].output()[since:].splitlines()
    return any(all(f in line for f in fragments) for line in lines)


def test_registry_stopped_for_a_while_callbacks_and_eligibility_checks_complete(
    system: System, http: Callable[[str], httpx.Client], auth: Callable[..., dict[str, str]]
) -> None:
    registry, projects, workflow = http("registry"), http("projects"), http("workflow")
    bureau = auth("civil_affairs")
    change_id, applicant = _change_application(http, auth)
    case = case_in(workflow, auth, "organization_change", change_id, "in_joint_review")
    fund = ok(projects.post(f"{API}/funds", json=fund_body(), headers=bureau), 201)
    call = ok(projects.post(f"{API}/calls", json=call_body(fund), headers=bureau), 201)
    # A projects process patient enough to outlast a registry restart within one request.
    system.stop("projects")
    system.start("projects", HTTP_RETRIES="8", HTTP_BACKOFF_SECONDS="0.25")
    system.stop("registry")
    # Only what is logged from now on counts as evidence of this outage.
    since = {name: len(system.processes[name].output()) for name in ("worker", "projects")}
    try:
        # The decision is taken while the registry is away: its callback cannot land.
        (task,) = case["tasks"]
        decided = workflow.post(
            f"{API}/tasks/{task['id']}/approve",
            json={"command_id": str(uuid.uuid4()), "comment": "同意变更"},
            headers=auth("department_reviewer", department=task["department"]),
        )
        assert ok(decided)["state"] == "approved"
        with (
            ThreadPoolExecutor(max_workers=1) as pool,
            httpx.Client(base_url=system.url("projects"), timeout=120) as patient,
        ):
            applying = pool.submit(
                patient.post,
                f"{API}/calls/{call['id']}/applications",
                json=application_body(),
                headers=applicant,
            )
            poll_sync(
                lambda: _logged(
                    system, "worker", since["worker"], "outcome callback failed", case["id"]
                )
            )
            poll_sync(
                lambda: _logged(
                    system, "projects", since["projects"], "service call failed", "registry"
                )
            )
            assert not applying.done()  # still retrying the eligibility check
            system.start("registry")
            applied = applying.result(timeout=120)
    finally:
        if not system.processes["registry"].alive:
            system.start("registry")
        system.stop("projects")
        system.start("projects")
    project = ok(applied, 201)
    assert project["stage"] == "applied"

    # The callback lands once the registry is back, and is applied once.
    def changed() -> bool:
        body = ok(registry.get(f"{API}/applications/{change_id}", headers=applicant))
        return bool(body["state"] == "approved")

    poll_sync(changed, within=60)
    org_id = ok(registry.get(f"{API}/applications/{change_id}", headers=applicant))[
        "organization_id"
    ]
    after = ok(registry.get(f"{API}/organizations/{org_id}", headers=applicant))
    assert (after["address"], after["version"]) == ("庐阳区长江中路99号", 2)
    assert ok(workflow.get(f"{API}/cases/{case['id']}", headers=bureau))["callback_delivered_at"]
    # The application made during the outage is one project with one case, nothing lost.
    mine = ok(projects.get(f"{API}/projects", headers=applicant))
    assert [p["id"] for p in mine["items"]] == [project["id"]]
    case_in(workflow, auth, "project_application", project["id"], "in_joint_review")
