"""The registration round trip with the real workflow: nothing stood in.

The registry and the workflow run as uvicorn processes and the workflow worker as an
arq process, on a freshly migrated database of their own. A registration application
goes from the registry's outbox over the queue to the workflow, which opens the case,
pre-checks it and creates the departments' tasks; reviewers decide them; the workflow
posts the outcome back to the registry over HTTP, which applies it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from services.registry.codes import uscc_errors
from services.registry.enums import OrganizationKind
from shared.dev.processes import ManagedProcess, free_port
from tests.factories import LUYANG, registered_org
from tests.polling import poll
from tests.processes import worker_process
from tests.workflow.conftest import materials_for

Auth = Callable[..., dict[str, str]]
SERVICES = ("registry", "workflow")


@dataclass
class Running:
    urls: dict[str, str]
    processes: list[ManagedProcess]

    def output(self) -> str:
        return "\n".join(p.output()[-2000:] for p in self.processes)


def _wait_ready(process: ManagedProcess, url: str, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while True:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if not process.alive or time.monotonic() > deadline:
            raise RuntimeError(f"{process.name} not ready:\n{process.output()[-3000:]}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
async def round_trip_database(
    fresh_database: Callable[[str], AsyncIterator[str]],
) -> AsyncIterator[str]:
    async for url in fresh_database(f"roundtrip_{uuid.uuid4().hex[:6]}"):
        yield url


@pytest.fixture(scope="module")
def running(
    round_trip_database: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Running]:
    log_dir = str(tmp_path_factory.mktemp("round-trip"))
    ports = {name: free_port() for name in SERVICES}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    env = {
        "DATABASE_URL": round_trip_database,
        "REDIS_URL": redis_url,
        "ARQ_QUEUE_NAME": f"sanshe:test:roundtrip:{uuid.uuid4().hex[:8]}",
        "OUTBOX_RELAY_INTERVAL_SECONDS": "0.1",
        "LOG_LEVEL": "INFO",
        "REGISTRY_URL": urls["registry"],
        "WORKFLOW_URL": urls["workflow"],
        "PROJECTS_URL": "http://127.0.0.1:9",
    }
    processes: list[ManagedProcess] = []
    try:
        for name in SERVICES:
            argv = ["-m", "uvicorn", f"services.{name}.main:app", "--host", "127.0.0.1"]
            process = ManagedProcess(name, [*argv, "--port", str(ports[name])], env, log_dir)
            processes.append(process.start())
            _wait_ready(process, urls[name])
        processes.append(worker_process(log_dir, **env).start())
        yield Running(urls=urls, processes=processes)
    finally:
        for process in reversed(processes):
            process.stop()


@pytest.fixture
async def http(running: Running) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    clients = {
        name: httpx.AsyncClient(base_url=url, timeout=30) for name, url in running.urls.items()
    }
    yield clients
    for client in clients.values():
        await client.aclose()


async def _apply(registry: httpx.AsyncClient, auth: Auth) -> dict[str, Any]:
    proposal = registered_org()
    for key in ("registration", "uscc"):
        proposal.pop(key)
    response = await registry.post(
        "/api/v1/applications/registrations",
        json={
            "organization": proposal,
            "applicant_name": "发起人王五",
            "materials": materials_for("organization_registration"),
        },
        headers=auth("civil_affairs"),
    )
    assert response.status_code == 201, response.text
    application: dict[str, Any] = response.json()
    return application


async def _case_in_review(
    workflow: httpx.AsyncClient, auth: Auth, application_id: str, running: Running
) -> dict[str, Any]:
    headers = auth("civil_affairs")

    async def in_review() -> dict[str, Any] | None:
        listed = await workflow.get(
            "/api/v1/cases", params={"subject_id": application_id}, headers=headers
        )
        items = listed.json()["items"]
        if not items or items[0]["state"] != "in_joint_review":
            return None
        case: dict[str, Any] = (
            await workflow.get(f"/api/v1/cases/{items[0]['id']}", headers=headers)
        ).json()
        return case

    try:
        result: dict[str, Any] = await poll(in_review, within=60)
    except pytest.fail.Exception:
        print(running.output())
        raise
    return result


async def _decide(
    workflow: httpx.AsyncClient, auth: Auth, task: dict[str, Any], verdict: str
) -> None:
    department = task["department"]
    response = await workflow.post(
        f"/api/v1/tasks/{task['id']}/{verdict}",
        json={"command_id": str(uuid.uuid4()), "comment": f"{department} {verdict}"},
        headers=auth("department_reviewer", department=department, sub=f"reviewer-{department}"),
    )
    assert response.status_code == 200, response.text


async def _decided(
    registry: httpx.AsyncClient, auth: Auth, application_id: str, running: Running
) -> dict[str, Any]:
    async def decided() -> dict[str, Any] | None:
        response = await registry.get(
            f"/api/v1/applications/{application_id}", headers=auth("civil_affairs")
        )
        body: dict[str, Any] = response.json()
        return body if body["state"] != "pending" else None

    try:
        result: dict[str, Any] = await poll(decided, within=60)
    except pytest.fail.Exception:
        print(running.output())
        raise
    return result


async def test_an_approved_registration_comes_back_as_an_active_organization(
    running: Running, http: dict[str, httpx.AsyncClient], auth: Auth
) -> None:
    registry, workflow = http["registry"], http["workflow"]
    application = await _apply(registry, auth)
    case = await _case_in_review(workflow, auth, application["id"], running)
    assert case["case_type"] == "organization_registration"
    assert {t["department"] for t in case["tasks"]} == {
        "civil_affairs_registration",
        "public_security",
        "market_regulation",
    }
    for task in case["tasks"]:
        await _decide(workflow, auth, task, "approve")

    decided = await _decided(registry, auth, application["id"], running)
    assert decided["state"] == "approved" and decided["case_id"] == case["id"]
    org = (
        await registry.get(
            f"/api/v1/organizations/{decided['organization_id']}", headers=auth("civil_affairs")
        )
    ).json()
    assert (org["status"], org["registration"]) == ("active", "registered")
    assert org["name"] == application["proposal"]["name"]
    assert org["uscc"] == decided["assigned_uscc"]
    assert (
        uscc_errors(
            org["uscc"], kind=OrganizationKind.service_institution, authority_division=LUYANG
        )
        == []
    )


async def test_a_rejected_registration_leaves_no_organization(
    running: Running, http: dict[str, httpx.AsyncClient], auth: Auth
) -> None:
    registry, workflow = http["registry"], http["workflow"]
    application = await _apply(registry, auth)
    case = await _case_in_review(workflow, auth, application["id"], running)
    public_security = next(t for t in case["tasks"] if t["department"] == "public_security")
    await _decide(workflow, auth, public_security, "reject")

    decided = await _decided(registry, auth, application["id"], running)
    assert decided["state"] == "rejected" and decided["organization_id"] is None
    assert decided["assigned_uscc"] is None
    found = await registry.get(
        "/api/v1/organizations",
        params={"name": application["proposal"]["name"]},
        headers=auth("civil_affairs"),
    )
    assert found.json()["total"] == 0
