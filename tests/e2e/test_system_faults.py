"""Faults across the real processes: a worker killed again and again, Redis lost."""

from __future__ import annotations

import signal
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.e2e.conftest import System, poll_sync
from tests.workflow.conftest import materials_for

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

    def keep_killing() -> None:
        # SIGKILL the worker every 0.7 s and start a fresh one, while cases flow.
        while not stop.wait(0.7):
            system.processes["worker"].kill(signal.SIGKILL)
            system.start("worker")

    killer = threading.Thread(target=keep_killing)
    killer.start()
    try:
        ids = _submit_many(http, auth, CASES)
    finally:
        stop.set()
        killer.join()
    if not system.processes["worker"].alive:
        system.start("worker")
    poll_sync(
        lambda: _state_counts(http, auth, set(ids)) == {"in_joint_review": CASES},
        within=120,
        every=0.5,
    )
    # No transition applied twice: every trail has exactly this shape.
    assert _transition_counts(http, auth, ids) == {("submitted", "accepted", "in_joint_review")}


def test_redis_restarted_empty_mid_run_loses_nothing(
    system: System, http: Callable[[str], httpx.Client], auth: Callable[..., dict[str, str]]
) -> None:
    system.stop("worker")  # cases pile up as outbox events and queued jobs
    ids = _submit_many(http, auth, 50)
    system.restart_redis_empty()  # ... and the queue forgets all of them
    system.start("worker")
    poll_sync(
        lambda: _state_counts(http, auth, set(ids)) == {"in_joint_review": 50},
        within=120,
        every=0.5,
    )
    assert _transition_counts(http, auth, ids) == {("submitted", "accepted", "in_joint_review")}
    for name in ("registry", "projects", "workflow"):
        assert http(name).get("/readyz").status_code == 200
