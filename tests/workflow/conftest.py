"""Workflow test helpers: a real arq worker process, case factories, state polling."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.support.polling import poll
from tests.support.processes import ManagedProcess, free_port, worker_process
from tests.support.receiver import Receiver
from tests.workflow.helpers import materials_for


@pytest.fixture(scope="module")
def callback_receiver() -> Iterator[Receiver]:
    """A stand-in for the subject services' callback endpoint, started by the tests needing it."""
    server = Receiver(port=free_port())
    yield server
    server.stop()


@pytest.fixture(scope="module")
def worker(
    tmp_path_factory: pytest.TempPathFactory, callback_receiver: Receiver
) -> Iterator[ManagedProcess]:
    log_dir = str(tmp_path_factory.mktemp("worker"))
    process = worker_process(
        log_dir, REGISTRY_URL=callback_receiver.url, PROJECTS_URL=callback_receiver.url
    ).start()
    yield process
    process.stop()


@pytest.fixture
def org_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def submit(workflow: httpx.AsyncClient, auth: Callable[..., dict[str, str]]) -> Callable[..., Any]:
    async def _submit(
        case_type: str = "organization_registration",
        *,
        org_id: str | None = None,
        leave_out: tuple[str, ...] = (),
        service: bool = False,
        subject_department: str | None = None,
    ) -> str:
        """An organization files directly, or (`service`, or a project's purchasing
        department given) a service requests the case for its subject."""
        body: dict[str, Any] = {
            "command_id": str(uuid.uuid4()),
            "case_type": case_type,
            "title": "测试办件",
            "applicant_name": "庐阳区测试服务中心",
            "materials": materials_for(case_type, leave_out=leave_out),
        }
        if subject_department:
            body |= {
                "subject_service": "projects",
                "subject_type": "project",
                "subject_id": str(uuid.uuid4()),
                "subject_department": subject_department,
                "applicant_org_id": org_id,
            }
            headers = auth("service")
        elif service:
            body |= {
                "subject_service": "registry",
                "subject_type": "registration_application",
                "subject_id": str(uuid.uuid4()),
                "applicant_org_id": org_id,
            }
            headers = auth("service")
        else:
            headers = auth("organization", org_id=org_id or str(uuid.uuid4()))
        response = await workflow.post("/api/v1/cases", json=body, headers=headers)
        assert response.status_code == 201, response.text
        return str(response.json()["case_id"])

    return _submit


@pytest.fixture
def wait_for_state(
    workflow: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> Callable[..., Any]:
    async def _wait(case_id: str, state: str, *, within: float = 20.0) -> dict[str, Any]:
        headers = auth("civil_affairs")

        async def reached() -> dict[str, Any] | None:
            case = (await workflow.get(f"/api/v1/cases/{case_id}", headers=headers)).json()
            return case if case["state"] == state else None

        result: dict[str, Any] = await poll(reached, within=within)
        return result

    return _wait
